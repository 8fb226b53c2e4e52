/** MPEG-4 Visual RTP packetizer, RFC 6416 §5.1 (`MP4V-ES`). The payload is the elementary stream
 * itself, no payload header: a VOP that fits goes in one packet; a larger one is fragmented, cut
 * before a start code (VOL, GOV, VOP ...) when one falls inside a fragment, else at the size
 * limit. The marker bit is set on the last packet of the VOP (§5.1: "the last packet of a VOP").
 * Every packet of one sample carries the sample's timestamp. */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import { mpegStartCode, pieceEnd } from '../common/sync-split.js';
import type { Packetizer, RtpPayload } from '../types.js';

export interface Mp4vPacketizerOptions {
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

export class Mp4vPacketizer implements Packetizer {
  readonly #max: number;

  constructor(options: Mp4vPacketizerOptions = {}) {
    this.#max = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, 1);
  }

  /** One sample (a VOP, possibly preceded by VOS/VO/VOL/GOV headers) → payloads in order. */
  packetize(frame: Buffer): RtpPayload[] {
    const out: RtpPayload[] = [];
    let pos = 0;
    while (pos < frame.length) {
      const end = pieceEnd(frame, pos, this.#max, mpegStartCode);
      out.push({ parts: [frame.subarray(pos, end)], length: end - pos, marker: end === frame.length });
      pos = end;
    }
    return out;
  }
}
