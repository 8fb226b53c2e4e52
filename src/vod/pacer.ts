/** One timer for every playing viewer: each tick, every registered player sends what is due.
 * A shared tick costs one callback per 20 ms however many viewers play, instead of a timer per
 * viewer per frame.
 *
 * Under load the tick lengthens (up to `maxIntervalMs`, when given): while the event loop is busy
 * more than 60 % of the time, ticks get longer, so each viewer's packets go out in fewer, larger
 * batches (one send call per viewer per tick, and less work per tick for each player; their
 * send-ahead covers the wait); under 30 % they shorten again. The event loop's load, not the
 * pumps' own time, is what counts: sending and the protocol work of new viewers share it. */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface Pumpable {
  pump(nowMs: number): void;
}

export class Pacer {
  readonly #players = new Set<Pumpable>();
  #timer: NodeJS.Timeout | undefined;
  readonly #onError: (e: unknown) => void;
  #intervalMs: number;
  /** The shortest tick (the one asked for) and the longest under load. */
  #baseMs: number;
  readonly #maxMs: number;
  /** Ticks since the period was last looked at, and the event loop's use then. */
  #sinceChange = 0;
  #elu: EventLoopUtilization | undefined;

  constructor(
    /** Tick period in ms (default 20). */
    intervalMs = 20,
    onError: (e: unknown) => void = () => undefined,
    /** The longest tick under load (default `intervalMs`: the tick never changes by itself). */
    maxIntervalMs = intervalMs,
  ) {
    this.#intervalMs = intervalMs;
    this.#baseMs = intervalMs;
    this.#maxMs = Math.max(intervalMs, maxIntervalMs);
    this.#onError = onError;
  }

  /** Tick period in ms. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Changes the tick period from now on. A pacer whose packets nobody receives yet (a playlist
   * channel without viewers) ticks seldom: each wakeup costs more than the sending it does. */
  set intervalMs(ms: number) {
    this.#baseMs = ms;
    this.#setPeriod(ms);
  }

  #setPeriod(ms: number): void {
    if (ms === this.#intervalMs) return;
    this.#intervalMs = ms;
    this.#sinceChange = 0;
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

  /** Pumps `p` once the event loop's current work is done, not at the next tick (a play's first
   * packets); nothing when it is no longer registered by then. */
  pumpSoon(p: Pumpable): void {
    setImmediate(() => {
      if (this.#players.has(p)) this.#pump(p, performance.now());
    });
  }

  /** A player that throws is removed and reported; the others go on. */
  #pump(p: Pumpable, now: number): void {
    try {
      p.pump(now);
    } catch (e) {
      this.delete(p);
      this.#onError(e);
    }
  }

  #tick(): void {
    const now = performance.now();
    for (const p of this.#players) this.#pump(p, now);
    if (this.#maxMs > this.#baseMs && ++this.#sinceChange >= 10) this.#adapt();
  }

  /** Every ten ticks: one step (10 ms) longer while the event loop is loaded, shorter when not. */
  #adapt(): void {
    this.#sinceChange = 0;
    const now = performance.eventLoopUtilization();
    const use = this.#elu ? performance.eventLoopUtilization(now, this.#elu).utilization : 0;
    this.#elu = now;
    const period = this.#intervalMs;
    if (use > 0.6 && period < this.#maxMs) this.#setPeriod(Math.min(this.#maxMs, period + 10));
    else if (use < 0.3 && period > this.#baseMs) this.#setPeriod(Math.max(this.#baseMs, period - 10));
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#players.clear();
  }
}
