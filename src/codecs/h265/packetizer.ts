/** H.265 RTP packetizer, RFC 7798 without DON (sprop-max-don-diff = 0): single NAL unit packets,
 * aggregation packets (AP) and fragmentation units (FU). */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import { packetizeNalUnits, type NalFormat } from '../common/nal-packetizer.js';
import { splitLengthPrefixed, type NalLengthSize } from '../common/nal-units.js';
import type { Packetizer, RtpPayload } from '../types.js';

/** Payload header types of the RTP payload structures (RFC 7798 §4.4). */
export const H265_AP = 48;
export const H265_FU = 49;

export interface H265PacketizerOptions {
  /** Size of the NAL length prefixes in the MP4 samples (hvcC lengthSizeMinusOne + 1). Default 4. */
  nalLengthSize?: NalLengthSize;
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
  /** Aggregate consecutive small NAL units (VPS+SPS+PPS+SEI) into APs. Default true. */
  aggregate?: boolean;
}

/** The NAL unit header is 2 bytes: F(1) Type(6) LayerId(6) TID(3). */
const H265_FORMAT: NalFormat = {
  nalHeaderSize: 2,
  fuOverhead: 3,
  writeFuHeader(out, off, nal, start, end) {
    // Payload header: the NAL header with Type replaced by 49; F, LayerId and TID kept (§4.4.3).
    out[off] = (nal[0] & 0x81) | (H265_FU << 1);
    out[off + 1] = nal[1];
    // FU header: S, E, FuType (the original NAL unit type).
    out[off + 2] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | ((nal[0] >> 1) & 0x3f);
  },
  aggregationHeaderSize: 2,
  writeAggregationHeader(out, nalus, from, to) {
    // §4.4.2: F is the OR of the aggregated F bits; LayerId and TID the lowest aggregated values.
    let f = 0;
    let layerId = 0x3f;
    let tid = 7;
    for (let k = from; k < to; k++) {
      const nal = nalus[k];
      f |= nal[0] & 0x80;
      // A 1-byte NAL unit has no second header byte; count it as layer 0 / TID 0 rather than read
      // past it (such a unit is malformed anyway and is passed through untouched).
      const b1 = nal.length > 1 ? nal[1] : 0;
      layerId = Math.min(layerId, ((nal[0] & 0x01) << 5) | (b1 >> 3));
      tid = Math.min(tid, b1 & 0x07);
    }
    out[0] = f | (H265_AP << 1) | (layerId >> 5);
    out[1] = ((layerId & 0x1f) << 3) | tid;
  },
};

export class H265Packetizer implements Packetizer {
  readonly #nalLengthSize: NalLengthSize;
  readonly #maxPayloadSize: number;
  readonly #aggregate: boolean;

  constructor(options: H265PacketizerOptions = {}) {
    this.#nalLengthSize = options.nalLengthSize ?? 4;
    if (![1, 2, 4].includes(this.#nalLengthSize)) {
      throw new RangeError(`nalLengthSize must be 1, 2 or 4, got ${String(this.#nalLengthSize)}`);
    }
    // A FU needs 3 header bytes plus at least one byte of the NAL unit.
    this.#maxPayloadSize = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, 4);
    this.#aggregate = options.aggregate ?? true;
  }

  get maxPayloadSize(): number {
    return this.#maxPayloadSize;
  }

  /** Packetizes one MP4 sample (length-prefixed NAL units). The marker is set on the last payload. */
  packetize(au: Buffer): RtpPayload[] {
    return this.packetizeNalUnits(splitLengthPrefixed(au, this.#nalLengthSize));
  }

  /** Packetizes one access unit given as bare NAL units (e.g. from splitAnnexB). */
  packetizeNalUnits(nalus: readonly Buffer[]): RtpPayload[] {
    const out: RtpPayload[] = [];
    packetizeNalUnits(nalus, H265_FORMAT, this.#maxPayloadSize, this.#aggregate, out);
    return out;
  }
}
