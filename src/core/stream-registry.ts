/** All live streams by path, the UDP ports SDP-described feeds listen on, and the publisher
 * timeout check. */
import type { Logger } from '../logging/index.js';
import type { CoreEvents } from './events.js';
import type { StreamTrack } from './stream-track.js';
import { Stream, type Source } from './stream.js';

/** `live/cam1.sdp` and `live/cam1` name the same stream. */
export function streamKey(segments: string[]): string {
  const p = segments.join('/');
  return p.toLowerCase().endsWith('.sdp') ? p.slice(0, -4) : p;
}

export interface StreamRegistryOptions {
  publisherTimeout: number;
  log: Logger;
  /** Handed to every stream, which reports publishing and readers there. */
  events?: CoreEvents;
}

export class StreamRegistry {
  readonly streams = new Map<string, Stream>();
  readonly #ports = new Map<number, string>();
  readonly #opts: StreamRegistryOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: StreamRegistryOptions) {
    this.#opts = opts;
    this.#timer = setInterval(() => this.#checkTimeouts(), 1000);
    this.#timer.unref();
  }

  get(key: string): Stream | undefined {
    return this.streams.get(key);
  }

  /** Starts (or continues, within the grace period) the stream at `key` with these tracks.
   * `graceTime` is the path's (seconds viewers wait if this publisher vanishes). */
  publish(key: string, tracks: StreamTrack[], publisher: Source, graceTime: number): Stream {
    let s = this.streams.get(key);
    if (s && (s.state === 'ended' || s.tracks !== tracks)) {
      if (s.state !== 'ended') s.end('replaced by a new broadcast');
      s = undefined;
    }
    if (!s) {
      s = new Stream({
        path: key,
        tracks,
        graceTime,
        log: this.#opts.log,
        events: this.#opts.events,
        onEnded: (ended) => {
          if (this.streams.get(key) === ended) this.streams.delete(key);
        },
      });
      this.streams.set(key, s);
    }
    s.attach(publisher, graceTime);
    return s;
  }

  /** Claims UDP ports for a feed; throws naming the stream that already has one. */
  claimPorts(key: string, ports: number[]): void {
    for (const p of ports) {
      const owner = this.#ports.get(p);
      if (owner !== undefined && owner !== key) throw new Error(`UDP port ${p} is already used by live stream '${owner}'`);
    }
    for (const p of ports) this.#ports.set(p, key);
  }

  releasePorts(key: string): void {
    for (const [p, k] of this.#ports) if (k === key) this.#ports.delete(p);
  }

  #checkTimeouts(): void {
    const limit = this.#opts.publisherTimeout * 1000;
    const now = Date.now();
    for (const s of this.streams.values()) {
      const pub = s.source;
      if (!pub || s.state !== 'active') continue;
      const last = Math.max(s.activeSince, ...s.tracks.map((t) => t.lastPacketAt));
      if (now - last > limit) {
        this.#opts.log.warn({ path: s.path, publisher: pub.label, seconds: this.#opts.publisherTimeout }, 'publisher sent nothing; dropping it');
        pub.close('publisher timeout');
        s.detach(pub, 'publisher timeout');
      }
    }
  }

  close(reason: string): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const s of [...this.streams.values()]) s.end(reason);
  }
}
