/** The URLs relays are configured with, read strictly: `rtsp://`/`rtsps://` (a pull source or a
 * push destination), `icecast://` (a push destination: an Icecast 2 mount) and `udp://` (RTP
 * arriving at a port, or forwarded to one). Each reader returns the parts or a sentence saying
 * what is wrong, which the schema reports under the key that holds the URL. Messages never
 * repeat a password: `redactUrl` masks it.
 *
 * Written by hand rather than with WHATWG `URL`: that parser quietly percent-encodes spaces and
 * odd characters and accepts `rtsp://host:99999`, where a config file should be told. */
import { isIP } from 'node:net';

/** Default RTSP ports by scheme (RFC 7826: 554 for rtsp, 322 for rtsps). */
export const DEFAULT_RTSP_PORTS = { rtsp: 554, rtsps: 322 } as const;

/** An `rtsp://` or `rtsps://` URL taken apart. */
export interface RtspUrl {
  scheme: 'rtsp' | 'rtsps';
  /** Host name or IP address; an IPv6 address without its brackets. */
  host: string;
  /** The port written, or the scheme's default. */
  port: number;
  /** Path and query as sent in requests, starting with `/` (`/` when the URL has none). */
  path: string;
  /** User name, percent-decoded; undefined when the URL has none. */
  user?: string;
  /** Password, percent-decoded; undefined when the URL has none. */
  password?: string;
  /** The URL without its user name and password: for requests and logs. */
  url: string;
}

/** Where `udp://[address]:port` receives RTP. */
export interface UdpSourceAddress {
  /** A multicast group to join, or a local address to listen on; '' listens on every address. */
  host: string;
  /** RTP port of the first track (even; RTCP one above). */
  port: number;
  /** `?source=`: only packets from this sender are taken. */
  source?: string;
}

/** Where `udp://host:port` forwards RTP. */
export interface UdpForward {
  /** Unicast or multicast address, or a host name. */
  host: string;
  /** RTP port of the first track (even; RTCP one above; track N at port + 2N). */
  port: number;
  /** Hops the packets may take; absent: the system's default (64 unicast, 1 multicast). */
  ttl?: number;
  /** Local address to send from (for multicast, the outgoing interface). */
  iface?: string;
}

/** The URL as it may appear in a message: everything between the user name and the last `@`
 * masked, so a password is hidden even when a raw `/` or `@` in it broke the URL (a path holding
 * an `@` is masked too, which a message can afford). */
export function redactUrl(text: string): string {
  const clipped = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return clipped.replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is, (_m, scheme: string, info: string) => {
    const colon = info.search(/[:/?#]/);
    return `${scheme}${colon < 0 || info[colon] !== ':' ? '***' : `${info.slice(0, colon)}:***`}@`;
  });
}

/** A host name as DNS allows it (letters, digits, `-`, and `_` that internal names use), or
 * undefined when it is fine. */
function badHostName(host: string): string | undefined {
  if (/^[\d.]+$/.test(host)) return `'${host}' is not an IPv4 address`;
  const label = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length > 253 || !name.split('.').every((l) => label.test(l))) return `'${host}' is not a valid host name or IP address`;
  return undefined;
}

/** Host and port of an authority (`host`, `host:port`, `[v6]:port`); a string says what is wrong. */
function splitHostPort(authority: string): { host: string; port?: number; bracketed: boolean } | string {
  let host: string;
  let portText: string | undefined;
  let bracketed = false;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return 'has a [ with no ] around its IPv6 address';
    host = authority.slice(1, end);
    bracketed = true;
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `has '${rest}' after its IPv6 address`;
    if (rest !== '') portText = rest.slice(1);
    if (isIP(host) !== 6) return `'${host}' is not an IPv6 address`;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') !== colon) return 'has an IPv6 address without [ ]: write it as [address]';
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  if (portText === undefined) return { host, bracketed };
  if (portText === '') return 'has a : with no port after it';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `port '${portText}' is not a number from 1 to 65535`;
  }
  return { host, port: Number(portText), bracketed };
}

