/** Opening a session's connection: the first requests (OPTIONS and DESCRIBE, or ANNOUNCE) follow
 * redirects, to another host as well, up to a limit. */
import { RtspClientConnection, type RtspClientConnectionOptions, type RtspClientResponse } from './connection.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError, RtspRedirectError } from './errors.js';
import { parseRtspUrl, type RtspUrl } from './url.js';

/** Options every session takes. */
export interface ClientOptions extends RtspClientConnectionOptions {
  /** Redirects followed while the session opens. Default CLIENT_DEFAULTS.maxRedirects. */
  maxRedirects?: number;
}

/** 3xx statuses followed: 301, 302, 303 and 307 move the resource, 305 names a proxy to send
 * the same request through. */
const REDIRECTS = new Set([301, 302, 303, 305, 307]);

/** Resolves with a 2xx answer; a redirect with a Location throws RtspRedirectError, any other
 * status RtspClientError('status'). */
export function expectOk(res: RtspClientResponse, method: string, url: RtspUrl | string): RtspClientResponse {
  if (res.status >= 200 && res.status < 300) return res;
  const where = typeof url === 'string' ? url : url.display;
  const what = `${method} ${where} was answered ${res.status}${res.reason === '' ? '' : ` ${res.reason}`}`;
  const location = res.headers.get('location')?.trim();
  if (REDIRECTS.has(res.status) && location !== undefined && location !== '') {
    throw new RtspRedirectError(`${what} to ${location}`, location, res.status);
  }
  throw new RtspClientError('status', what, res.status);
}

export interface Opened<T> {
  conn: RtspClientConnection;
  /** The URL the requests went to, after redirects (no user info). */
  requestUrl: string;
  result: T;
}

/** Connects to `url` and runs `first` on the connection. When `first` throws RtspRedirectError
 * (see `expectOk`) the connection is closed and the same is done at the Location (a relative one
 * resolves against the request URL; a URL without credentials keeps the previous ones; 305 keeps
 * the request URL and connects to the proxy named). Any other failure closes the connection and
 * is thrown as it is. */
export async function openFollowingRedirects<T>(
  url: string,
  options: ClientOptions,
  first: (conn: RtspClientConnection, requestUrl: string) => Promise<T>,
): Promise<Opened<T>> {
  let target = parseRtspUrl(url);
  const start = target.display;
  let requestUrl = target.href;
  const max = options.maxRedirects ?? CLIENT_DEFAULTS.maxRedirects;
  for (let hop = 0; ; hop++) {
    const conn = await RtspClientConnection.connect(target, options);
    try {
      return { conn, requestUrl, result: await first(conn, requestUrl) };
    } catch (e) {
      conn.close();
      if (!(e instanceof RtspRedirectError)) throw e;
      if (hop >= max) throw new RtspClientError('redirect', `${start}: more than ${max} redirects (last: ${e.message})`, e.status);
      let next: RtspUrl;
      try {
        next = parseRtspUrl(new URL(e.location, requestUrl).href);
      } catch {
        throw new RtspClientError('redirect', `${e.message}, which is not an RTSP URL`, e.status);
      }
      next.credentials ??= target.credentials;
      options.log?.info({ from: target.display, to: next.display, status: e.status }, 'RTSP client: redirected');
      target = next;
      if (e.status !== 305) requestUrl = next.href;
    }
  }
}
