/** Per-connection limits on what a client may keep the server holding: requests queued for an
 * answer (pipelining), and time spent sending one request (a "slowloris" trickles bytes to keep
 * connections open for free). */

export interface ConnectionLimits {
  /** Longest request or header line, bytes (parser default: the header block limit). */
  maxLineBytes?: number;
  /** Most header fields per request (parser default 64). */
  maxHeaderCount?: number;
  /** Requests waiting for their answers before the connection is refused (default: no limit). */
  maxPendingRequests?: number;
  /** Milliseconds a begun request (or frame) may take to arrive whole (default: no limit). */
  requestTimeoutMs?: number;
}

export class RequestGuard {
  readonly #maxPending: number;
  readonly #timeoutMs: number;
  readonly #onTimeout: () => void;
  #pending = 0;
  #partialSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(limits: ConnectionLimits, onTimeout: () => void) {
    this.#maxPending = limits.maxPendingRequests ?? Infinity;
    this.#timeoutMs = limits.requestTimeoutMs ?? 0;
    this.#onTimeout = onTimeout;
  }

  get pending(): number {
    return this.#pending;
  }

  /** Counts a request queued for processing; false when that exceeds the limit. */
  admit(): boolean {
    if (this.#pending >= this.#maxPending) return false;
    this.#pending++;
    return true;
  }

  /** A queued request has been answered. */
  done(): void {
    if (this.#pending > 0) this.#pending--;
  }

  /** After bytes were parsed: `partial` when a message is incomplete, `progressed` when at
   * least one message or frame completed (so an incomplete one now is a new one). */
  afterPush(partial: boolean, progressed: boolean, now = Date.now()): void {
    if (!partial) {
      this.#partialSince = undefined;
      return;
    }
    if (progressed || this.#partialSince === undefined) this.#partialSince = now;
    if (this.#timeoutMs > 0 && !this.#timer && !this.#stopped) this.#arm(this.#timeoutMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || this.#partialSince === undefined) return;
      const left = this.#partialSince + this.#timeoutMs - Date.now();
      if (left > 0) {
        this.#arm(left);
        return;
      }
      this.stop();
      this.#onTimeout();
    }, ms);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
