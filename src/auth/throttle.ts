/** Slows down password guessing: after a few failed logins from one address, every refusal to
 * that address waits, twice as long per further failure up to a cap. Failures are forgotten
 * after a quiet window. Memory is bounded (oldest addresses forgotten first). */

export interface FailureThrottleOptions {
  /** Failures allowed before refusals are delayed. */
  freeFailures: number;
  /** Longest delay, ms (0 turns throttling off). */
  maxDelayMs: number;
  /** First delay, ms. Default 250. */
  baseDelayMs?: number;
  /** Failures older than this are forgotten, ms. Default 10 minutes. */
  windowMs?: number;
  /** Addresses remembered at once. Default 10000. */
  maxTracked?: number;
  now?: () => number;
}

interface FailureRecord {
  count: number;
  last: number;
}

export class FailureThrottle {
  readonly #o: Required<FailureThrottleOptions>;
  readonly #byAddress = new Map<string, FailureRecord>();

  constructor(opts: FailureThrottleOptions) {
    this.#o = { baseDelayMs: 250, windowMs: 600_000, maxTracked: 10_000, ...opts, now: opts.now ?? Date.now };
  }

  #get(address: string): FailureRecord | undefined {
    const r = this.#byAddress.get(address);
    if (r && this.#o.now() - r.last > this.#o.windowMs) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return r;
  }

  /** Counts a failed login; returns the failures now on record for the address. */
  fail(address: string): number {
    const r = this.#get(address) ?? { count: 0, last: 0 };
    r.count++;
    r.last = this.#o.now();
    // Re-inserted so the map stays ordered by last failure and the oldest goes first.
    this.#byAddress.delete(address);
    if (this.#byAddress.size >= this.#o.maxTracked) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) this.#byAddress.delete(oldest);
    }
    this.#byAddress.set(address, r);
    return r.count;
  }

  /** A successful login clears the address's record. */
  succeed(address: string): void {
    this.#byAddress.delete(address);
  }

  /** How long to hold a refusal to this address, ms. */
  delayMs(address: string): number {
    const r = this.#get(address);
    if (!r || r.count <= this.#o.freeFailures || this.#o.maxDelayMs <= 0) return 0;
    const steps = Math.min(r.count - this.#o.freeFailures - 1, 30);
    return Math.min(this.#o.baseDelayMs * 2 ** steps, this.#o.maxDelayMs);
  }
}
