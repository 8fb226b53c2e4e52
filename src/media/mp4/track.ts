/** The `Mp4Track` implementation: parsed metadata plus a `SampleTable`. Instances are frozen by the
 * reader; the lazily built sample index lives in private fields, which freezing does not touch. */
import type { SampleTable } from './sample-table.js';
import type { ChunkLayout, Mp4Track, SampleInfo, SoundDescription } from './types.js';

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
  sound?: SoundDescription;
  entryBoxes?: Readonly<Record<string, Buffer>>;
  sampleEntries?: readonly Buffer[];
  hintSdp?: string;
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
  readonly sound?: SoundDescription;
  readonly entryBoxes?: Readonly<Record<string, Buffer>>;
  readonly sampleEntries?: readonly Buffer[];
  readonly hintSdp?: string;
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
    this.sound = meta.sound;
    this.entryBoxes = meta.entryBoxes;
    this.sampleEntries = meta.sampleEntries;
    this.hintSdp = meta.hintSdp;
    this.references = meta.references;
    this.sampleCount = table.count;
    this.allSync = table.allSync;
    this.totalBytes = table.totalBytes;
    this.#table = table;
  }

  sample(index: number): SampleInfo {
    return this.#table.sample(index);
  }

  sampleInto(index: number, out: SampleInfo): SampleInfo {
    return this.#table.sampleInto(index, out);
  }

  sampleAtDts(dts: number): number {
    return this.#table.sampleAtDts(dts);
  }

  syncAtOrBefore(index: number): number {
    return this.#table.syncAtOrBefore(index);
  }

  chunks(): ChunkLayout {
    return this.#table.chunks();
  }

  decodeTime(index: number): number {
    return this.#table.decodeTime(index);
  }
}
