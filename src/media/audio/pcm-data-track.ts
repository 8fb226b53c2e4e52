/** A frame-level track over one run of interleaved audio frames in a file (the data of a WAV, AIFF
 * or AU file), shaped like an MP4 track of uncompressed audio: sample i is frame i, its decode
 * time is i in a timescale of the sampling rate. Describing it as QuickTime would (`twos`, `sowt`,
 * `ulaw`, ... plus the sample size) lets the stream builder treat these files and QuickTime PCM
 * tracks the same way. */
import type { ChunkLayout, Mp4Track, SampleInfo, SoundDescription } from '../mp4/types.js';

export interface PcmDataTrackOptions {
  /** QuickTime sample entry type describing the samples: 'twos', 'sowt', 'raw ', 'lpcm', 'in24',
   * 'ulaw', 'alaw', ...; or another four-cc for audio that is not streamed (the reason is then
   * "codec ... is not streamed"). */
  codec: string;
  sound: SoundDescription;
  channels: number;
  /** Hz; may be fractional (AIFF stores an 80-bit float). */
  sampleRate: number;
  /** Byte offset of the first frame and bytes per frame. */
  dataOffset: number;
  bytesPerFrame: number;
  frames: number;
  /** Audio frames each "frame" above stands for: 1 for PCM; for block-coded audio (IMA ADPCM in
   * WAV) the frames of one block, `bytesPerFrame` being the block size. Default 1. */
  framesPerSample?: number;
}

export class PcmDataTrack implements Mp4Track {
  readonly id = 1;
  readonly handler = 'soun';
  readonly timescale: number;
  readonly duration: number;
  readonly codec: string;
  readonly sampleCount: number;
  readonly editMediaTime = 0;
  readonly channels: number;
  readonly sampleRate: number;
  readonly sound: SoundDescription;
  readonly allSync = true;
  readonly totalBytes: number;
  readonly references: Record<string, number[]> = Object.freeze({});
  readonly #offset: number;
  readonly #bytesPerFrame: number;
  readonly #framesPerSample: number;

  constructor(o: PcmDataTrackOptions) {
    this.codec = o.codec;
    this.sound = o.sound;
    this.channels = o.channels;
    this.sampleRate = o.sampleRate;
    // RTP clocks and timescales are whole numbers; an AIFF's 22254.5454 Hz becomes 22255.
    this.timescale = Math.max(1, Math.round(o.sampleRate));
    this.#framesPerSample = o.framesPerSample ?? 1;
    this.sampleCount = o.frames;
    this.duration = o.frames * this.#framesPerSample;
    this.totalBytes = o.frames * o.bytesPerFrame;
    this.#offset = o.dataOffset;
    this.#bytesPerFrame = o.bytesPerFrame;
  }

  sample(index: number): SampleInfo {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`sample index ${index} outside [0, ${this.sampleCount})`);
    }
    const dts = index * this.#framesPerSample;
    return { index, offset: this.#offset + index * this.#bytesPerFrame, size: this.#bytesPerFrame, dts, cts: dts, sync: true };
  }

  sampleAtDts(dts: number): number {
    if (!(dts > 0) || this.sampleCount === 0) return 0;
    return Math.min(this.sampleCount - 1, Math.floor(dts / this.#framesPerSample));
  }

  syncAtOrBefore(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`sample index ${index} outside [0, ${this.sampleCount})`);
    }
    return index;
  }

  chunks(): ChunkLayout {
    const one = this.sampleCount > 0;
    return {
      offsets: Float64Array.from(one ? [this.#offset] : []),
      firstSample: Float64Array.from(one ? [0] : []),
      counts: Uint32Array.from(one ? [this.sampleCount] : []),
    };
  }

  decodeTime(index: number): number {
    return index * this.#framesPerSample;
  }
}
