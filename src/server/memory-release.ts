/** Hands memory the C heap holds free back to the system now and then. Buffers (packets, frames,
 * read windows) live in the C heap; after a burst — an attack, a crowd of viewers leaving, a huge
 * frame — glibc keeps the freed pages, so the server's resident size would stay at its peak
 * (measured: 40 MiB over the level before an attack, 10 s after it). One malloc_trim every few
 * seconds returns them; it costs well under a millisecond on a quiet heap. Without the native
 * helper this does nothing. */
import type { Logger } from '../logging/index.js';
import { releaseFreeMemory } from '../transport/native-fanout.js';

export interface MemoryReleaseOptions {
  /** Milliseconds between releases. */
  intervalMs: number;
  log: Logger;
  /** The release itself (default: the native helper's malloc_trim). */
  release?: () => boolean | undefined;
}

export class MemoryRelease {
  readonly #timer: NodeJS.Timeout | undefined;
  /** Releases that gave memory back (for tests and logs). */
  released = 0;

  constructor(opts: MemoryReleaseOptions) {
    const release = opts.release ?? releaseFreeMemory;
    if (release() === undefined) return;
    let slowLogged = false;
    this.#timer = setInterval(() => {
      const t0 = performance.now();
      if (release()) this.released++;
      const ms = performance.now() - t0;
      if (ms > 20 && !slowLogged) {
        slowLogged = true;
        opts.log.warn({ ms: Math.round(ms) }, 'giving free memory back to the system took long');
      }
    }, opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
