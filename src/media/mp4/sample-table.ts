/** Sample lookup over the stbl tables. The tables are kept run-length encoded as parsed (a few
 * bytes per run) and validated up front; the per-sample offset and decode-time arrays are built
 * once, on the first `sample()` call, so movies that are only described (never streamed) stay
 * small in the cache. After that every lookup is O(1). */
import { Mp4Error, type ChunkLayout, type SampleInfo } from './types.js';

/** Per-sample arrays cost 16-20 bytes a sample; this bounds them near 300 MiB for a hostile file
 * while allowing ~75 hours of 60 fps video. Beyond it the track is rejected, not the movie, unless
 * its samples have one constant size: that is uncompressed audio (one sample per audio frame, 44100
 * a second), which is read by chunk (`chunks()`) and never needs the per-sample arrays. */
export const MAX_SAMPLES = 1 << 24;

export interface SampleTables {
  /** stsz/stz2 sample count. */
  sampleCount: number;
  /** Per-sample sizes, or null when every sample is `constantSize` bytes. */
  sizes: Uint32Array | null;
  constantSize: number;
  /** stts runs. */
  sttsCounts: Uint32Array;
  sttsDeltas: Uint32Array;
  /** ctts runs, or null when decode order is presentation order. */
  cttsCounts: Uint32Array | null;
  cttsOffsets: Int32Array | null;
  /** stsc: 1-based first chunk of each run and samples per chunk in it. */
  stscFirstChunk: Uint32Array;
  stscSamplesPerChunk: Uint32Array;
  /** stco/co64 chunk offsets. */
  chunkOffsets: Float64Array;
  /** stss 1-based sync sample numbers, or null when every sample is a sync sample. */
  syncSamples: Uint32Array | null;
}

interface BuiltIndex {
  offsets: Float64Array;
  dts: Float64Array;
  ctsOffsets: Int32Array | null;
}

export class SampleTable {
  readonly count: number;
  readonly allSync: boolean;
  readonly totalBytes: number;
  /** Sum of the stts deltas of the table's samples, in media timescale units. */
  readonly totalDuration: number;
  readonly #t: SampleTables;
  /** stts runs with zero-length runs dropped, cut at `count`: first sample, first dts, delta. */
  readonly #runSample: Float64Array;
  readonly #runDts: Float64Array;
  readonly #runDelta: Uint32Array;
  /** Ascending, de-duplicated, in-range 1-based sync sample numbers. */
  readonly #sync: Uint32Array | null;
  #index: BuiltIndex | undefined;

  /** Validates the tables against each other; inconsistencies raise an Mp4Error. */
  constructor(t: SampleTables) {
    const n = t.sampleCount;
    if (n > MAX_SAMPLES && t.sizes) throw new Mp4Error(`${n} samples exceed the supported ${MAX_SAMPLES}`);
    if (t.sizes && t.sizes.length !== n) throw new Mp4Error('stsz table length differs from its sample count');
    this.count = n;
    this.#t = t;

    // Decode times. More stts coverage than samples is harmless (the excess is never used); less
    // would leave samples without a time, so that track is unusable.
    const runs = Math.min(t.sttsCounts.length, t.sttsDeltas.length);
    const runSample: number[] = [];
    const runDts: number[] = [];
    const runDelta: number[] = [];
    let covered = 0;
    let dts = 0;
    for (let r = 0; r < runs && covered < n; r++) {
      const take = Math.min(t.sttsCounts[r], n - covered);
      if (take === 0) continue;
      runSample.push(covered);
      runDts.push(dts);
      runDelta.push(t.sttsDeltas[r]);
      covered += take;
      dts += take * t.sttsDeltas[r];
    }
    if (covered < n) throw new Mp4Error(`stts covers ${covered} of ${n} samples`);
    this.#runSample = Float64Array.from(runSample);
    this.#runDts = Float64Array.from(runDts);
    this.#runDelta = Uint32Array.from(runDelta);
    this.totalDuration = dts;

    // Chunk layout: first_chunk must start at 1 and increase; runs past the last chunk offset are
    // ignored, but the chunks that do exist must hold every sample.
    const stscRuns = Math.min(t.stscFirstChunk.length, t.stscSamplesPerChunk.length);
    const chunks = t.chunkOffsets.length;
    let capacity = 0;
    for (let r = 0; r < stscRuns; r++) {
      const first = t.stscFirstChunk[r];
      if (r === 0 ? first !== 1 : first < t.stscFirstChunk[r - 1]) {
        throw new Mp4Error(`stsc entry ${r} has invalid first_chunk ${first}`);
      }
      const next = r + 1 < stscRuns ? Math.min(t.stscFirstChunk[r + 1], chunks + 1) : chunks + 1;
      if (next > first) capacity += (next - first) * t.stscSamplesPerChunk[r];
    }
    if (capacity < n) throw new Mp4Error(`chunk offsets cover ${capacity} of ${n} samples`);

    let total = 0;
    if (t.sizes) for (let i = 0; i < n; i++) total += t.sizes[i];
    else total = n * t.constantSize;
    this.totalBytes = total;

    if (t.syncSamples) {
      const sync = Array.from(t.syncSamples).filter((s) => s >= 1 && s <= n);
      sync.sort((a, b) => a - b);
      this.#sync = Uint32Array.from(sync.filter((s, i) => i === 0 || s !== sync[i - 1]));
      this.allSync = this.#sync.length === n;
    } else {
      this.#sync = null;
      this.allSync = true;
    }
  }

  sample(index: number): SampleInfo {
    return this.sampleInto(index, { index: 0, offset: 0, size: 0, dts: 0, cts: 0, sync: false });
  }

