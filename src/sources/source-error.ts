/** Why a source could not start at a path. Every kind of source throws this (or a subclass), so a
 * protocol maps any source's failure to its answer in one place (RTSP: `rtspErrorFromPath` in
 * rtsp/server/errors.ts), and a new kind of source needs no protocol edit. */
export class SourceError extends Error {
  override readonly name: string = 'SourceError';
  constructor(
    message: string,
    /** The status the viewer who asked gets; RTSP and HTTP share these numbers (404: nothing is
     * being sent there, 415: the source's description cannot be used, 500: it cannot listen,
     * 502/504: a relay's far end failed or did not answer in time). */
    readonly status: number,
    /** Unix ms when it is worth trying again (a playlist scheduled to start then, a relay's next
     * attempt after its back-off); an always-on source is started again at that moment rather
     * than after the usual back-off. */
    readonly retryAt?: number,
    more: {
      /** What `retryAt` is: the source's schedule (default; the operator sees it waiting for
       * its start time) or its own back-off after a failure (it is retrying). */
      retry?: 'schedule' | 'backoff';
      /** The reason phrase to answer with instead of the status's usual one, where it says
       * more (`Loop Detected`: a relay chain that leads back to this server, which another
       * server in the chain reads to tell a loop from any other refusal). */
      phrase?: string;
    } = {},
  ) {
    super(message);
    this.retry = more.retry ?? 'schedule';
    this.phrase = more.phrase;
  }

  readonly retry: 'schedule' | 'backoff';
  readonly phrase: string | undefined;
}
