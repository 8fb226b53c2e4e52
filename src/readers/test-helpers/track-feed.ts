/** A live stream track fed by hand for readers' unit tests: H.264 keyframes and delta frames,
 * AAC frames, each frame's packets with consecutive sequence numbers and one timestamp. */
import { StreamTrack } from '../../core/stream-track.js';
import { AAC, H264 } from '../../core/test-helpers/fakes.js';
import { writeRtpPacket } from '../../rtp/packet.js';
import type { Format } from '../../stream/types.js';

export const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e]);
export const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0x44]);
export const SLICE = Buffer.from([0x41, 0x9a, 0x00]);

export class TrackFeed {
  readonly track: StreamTrack;
  #seq = 1;
  #ts = 0;
  readonly #step: number;

  constructor(opts: { id?: number; format?: Format; ssrc?: number } = {}) {
    const format = opts.format ?? H264;
    this.track = new StreamTrack({ id: opts.id ?? 1, format });
    this.#step = format.media === 'video' ? 3600 : 1024;
  }

  /** One frame of the given payloads (marker on the last). */
  frame(...payloads: Buffer[]): void {
    payloads.forEach((p, i) =>
      this.track.ingest(
        writeRtpPacket(
          { parts: [p], length: p.length, marker: i === payloads.length - 1 },
          { payloadType: this.track.format.payloadType, sequence: this.#seq++ & 0xffff, timestamp: this.#ts, ssrc: 0x5555 },
        ),
      ),
    );
    this.#ts = (this.#ts + this.#step) >>> 0;
  }

  key(): void {
    this.frame(SPS, IDR);
  }

  delta(): void {
    this.frame(SLICE, SLICE);
  }

  /** A delta frame of `packets` packets of `size` bytes each. */
  big(packets: number, size: number): void {
    const slice = Buffer.alloc(size, 0x9a);
    slice[0] = 0x41;
    this.frame(...Array.from({ length: packets }, () => slice));
  }

  /** An audio frame (on an AAC feed). */
  audio(): void {
    this.frame(Buffer.from([0x00, 0x10, 0x01, 0x02]));
  }
}

/** A video and an audio feed, track ids 1 and 2. */
export function avFeeds(): [TrackFeed, TrackFeed] {
  return [new TrackFeed({ id: 1, format: H264 }), new TrackFeed({ id: 2, format: AAC })];
}
