/** Digest access authentication (RFC 2617, RFC 7616): server nonces and response checking. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DigestCredentials } from './authorization-header.js';
import type { UserEntry } from './users-file.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** The algorithm a client named (`MD5` when it named none), or undefined when unsupported
 * (`MD5-sess`, `SHA-512-256`, ...). */
export function digestAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  if (name === undefined || name.toUpperCase() === 'MD5') return 'MD5';
  if (name.toUpperCase() === 'SHA-256') return 'SHA-256';
  return undefined;
}

const hash = (alg: DigestAlgorithm, s: string) =>
  createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s, 'utf8')
    .digest('hex');

/** The `response` a client holding `ha1` must send. */
export function digestResponse(p: {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}): string {
  const ha2 = hash(p.algorithm, `${p.method}:${p.uri}`);
  if (p.qop) return hash(p.algorithm, `${p.ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
  return hash(p.algorithm, `${p.ha1}:${p.nonce}:${ha2}`);
}

/** Compares two hex digests in constant time (case-insensitively). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface NonceStoreOptions {
  /** Milliseconds a nonce is accepted; older ones are answered with `stale=true`. */
  lifetimeMs: number;
  /** Nonces whose `nc` values are remembered at once (oldest forgotten first: a forgotten nonce
   * counts as stale, so the client just gets a fresh one). Default 10000. */
  maxTracked?: number;
  /** Requests accepted per nonce before the client must take a new one. Default 10000. */
  maxUses?: number;
  now?: () => number;
}

/** `foreign`: a nonce this store issued, presented under another binding (a replay, or a
 * client reusing a nonce on a new connection). */
export type NonceState = 'valid' | 'stale' | 'invalid' | 'foreign';

/** Issues nonces that carry their own issue time and a MAC (so a forged one is told apart from
 * an expired one without storage) and remembers, per live nonce, the (nc, cnonce) pairs already
 * used, so a captured request cannot be replayed. The MAC also covers a binding (what the nonce
 * was issued to: client address and connection), so a nonce presented under another binding
 * does not verify: an answer without qop (RFC 2069 style, which has no counter to check) cannot
 * be replayed from another connection or address. */
export class NonceStore {
  readonly #key = randomBytes(32);
  readonly #lifetimeMs: number;
  readonly #maxTracked: number;
  readonly #maxUses: number;
  readonly #now: () => number;
  readonly #used = new Map<string, Set<string>>();

  constructor(opts: NonceStoreOptions) {
    this.#lifetimeMs = opts.lifetimeMs;
    this.#maxTracked = opts.maxTracked ?? 10_000;
    this.#maxUses = opts.maxUses ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  #mac(body: Buffer, binding: string): Buffer {
    return createHmac('sha256', this.#key).update(body).update(binding, 'utf8').digest().subarray(0, 16);
  }

  /** A new nonce, valid only when presented under the same `binding`. */
  issue(binding = ''): string {
    const body = Buffer.alloc(16);
    body.writeDoubleBE(this.#now(), 0);
    randomBytes(8).copy(body, 8);
    const nonce = Buffer.concat([body, this.#mac(body, binding)]).toString('hex');
    if (this.#used.size >= this.#maxTracked) {
      const oldest = this.#used.keys().next().value;
      if (oldest !== undefined) this.#used.delete(oldest);
    }
    this.#used.set(nonce, new Set());
    return nonce;
  }

  check(nonce: string, binding = ''): NonceState {
    if (!/^[0-9a-f]{64}$/.test(nonce)) return 'invalid';
    const raw = Buffer.from(nonce, 'hex');
    const body = raw.subarray(0, 16);
    if (!timingSafeEqual(raw.subarray(16), this.#mac(body, binding)))
      return this.#used.has(nonce) ? 'foreign' : 'invalid';
    const age = this.#now() - body.readDoubleBE(0);
    if (age > this.#lifetimeMs || age < -60_000 || !this.#used.has(nonce)) {
      this.#used.delete(nonce);
      return 'stale';
    }
    return 'valid';
  }

  /** Records one use of a valid nonce with this nc/cnonce; false if that pair was seen already
   * (a replay) or the nonce has been used too often. */
  use(nonce: string, nc: string, cnonce: string): boolean {
    const seen = this.#used.get(nonce);
    if (!seen || seen.size >= this.#maxUses) return false;
    const k = `${nc.toLowerCase()}:${cnonce}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  }

  /** Nonces currently remembered (for tests and metrics). */
  get tracked(): number {
    return this.#used.size;
  }
}

/** What a Digest answer says: `ok`, `stale` (a right answer to an expired or unknown nonce),
 * `foreign` (a nonce issued to another connection or address), or why it is refused. */
export type DigestVerdict = 'ok' | 'stale' | 'foreign' | (string & {});

/** Checks a Digest answer (RFC 7616) against the user's stored hashes and the nonces issued:
 * one place for the RTSP authorizer and the admin. `uriMatches` says whether the answer's uri
 * names the requested resource (each protocol compares its own way). */
export function checkDigestAnswer(
  c: DigestCredentials,
  o: { realm: string; user: UserEntry | undefined; method: string; uriMatches: boolean; nonces: NonceStore; binding: string },
): DigestVerdict {
  const alg = digestAlgorithm(c.algorithm);
  if (!alg) return `unsupported algorithm ${c.algorithm?.slice(0, 20)}`;
  if (c.userhash) return 'userhash is not supported';
  if (c.realm !== o.realm) return 'wrong realm';
  if (c.qop !== undefined && c.qop.toLowerCase() !== 'auth') return `unsupported qop ${c.qop.slice(0, 20)}`;
  if (!o.uriMatches) return 'the digest is for another URI';
  const u = o.user;
  if (!u) return 'unknown user';
  const ha1 = alg === 'MD5' ? u.ha1 : u.ha1Sha256;
  if (!ha1) return `no ${alg} hash stored for the user`;
  const expected = digestResponse({ algorithm: alg, ha1, method: o.method, uri: c.uri, nonce: c.nonce, qop: c.qop?.toLowerCase(), nc: c.nc, cnonce: c.cnonce });
  if (!sameDigest(expected, c.response)) return 'wrong password';
  // The response is right: only the nonce can still be out of date (or from before a restart).
  const state = o.nonces.check(c.nonce, o.binding);
  if (state === 'foreign') return 'foreign';
  if (state !== 'valid') return 'stale';
  if (c.qop !== undefined && !o.nonces.use(c.nonce, c.nc!, c.cnonce!)) return 'replayed nonce count';
  return 'ok';
}