/** What is wrong with characters of a URL, or undefined: spaces, control characters. */
function badCharacters(text: string): string | undefined {
  if (/\s/.test(text)) return 'has a space or line break: write a space as %20';
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (/[\x00-\x1f\x7f]/.test(text)) return 'has a control character';
  return undefined;
}

/** The scheme (lower case) and what follows `//`, or undefined when `text` does not start with
 * one of `schemes` and `://`. */
function splitScheme(text: string, schemes: readonly string[]): { scheme: string; rest: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  const scheme = m?.[1].toLowerCase();
  return m && scheme && schemes.includes(scheme) ? { scheme, rest: text.slice(m[0].length) } : undefined;
}

/** Percent-decodes `part` of a URL, or undefined when its %-escapes are broken. */
function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Path and query characters RFC 3986 allows unescaped, and `%XX` escapes. */
const PATH_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/** A server URL taken apart, before the scheme's own rules: what `rtsp://` and `icecast://`
 * URLs share. */
interface ServerUrlParts {
  scheme: string;
  host: string;
  /** The host as written in a URL: an IPv6 address in brackets. */
  hostText: string;
  port?: number;
  path: string;
  user?: string;
  password?: string;
}

/** Reads `<scheme>://[user:password@]host[:port][/path]` for one of `schemes`; `expected` is the
 * sentence for a URL of another scheme. */
function parseServerUrl(text: string, schemes: readonly string[], expected: string): ServerUrlParts | string {
  const bad = badCharacters(text);
  if (bad) return bad;
  const split = splitScheme(text, schemes);
  if (!split) return expected;
  const scheme = split.scheme;
  if (text.includes('#')) return 'has a #fragment, which is never sent to a server: write # in the path as %23';
  const end = split.rest.search(/[/?]/);
  const authority = end < 0 ? split.rest : split.rest.slice(0, end);
  const tail = end < 0 ? '' : split.rest.slice(end);
  const at = authority.lastIndexOf('@');
  // `rtsp://u:pa/ss@host/x` reads as host u, port pa: a / ? in the password cut the URL short.
  if (at < 0 && /^[/?][^/?]*@/.test(tail)) return 'has an @ in the first part of its path: in a user name or password, write / ? # @ as %2F %3F %23 %40';
  let user: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const info = authority.slice(0, at);
    if (info.includes('@')) return 'has an @ in its user name or password: write it as %40';
    const colon = info.indexOf(':');
    const rawUser = colon < 0 ? info : info.slice(0, colon);
    user = decode(rawUser);
    password = colon < 0 ? undefined : decode(info.slice(colon + 1));
    if (user === undefined || (colon >= 0 && password === undefined)) return 'has a broken %-escape in its user name or password';
    if (user === '') return `has a password but no user name (${scheme}://user:password@host/…)`;
  }
  const hp = splitHostPort(authority.slice(at + 1));
  if (typeof hp === 'string') return hp;
  if (hp.host === '') return 'has no host';
  if (!hp.bracketed && isIP(hp.host) === 0) {
    const why = badHostName(hp.host);
    if (why) return why;
  }
  const path = tail === '' ? '/' : tail.startsWith('?') ? `/${tail}` : tail;
  if (!PATH_CHARS.test(path)) {
    const c = [...path].find((ch) => !PATH_CHARS.test(ch) && ch !== '%');
    return c === undefined ? 'has a broken %-escape in its path (% must be followed by two hex digits)' : `has '${c}' in its path: percent-encode it as ${encodeURIComponent(c) === c ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : encodeURIComponent(c)}`;
  }
  // The client (WHATWG URL) would drop these segments; a config should say what is requested.
  if (path.split('?')[0].split('/').some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) return 'has a . or .. part in its path';
  const hostText = hp.bracketed ? `[${hp.host}]` : hp.host;
  return { scheme, host: hp.host, hostText, port: hp.port, path, user, password };
}

/** Whether a path names nothing but `/`s (an optional query aside). */
const emptyPath = (path: string) => path.split('?')[0].replace(/\/+/g, '') === '';

/** Reads an `rtsp://[user:password@]host[:port]/path` or `rtsps://…` URL. `needPath`: the URL
 * must name a stream (`/` alone is refused), as a push destination must. Returns the parts, or
 * a sentence saying what is wrong. */
