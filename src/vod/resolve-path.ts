/** Maps a request URL onto a file inside the media folder, refusing anything that would leave it
 * (`..`, encoded `..`, NUL bytes, symlinks pointing outside). Failures throw PathError. */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PathError } from './path-error.js';

export interface ParsedUrl {
  /** Decoded path segments of the presentation (track suffix removed). */
  segments: string[];
  /** Track id from a `trackID=N` / `streamid=N` / `track=N` last segment, if any. */
  trackId?: number;
  /** The presentation URL as the client wrote it, without track suffix or trailing slash. */
  baseUrl: string;
}

const TRACK_RE = /^(?:trackid|streamid|track)=(\d{1,9})$/i;

/** Splits an RTSP request URI into presentation path segments and an optional track id. */
export function parseRequestUrl(uri: string): ParsedUrl {
  let pathPart: string;
  let prefix: string;
  const m = /^(rtsps?|https?):\/\/[^/]*/i.exec(uri);
  if (m) {
    prefix = m[0];
    pathPart = uri.slice(prefix.length);
  } else if (uri.startsWith('/')) {
    prefix = '';
    pathPart = uri;
  } else {
    throw new PathError('bad-request', `request URI '${uri.slice(0, 100)}' is not an absolute rtsp:// URL`);
  }
  const q = pathPart.search(/[?#]/);
  if (q >= 0) pathPart = pathPart.slice(0, q);
  let raw = pathPart.split('/').filter((s) => s !== '');
  let trackId: number | undefined;
  const last = raw[raw.length - 1];
  if (last !== undefined && TRACK_RE.test(last)) {
    trackId = Number(TRACK_RE.exec(last)![1]);
    raw = raw.slice(0, -1);
  }
  const segments = raw.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new PathError('bad-request', `malformed percent-encoding in '${s.slice(0, 100)}'`);
    }
    if (d.includes('\0')) throw new PathError('bad-request', 'NUL byte in request path');
    if (d === '..' || d.includes('/') || d.includes('\\')) throw new PathError('forbidden', 'path leaves the media folder');
    return d;
  });
  const base = prefix + '/' + raw.join('/');
  return { segments: segments.filter((s) => s !== '.'), trackId, baseUrl: base };
}

/** Absolute path of an existing regular file inside `mediaRoot` (itself a real path). */
export async function resolveMediaFile(mediaRoot: string, segments: string[]): Promise<string> {
  if (segments.length === 0) throw new PathError('not-found', 'no file named in the URL');
  const candidate = join(mediaRoot, ...segments);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new PathError('not-found', `not found: /${segments.join('/')}`);
  }
  if (real !== mediaRoot && !real.startsWith(mediaRoot.endsWith(sep) ? mediaRoot : mediaRoot + sep)) {
    throw new PathError('forbidden', `/${segments.join('/')} leads outside the media folder`);
  }
  const st = await stat(real);
  if (!st.isFile()) throw new PathError('not-found', `not a file: /${segments.join('/')}`);
  return real;
}
