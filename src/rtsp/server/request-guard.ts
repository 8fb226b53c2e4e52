/** Per-connection limits on what a client may keep the server holding: requests queued for an
 * answer (pipelining), and time spent sending one request (a "slowloris" trickles bytes to keep
 * connections open for free). Unsent answers are SendGuard's. Limits may come from a getter, read
 * at each use, so a config reload reaches connections already open. */

export interface ConnectionLimits {
  /** Longest request or header line, bytes (parser default: the header block limit). */
  maxLineBytes?: number;
  /** Most header fields per request (parser default 64). */
  maxHeaderCount?: number;
  /** Requests waiting for their answers before the connection is refused (default: no limit). */
  maxPendingRequests?: number;
  /** Milliseconds a begun request (or frame) may take to arrive whole (default: no limit). */
  requestTimeoutMs?: number;
  /** Unsent bytes past which reading stops until they drain (default: no limit). */
  maxUnsentBytes?: number;
  /** Added to maxUnsentBytes while the connection carries interleaved media, whose own queues
   * (live viewer queue, file player backlog) may fill the socket (default 0). */
  mediaUnsentBytes?: number;
  /** Milliseconds a connection may stay over its unsent bound before it is closed (default: no
   * limit). */
  sendStallTimeoutMs?: number;
}

/** Limits as they are now: a getter is read at each use, so a config reload applies at once. */
export type LimitsSource = ConnectionLimits | (() => ConnectionLimits);

export const readLimits = (l: LimitsSource | undefined): ConnectionLimits => (typeof l === 'function' ? l() : (l ?? {}));

export class RequestGuard {
  readonly #limits: LimitsSource;
  readonly #onTimeout: () => void;
  #pending = 0;
  #partialSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(limits: LimitsSource, onTimeout: () => void) {
    this.#limits = limits;
    this.#onTimeout = onTimeout;
  }

  get pending(): number {
    return this.#pending;
  }

  /** Counts a request queued for processing; false when that exceeds the limit. */
  admit(): boolean {
    if (this.#pending >= (readLimits(this.#limits).maxPendingRequests ?? Infinity)) return false;
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
    const timeoutMs = this.#timeoutMs();
    if (timeoutMs > 0 && !this.#timer && !this.#stopped) this.#arm(timeoutMs);
  }

  #timeoutMs(): number {
    return readLimits(this.#limits).requestTimeoutMs ?? 0;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || this.#partialSince === undefined) return;
      const left = this.#partialSince + this.#timeoutMs() - Date.now();
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
