/** The Session header (RFC 2326 §12.37): `Session: <id>[;timeout=<seconds>]`. */

import { HeaderError } from '../../net/index.js';

export interface SessionHeader {
  id: string;
  /** Seconds of inactivity after which the server may drop the session. */
  timeout?: number;
}

const H = 'Session';
/** RFC 2326 restricts ids to ALPHA / DIGIT / "$-_.+", but servers in the wild use other printable
 * characters, and a client (relay) must echo whatever it was given; only what would break the
 * header syntax is refused. */
const ID_RE = /^[\x21-\x3a\x3c-\x7e]+$/;

/** Parses `id;timeout=60`. Unknown parameters are ignored. Throws HeaderError on an empty or
 * malformed id or a non-numeric timeout. */
export function parseSession(value: string): SessionHeader {
  const parts = value.split(';');
  const id = parts[0].trim();
  if (!ID_RE.test(id)) throw new HeaderError(H, 'invalid session id');
  const out: SessionHeader = { id };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    const eq = p.indexOf('=');
    const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name !== 'timeout') continue;
    const v = eq === -1 ? '' : p.slice(eq + 1).trim();
    if (!/^\d{1,9}$/.test(v)) throw new HeaderError(H, 'invalid timeout');
    out.timeout = Number(v);
  }
  return out;
}

/** `id` or `id;timeout=60`. Throws RangeError on an id that could not be parsed back or a
 * timeout that is not a non-negative integer. */
export function formatSession(session: SessionHeader): string {
  if (!ID_RE.test(session.id)) throw new RangeError(`${H}: invalid session id`);
  if (session.timeout === undefined) return session.id;
  const t = session.timeout;
  if (!Number.isInteger(t) || t < 0 || t > 999_999_999) throw new RangeError(`${H}: invalid timeout`);
  return `${session.id};timeout=${t}`;
}

/** The session id a request or response names (the `Session` value before any `;timeout=`),
 * unchecked: a lookup in the session map decides whether it is one of ours. */
export function sessionIdOf(headers: { get(name: string): string | undefined }): string | undefined {
  return headers.get('session')?.split(';')[0].trim();
}
