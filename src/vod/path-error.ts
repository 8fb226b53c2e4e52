/** Why a request path names no file the server may serve. The file layer knows nothing of
 * protocols: each protocol adapter maps `kind` to its own status (RTSP in
 * rtsp/server/errors.ts, the HTTP reference movie in rtsp/tunnel/ref-movie.ts). */
export type PathErrorKind = 'not-found' | 'forbidden' | 'bad-request';

export class PathError extends Error {
  override readonly name = 'PathError';
  constructor(
    /** not-found: nothing there; forbidden: the path leaves the media folder; bad-request: the
     * URL itself is malformed. */
    readonly kind: PathErrorKind,
    message: string,
  ) {
    super(message);
  }
}