export function parseRtspUrl(text: string, opts: { needPath?: boolean } = {}): RtspUrl | string {
  const u = parseServerUrl(text, ['rtsp', 'rtsps'], 'expected rtsp://[user:password@]host[:port]/path or rtsps://…');
  if (typeof u === 'string') return u;
  if (opts.needPath && emptyPath(u.path)) return 'needs a path naming the stream, e.g. rtsp://host/live/cam';
  const scheme = u.scheme as RtspUrl['scheme'];
  const url = `${scheme}://${u.hostText}${u.port === undefined ? '' : `:${u.port}`}${u.path}`;
  return { scheme, host: u.host, port: u.port ?? DEFAULT_RTSP_PORTS[scheme], path: u.path, user: u.user, password: u.password, url };
}

/** Icecast's default port. */
export const DEFAULT_ICECAST_PORT = 8000;

/** An `icecast://user:password@host[:port]/mount` URL taken apart: an Icecast 2 server this one
 * feeds as a source. */
export interface IcecastUrl {
  scheme: 'icecast';
  /** Host name or IP address; an IPv6 address without its brackets. */
  host: string;
  /** The port written, or 8000. */
  port: number;
  /** The mount as sent in the request line, starting with `/` (percent-escapes kept). */
  mount: string;
  /** The source user (Icecast's is `source`), percent-decoded. */
  user: string;
  password: string;
  /** The URL without its user name and password: for logs. */
  url: string;
}

/** Reads an `icecast://user:password@host[:port]/mount` URL (the form ffmpeg's icecast output
 * takes). Returns the parts, or a sentence saying what is wrong. */
export function parseIcecastUrl(text: string): IcecastUrl | string {
  const u = parseServerUrl(text, ['icecast'], 'expected icecast://user:password@host[:port]/mount');
  if (typeof u === 'string') return u;
  if (u.path.includes('?')) return 'takes no ?query: a mount is a path, e.g. icecast://source:password@host/stream';
  if (emptyPath(u.path)) return 'needs a mount, e.g. icecast://source:password@host/stream';
  if (u.user === undefined || u.password === undefined) return 'needs the source user and password, e.g. icecast://source:password@host/stream';
  const port = u.port ?? DEFAULT_ICECAST_PORT;
  return { scheme: 'icecast', host: u.host, port, mount: u.path, user: u.user, password: u.password, url: `icecast://${u.hostText}:${port}${u.path}` };
}

/** Reads a push destination's URL: `rtsp://`/`rtsps://` (announced with ANNOUNCE/RECORD, a path
 * needed) or `icecast://` (fed to an Icecast 2 mount as its source). */
export function parsePushUrl(text: string): RtspUrl | IcecastUrl | string {
  if (splitScheme(text, ['icecast'])) return parseIcecastUrl(text);
  if (splitScheme(text, ['rtsp', 'rtsps'])) return parseRtspUrl(text, { needPath: true });
  return badCharacters(text) ?? 'expected rtsp://[user:password@]host[:port]/path, rtsps://… or icecast://user:password@host[:port]/mount';
}

/** An even RTP port (RTCP takes the odd one above), or what is wrong with it. */
export function badRtpPort(port: number): string | undefined {
  if (!Number.isInteger(port) || port < 2 || port > 65534) return `port ${port} is not a whole number from 2 to 65534`;
  if (port % 2 !== 0) return `port ${port} is odd: RTP takes an even port and RTCP the odd one above it`;
  return undefined;
}

/** `udp://` with its query split off; a string says what is wrong. */
function splitUdp(text: string): { authority: string; params: Map<string, string> } | string {
  const bad = badCharacters(text);
  if (bad) return bad;
  const split = splitScheme(text, ['udp']);
  if (!split) return 'expected udp://address:port';
  const q = split.rest.indexOf('?');
  const hostPart = q < 0 ? split.rest : split.rest.slice(0, q);
  const authority = hostPart.endsWith('/') ? hostPart.slice(0, -1) : hostPart;
  if (authority.includes('/')) return 'takes no path: udp://address:port';
  if (authority.includes('@')) return 'takes no user name or password';
  if (text.includes('#')) return 'has a #fragment: udp://address:port[?…]';
  const params = new Map<string, string>();
  if (q >= 0) {
    for (const pair of split.rest.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (params.has(name)) return `gives '${name}' twice`;
      params.set(name, eq < 0 ? '' : pair.slice(eq + 1));
    }
  }
  return { authority, params };
}

