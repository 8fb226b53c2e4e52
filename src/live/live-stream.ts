/** A live presentation at one path: its tracks, the publisher feeding it, and its viewers.
 * When the publisher goes away the viewers wait a grace period; a publisher that returns in time
 * continues the same stream (viewers resume on its first keyframe), otherwise viewers get BYE. */
import type { Logger } from '../logging/index.js';
import type { StreamDescription } from '../stream/types.js';
import type { LiveTrack } from './live-track.js';

export type LiveState = 'active' | 'waiting' | 'ended';

/** Whatever feeds the stream: an RTSP RECORD session, an SDP-described UDP feed, ... */
export interface LivePublisher {
  /** For logs and status pages, e.g. `rtsp 127.0.0.1` or `sdp file x.sdp`. */
  readonly label: string;
  /** Stop publishing (takeover, timeout, shutdown). */
  close(reason: string): void;
}

/** A viewer session, as far as the stream is concerned. */
export interface LiveViewer {
  /** The publisher changed: wait for its first keyframe. */
  resync(): void;
  /** The stream is over: BYE and end the session. */
  close(reason: string): void;
}

export interface LiveStreamOptions {
  /** Registry key, e.g. `live/cam1`. */
  path: string;
  tracks: LiveTrack[];
  /** Seconds viewers wait for a vanished publisher (its path's setting when first published;
   * each publisher attaching brings its own). */
  graceTime: number;
  log: Logger;
  /** Called once when the stream ends for good. */
  onEnded: (s: LiveStream) => void;
}

export class LiveStream {
  readonly path: string;
  readonly tracks: LiveTrack[];
  readonly viewers = new Set<LiveViewer>();
  readonly createdAt = Date.now();
  #state: LiveState = 'waiting';
  #publisher: LivePublisher | undefined;
  #grace: NodeJS.Timeout | undefined;
  #activeSince = 0;
  #graceTime: number;
  readonly #opts: LiveStreamOptions;

  constructor(opts: LiveStreamOptions) {
    this.#opts = opts;
    this.#graceTime = opts.graceTime;
    this.path = opts.path;
    this.tracks = opts.tracks;
  }

  get state(): LiveState {
    return this.#state;
  }
  get publisher(): LivePublisher | undefined {
    return this.#publisher;
  }
  /** Date.now() when the current publisher started (publisher timeout baseline). */
  get activeSince(): number {
    return this.#activeSince;
  }

  /** Packets refused on this stream's publisher ports because a stranger sent them. */
  get strangerPackets(): number {
    return this.tracks.reduce((n, t) => n + t.strangerPackets, 0);
  }

  description(): StreamDescription {
    return {
      name: this.path,
      tracks: this.tracks.map((t) => ({
        id: t.id,
        control: t.control,
        format: t.format,
        bitrateKbps: t.options.bitrateKbps,
        width: t.options.width,
        height: t.options.height,
        frameRate: t.options.frameRate,
      })),
    };
  }

  /** Same number of tracks with the same payload formats, so viewers can carry on. */
  compatible(tracks: { format: { encodingName: string; clockRate: number; media: string } }[]): boolean {
    return (
      tracks.length === this.tracks.length &&
      tracks.every((t, i) => {
        const f = this.tracks[i].format;
        return f.media === t.format.media && f.encodingName.toUpperCase() === t.format.encodingName.toUpperCase() && f.clockRate === t.format.clockRate;
      })
    );
  }

  /** `graceTime`: the path's setting as this publisher found it (a reload may have changed it
   * since the stream began); left out, the stream's keeps. */
  attach(publisher: LivePublisher, graceTime = this.#graceTime): void {
    if (this.#state === 'ended') throw new Error('stream has ended');
    this.#graceTime = graceTime;
    const returning = this.#activeSince > 0;
    if (this.#grace) clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#publisher = publisher;
    this.#state = 'active';
    this.#activeSince = Date.now();
    if (returning) {
      for (const t of this.tracks) t.rebase();
      for (const v of this.viewers) v.resync();
    }
    this.#opts.log.info({ path: this.path, publisher: publisher.label, viewers: this.viewers.size }, returning ? 'broadcast resumed' : 'broadcast started');
  }

  /** The publisher left; viewers wait `graceTime` for it (or another) to come back. */
  detach(publisher: LivePublisher, reason: string): void {
    if (this.#publisher !== publisher || this.#state !== 'active') return;
    this.#publisher = undefined;
    this.#state = 'waiting';
    // Viewers starting now play on without a keyframe rather than wait for a source that left.
    for (const t of this.tracks) t.endKeyframeWaits();
    this.#opts.log.info({ path: this.path, reason, viewers: this.viewers.size, grace: this.#graceTime }, 'broadcast interrupted');
    if (this.viewers.size === 0 || this.#graceTime === 0) {
      this.end(reason);
      return;
    }
    this.#grace = setTimeout(() => this.end(`${reason}; publisher did not return`), this.#graceTime * 1000);
    this.#grace.unref();
  }

  end(reason: string): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    if (this.#grace) clearTimeout(this.#grace);
    const p = this.#publisher;
    this.#publisher = undefined;
    p?.close(reason);
    for (const v of [...this.viewers]) v.close('broadcast ended');
    this.viewers.clear();
    for (const t of this.tracks) {
      t.readers.clear();
      t.endKeyframeWaits();
    }
    this.#opts.log.info({ path: this.path, reason }, 'broadcast ended');
    this.#opts.onEnded(this);
  }
}
