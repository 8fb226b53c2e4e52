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
  /** The source went away and the stream waits its grace time for it to return (then `resync`)
   * or ends (then `close`): a reader that can play something meanwhile (an ICY listener's
   * fallback) starts it here. */
  sourceLost?(): void;
  /** The stream is over (or the reader is refused): stop and let the client know. */
  close(reason: string): void;
  stats(): ReaderStats;
}

/** A reader as admission control (limits.maxConnections, limits.maxBandwidthKbps), logs and
 * status pages count it, whatever protocol it speaks. */
export interface CountedReader extends Reader {
  /** The path it reads: a stream's key or a file's path below the media folder. */
  readonly path: string;
  /** Sending now (a closed reader is not). */
  readonly playing: boolean;
  readonly closed: boolean;
  /** Whether a client connection that admission counts still carries it: one that outlives its
   * connection (an RTSP viewer over UDP) counts as a client of its own while it plays. */
  readonly carried: boolean;
  /** kbit/s it sends while playing: the file's or the stream's bitrate (0 when unknown). */
  kbps(): number;
}

/** One reader's subscription to one track: the track hands it every frame it builds. */
export interface TrackReader {
  /** A frame; readers sending through the native UDP fan-out only add themselves to `batch`,
   * which the track then sends for all of them at once. */
  deliver(frame: Frame, batch?: FdBatch): void;
  /** The source changed: wait for its first keyframe. */
  resync?(): void;
}
