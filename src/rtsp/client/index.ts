/** The RTSP client: one connection (`RtspClientConnection`), and the sessions relays use on top
 * of it (`pullSession`: DESCRIBE/SETUP/PLAY; `pushSession`: ANNOUNCE/SETUP/RECORD). It shares the
 * wire codec and headers with the server (`rtsp/message`, `rtsp/headers`) and its Basic/Digest
 * with `auth/`. */
export { ClientAuth, type ClientCredentials } from './auth.js';
export {
  RtspClientConnection,
  type FrameHandler,
  type RequestOptions,
  type RtspClientConnectionEvents,
  type RtspClientConnectionOptions,
  type RtspClientResponse,
  type WriteResult,
} from './connection.js';
export { CLIENT_DEFAULTS } from './defaults.js';
export { RtspClientError, RtspRedirectError, type RtspClientErrorCode } from './errors.js';
export { expectOk, openFollowingRedirects, type ClientOptions, type Opened } from './open.js';
export {
  pullSession,
  PullSession,
  type PullCounts,
  type PullOptions,
  type PullSessionEvents,
  type PullTrack,
} from './pull-session.js';
export {
  pushSession,
  PushSession,
  type PushCounts,
  type PushOptions,
  type PushSessionEvents,
  type PushTrack,
} from './push-session.js';
export { ClientSession, type ClientSessionEvents } from './client-session.js';
export type { SessionEndReason } from './session-control.js';
export type { ClientTrack, ClientTransport, SessionOptions } from './setup.js';
export { contentBase, parseRtspUrl, redactUrl, resolveControl, stripUserInfo, type RtspUrl } from './url.js';