  /** `sample(index)` written into `out` (no allocation: the per-sample path of every viewer). */
  sampleInto(index: number, out: SampleInfo): SampleInfo {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`sample index ${index} outside [0, ${this.count})`);
    }
    const ix = this.#index ?? this.#build();
    const dts = ix.dts[index];
    out.index = index;
    out.offset = ix.offsets[index];
    out.size = this.#t.sizes ? this.#t.sizes[index] : this.#t.constantSize;
    out.dts = dts;
    out.cts = ix.ctsOffsets ? dts + ix.ctsOffsets[index] : dts;
    out.sync = this.#isSync(index);
    return out;
  }

  /** Decode time of one sample from the stts runs (O(log runs), no per-sample index). */
  decodeTime(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`sample index ${index} outside [0, ${this.count})`);
    }
    let lo = 0;
    let hi = this.#runSample.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#runSample[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.#runDts[lo] + (index - this.#runSample[lo]) * this.#runDelta[lo];
  }

  /** The chunks that hold the track's samples (stsc expanded per chunk, cut at the sample count). */
  chunks(): ChunkLayout {
    const t = this.#t;
    const chunks = t.chunkOffsets.length;
    const stscRuns = Math.min(t.stscFirstChunk.length, t.stscSamplesPerChunk.length);
    const offsets: number[] = [];
    const firstSample: number[] = [];
    const counts: number[] = [];
    let s = 0;
    for (let r = 0; r < stscRuns && s < this.count; r++) {
      const next = r + 1 < stscRuns ? Math.min(t.stscFirstChunk[r + 1], chunks + 1) : chunks + 1;
      const perChunk = t.stscSamplesPerChunk[r];
      if (perChunk === 0) continue;
      for (let chunk = t.stscFirstChunk[r]; chunk < next && s < this.count; chunk++) {
        const n = Math.min(perChunk, this.count - s);
        offsets.push(t.chunkOffsets[chunk - 1]);
        firstSample.push(s);
        counts.push(n);
        s += n;
      }
    }
    return { offsets: Float64Array.from(offsets), firstSample: Float64Array.from(firstSample), counts: Uint32Array.from(counts) };
  }

  sampleAtDts(dts: number): number {
    const runs = this.#runDts.length;
    if (runs === 0 || !(dts > 0)) return 0;
    // Last run whose first dts is <= dts; zero-delta runs may share a start, the last one wins.
    let lo = 0;
    let hi = runs - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#runDts[mid] <= dts) lo = mid;
      else hi = mid - 1;
    }
    const first = this.#runSample[lo];
    const last = (lo + 1 < runs ? this.#runSample[lo + 1] : this.count) - 1;
    const delta = this.#runDelta[lo];
    if (delta === 0) return last;
    return Math.min(last, first + Math.floor((dts - this.#runDts[lo]) / delta));
  }

  syncAtOrBefore(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`sample index ${index} outside [0, ${this.count})`);
    }
    const sync = this.#sync;
    if (!sync) return index;
    // Last sync number <= index + 1 (stss numbers are 1-based).
    let lo = 0;
    let hi = sync.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sync[mid] <= index + 1) lo = mid + 1;
      else hi = mid;
    }
    // No sync sample precedes: start from the beginning, which is what a player would do anyway.
    return lo === 0 ? 0 : sync[lo - 1] - 1;
  }

  #isSync(index: number): boolean {
    const sync = this.#sync;
    if (!sync) return true;
    const want = index + 1;
    let lo = 0;
    let hi = sync.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = sync[mid];
      if (v === want) return true;
      if (v < want) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  #build(): BuiltIndex {
    const t = this.#t;
    const n = this.count;
    if (n > MAX_SAMPLES) throw new Mp4Error(`${n} samples exceed the ${MAX_SAMPLES} that can be indexed one by one`);
    const dts = new Float64Array(n);
    for (let r = 0; r < this.#runSample.length; r++) {
      const end = r + 1 < this.#runSample.length ? this.#runSample[r + 1] : n;
      const delta = this.#runDelta[r];
      let time = this.#runDts[r];
      for (let s = this.#runSample[r]; s < end; s++, time += delta) dts[s] = time;
    }

    const offsets = new Float64Array(n);
    const chunks = t.chunkOffsets.length;
    const stscRuns = Math.min(t.stscFirstChunk.length, t.stscSamplesPerChunk.length);
    let s = 0;
    for (let r = 0; r < stscRuns && s < n; r++) {
      const next = r + 1 < stscRuns ? Math.min(t.stscFirstChunk[r + 1], chunks + 1) : chunks + 1;
      const perChunk = t.stscSamplesPerChunk[r];
      for (let chunk = t.stscFirstChunk[r]; chunk < next && s < n; chunk++) {
        let off = t.chunkOffsets[chunk - 1];
        for (let k = 0; k < perChunk && s < n; k++, s++) {
          offsets[s] = off;
          off += t.sizes ? t.sizes[s] : t.constantSize;
        }
      }
    }

    let ctsOffsets: Int32Array | null = null;
    if (t.cttsCounts && t.cttsOffsets) {
      // A ctts shorter than the track leaves the remaining samples with cts == dts.
      ctsOffsets = new Int32Array(n);
      let at = 0;
      for (let r = 0; r < t.cttsCounts.length && at < n; r++) {
        const end = Math.min(n, at + t.cttsCounts[r]);
        ctsOffsets.fill(t.cttsOffsets[r], at, end);
        at = end;
      }
    }
    this.#index = { offsets, dts, ctsOffsets };
    return this.#index;
  }
}
