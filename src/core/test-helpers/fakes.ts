/** A source and a reader that only record what the stream does to them, for unit tests. */
import type { Reader, ReaderStats } from '../reader.js';
import type { Source } from '../source.js';
import type { Format } from '../../stream/types.js';

export class FakePublisher implements Source {
  readonly kind = 'test';
  readonly closed: string[] = [];
  constructor(readonly label = 'test publisher') {}
  close(reason: string): void {
    this.closed.push(reason);
  }
}

export class FakeViewer implements Reader {
  readonly protocol = 'test';
  readonly label = 'test viewer';
  resyncs = 0;
  readonly closed: string[] = [];
  readonly #since = Date.now();
  resync(): void {
    this.resyncs++;
  }
  close(reason: string): void {
    this.closed.push(reason);
  }
  stats(): ReaderStats {
    return { since: this.#since, bytes: 0, packets: 0 };
  }
}

/** Formats of the tracks the stream tests build: H.264 video and AAC audio. */
export const H264: Format = { media: 'video', payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: {} };
export const AAC: Format = {
  media: 'audio',
  payloadType: 97,
  encodingName: 'MPEG4-GENERIC',
  clockRate: 44100,
  channels: 2,
  fmtp: {},
};
