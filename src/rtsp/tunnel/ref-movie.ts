/** A plain HTTP GET of a movie on an RTSP port answers with a QuickTime reference movie: a tiny
 * `rtsptext` file that makes QuickTime open the same path over RTSP (QTSSRefMovieModule), so old
 * web pages that link movies over HTTP keep working. It is authorized exactly as DESCRIBE (the
 * same Authorizer, so the same 401/403), and only what RTSP would stream gets one: access, users
 * and groups files and anything else are 404, so HTTP tells nothing about what a folder holds. */
import { basename } from 'node:path';
import type { AccessRequest, Authorizer } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import type { CoreEvents } from '../../core/events.js';
import type { PathManager } from '../../core/path-manager.js';
import { PathError } from '../../vod/path-error.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import type { RtspRequest } from '../message/types.js';
import { authFailedEvent } from '../server/access-control.js';
import { PATH_STATUS } from '../server/errors.js';

export interface RefMovieDeps {
  /** What lives at a path: a reference movie is given for whatever RTSP would stream. */
  paths: PathManager;
  /** The server's one Authorizer (its users, nonces and failure counts are DESCRIBE's). */
  authorizer: Authorizer;
  /** Names of the files that are never served, or a getter for the running ones (read at each
   * request, so a reload that replaces the `auth:` section applies at once). */
  auth: AuthFileNames | (() => AuthFileNames);
  /** Where refused logins are reported as 'auth.failed', as over RTSP. */
  events?: CoreEvents;
}

type AuthFileNames = Pick<Config['auth'], 'accessFileName' | 'usersFile' | 'groupsFile'>;

/** Who asked, and where the reference movie must send them. */
export interface RefMovieClient {
  /** Address the request reached us at (the URL's host when no Host header names one). */
  localAddress: string;
  remoteAddress: string;
  /** `rtsps` when the GET came over TLS: media must stay inside TLS. */
  scheme: 'rtsp' | 'rtsps';
  /** Port the reference movie names. */
  port: number;
}

export interface RefMovieAnswer {
  status: number;
  body: string;
  type?: string;
  /** WWW-Authenticate values of a 401. */
  challenges?: string[];
  /** Hold the answer this long (repeated failed logins from the address). */
  delayMs?: number;
  /** Why it failed, for the log. */
  reason?: string;
}

/** The host part of an RTSP URL for a client that reached us as `hostHeader` (or at `local`). */
function urlHost(hostHeader: string | undefined, local: string): string {
  const h = hostHeader?.trim();
  if (h && /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/.test(h)) return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
  const a = local.startsWith('::ffff:') ? local.slice(7) : local;
  return a.includes(':') ? `[${a}]` : a || '127.0.0.1';
}

/** Files that configure access control: never served, never admitted to exist. */
function isAuthFile(segments: string[], auth: AuthFileNames): boolean {
  if (segments.some((s) => s === auth.accessFileName)) return true;
  const last = (segments[segments.length - 1] ?? '').toLowerCase();
  if (/^qt(users|groups)/.test(last)) return true;
  return last === basename(auth.usersFile).toLowerCase() || last === basename(auth.groupsFile).toLowerCase();
}

/** Answers `GET <path>` with the reference movie pointing at <scheme>://<host>:<port><path>. */
export async function referenceMovie(req: RtspRequest, client: RefMovieClient, deps: RefMovieDeps): Promise<RefMovieAnswer> {
  if (!req.uri.startsWith('/')) return { status: 400, body: '', reason: 'request target is not a path' };
  try {
    const { segments, trackId } = parseRequestUrl(req.uri);
    if (segments.length === 0 || trackId !== undefined) return { status: 404, body: '', reason: 'not a movie or live stream' };
    if (isAuthFile(segments, typeof deps.auth === 'function' ? deps.auth() : deps.auth)) return { status: 404, body: '', reason: 'access, users and groups files are never served' };
    const request: AccessRequest = {
      access: 'read',
      segments,
      method: req.method, // HEAD as well as GET: Digest signs the method the client used
      uri: req.uri,
      authorization: req.headers.get('authorization'),
      address: client.remoteAddress,
      // A reference-movie GET is one request per connection (the answer closes it), so a curl or
      // browser answering the challenge comes back on a new connection: bind the nonce to the
      // address and to HTTP only, so it is never accepted on an RTSP connection.
      binding: 'http',
    };
    const d = await deps.authorizer.authorize(request);
    if (!d.allowed) {
      deps.events?.emit('auth.failed', authFailedEvent('http', request, d.reason));
      return { status: d.status, body: '', challenges: d.challenges, delayMs: d.delayMs, reason: d.reason };
    }
    // An active live stream, a configured source or an `.sdp` description (with or without its
    // extension, as DESCRIBE takes it), or a file with a playable track; nothing is started.
    if (!(await deps.paths.has(segments))) return { status: 404, body: '', reason: 'no such movie or live stream' };
  } catch (e) {
    if (e instanceof PathError) return { status: PATH_STATUS[e.kind], body: '', reason: e.message };
    throw e;
  }
  const path = req.uri.split(/[?#]/)[0];
  const url = `${client.scheme}://${urlHost(req.headers.get('host'), client.localAddress)}:${client.port}${path}`;
  return { status: 200, body: `rtsptext\r\n${url}\r\n`, type: 'video/quicktime' };
}
