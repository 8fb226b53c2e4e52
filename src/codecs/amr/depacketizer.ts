/** AMR / AMR-WB octet-aligned depacketizer (RFC 4867 §4.4): payloads back to storage-format frames
 * (header byte + speech bytes), each time-stamped. For tests and live ingest. */

import type { Depacketizer, RtpPacketInfo } from '../types.js';
import { AMR_NB_FRAME_BYTES, AMR_WB_FRAME_BYTES, amrFrameTypeValid, amrSamplesPerFrame } from './frames.js';

export interface AmrStorageFrame {
  timestamp: number;
  /** Storage-format frame: `0 FT Q 0 0` header byte + speech bytes. */
  data: Buffer;
}

const NONE: readonly AmrStorageFrame[] = Object.freeze([]);

export class AmrDepacketizer implements Depacketizer<AmrStorageFrame> {
  readonly #wideband: boolean;
  #malformed = 0;

  constructor(options: { wideband?: boolean } = {}) {
    this.#wideband = options.wideband ?? false;
  }

  /** Payloads that were cut short or named a reserved frame type. */
  get malformedCount(): number {
    return this.#malformed;
  }

  push(payload: Buffer, info: RtpPacketInfo): readonly AmrStorageFrame[] {
    const sizes = this.#wideband ? AMR_WB_FRAME_BYTES : AMR_NB_FRAME_BYTES;
    const toc: number[] = [];
    let pos = 1; // CMR
    for (;;) {
      if (pos >= payload.length) {
        this.#malformed++;
        return NONE;
      }
      const t = payload[pos++];
      toc.push(t);
      if ((t & 0x80) === 0) break;
    }
    const out: AmrStorageFrame[] = [];
    const spf = amrSamplesPerFrame(this.#wideband);
    for (let k = 0; k < toc.length; k++) {
      const ft = (toc[k] >> 3) & 0x0f;
      const size = sizes[ft];
      if (!amrFrameTypeValid(ft, this.#wideband) || pos + size > payload.length) {
        this.#malformed++;
        break;
      }
      const frame = Buffer.allocUnsafe(1 + size);
      frame[0] = toc[k] & 0x7c;
      payload.copy(frame, 1, pos, pos + size);
      pos += size;
      out.push({ timestamp: (info.timestamp + k * spf) >>> 0, data: frame });
    }
    return out;
  }

  flush(): readonly AmrStorageFrame[] {
    return NONE;
  }

  reset(): void {}
}
