/** Joins the RTP payloads of one video frame: until the marker bit, or until a new timestamp shows
 * that the marker packet was lost. Shared by depacketizers whose payloads are plain pieces of the
 * frame (MPEG-4 Visual, H.263). */

import type { RtpPacketInfo } from '../types.js';

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
    const frame = {
      timestamp: this.#timestamp,
      data: Buffer.concat(this.#parts, this.#size),
      damaged: this.#damaged,
    };
    this.#parts = [];
    this.#size = 0;
    this.#damaged = false;
    return [frame];
  }
}
