/** MPEG-4 Visual depacketizer (RFC 6416): payloads are concatenated until the marker bit or a new
 * timestamp ends the VOP. For tests and live ingest. */

import { FrameAssembler, type VideoFrame } from '../common/frame-assembler.js';
import type { Depacketizer, RtpPacketInfo } from '../types.js';

export class Mp4vDepacketizer implements Depacketizer<VideoFrame> {
  readonly #a = new FrameAssembler();

  push(payload: Buffer, info: RtpPacketInfo): readonly VideoFrame[] {
    return this.#a.add(payload, info);
  }

  flush(): readonly VideoFrame[] {
    return this.#a.flush();
  }

  reset(): void {
    this.#a.reset();
  }
}
