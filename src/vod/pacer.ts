/** One timer for every playing viewer: each tick, every registered player sends what is due.
 * A shared tick costs one callback per 20 ms however many viewers play, instead of a timer per
 * viewer per frame. */
export interface Pumpable {
  pump(nowMs: number): void;
}

export class Pacer {
  readonly #players = new Set<Pumpable>();
  #timer: NodeJS.Timeout | undefined;
  readonly #onError: (e: unknown) => void;
  #intervalMs: number;

  constructor(
    /** Tick period in ms (default 20). */
    intervalMs = 20,
    onError: (e: unknown) => void = () => undefined,
  ) {
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  /** Tick period in ms. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Changes the tick period from now on. A pacer whose packets nobody receives yet (a playlist
   * channel without viewers) ticks seldom: each wakeup costs more than the sending it does. */
  set intervalMs(ms: number) {
    if (ms === this.#intervalMs) return;
    this.#intervalMs = ms;
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = setInterval(() => this.#tick(), ms);
    }
  }

  add(p: Pumpable): void {
    this.#players.add(p);
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  delete(p: Pumpable): void {
    this.#players.delete(p);
    if (this.#players.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  get size(): number {
    return this.#players.size;
  }

  #tick(): void {
    const now = performance.now();
    for (const p of this.#players) {
      try {
        p.pump(now);
      } catch (e) {
        this.delete(p);
        this.#onError(e);
      }
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#players.clear();
  }
}
