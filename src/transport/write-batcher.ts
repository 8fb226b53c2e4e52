/** Gathers what a TCP viewer is sent over a short interval and writes it in one syscall.
 * Fan-out to TCP viewers costs one kernel write per viewer per flush; flushing every ~100 ms
 * instead of every frame divides that by the frames per interval, for a few frames of extra
 * latency that live players absorb in their jitter buffer. */
export interface Flushable {
  flushPending(): void;
}

export class WriteBatcher {
  readonly #dirty = new Set<Flushable>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    /** Flush period in ms. */
    readonly intervalMs: number,
  ) {}

  /** `f` has something pending; it is flushed at the next tick. */
  mark(f: Flushable): void {
    this.#dirty.add(f);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#flush(), this.intervalMs);
      this.#timer.unref();
    }
  }

  forget(f: Flushable): void {
    this.#dirty.delete(f);
  }

  #flush(): void {
    if (this.#dirty.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const list = [...this.#dirty];
    this.#dirty.clear();
    for (const f of list) f.flushPending();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const f of this.#dirty) f.flushPending();
    this.#dirty.clear();
  }
}
