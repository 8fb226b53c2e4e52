/** One relay destination's subscription to one live track (a push to another server, a UDP
 * forward). Like a viewer's `RtpTrackReader` it starts on a keyframe and counts what it sent into
 * its RTP output, which sends the sender reports; unlike it, every packet goes through the
 * output's sink (a push session's connection or UDP pair, forwarding sockets), and the sink's
 * own backlog says when it has fallen behind: past the limit the reader drops frames up to the
 * next keyframe, counted, so a slow far end never grows memory or slows the stream's viewers. */
import type { RtpOutput } from '../rtp/output.js';
import type { Frame } from '../core/frame.js';
import type { TrackReader } from '../core/reader.js';
import type { StreamTrack } from '../core/stream-track.js';

export interface SinkTrackReaderOptions {
  track: StreamTrack;
  /** The destination's output for this track: the track's SSRC, its counts, its sink. */
  output: RtpOutput;
  /** Bytes the sink may hold unsent (`RtpSink.backlog`) before frames are skipped. */
  queueLimit: number;
}

export class SinkTrackReader implements TrackReader {
  readonly track: StreamTrack;
  readonly output: RtpOutput;
  readonly #limit: number;
  /** Waiting for a frame to start on (first frame, after a resync, or after falling behind). */
  #waitingKey = true;
  /** Frames skipped because the sink's backlog was over the limit. */
  dropped = 0;

  constructor(opts: SinkTrackReaderOptions) {
    this.track = opts.track;
    this.output = opts.output;
    this.#limit = opts.queueLimit;
  }

  /** Sends the frames a newcomer starts with, then follows the live track. */
  start(frames: Frame[]): void {
    for (const f of frames) this.deliver(f);
    this.track.readers.add(this);
  }

  stop(): void {
    this.track.readers.delete(this);
  }

  /** The source changed: start again on its first keyframe. */
  resync(): void {
    this.#waitingKey = true;
  }

  deliver(f: Frame): void {
    if (this.#waitingKey) {
      if (!f.key) return;
      this.#waitingKey = false;
    }
    const sink = this.output.sink;
    if (sink.backlog > this.#limit) {
      // A video decoder cannot use the frames after a gap until the next keyframe; audio can.
      this.#waitingKey = this.track.isVideo;
      this.dropped++;
      return;
    }
    for (const p of f.packets) sink.sendRtp(p);
    this.output.sent(f.packets.length, f.bytes - 12 * f.packets.length);
  }
}
