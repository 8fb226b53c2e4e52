/** H.265 RTP depacketizer (RFC 7798, no DON): single NAL unit packets, APs and FUs back to NAL
 * units grouped per access unit. Used by tests and for live ingest. */

import { NalAssembler } from '../common/nal-assembler.js';
import type { Depacketizer, NalAccessUnit, RtpPacketInfo } from '../types.js';
import { H265_AP, H265_FU } from './packetizer.js';

export class H265Depacketizer implements Depacketizer<NalAccessUnit> {
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
    if (payload.length < 2) {
      asm.damage();
      return;
    }
    const type = (payload[0] >> 1) & 0x3f;
    if (type < H265_AP) {
      asm.addNal(payload);
    } else if (type === H265_AP) {
      let p = 2;
      while (p < payload.length) {
        if (p + 2 > payload.length) return asm.damage();
        const size = payload.readUInt16BE(p);
        p += 2;
        if (size === 0 || p + size > payload.length) return asm.damage();
        asm.addNal(payload.subarray(p, p + size));
        p += size;
      }
    } else if (type === H265_FU) {
      if (payload.length < 4) return asm.damage();
      const fu = payload[2];
      const data = payload.subarray(3);
      const end = (fu & 0x40) !== 0;
      if (fu & 0x80) {
        // Rebuild the NAL header: payload header with Type replaced by FuType.
        const header = Buffer.of((payload[0] & 0x81) | ((fu & 0x3f) << 1), payload[1]);
        asm.fuStart(header, data, end);
      } else {
        asm.fuContinue(data, end);
      }
    }
    // 50 (PACI) and 51-63 (unspecified) are ignored, as RFC 7798 §4.4 allows.
  }
}
