/** Keeps what a connection has waiting to be sent bounded. A client that pipelines requests and
 * never reads their answers would otherwise grow the socket's write buffer without limit: once
 * the unsent bytes pass the bound, reading stops (so no new requests are parsed) and answering
 * waits; when they drain below it, both go on. A connection stuck over the bound longer than the
 * stall time is given up. While throttled a poll runs every 100 ms besides 'drain', since a
 * socket that also carries media may never empty completely. */
/** The stream to pause and resume, whose 'drain' says its write buffer emptied. */
export interface PausableStream {
  pause(): unknown;
  resume(): unknown;
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

export interface SendGuardOptions {
  socket: PausableStream;
  /** Bytes unsent now (socket buffer and anything queued beside it). */
  unsent: () => number;
  /** The bound now, bytes (Infinity: none). Read at each use. */
  bound: () => number;
  /** Milliseconds over the bound before giving up (0: never). Read at each use. */
  stallMs: () => number;
  /** Called once when the connection stayed over the bound too long. */
  onStall: (unsent: number, overMs: number) => void;
  now?: () => number;
}

const POLL_MS = 100;

export class SendGuard {
  readonly #o: SendGuardOptions;
  readonly #now: () => number;
  #since: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  #stopped = false;
  /** How often reading was paused (for tests and the log). */
  throttles = 0;

  constructor(opts: SendGuardOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Reading is paused because too much is unsent. */
  get throttled(): boolean {
    return this.#since !== undefined;
  }

  /** After something was written: pauses reading when over the bound. */
  check(): void {
    if (this.#stopped || this.#since !== undefined) return;
    if (this.#o.unsent() <= this.#o.bound()) return;
    this.#since = this.#now();
    this.throttles++;
    this.#o.socket.pause();
    this.#o.socket.once('drain', this.#poll);
    this.#timer = setInterval(this.#poll, POLL_MS);
    this.#timer.unref();
  }

  /** Undefined when there is room to send an answer now, else a promise that resolves when
   * there is (or the guard stops). */
  room(): Promise<void> | undefined {
    if (this.#since === undefined || this.#stopped) return undefined;
    return new Promise((r) => this.#waiters.push(r));
  }

  readonly #poll = (): void => {
    if (this.#since === undefined || this.#stopped) return;
    const unsent = this.#o.unsent();
    if (unsent <= this.#o.bound()) {
      this.#release();
      this.#o.socket.resume();
      return;
    }
    const over = this.#now() - this.#since;
    const stall = this.#o.stallMs();
    if (stall > 0 && over > stall) {
      this.stop();
      this.#o.onStall(unsent, over);
      return;
    }
    // 'drain' fired while still over (media refilled it): listen again.
    this.#o.socket.off('drain', this.#poll);
    this.#o.socket.once('drain', this.#poll);
  };

  #release(): void {
    this.#since = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#o.socket.off('drain', this.#poll);
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }

  /** No more checks; anyone waiting goes on (the connection is closing). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#release();
  }
}
