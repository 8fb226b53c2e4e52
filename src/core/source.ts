import type { SourceSpec } from '../config/index.js';

/** What feeds a Stream. A source writes RTP packets (and its RTCP) into the stream's tracks with
 * `StreamTrack.ingest` / `onSourceRtcp`; the stream knows it by this interface only, so an RTSP
 * RECORD session, an SDP-described UDP feed and, later, a playlist or a relay pull all attach the
 * same way (`StreamRegistry.publish`). */
export interface Source {
  /** What kind of source this is, for logs, metrics and the admin: `rtsp-record`, `sdp-file`,
   * later `playlist`, `relay-pull`. */
  readonly kind: string;
  /** Who or what, for logs and status pages, e.g. `rtsp 127.0.0.1` or `sdp file cam.sdp`. */
  readonly label: string;
  /** The relay servers the stream came through before this one, first first (an RTSP publisher's
   * ANNOUNCE `Via`: another server pushing it here). This server's pushes of the stream name them
   * before itself, so that a chain of pushes leading back to any of them is refused there. Absent
   * or empty: it came through no relay this server knows of. */
  readonly hops?: readonly string[];
  /** Stop feeding the stream (takeover, timeout, the stream ended, shutdown). Idempotent. */
  close(reason: string): void;
  /** Takes on a changed configuration without ending the stream (a playlist whose list, mode or
   * schedule changed on SIGHUP plays the new list from its next item). Returns false when the
   * change needs a new source: the PathManager then ends this one and starts another. Absent:
   * always false. */
  reload?(spec: SourceSpec): boolean;
  /** What it is doing now, for status commands and the admin (a playlist: its current and
   * upcoming items), as plain JSON. */
  status?(): Record<string, unknown>;
  /** The stream's readers changed to `count`: a source that works ahead of its viewers (a
   * playlist channel) may do less while nobody watches. */
  readersChanged?(count: number): void;
  /** Why it ended for good, set before it ends its stream: a playlist stopped by its
   * `.stoplist` (`stopped by <file>`), a sequential one that played through, one past its
   * scheduled end. Starting it again would replay it or end at once, so the PathManager holds
   * the path until the operator starts it or the config changes. Undefined: it may be started
   * again (or it has not ended). */
  readonly finished?: string;
}
