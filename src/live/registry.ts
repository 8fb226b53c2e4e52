/** All live streams by path, the UDP ports SDP-described feeds listen on, and the publisher
 * timeout check. */
import type { Logger } from '../logging/index.js';
import type { LiveTrack } from './live-track.js';
import { LiveStream, type LivePublisher } from './live-stream.js';

/** `live/cam1.sdp` and `live/cam1` name the same stream. */
export function liveKey(segments: string[]): string {
  const p = segments.join('/');
  return p.toLowerCase().endsWith('.sdp') ? p.slice(0, -4) : p;
}

export interface LiveRegistryOptions {
  publisherTimeout: number;
  log: Logger;
}

export class LiveRegistry {
  readonly streams = new Map<string, LiveStream>();
  readonly #ports = new Map<number, string>();
  readonly #opts: LiveRegistryOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: LiveRegistryOptions) {
    this.#opts = opts;
    this.#timer = setInterval(() => this.#checkTimeouts(), 1000);
    this.#timer.unref();
  }

  get(key: string): LiveStream | undefined {
    return this.streams.get(key);
  }

  /** Starts (or continues, within the grace period) the stream at `key` with these tracks.
   * `graceTime` is the path's (seconds viewers wait if this publisher vanishes). */
  publish(key: string, tracks: LiveTrack[], publisher: LivePublisher, graceTime: number): LiveStream {
    let s = this.streams.get(key);
    if (s && (s.state === 'ended' || s.tracks !== tracks)) {
      if (s.state !== 'ended') s.end('replaced by a new broadcast');
      s = undefined;
    }
    if (!s) {
      s = new LiveStream({
        path: key,
        tracks,
        graceTime,
        log: this.#opts.log,
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
      const pub = s.publisher;
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
