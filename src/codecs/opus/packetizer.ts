/** Opus RTP packetizer, RFC 7587 §4.2: exactly one Opus packet per RTP payload, no payload header,
 * no fragmentation. An MP4 `Opus` sample is one Opus packet. A packet larger than the payload
 * budget is still sent whole (RFC 7587 has no way to split it) and counted. */

import type { Packetizer, RtpPayload } from '../types.js';

export class OpusPacketizer implements Packetizer {
  readonly #max: number;
  #oversize = 0;
  #dropped = 0;

  constructor(options: { maxPayloadSize?: number } = {}) {
    this.#max = options.maxPayloadSize ?? Infinity;
  }

  /** Packets sent above maxPayloadSize (they may be IP-fragmented on UDP). */
  get oversizeCount(): number {
    return this.#oversize;
  }

  /** Empty samples skipped: an Opus packet has at least its TOC byte. */
  get droppedCount(): number {
    return this.#dropped;
  }

  packetize(packet: Buffer): RtpPayload[] {
    if (packet.length === 0) {
      this.#dropped++;
      return [];
    }
    if (packet.length > this.#max) this.#oversize++;
    return [{ parts: [packet], length: packet.length, marker: false }];
  }
}
