/** The `Mp4Track` implementation: parsed metadata plus a `SampleTable`. Instances are frozen by the
 * reader; the lazily built sample index lives in private fields, which freezing does not touch. */
import type { SampleTable } from './sample-table.js';
import type { Mp4Track, SampleInfo } from './types.js';

export interface TrackMetadata {
  id: number;
  handler: string;
  timescale: number;
  duration: number;
  codec: string;
  editMediaTime: number;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
  avcC?: Buffer;
  hvcC?: Buffer;
  esds?: Mp4Track['esds'];
  references: Record<string, number[]>;
}

export class Track implements Mp4Track {
  readonly id: number;
  readonly handler: string;
  readonly timescale: number;
  readonly duration: number;
  readonly codec: string;
  readonly sampleCount: number;
  readonly editMediaTime: number;
  readonly width?: number;
  readonly height?: number;
  readonly channels?: number;
  readonly sampleRate?: number;
  readonly avcC?: Buffer;
  readonly hvcC?: Buffer;
  readonly esds?: Mp4Track['esds'];
  readonly allSync: boolean;
  readonly totalBytes: number;
  readonly references: Record<string, number[]>;
  readonly #table: SampleTable;

  constructor(meta: TrackMetadata, table: SampleTable) {
    this.id = meta.id;
    this.handler = meta.handler;
    this.timescale = meta.timescale;
    this.duration = meta.duration;
    this.codec = meta.codec;
    this.editMediaTime = meta.editMediaTime;
    this.width = meta.width;
    this.height = meta.height;
    this.channels = meta.channels;
    this.sampleRate = meta.sampleRate;
    this.avcC = meta.avcC;
    this.hvcC = meta.hvcC;
    this.esds = meta.esds;
    this.references = meta.references;
    this.sampleCount = table.count;
    this.allSync = table.allSync;
    this.totalBytes = table.totalBytes;
    this.#table = table;
  }

  sample(index: number): SampleInfo {
    return this.#table.sample(index);
  }

  sampleAtDts(dts: number): number {
    return this.#table.sampleAtDts(dts);
  }

  syncAtOrBefore(index: number): number {
    return this.#table.syncAtOrBefore(index);
  }
}
