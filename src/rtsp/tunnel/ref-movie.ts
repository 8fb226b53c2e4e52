/** A plain HTTP GET of a movie on an RTSP port answers with a QuickTime reference movie: a tiny
 * `rtsptext` file that makes QuickTime open the same path over RTSP (QTSSRefMovieModule), so old
 * web pages that link movies over HTTP keep working. */
import type { LiveRegistry } from '../../live/registry.js';
import { liveKey } from '../../live/registry.js';
import { parseRequestUrl, resolveMediaFile } from '../../vod/resolve-path.js';
import type { RtspRequest } from '../message/types.js';
import { RtspError } from '../server/errors.js';

export interface RefMovieDeps {
  /** Real path of the media folder. */
  mediaRoot: string;
  registry: LiveRegistry | undefined;
}

export interface RefMovieAnswer {
  status: number;
  body: string;
  type?: string;
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

async function exists(deps: RefMovieDeps, segments: string[]): Promise<boolean> {
  const live = deps.registry?.get(liveKey(segments));
  if (live && live.state !== 'ended') return true;
  const last = segments[segments.length - 1] ?? '';
  const candidates = last.toLowerCase().endsWith('.sdp') ? [segments] : [segments, [...segments.slice(0, -1), `${last}.sdp`]];
  for (const c of candidates) {
    try {
      await resolveMediaFile(deps.mediaRoot, c);
      return true;
    } catch (e) {
      if (!(e instanceof RtspError) || e.status !== 404) throw e;
    }
  }
  return false;
}

/** Answers `GET <path>` with the reference movie pointing at rtsp://<host>:<rtspPort><path>. */
export async function referenceMovie(req: RtspRequest, localAddress: string, rtspPort: number, deps: RefMovieDeps): Promise<RefMovieAnswer> {
  if (!req.uri.startsWith('/')) return { status: 400, body: '', reason: 'request target is not a path' };
  let segments: string[];
  try {
    ({ segments } = parseRequestUrl(req.uri));
    if (segments.length === 0 || !(await exists(deps, segments))) return { status: 404, body: '', reason: 'no such movie or live stream' };
  } catch (e) {
    if (e instanceof RtspError) return { status: e.status === 403 ? 403 : 400, body: '', reason: e.message };
    throw e;
  }
  const path = req.uri.split(/[?#]/)[0];
  const url = `rtsp://${urlHost(req.headers.get('host'), localAddress)}:${rtspPort}${path}`;
  return { status: 200, body: `rtsptext\r\n${url}\r\n`, type: 'video/quicktime' };
}
