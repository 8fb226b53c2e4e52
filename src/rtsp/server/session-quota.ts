/** limits.maxSessionsPerConnection and limits.maxSessionsPerIp: every session holds server UDP
 * ports (or interleaved channels) until it closes, so one client must not be able to set up
 * sessions until the port range is gone. A session counts against the connection that set it up
 * and that connection's address until it closes, even after the connection is gone (UDP
 * sessions outlive it). */
import { RtspError } from './errors.js';
import type { RtspSession } from './session.js';
import { stripMapped } from './transport-setup.js';

export interface SessionQuotaLimits {
  /** Sessions one connection may hold at once. */
  maxSessionsPerConnection: number;
  /** Sessions one address may hold at once; 0: no limit. */
  maxSessionsPerIp: number;
}

/** What a session is counted against: the connection (by identity) and its peer address. */
export interface QuotaOwner {
  readonly remoteAddress: string;
}

export class SessionQuota {
  /** Limits read on every check, so a config reload applies at once. */
  readonly #limits: () => SessionQuotaLimits;
  readonly #byConn = new WeakMap<QuotaOwner, number>();
  /** Only addresses holding sessions have an entry: bounded by the sessions alive. */
  readonly #byIp = new Map<string, number>();

  constructor(limits: () => SessionQuotaLimits) {
    this.#limits = limits;
  }

  /** Sessions set up on this connection that are still open (UDP ones included). */
  heldOn(conn: QuotaOwner): number {
    return this.#byConn.get(conn) ?? 0;
  }

  /** Sessions the address holds now. */
  heldBy(address: string): number {
    return this.#byIp.get(stripMapped(address)) ?? 0;
  }

  /** Takes one session's place for `conn`, or throws 453 (logged with the key that refused it)
   * when that would go over a limit. Called before anything is bound for the new session; the
   * place is held while the SETUP runs, so parallel connections cannot overshoot together. */
  reserve(conn: QuotaOwner): SessionTicket {
    const l = this.#limits();
    const onConn = this.#byConn.get(conn) ?? 0;
    if (onConn >= l.maxSessionsPerConnection) {
      throw new RtspError(453, `session refused: this connection holds ${onConn} sessions (limits.maxSessionsPerConnection=${l.maxSessionsPerConnection})`);
    }
    const ip = stripMapped(conn.remoteAddress);
    const onIp = this.#byIp.get(ip) ?? 0;
    if (l.maxSessionsPerIp > 0 && onIp >= l.maxSessionsPerIp) {
      throw new RtspError(453, `session refused: ${ip} holds ${onIp} sessions (limits.maxSessionsPerIp=${l.maxSessionsPerIp})`);
    }
    this.#byConn.set(conn, onConn + 1);
    this.#byIp.set(ip, onIp + 1);
    let state: 'reserved' | 'held' | 'released' = 'reserved';
    const giveBack = () => {
      const c = (this.#byConn.get(conn) ?? 1) - 1;
      if (c > 0) this.#byConn.set(conn, c);
      else this.#byConn.delete(conn);
      const n = (this.#byIp.get(ip) ?? 1) - 1;
      if (n > 0) this.#byIp.set(ip, n);
      else this.#byIp.delete(ip);
    };
    return {
      hold: (session) => {
        if (state !== 'reserved') return;
        state = 'held';
        session.whenClosed(giveBack);
      },
      release: () => {
        if (state !== 'reserved') return;
        state = 'released';
        giveBack();
      },
    };
  }
}

/** One session's place in the quota: held by the session it became, or given back. */
export interface SessionTicket {
  /** The SETUP made `session`: it keeps the place until it closes. */
  hold(session: RtspSession): void;
  /** The SETUP failed: the place is free again (no-op once held). */
  release(): void;
}
