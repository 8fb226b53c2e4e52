/** H.264 RTP depacketizer (RFC 6184 non-interleaved mode): single NAL unit packets, STAP-A and
 * FU-A back to NAL units grouped per access unit. Used by tests and for live ingest. */

import { NalAssembler } from '../common/nal-assembler.js';
import type { Depacketizer, NalAccessUnit, RtpPacketInfo } from '../types.js';
import { H264_FU_A, H264_STAP_A } from './packetizer.js';

export class H264Depacketizer implements Depacketizer<NalAccessUnit> {
  readonly #asm = new NalAssembler();

  /** NAL units in the result may be views into `payload`; keep the payload buffer unchanged. */
  push(payload: Buffer, info: RtpPacketInfo): readonly NalAccessUnit[] {
    const previous = this.#asm.begin(info);
    this.#parse(payload);
    return NalAssembler.collect(previous, this.#asm.end(info.marker));
  }

  flush(): readonly NalAccessUnit[] {
    return this.#asm.flush();
  }

  reset(): void {
    this.#asm.reset();
  }

  #parse(payload: Buffer): void {
    const asm = this.#asm;
    if (payload.length === 0) {
      asm.damage();
      return;
    }
    const type = payload[0] & 0x1f;
    if (type >= 1 && type <= 23) {
      asm.addNal(payload);
    } else if (type === H264_STAP_A) {
      let p = 1;
      while (p < payload.length) {
        if (p + 2 > payload.length) return asm.damage();
        const size = payload.readUInt16BE(p);
        p += 2;
        if (size === 0 || p + size > payload.length) return asm.damage();
        asm.addNal(payload.subarray(p, p + size));
        p += size;
      }
    } else if (type === H264_FU_A) {
      if (payload.length < 3) return asm.damage();
      const fu = payload[1];
      const data = payload.subarray(2);
      const end = (fu & 0x40) !== 0;
      if (fu & 0x80) asm.fuStart(Buffer.of((payload[0] & 0xe0) | (fu & 0x1f)), data, end);
      else asm.fuContinue(data, end);
    }
    // Types 0, 30 and 31 are undefined, and 25-27 and 29 (STAP-B, MTAP16/24, FU-B) exist only in
    // interleaved mode, which is never negotiated here: ignored, as RFC 6184 §5.2 asks.
  }
}
