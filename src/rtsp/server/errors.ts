import { SourceError } from '../../sources/source-error.js';
import type { PathError, PathErrorKind } from '../../vod/path-error.js';

/** An error that becomes an RTSP response. Thrown anywhere below a request handler, turned into
 * a response in one place (the connection) and logged once there. */
export class RtspError extends Error {
  override readonly name = 'RtspError';
  constructor(
    readonly status: number,
    message: string,
    /** Close the connection after answering (framing can no longer be trusted). */
    readonly close = false,
    /** Extra response headers (e.g. Allow, Unsupported). */
    readonly headers: Record<string, string> = {},
    /** The reason phrase, when not the status's usual one (`Loop Detected`). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** The status for each kind of path refusal: RTSP and the HTTP reference movie answer alike. */
export const PATH_STATUS: Readonly<Record<PathErrorKind, number>> = {
  'not-found': 404,
  forbidden: 403,
  'bad-request': 400,
  unsupported: 415,
};

/** The RTSP answer to a path the lower layers refused: the one place a PathError (file layer,
 * PathManager) or a SourceError (a source that could not start, whatever its kind) becomes a
 * status. */
export function rtspErrorFromPath(e: PathError | SourceError): RtspError {
  if (e instanceof SourceError) return new RtspError(e.status, e.message, false, {}, e.phrase);
  return new RtspError(PATH_STATUS[e.kind], e.message);
}
