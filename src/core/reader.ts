/** What takes from a Stream. A reader of the whole stream (an RTSP play session today; an HLS
 * muxer, an ICY listener or a recorder later) registers in `Stream.readers`; per track it follows
 * the track through a `TrackReader` in `StreamTrack.readers`. Limits, logs and the admin see
 * readers through this interface only, whatever protocol they speak. */
import type { Frame } from './frame.js';
import type { FdBatch } from '../transport/native-fanout.js';

/** What a reader has taken so far. */
export interface ReaderStats {
  /** Date.now() when it started reading. */
  since: number;
  /** Media bytes and packets it was sent (RTP payload octets for RTP readers). */
  bytes: number;
  packets: number;
}

export interface Reader {
  /** The protocol it speaks: `rtsp`, later `hls`, `icy`. */
  readonly protocol: string;
  /** Who, for logs and status pages, e.g. `rtsp 127.0.0.1 session 42`. */
  readonly label: string;
  /** The source changed: wait for its first keyframe. */
  resync(): void;
  /** The stream is over (or the reader is refused): stop and let the client know. */
  close(reason: string): void;
  stats(): ReaderStats;
}

/** One reader's subscription to one track: the track hands it every frame it builds. */
export interface TrackReader {
  /** A frame; readers sending through the native UDP fan-out only add themselves to `batch`,
   * which the track then sends for all of them at once. */
  deliver(frame: Frame, batch?: FdBatch): void;
  /** The source changed: wait for its first keyframe. */
  resync?(): void;
}