/** Host and even port of a udp:// authority, the host checked by `host`. */
function udpHostPort(authority: string, example: string): { host: string; port: number } | string {
  const hp = splitHostPort(authority);
  if (typeof hp === 'string') return hp;
  if (hp.port === undefined) return `needs a port: ${example}`;
  return badRtpPort(hp.port) ?? { host: hp.host, port: hp.port };
}

/** Unknown parameters of a udp:// URL, or undefined. */
function unknownParams(params: Map<string, string>, known: readonly string[]): string | undefined {
  const extra = [...params.keys()].filter((k) => !known.includes(k));
  return extra.length === 0 ? undefined : `has unknown parameter${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} (it takes ${known.join(' and ')})`;
}

/** An IP address (for a parameter named `what`), or what is wrong with it. */
function badAddress(value: string, what: string): string | undefined {
  return isIP(value) === 0 ? `${what} '${value}' is not an IP address` : undefined;
}

/** Reads a source `udp://[group|address]:port[?source=ADDR]`: RTP arrives at `port` (the first
 * track; each further track two ports up), from a multicast group it joins or at a local address
 * (none: every address); `source` keeps only one sender's packets. */
export function parseUdpSource(text: string): UdpSourceAddress | string {
  const u = splitUdp(text);
  if (typeof u === 'string') return u;
  const hp = udpHostPort(u.authority, 'udp://239.1.2.3:5000, or udp://:5000 for every local address');
  if (typeof hp === 'string') return hp;
  if (hp.host !== '' && isIP(hp.host) === 0) return `'${hp.host}' must be an IP address (a multicast group to join or a local address to listen on), not a host name`;
  const why = unknownParams(u.params, ['source']);
  if (why) return why;
  const source = u.params.get('source');
  if (source !== undefined) {
    const bad = badAddress(source, 'source');
    if (bad) return bad;
  }
  return source === undefined ? { host: hp.host, port: hp.port } : { host: hp.host, port: hp.port, source };
}

/** What is wrong with a forward destination's fields, with the field it concerns, or undefined. */
export function badForward(f: UdpForward): { field: keyof UdpForward; message: string } | undefined {
  if (f.host === '') return { field: 'host', message: 'needs a host: the address to send to' };
  if (isIP(f.host) === 0) {
    const why = badHostName(f.host);
    if (why) return { field: 'host', message: why };
  }
  const port = badRtpPort(f.port);
  if (port) return { field: 'port', message: port };
  if (f.ttl !== undefined && (!Number.isInteger(f.ttl) || f.ttl < 1 || f.ttl > 255)) return { field: 'ttl', message: `ttl ${f.ttl} is not a whole number from 1 to 255` };
  if (f.iface !== undefined) {
    const why = badAddress(f.iface, 'iface');
    if (why) return { field: 'iface', message: `${why} (the local address to send from)` };
  }
  return undefined;
}

/** Reads a forward destination `udp://host:port[?ttl=N&iface=ADDR]`. */
export function parseUdpForward(text: string): UdpForward | string {
  const u = splitUdp(text);
  if (typeof u === 'string') return u;
  const hp = udpHostPort(u.authority, 'udp://239.1.2.3:5000');
  if (typeof hp === 'string') return hp;
  const why = unknownParams(u.params, ['ttl', 'iface']);
  if (why) return why;
  const f: UdpForward = { host: hp.host, port: hp.port };
  const ttl = u.params.get('ttl');
  if (ttl !== undefined) {
    if (!/^\d{1,3}$/.test(ttl)) return `ttl '${ttl}' is not a whole number from 1 to 255`;
    f.ttl = Number(ttl);
  }
  const iface = u.params.get('iface');
  if (iface !== undefined) f.iface = iface;
  return badForward(f)?.message ?? f;
}
