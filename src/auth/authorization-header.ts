/** Authorization (RFC 2326 §12.5, RFC 7617 Basic, RFC 2617/7616 Digest) and the challenges of
 * WWW-Authenticate. The same codec serves RTSP and HTTP (reference movies, later the admin), so
 * it lives with auth; rtsp/headers re-exports it for RTSP callers. */

import { HeaderError, splitOutsideQuotes, unquote } from '../net/index.js';

export interface BasicCredentials {
  scheme: 'basic';
  user: string;
  password: string;
}

export interface DigestCredentials {
  scheme: 'digest';
  user: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As sent (`MD5`, `SHA-256`, ...); absent means MD5. */
  algorithm?: string;
  /** `auth`, `auth-int` or absent (RFC 2069 style). */
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
  /** RFC 7616 `userhash=true`: `user` is a hash, not a name. */
  userhash?: boolean;
}

/** A scheme the server does not speak (Bearer, NTLM, ...). */
export interface OtherCredentials {
  scheme: 'other';
  name: string;
}

export type Credentials = BasicCredentials | DigestCredentials | OtherCredentials;

const H = 'Authorization';

/** Longest Authorization value parsed, bytes: past it nothing is decoded or hashed. */
export const MAX_AUTHORIZATION_BYTES = 4096;
/** Longest user name, password or Digest parameter (other than `uri`) accepted, bytes. Checked
 * before any hashing: MD5-crypt's cost grows with the password's length. */
export const MAX_CREDENTIAL_BYTES = 256;

function capped(what: string, v: string): string {
  const n = Buffer.byteLength(v, 'utf8');
  if (n > MAX_CREDENTIAL_BYTES)
    throw new HeaderError(H, `${what} of ${n} bytes is over the ${MAX_CREDENTIAL_BYTES}-byte limit`);
  return v;
}
const SCHEME_RE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:[ \t]+(.*))?$/s;
const PARAM_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\*?$/;
const QUOTED_RE = /^"(?:[^"\\]|\\.)*"$/s;
/** Unquoted values: tokens by the RFC, but clients also send bare URIs. */
const TOKEN_VALUE_RE = /^[^\s"\\]*$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes RFC 8187 `UTF-8''percent%20encoded` (the `username*` of RFC 7616). */
function extValue(v: string): string {
  const m = /^(utf-8|iso-8859-1)'[^']*'(.*)$/i.exec(v);
  if (!m) throw new HeaderError(H, 'malformed extended parameter');
  const bytes: number[] = [];
  const s = m[2];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new HeaderError(H, 'malformed percent-encoding');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString(m[1].toLowerCase() === 'utf-8' ? 'utf8' : 'latin1');
}

/** `name=value, name="quoted value", ...` into a map with lower-case names. Duplicates are an
 * error (a second `response` or `uri` must not silently win). */
export function parseAuthParams(text: string, header = H): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of splitOutsideQuotes(text, ',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new HeaderError(header, `parameter without a value: ${part.slice(0, 40)}`);
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!PARAM_NAME_RE.test(name)) throw new HeaderError(header, 'invalid parameter name');
    const v = part.slice(eq + 1).trim();
    if (v.startsWith('"') ? !QUOTED_RE.test(v) : !TOKEN_VALUE_RE.test(v)) {
      throw new HeaderError(header, `malformed value for ${name}`);
    }
    if (out.has(name)) throw new HeaderError(header, `parameter ${name} given twice`);
    out.set(name, unquote(v));
  }
  return out;
}

/** Parses an Authorization value. Throws HeaderError (400) on malformed Basic or Digest
 * credentials; an unknown scheme comes back as `other`. */
export function parseAuthorization(value: string): Credentials {
  const size = Buffer.byteLength(value, 'utf8');
  if (size > MAX_AUTHORIZATION_BYTES)
    throw new HeaderError(H, `value of ${size} bytes is over the ${MAX_AUTHORIZATION_BYTES}-byte limit`);
  const m = SCHEME_RE.exec(value.trim());
  if (!m) throw new HeaderError(H, 'no scheme');
  const scheme = m[1].toLowerCase();
  const rest = (m[2] ?? '').trim();
  if (scheme === 'basic') {
    if (!BASE64_RE.test(rest) || rest.length % 4 === 1)
      throw new HeaderError(H, 'Basic credentials are not base64');
    const text = Buffer.from(rest, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new HeaderError(H, 'Basic credentials without a colon');
    return {
      scheme: 'basic',
      user: capped('Basic user name', text.slice(0, colon)),
      password: capped('Basic password', text.slice(colon + 1)),
    };
  }
  if (scheme === 'digest') {
    const p = parseAuthParams(rest);
    for (const [k, v] of p) if (k !== 'uri') capped(`Digest ${k}`, v);
    let user = p.get('username');
    const star = p.get('username*');
    if (star !== undefined) {
      if (user !== undefined) throw new HeaderError(H, 'both username and username*');
      user = extValue(star);
    }
    const need = (k: string): string => {
      const v = p.get(k);
      if (v === undefined) throw new HeaderError(H, `Digest credentials without ${k}`);
      return v;
    };
    if (user === undefined) throw new HeaderError(H, 'Digest credentials without username');
    capped('Digest username', user);
    const out: DigestCredentials = {
      scheme: 'digest',
      user,
      realm: need('realm'),
      nonce: need('nonce'),
      uri: need('uri'),
      response: need('response'),
    };
    for (const k of ['algorithm', 'qop', 'nc', 'cnonce', 'opaque'] as const) {
      const v = p.get(k);
      if (v !== undefined) out[k] = v;
    }
    if (out.qop !== undefined && (out.nc === undefined || out.cnonce === undefined)) {
      throw new HeaderError(H, 'Digest qop without nc and cnonce');
    }
    if (out.nc !== undefined && !/^[0-9A-Fa-f]{8}$/.test(out.nc))
      throw new HeaderError(H, 'Digest nc is not 8 hex digits');
    if (p.get('userhash')?.toLowerCase() === 'true') out.userhash = true;
    return out;
  }
  return { scheme: 'other', name: m[1] };
}

/** A quoted-string with `"` and `\` escaped and control characters dropped (a realm comes from
 * an admin's file and must not break the header). */
export function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/[\x00-\x1f\x7f]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** `MD5` or `SHA-256`; left out when undefined (plain RFC 2069/2617 MD5). */
  algorithm?: string;
  /** Offer `qop="auth"`. */
  qop?: boolean;
  stale?: boolean;
  opaque?: string;
}

/** `Digest realm="...", nonce="...", algorithm=..., qop="auth"[, stale=true]`. */
export function formatDigestChallenge(c: DigestChallenge): string {
  let s = `Digest realm=${quote(c.realm)}, nonce=${quote(c.nonce)}`;
  if (c.algorithm) s += `, algorithm=${c.algorithm}`;
  if (c.qop) s += ', qop="auth"';
  if (c.opaque !== undefined) s += `, opaque=${quote(c.opaque)}`;
  if (c.stale) s += ', stale=true';
  return s;
}

/** `Basic realm="..."`. */
export function formatBasicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}
