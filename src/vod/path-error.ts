/** Why a request path names nothing the server may serve. The file layer and the core's
 * PathManager know nothing of protocols: each protocol adapter maps `kind` to its own status (RTSP
 * in rtsp/server/errors.ts, the HTTP reference movie in rtsp/tunnel/ref-movie.ts). */
export type PathErrorKind = 'not-found' | 'forbidden' | 'bad-request' | 'unsupported';

export class PathError extends Error {
  override readonly name = 'PathError';
  constructor(
    /** not-found: nothing there; forbidden: the path leaves the media folder, or the request is
     * not allowed there (publishing to a path fed by its configured source); bad-request: the URL
     * itself is malformed; unsupported: a file is there, but not one the server can stream (not a
     * movie it reads, or no playable track). */
    readonly kind: PathErrorKind,
    message: string,
  ) {
    super(message);
  }
}
