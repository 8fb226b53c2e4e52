/** MPEG audio RTP packetizer, RFC 2250 §3.5 (`MPA`, static payload type 14, 90 kHz clock). Each
 * payload starts with a 4-byte header: 16 bits MBZ, then the 16-bit offset of this payload's data
 * within the frame. A frame that fits is sent whole (offset 0); a larger one is split into
 * fragments that share the frame's timestamp and carry increasing offsets. */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import type { Packetizer, RtpPayload } from '../types.js';

const HEADER_SIZE = 4;
/** Shared header for whole frames (offset 0). */
const WHOLE = Buffer.alloc(HEADER_SIZE);

export interface MpaPacketizerOptions {
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

export class MpaPacketizer implements Packetizer {
  readonly #max: number;

  constructor(options: MpaPacketizerOptions = {}) {
    // The first fragment carries at least the frame header, so a receiver can size the frame.
    this.#max = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, HEADER_SIZE + 4);
  }

  /** One MPEG audio frame (an MP3 file frame or an MP4 sample). */
  packetize(frame: Buffer): RtpPayload[] {
    if (frame.length === 0) return [];
    const capacity = this.#max - HEADER_SIZE;
    if (frame.length <= capacity)
      return [{ parts: [WHOLE, frame], length: HEADER_SIZE + frame.length, marker: false }];
    const count = Math.ceil(frame.length / capacity);
    const base = Math.floor(frame.length / count);
    const extra = frame.length % count;
    const out: RtpPayload[] = [];
    let off = 0;
    for (let k = 0; k < count; k++) {
      const len = base + (k < extra ? 1 : 0);
      const header = Buffer.alloc(HEADER_SIZE);
      // The offset field is 16 bits; a frame over 64 KiB would be free-format nonsense.
      header.writeUInt16BE(off & 0xffff, 2);
      out.push({ parts: [header, frame.subarray(off, off + len)], length: HEADER_SIZE + len, marker: false });
      off += len;
    }
    return out;
  }
}
