/** H.264 RTP packetizer, RFC 6184 non-interleaved mode (packetization-mode=1): single NAL unit
 * packets, STAP-A aggregation and FU-A fragmentation. */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import { packetizeNalUnits, type NalFormat } from '../common/nal-packetizer.js';
import { splitLengthPrefixed, type NalLengthSize } from '../common/nal-units.js';
import type { Packetizer, RtpPayload } from '../types.js';

/** NAL unit types used as RTP payload structures (RFC 6184 §5.4). */
export const H264_STAP_A = 24;
export const H264_FU_A = 28;

export interface H264PacketizerOptions {
  /** Size of the NAL length prefixes in the MP4 samples (avcC lengthSizeMinusOne + 1). Default 4. */
  nalLengthSize?: NalLengthSize;
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
  /** Aggregate consecutive small NAL units (e.g. SPS+PPS+SEI) into STAP-A packets. Default true. */
  aggregate?: boolean;
}

const H264_FORMAT: NalFormat = {
  nalHeaderSize: 1,
  fuOverhead: 2,
  writeFuHeader(out, off, nal, start, end) {
    const h = nal[0];
    // FU indicator: F and NRI of the fragmented NAL unit, type 28 (RFC 6184 §5.8).
    out[off] = (h & 0xe0) | H264_FU_A;
    // FU header: S, E, R=0, original NAL unit type.
    out[off + 1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | (h & 0x1f);
  },
  aggregationHeaderSize: 1,
  writeAggregationHeader(out, nalus, from, to) {
    // RFC 6184 §5.7: F is the OR of the aggregated F bits, NRI the maximum of their NRIs.
    let f = 0;
    let nri = 0;
    for (let k = from; k < to; k++) {
      f |= nalus[k][0] & 0x80;
      nri = Math.max(nri, nalus[k][0] & 0x60);
    }
    out[0] = f | nri | H264_STAP_A;
  },
};

export class H264Packetizer implements Packetizer {
  readonly #nalLengthSize: NalLengthSize;
  readonly #maxPayloadSize: number;
  readonly #aggregate: boolean;

  constructor(options: H264PacketizerOptions = {}) {
    this.#nalLengthSize = options.nalLengthSize ?? 4;
    if (![1, 2, 4].includes(this.#nalLengthSize)) {
      throw new RangeError(`nalLengthSize must be 1, 2 or 4, got ${String(this.#nalLengthSize)}`);
    }
    // A FU-A needs 2 header bytes plus at least one byte of the NAL unit.
    this.#maxPayloadSize = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, 3);
    this.#aggregate = options.aggregate ?? true;
  }

  get maxPayloadSize(): number {
    return this.#maxPayloadSize;
  }

  /** Packetizes one MP4 sample (length-prefixed NAL units). The marker is set on the last payload.
   * A corrupt sample yields the NAL units before the corruption; an empty one yields nothing. */
  packetize(au: Buffer): RtpPayload[] {
    return this.packetizeNalUnits(splitLengthPrefixed(au, this.#nalLengthSize));
  }

  /** Packetizes one access unit given as bare NAL units (e.g. from splitAnnexB for live input). */
  packetizeNalUnits(nalus: readonly Buffer[]): RtpPayload[] {
    const out: RtpPayload[] = [];
    packetizeNalUnits(nalus, H264_FORMAT, this.#maxPayloadSize, this.#aggregate, out);
    return out;
  }
}
