/** Test helpers: run payloads through real RTP packets (write, then parse the header back), so
 * packetizer tests exercise the same path a receiver sees. */

import { readRtpHeader, writeRtpPacket } from '../../rtp/packet.js';
import { seqAdd } from '../../rtp/seq.js';
import type { RtpPacketInfo, RtpPayload } from '../types.js';

export interface ReceivedPacket {
  payload: Buffer;
  info: RtpPacketInfo;
}

/** A sender with its own sequence counter. */
export class RtpLoop {
  #seq: number;

  constructor(firstSeq = 65530) {
    // Start near the wrap so every test also crosses it.
    this.#seq = firstSeq;
  }

  send(payloads: readonly RtpPayload[], timestamp: number): ReceivedPacket[] {
    return payloads.map((p) => {
      const buf = writeRtpPacket(p, { payloadType: 96, sequence: this.#seq, timestamp, ssrc: 0x1234 });
      this.#seq = seqAdd(this.#seq, 1);
      const h = readRtpHeader(buf);
      if (!h) throw new Error('writeRtpPacket produced an unparsable packet');
      return {
        payload: buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength),
        info: { timestamp: h.timestamp, marker: h.marker, sequence: h.sequence },
      };
    });
  }
}

/** The bytes of a payload as sent. */
export function payloadBytes(p: RtpPayload): Buffer {
  return Buffer.concat(p.parts);
}

/** MP4-style sample: each NAL unit preceded by a big-endian length of `size` bytes. */
export function lengthPrefixed(nalus: readonly Buffer[], size: 1 | 2 | 4 = 4): Buffer {
  return Buffer.concat(
    nalus.flatMap((n) => {
      const len = Buffer.alloc(size);
      len.writeUIntBE(n.length, 0, size);
      return [len, n];
    }),
  );
}
