/** MPEG-4 Visual depacketizer (RFC 6416): payloads are concatenated until the marker bit or a new
 * timestamp ends the VOP. For tests and live ingest. */

import type { Depacketizer, RtpPacketInfo } from '../types.js';

export interface VideoFrame {
  timestamp: number;
  data: Buffer;
  /** True when packets were lost while this frame was assembled. */
  damaged: boolean;
}

const NONE: readonly VideoFrame[] = Object.freeze([]);

/** Collects the payloads of one frame; shared by the MPEG-4 Visual and H.263 depacketizers. */
export class FrameAssembler {
  #parts: Buffer[] = [];
  #size = 0;
  #timestamp = 0;
  #damaged = false;
  #expectedSeq = -1;

  /** Adds a payload piece; returns the completed frames. */
  add(piece: Buffer, info: RtpPacketInfo): readonly VideoFrame[] {
    let out: VideoFrame[] | undefined;
    let gap = false;
    if (info.sequence !== undefined) {
      gap = this.#expectedSeq !== -1 && info.sequence !== this.#expectedSeq;
      this.#expectedSeq = (info.sequence + 1) & 0xffff;
    }
    if (this.#parts.length && info.timestamp !== this.#timestamp) {
      // The previous frame lost its marker packet; a gap may have cost either frame.
      this.#damaged = true;
      out = [...this.#take()];
    }
    if (!this.#parts.length) this.#timestamp = info.timestamp;
    if (gap) this.#damaged = true;
    this.#parts.push(piece);
    this.#size += piece.length;
    if (info.marker) (out ??= []).push(...this.#take());
    return out ?? NONE;
  }

  markDamaged(): void {
    this.#damaged = true;
  }

  flush(): readonly VideoFrame[] {
    return this.#take();
  }

  reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#damaged = false;
    this.#expectedSeq = -1;
  }

  #take(): readonly VideoFrame[] {
    if (!this.#parts.length) return NONE;
    const frame = { timestamp: this.#timestamp, data: Buffer.concat(this.#parts, this.#size), damaged: this.#damaged };
    this.#parts = [];
    this.#size = 0;
    this.#damaged = false;
    return [frame];
  }
}

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
