/** Slows down password guessing per address: after a few failed logins, each further refusal to
 * that address is held back, and held refusals are queued one after another (parallel
 * connections from one address wait in turn, not side by side). Each step doubles up to a cap.
 * Failures are forgotten after a quiet window, or cleared by a login of the only user the
 * address has failed as. Memory is bounded: addresses tracked (oldest forgotten first) and
 * refusals held per address (beyond it, requests are refused unchecked).
 *
 * An IPv6 client is counted by its /64: one host is usually given a whole /64, so counting each
 * address alone would let it guess from a new address each time (and fill the table). */
import { isIPv4, isIPv6 } from 'node:net';

/** The key an address's failures are counted under: an IPv4 address itself (also when written
 * as IPv4-mapped IPv6, `::ffff:192.0.2.1`), an IPv6 address's /64 (`2001:db8:0:1::/64`), and
 * anything else (a socket path) as it is. */
export function throttleKey(address: string): string {
  const a = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(a)) return address;
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const groups = (s: string | undefined): string[] => {
    if (!s) return [];
    const parts = s.split(':');
    // A dotted IPv4 tail (`64:ff9b::192.0.2.1`) stands for two groups.
    if (parts[parts.length - 1].includes('.')) parts.splice(-1, 1, '0', '0');
    return parts;
  };
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export interface FailureThrottleOptions {
  /** Failures allowed before refusals are delayed. */
  freeFailures: number;
  /** Longest delay one failure adds, ms (0 turns throttling off). */
  maxDelayMs: number;
  /** First delay, ms. Default 250. */
  baseDelayMs?: number;
  /** Failures older than this are forgotten, ms. Default 10 minutes. */
  windowMs?: number;
  /** Addresses remembered at once. Default 10000. */
  maxTracked?: number;
  /** Refusals held back per address at once; further requests are refused without checking
   * their credentials. Default 32. */
  maxWaiting?: number;
  /** User names remembered per address to decide whether a success may clear it. Default 8. */
  maxUsers?: number;
  now?: () => number;
}

interface FailureRecord {
  count: number;
  last: number;
  /** When each held refusal is due, ascending (only future ones are kept). */
  due: number[];
  /** Users the failures were for; undefined once there were too many to list. */
  users: Set<string> | undefined;
  /** Requests refused unchecked because the queue was full. */
  refused: number;
}

export interface FailureOutcome {
  /** Failures now on record for the address. */
  count: number;
  /** How long to hold this refusal, ms (it is answered after the ones queued before it). */
  delayMs: number;
}

export class FailureThrottle {
  readonly #o: Required<FailureThrottleOptions>;
  readonly #byAddress = new Map<string, FailureRecord>();

  constructor(opts: FailureThrottleOptions) {
    this.#o = {
      baseDelayMs: 250,
      windowMs: 600_000,
      maxTracked: 10_000,
      maxWaiting: 32,
      maxUsers: 8,
      ...opts,
      now: opts.now ?? Date.now,
    };
  }

  /** The record of `key` (a throttleKey), its answered refusals dropped. */
  #get(key: string): FailureRecord | undefined {
    const r = this.#byAddress.get(key);
    if (!r) return undefined;
    const now = this.#o.now();
    if (now - r.last > this.#o.windowMs) {
      this.#byAddress.delete(key);
      return undefined;
    }
    let gone = 0;
    while (gone < r.due.length && r.due[gone] <= now) gone++;
    if (gone > 0) r.due.splice(0, gone);
    return r;
  }

  #step(count: number): number {
    if (count <= this.#o.freeFailures || this.#o.maxDelayMs <= 0) return 0;
    const steps = Math.min(count - this.#o.freeFailures - 1, 30);
    return Math.min(this.#o.baseDelayMs * 2 ** steps, this.#o.maxDelayMs);
  }

  /** Counts a failed login (as `user`, when one was named) and takes its place in the address's
   * queue of held refusals. */
  fail(address: string, user?: string): FailureOutcome {
    const key = throttleKey(address);
    const now = this.#o.now();
    const r = this.#get(key) ?? { count: 0, last: 0, due: [], users: new Set<string>(), refused: 0 };
    r.count++;
    r.last = now;
    if (r.users) {
      r.users.add(user ?? '');
      if (r.users.size > this.#o.maxUsers) r.users = undefined;
    }
    // Re-inserted so the map stays ordered by last failure and the oldest goes first.
    this.#byAddress.delete(key);
    if (this.#byAddress.size >= this.#o.maxTracked) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) this.#byAddress.delete(oldest);
    }
    this.#byAddress.set(key, r);
    const step = this.#step(r.count);
    if (step === 0) return { count: r.count, delayMs: 0 };
    const after = r.due.length > 0 ? r.due[r.due.length - 1] : now;
    // Callers check `full` first; should one not, it waits with the last instead of growing the queue.
    if (r.due.length >= this.#o.maxWaiting) return { count: r.count, delayMs: after - now };
    const at = Math.max(after, now) + step;
    r.due.push(at);
    return { count: r.count, delayMs: at - now };
  }

  /** True when the address already has as many refusals held as allowed: refuse at once,
   * without checking (or hashing) its credentials. */
  full(address: string): boolean {
    const r = this.#get(throttleKey(address));
    return r !== undefined && r.due.length >= this.#o.maxWaiting;
  }

  /** Counts a request refused because of `full`; returns how many were (for a log that does not
   * flood: say so at 1, 2, 4, 8, ...). */
  refuseUnchecked(address: string): number {
    const r = this.#get(throttleKey(address));
    if (!r) return 0;
    r.refused++;
    return r.refused;
  }

  /** A successful login as `user` clears the address's failures, unless they were for other
   * users too (someone holding one account must not reset the count on guesses at others).
   * Refusals already held keep their turn. */
  succeed(address: string, user: string): void {
    const key = throttleKey(address);
    const r = this.#get(key);
    if (!r || !r.users || [...r.users].some((u) => u !== user)) return;
    r.count = 0;
    r.users.clear();
    if (r.due.length === 0) this.#byAddress.delete(key);
  }

  /** Failures on record for the address. */
  failures(address: string): number {
    return this.#get(throttleKey(address))?.count ?? 0;
  }

  /** Refusals now held back for the address. */
  waiting(address: string): number {
    return this.#get(throttleKey(address))?.due.length ?? 0;
  }

  /** How long until every refusal held for the address is due, ms (0: none is held). A caller
   * that answers at once (the admin's 429) refuses the address unchecked until then. */
  retryAfterMs(address: string): number {
    const r = this.#get(throttleKey(address));
    if (!r || r.due.length === 0) return 0;
    return r.due[r.due.length - 1] - this.#o.now();
  }
}
