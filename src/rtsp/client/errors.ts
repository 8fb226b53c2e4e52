/** The client's one error type: what failed (`code`, for a relay to decide whether to retry and
 * how to report it) and a message naming the URL, never its password. */

export type RtspClientErrorCode =
  /** A bad URL or option handed to the client. */
  | 'url'
  /** The TCP or TLS connection could not be made. */
  | 'connect'
  /** No (complete) answer in time, or no media for too long. */
  | 'timeout'
  /** The connection closed (by the far end, or by us while a request waited). */
  | 'closed'
  /** The far end sent something that is not RTSP as expected. */
  | 'protocol'
  /** Credentials missing or refused. */
  | 'auth'
  /** A request was answered with a non-2xx status. */
  | 'status'
  /** A redirect: too many of them, to an unusable URL, or one where none can be followed. */
  | 'redirect'
  /** The description could not be used. */
  | 'sdp'
  /** The transport could not be set up (refused, or answered with something else). */
  | 'transport'
  /** A bound was reached (too many requests waiting). */
  | 'limit';

export class RtspClientError extends Error {
  override readonly name = 'RtspClientError';
  constructor(
    readonly code: RtspClientErrorCode,
    message: string,
    /** The status of the answer that caused it, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A 3xx answer with a Location (or a server's REDIRECT request): followed while a session is
 * being opened, an error after that. */
export class RtspRedirectError extends RtspClientError {
  constructor(
    message: string,
    /** The Location, as the server sent it. */
    readonly location: string,
    status?: number,
  ) {
    super('redirect', message, status);
  }
}
