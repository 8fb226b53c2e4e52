/** RTSP URLs as a client uses them: where to connect, what goes on the request line (never the
 * user info), what a log may show (never the password), and how track control URLs resolve. */
import { isIP } from 'node:net';
import type { ClientCredentials } from './auth.js';
import { RtspClientError } from './errors.js';

export interface RtspUrl {
  /** `rtsps:` (RTSP over TLS). */
  secure: boolean;
  /** Host name or address, without the brackets of an IPv6 literal. */
  host: string;
  port: number;
  /** The URL without user info: the request line's URI and Digest's `uri`. */
  href: string;
  /** The URL for logs and errors: the user name kept, the password left out. */
  display: string;
  /** From the user info, percent-decoded. */
  credentials?: ClientCredentials;
}

/** RFC 2326 §3.2: 554 for rtsp, 322 for rtsps. */
const DEFAULT_PORT = { rtsp: 554, rtsps: 322 } as const;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A stray % is taken literally rather than refusing a password that happens to hold one.
    return s;
  }
}

/** Parses `rtsp://[user[:password]@]host[:port]/path` (or `rtsps://`). Throws RtspClientError
 * ('url') on anything else. */
export function parseRtspUrl(text: string): RtspUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RtspClientError('url', `not a URL: ${JSON.stringify(redactUrl(text).slice(0, 200))}`);
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'rtsp' && scheme !== 'rtsps')
    throw new RtspClientError('url', `not an rtsp:// or rtsps:// URL: ${redactUrl(u.href).slice(0, 200)}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new RtspClientError('url', `no host in ${redactUrl(u.href).slice(0, 200)}`);
  const port = u.port === '' ? DEFAULT_PORT[scheme] : Number(u.port);
  const out: RtspUrl = { secure: scheme === 'rtsps', host, port, href: '', display: '' };
  if (u.username !== '' || u.password !== '') {
    out.credentials = { user: decode(u.username), password: decode(u.password) };
  }
  const user = u.username;
  u.username = '';
  u.password = '';
  out.href = u.href;
  out.display = user === '' ? u.href : u.href.replace(/^(rtsps?:\/\/)/i, `$1${user}@`);
  return out;
}

/** `url` without its user info (what a request line carries). Anything that does not parse as a
 * URL is returned as it is. */
export function stripUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

/** `url` with the password of its user info left out, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@:]*)(?::[^/?#@]*)?@/i, (_m, s: string, user: string) =>
    user === '' ? s : `${s}${user}@`,
  );
}

/** The base of a DESCRIBE answer's relative URLs (RFC 2326 C.1.1): Content-Base, else
 * Content-Location, else the request URL. A relative header value resolves against the request
 * URL; an unusable one is skipped. */
export function contentBase(headers: { get(name: string): string | undefined }, requestUrl: string): string {
  for (const name of ['content-base', 'content-location']) {
    const v = headers.get(name)?.trim();
    if (v === undefined || v === '') continue;
    try {
      return stripUserInfo(new URL(v, requestUrl).href);
    } catch {
      // Try the next source of a base.
    }
  }
  return requestUrl;
}

/** A track's (or the session's) control URL from its `a=control` (RFC 2326 C.1.1): `*` or none
 * is the base itself, an absolute URL stands as written, `/path` keeps the base's origin, and a
 * relative one is appended to the base after a `/`. The RFC says RFC 1808 resolution, which would
 * drop the base's last segment when it lacks a trailing slash; servers write Content-Base both
 * ways and expect the append, which is what live555, ffmpeg and GStreamer do. */
export function resolveControl(base: string, control: string | undefined): string {
  const c = control?.trim();
  if (c === undefined || c === '' || c === '*') return base;
  if (/^[a-z][a-z0-9+.-]*:/i.test(c)) return stripUserInfo(c);
  if (c.startsWith('/')) {
    const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(base)?.[0];
    return origin === undefined ? c : origin + c;
  }
  return base.endsWith('/') ? base + c : `${base}/${c}`;
}

/** The TLS SNI name for a host: none for an IP address (RFC 6066 forbids it). */
export function serverName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}
