/** AAC RTP depacketizer for RFC 3640 AU-header sections (AAC-hbr by default): single AUs,
 * aggregated AUs and fragmented AUs back to raw AAC frames. Used by tests and for live ingest. */

import type { Depacketizer, RtpPacketInfo } from '../types.js';

export interface AacAccessUnit {
  /** RTP timestamp of this AU (packet timestamp + its position × samplesPerAu). */
  timestamp: number;
  /** The raw AAC frame; may be a view into the pushed payload. */
  data: Buffer;
}

export interface AacDepacketizerOptions {
  /** Samples per AU, to time-stamp the 2nd+ AU of an aggregated packet. Default 1024. */
  samplesPerAu?: number;
  /** fmtp sizelength / indexlength / indexdeltalength. Defaults 13 / 3 / 3 (AAC-hbr). */
  sizeLength?: number;
  indexLength?: number;
  indexDeltaLength?: number;
}

const NONE: readonly AacAccessUnit[] = Object.freeze([]);

/** Reads `n` (<= 16) bits MSB-first starting at absolute bit offset `bit`. */
function readBits(buf: Buffer, bit: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++, bit++) v = (v << 1) | ((buf[bit >> 3] >> (7 - (bit & 7))) & 1);
  return v;
}

export class AacDepacketizer implements Depacketizer<AacAccessUnit> {
  readonly #samplesPerAu: number;
  readonly #sizeLength: number;
  readonly #indexLength: number;
  readonly #indexDeltaLength: number;
  #expectedSeq = -1;
  /** Fragmented AU being collected. */
  #frag: Buffer[] | null = null;
  #fragSize = 0;
  #fragHave = 0;
  #fragTimestamp = 0;
  /** Timestamp of a fragmented AU already given up on: its remaining fragments are skipped
   * quietly instead of being counted as further losses. */
  #discardTimestamp: number | null = null;
  #dropped = 0;

  constructor(options: AacDepacketizerOptions = {}) {
    this.#samplesPerAu = options.samplesPerAu ?? 1024;
    this.#sizeLength = options.sizeLength ?? 13;
    this.#indexLength = options.indexLength ?? 3;
    this.#indexDeltaLength = options.indexDeltaLength ?? 3;
    for (const n of [this.#sizeLength, this.#indexLength, this.#indexDeltaLength]) {
      if (!Number.isInteger(n) || n < 0 || n > 16)
        throw new RangeError('AU-header field lengths must be 0..16');
    }
    if (this.#sizeLength === 0) throw new RangeError('sizeLength must be > 0');
  }

  /** AUs lost to packet loss or malformed packets. */
  get droppedCount(): number {
    return this.#dropped;
  }

  push(payload: Buffer, info: RtpPacketInfo): readonly AacAccessUnit[] {
    if (info.sequence !== undefined) {
      if (this.#expectedSeq !== -1 && info.sequence !== this.#expectedSeq) this.#dropFrag();
      this.#expectedSeq = (info.sequence + 1) & 0xffff;
    }
    // Fragments of one AU share the AU's timestamp; a new timestamp means its tail was lost.
    if (this.#frag && info.timestamp !== this.#fragTimestamp) this.#dropFrag();
    if (payload.length < 2) {
      this.#dropFrag();
      this.#dropped++;
      return NONE;
    }
    const headerBits = payload.readUInt16BE(0);
    const dataStart = 2 + Math.ceil(headerBits / 8);
    if (dataStart > payload.length) {
      this.#dropFrag();
      this.#dropped++;
      return NONE;
    }
    const endBit = 16 + headerBits;
    let bit = 16;
    const sizes: number[] = [];
    const offsets: number[] = [];
    let position = 0;
    while (true) {
      const first = sizes.length === 0;
      const indexBits = first ? this.#indexLength : this.#indexDeltaLength;
      if (bit + this.#sizeLength + indexBits > endBit) break;
      sizes.push(readBits(payload, bit, this.#sizeLength));
      // AU-Index of the first AU is the base; each delta adds (delta + 1) positions.
      if (!first) position += readBits(payload, bit + this.#sizeLength, indexBits) + 1;
      offsets.push(position);
      bit += this.#sizeLength + indexBits;
    }
    const available = payload.length - dataStart;

    if (this.#frag) {
      if (sizes.length === 1 && sizes[0] === this.#fragSize) {
        return this.#continueFrag(payload.subarray(dataStart), info.marker);
      }
      this.#dropFrag();
    }
    if (sizes.length === 0) return NONE;
    if (sizes.length === 1 && sizes[0] > available) {
      if (info.timestamp === this.#discardTimestamp) return NONE;
      // The first fragment of an AU larger than the packet; a marker here means it was truncated.
      if (info.marker) {
        this.#dropped++;
        return NONE;
      }
      this.#frag = [payload.subarray(dataStart)];
      this.#fragSize = sizes[0];
      this.#fragHave = available;
      this.#fragTimestamp = info.timestamp;
      return NONE;
    }
    this.#discardTimestamp = null;
    const out: AacAccessUnit[] = [];
    let p = dataStart;
    for (let k = 0; k < sizes.length; k++) {
      if (p + sizes[k] > payload.length) {
        this.#dropped += sizes.length - k;
        break;
      }
      out.push({
        timestamp: (info.timestamp + offsets[k] * this.#samplesPerAu) >>> 0,
        data: payload.subarray(p, p + sizes[k]),
      });
      p += sizes[k];
    }
    return out;
  }

  flush(): readonly AacAccessUnit[] {
    this.#dropFrag();
    return NONE;
  }

  reset(): void {
    this.#frag = null;
    this.#fragSize = 0;
    this.#fragHave = 0;
    this.#expectedSeq = -1;
    this.#discardTimestamp = null;
  }

  #continueFrag(data: Buffer, marker: boolean): readonly AacAccessUnit[] {
    const frag = this.#frag;
    if (!frag) return NONE;
    frag.push(data);
    this.#fragHave += data.length;
    if (this.#fragHave < this.#fragSize && !marker) return NONE;
    const complete = this.#fragHave === this.#fragSize;
    const unit = complete
      ? { timestamp: this.#fragTimestamp, data: Buffer.concat(frag, this.#fragSize) }
      : null;
    if (!complete) this.#dropped++;
    this.#frag = null;
    this.#fragHave = 0;
    return unit ? [unit] : NONE;
  }

  #dropFrag(): void {
    if (!this.#frag) return;
    this.#discardTimestamp = this.#fragTimestamp;
    this.#frag = null;
    this.#fragHave = 0;
    this.#dropped++;
  }
}
