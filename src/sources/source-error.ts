/** Why a source could not start at a path. Every kind of source throws this (or a subclass), so a
 * protocol maps any source's failure to its answer in one place (RTSP: `rtspErrorFromPath` in
 * rtsp/server/errors.ts), and a new kind of source needs no protocol edit. */
export class SourceError extends Error {
  override readonly name: string = 'SourceError';
  constructor(
    message: string,
    /** The status the viewer who asked gets; RTSP and HTTP share these numbers (404: nothing is
     * being sent there, 415: the source's description cannot be used, 500: it cannot listen). */
    readonly status: number,
    /** Unix ms when it is worth trying again (a playlist scheduled to start then); an always-on
     * source is started again at that moment rather than after the usual back-off. */
    readonly retryAt?: number,
  ) {
    super(message);
  }
}
