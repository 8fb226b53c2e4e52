/** Signed-in browsers: a random session id in the `rivulet_admin` cookie maps to the user and the
 * session's CSRF token. Kept in memory only (a restart signs everyone out), expired after
 * `timeoutMs` without use, and bounded: past `maxSessions` the least recently used goes. */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface AdminSession {
  readonly id: string;
  readonly user: string;
  /** Sent back in X-CSRF-Token (or the sign-out form's `csrfToken`) with every change. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastUsed: number;
}

export interface AdminSessionsOptions {
  /** Milliseconds a session lives without use (admin.sessionTimeout). Read at each use. */
  timeoutMs: () => number;
  /** Sessions held at once. Default 1000. */
  maxSessions?: number;
  now?: () => number;
}

/** 32 random bytes, base64url: what a session id and a CSRF token look like. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const token = () => randomBytes(32).toString('base64url');

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AdminSessions {
  /** In order of last use, least recent first (re-inserted on each use). */
  readonly #byId = new Map<string, AdminSession>();
  readonly #timeoutMs: () => number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: AdminSessionsOptions) {
    this.#timeoutMs = opts.timeoutMs;
    this.#max = opts.maxSessions ?? 1000;
    this.#now = opts.now ?? Date.now;
  }

  /** A new session for `user` (always a new id: signing in never keeps one the browser had). */
  create(user: string): AdminSession {
    this.#sweep();
    while (this.#byId.size >= this.#max) {
      const oldest = this.#byId.keys().next().value;
      if (oldest === undefined) break;
      this.#byId.delete(oldest);
    }
    const now = this.#now();
    const s: AdminSession = { id: token(), user, csrfToken: token(), createdAt: now, lastUsed: now };
    this.#byId.set(s.id, s);
    return s;
  }

  /** The live session of a cookie value, its use recorded; undefined when unknown or expired. */
  use(id: string | undefined): AdminSession | undefined {
    if (id === undefined || !TOKEN.test(id)) return undefined;
    const s = this.#byId.get(id);
    if (!s) return undefined;
    this.#byId.delete(id);
    const now = this.#now();
    if (now - s.lastUsed > this.#timeoutMs()) return undefined;
    s.lastUsed = now;
    this.#byId.set(id, s);
    return s;
  }

  end(id: string): void {
    this.#byId.delete(id);
  }

  /** Ends every session of `user` (no longer an admin). */
  endUser(user: string): void {
    for (const [id, s] of this.#byId) if (s.user === user) this.#byId.delete(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Drops expired sessions; the map is ordered by last use, so they are at its front. */
  #sweep(): void {
    const limit = this.#now() - this.#timeoutMs();
    for (const [id, s] of this.#byId) {
      if (s.lastUsed >= limit) break;
      this.#byId.delete(id);
    }
  }
}
