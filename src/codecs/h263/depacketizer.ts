/** H.263 depacketizer (RFC 4629): strips the payload header and any extra picture header,
 * restores the two zero bytes of a start code when P=1, and joins a picture's packets until the
 * marker. For tests and live ingest. */

import { FrameAssembler, type VideoFrame } from '../common/frame-assembler.js';
import type { Depacketizer, RtpPacketInfo } from '../types.js';

const NONE: readonly VideoFrame[] = Object.freeze([]);
const ZEROS = Buffer.alloc(2);

export class H263Depacketizer implements Depacketizer<VideoFrame> {
  readonly #a = new FrameAssembler();

  push(payload: Buffer, info: RtpPacketInfo): readonly VideoFrame[] {
    if (payload.length < 2) {
      this.#a.markDamaged();
      return NONE;
    }
    const p = (payload[0] & 0x04) !== 0;
    const v = (payload[0] & 0x02) !== 0;
    const plen = ((payload[0] & 0x01) << 5) | (payload[1] >> 3);
    const start = 2 + (v ? 1 : 0) + plen;
    if (start > payload.length) {
      this.#a.markDamaged();
      return NONE;
    }
    const body = payload.subarray(start);
    return this.#a.add(p ? Buffer.concat([ZEROS, body]) : body, info);
  }

  flush(): readonly VideoFrame[] {
    return this.#a.flush();
  }

  reset(): void {
    this.#a.reset();
  }
}
