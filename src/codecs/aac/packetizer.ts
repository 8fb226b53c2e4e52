/** AAC RTP packetizer, RFC 3640 mode AAC-hbr (sizeLength 13, indexLength 3, indexDeltaLength 3).
 *
 *   | AU-headers-length (16 bits) | AU-header 1 | ... | AU-header n | AU 1 | ... | AU n |
 *   AU-header = AU-size (13 bits) | AU-Index / AU-Index-delta (3 bits, always 0 here)
 *
 * AU-Index-delta 0 means "the next AU in decoding order", so aggregated AUs must be consecutive
 * and the packet's RTP timestamp is that of its first AU. */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import type { Packetizer, RtpPayload } from '../types.js';

/** Largest AU the 13-bit AU-size field can describe. */
export const AAC_MAX_AU_SIZE = 0x1fff;

const HEADERS_LENGTH_FIELD = 2;
const AU_HEADER_SIZE = 2;
/** AU-headers-length counts bits in 16 bits: at most 4095 16-bit AU-headers. */
const MAX_AUS_PER_PACKET = 4095;

export interface AacPacketizerOptions {
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

/** A payload plus which input AUs it carries, so the caller can derive the RTP timestamp
 * (timestamp of AU `auIndex`) when several AUs are packetized at once. */
export interface AacPayload extends RtpPayload {
  /** Index in the input of the first AU (or the fragmented AU) in this payload. */
  auIndex: number;
  /** Number of complete AUs in the payload; 1 for a fragment. */
  auCount: number;
}

export class AacPacketizer implements Packetizer {
  readonly #maxPayloadSize: number;
  #dropped = 0;

  constructor(options: AacPacketizerOptions = {}) {
    // Two header fields plus at least one byte of audio.
    this.#maxPayloadSize = checkMaxPayloadSize(
      options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE,
      HEADERS_LENGTH_FIELD + AU_HEADER_SIZE + 1,
    );
  }

  get maxPayloadSize(): number {
    return this.#maxPayloadSize;
  }

  /** AUs skipped because they were empty or larger than AAC_MAX_AU_SIZE (corrupt input): a bad
   * sample costs one audio frame instead of throwing in the send loop. */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** One raw AAC frame (an MP4 sample) → one payload, or several fragments (marker on the last). */
  packetize(au: Buffer): AacPayload[] {
    return this.packetizeMany([au]);
  }

  /** Consecutive AUs → payloads, aggregating AUs that fit together. Every payload ending an AU
   * has the marker set (RFC 3640 §3.2: set on packets with complete AUs or a final fragment). */
  packetizeMany(aus: readonly Buffer[]): AacPayload[] {
    const out: AacPayload[] = [];
    const max = this.#maxPayloadSize;
    let i = 0;
    while (i < aus.length) {
      const au = aus[i];
      if (au.length === 0 || au.length > AAC_MAX_AU_SIZE) {
        this.#dropped++;
        i++;
        continue;
      }
      if (HEADERS_LENGTH_FIELD + AU_HEADER_SIZE + au.length > max) {
        this.#fragment(au, i, out);
        i++;
        continue;
      }
      let size = HEADERS_LENGTH_FIELD + AU_HEADER_SIZE + au.length;
      let j = i + 1;
      while (j < aus.length && j - i < MAX_AUS_PER_PACKET) {
        const next = aus[j];
        // A dropped AU ends the run: index deltas of 0 would claim the AUs are adjacent.
        if (next.length === 0 || next.length > AAC_MAX_AU_SIZE) break;
        if (size + AU_HEADER_SIZE + next.length > max) break;
        size += AU_HEADER_SIZE + next.length;
        j++;
      }
      out.push(this.#aggregate(aus, i, j, size));
      i = j;
    }
    return out;
  }

  #aggregate(aus: readonly Buffer[], from: number, to: number, size: number): AacPayload {
    const n = to - from;
    const headers = Buffer.allocUnsafe(HEADERS_LENGTH_FIELD + n * AU_HEADER_SIZE);
    headers.writeUInt16BE(n * AU_HEADER_SIZE * 8, 0);
    const parts: Buffer[] = [headers];
    for (let k = 0; k < n; k++) {
      const au = aus[from + k];
      // AU-size in the top 13 bits; AU-Index (first) / AU-Index-delta (rest) = 0.
      headers.writeUInt16BE(au.length << 3, HEADERS_LENGTH_FIELD + k * AU_HEADER_SIZE);
      parts.push(au);
    }
    return { parts, length: size, marker: true, auIndex: from, auCount: n };
  }

  #fragment(au: Buffer, index: number, out: AacPayload[]): void {
    // Every fragment carries the same AU-header with the size of the whole AU (RFC 3640 §3.2.3),
    // so the four header bytes are shared by all of them.
    const headers = Buffer.allocUnsafe(HEADERS_LENGTH_FIELD + AU_HEADER_SIZE);
    headers.writeUInt16BE(AU_HEADER_SIZE * 8, 0);
    headers.writeUInt16BE(au.length << 3, HEADERS_LENGTH_FIELD);
    const capacity = this.#maxPayloadSize - headers.length;
    const count = Math.ceil(au.length / capacity);
    // Even split: same packet count as filling greedily, without a runt last packet.
    const base = Math.floor(au.length / count);
    const extra = au.length % count;
    let off = 0;
    for (let k = 0; k < count; k++) {
      const len = base + (k < extra ? 1 : 0);
      out.push({
        parts: [headers, au.subarray(off, off + len)],
        length: headers.length + len,
        marker: k === count - 1,
        auIndex: index,
        auCount: 1,
      });
      off += len;
    }
  }
}
