/** Uncompressed audio tracks store one sample per audio frame (QuickTime `twos`/`sowt`/..., and the
 * frame-level tracks this folder makes of WAV/AIFF/AU files): 44100 samples a second, far too
 * fine to send one at a time. `PcmBlockTrack` regroups such a track into blocks of consecutive
 * frames within one chunk, each a sample of its own, so the player reads, paces and seeks audio in
 * blocks of a few tens of milliseconds. It reads only the chunk table, never the per-sample
 * index, so hours of audio cost a few bytes per chunk. */
import type { ChunkLayout, Mp4Track, SampleInfo } from '../mp4/types.js';

export class PcmBlockTrack implements Mp4Track {
  readonly id: number;
  readonly handler: string;
  readonly timescale: number;
  readonly duration: number;
  readonly codec: string;
  readonly sampleCount: number;
  readonly editMediaTime: number;
  readonly channels?: number;
  readonly sampleRate?: number;
  readonly sound?: Mp4Track['sound'];
  readonly entryBoxes?: Mp4Track['entryBoxes'];
  readonly allSync = true;
  readonly totalBytes: number;
  readonly references: Record<string, number[]>;
  readonly #base: Mp4Track;
  readonly #chunks: ChunkLayout;
  readonly #bytesPerFrame: number;
  readonly #framesPerBlock: number;
  /** Index of the first block of each chunk. */
  readonly #firstBlock: Float64Array;

  /** `base` must offer `chunks()` and `decodeTime()`; every sample of it is one frame of
   * `bytesPerFrame` bytes whatever its sample table says (old QuickTime files say 1). */
  constructor(base: Mp4Track, bytesPerFrame: number, framesPerBlock: number) {
    if (!base.chunks || !base.decodeTime) throw new TypeError('PcmBlockTrack needs a track with a chunk table');
    if (!(bytesPerFrame > 0) || !(framesPerBlock > 0)) throw new RangeError('invalid PCM block layout');
    this.#base = base;
    this.#chunks = base.chunks();
    this.#bytesPerFrame = bytesPerFrame;
    this.#framesPerBlock = Math.floor(framesPerBlock);
    const n = this.#chunks.counts.length;
    this.#firstBlock = new Float64Array(n);
    let blocks = 0;
    let frames = 0;
    for (let c = 0; c < n; c++) {
      this.#firstBlock[c] = blocks;
      blocks += Math.ceil(this.#chunks.counts[c] / this.#framesPerBlock);
      frames += this.#chunks.counts[c];
    }
    this.sampleCount = blocks;
    this.totalBytes = frames * bytesPerFrame;
    this.id = base.id;
    this.handler = base.handler;
    this.timescale = base.timescale;
    this.duration = base.duration;
    this.codec = base.codec;
    this.editMediaTime = base.editMediaTime;
    this.channels = base.channels;
    this.sampleRate = base.sampleRate;
    this.sound = base.sound;
    this.entryBoxes = base.entryBoxes;
    this.references = base.references;
  }

  /** Audio frames in a full block. */
  get framesPerBlock(): number {
    return this.#framesPerBlock;
  }

  sample(index: number): SampleInfo {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`block index ${index} outside [0, ${this.sampleCount})`);
    }
    const c = this.#chunkOfBlock(index);
    const within = (index - this.#firstBlock[c]) * this.#framesPerBlock;
    const frames = Math.min(this.#framesPerBlock, this.#chunks.counts[c] - within);
    const dts = this.#base.decodeTime!(this.#chunks.firstSample[c] + within);
    return {
      index,
      offset: this.#chunks.offsets[c] + within * this.#bytesPerFrame,
      size: frames * this.#bytesPerFrame,
      dts,
      cts: dts,
      sync: true,
    };
  }

  sampleAtDts(dts: number): number {
    if (this.sampleCount === 0) return 0;
    const frame = this.#base.sampleAtDts(dts);
    const first = this.#chunks.firstSample;
    let lo = 0;
    let hi = first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (first[mid] <= frame) lo = mid;
      else hi = mid - 1;
    }
    const block = this.#firstBlock[lo] + Math.floor((frame - first[lo]) / this.#framesPerBlock);
    return Math.min(block, this.sampleCount - 1);
  }

  syncAtOrBefore(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`block index ${index} outside [0, ${this.sampleCount})`);
    }
    return index;
  }

  #chunkOfBlock(block: number): number {
    const fb = this.#firstBlock;
    let lo = 0;
    let hi = fb.length - 1;
    // Last chunk whose first block is <= block; chunks without frames share a first block with
    // their successor, and the later one wins.
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (fb[mid] <= block) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
