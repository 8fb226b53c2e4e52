/** One viewer's subscription to one live track. The frames are shared; a reader only decides
 * whether to send (it waits for a keyframe, and skips to the next one when its TCP queue is over
 * the limit) and counts what it sent for its sender reports. */
import { interleavedForm, type FrameWriter } from '../transport/interleaved.js';
import type { FdBatch, FdOwner } from '../transport/native-fanout.js';
import type { RtpSink } from '../transport/types.js';
import type { Frame, FrameForm } from '../core/frame.js';
import type { TrackReader } from '../core/reader.js';
import type { StreamTrack } from '../core/stream-track.js';

export interface RtpTrackReaderOptions {
  track: StreamTrack;
  sink: RtpSink;
  /** For TCP viewers: the connection and the RTP channel, so a frame goes out in one write. */
  tcp?: { writer: FrameWriter; channel: number };
  /** Bytes a TCP viewer may have queued before it skips to the next keyframe. */
  queueLimit: number;
}

export class RtpTrackReader implements TrackReader, FdOwner {
  readonly track: StreamTrack;
  readonly sink: RtpSink;
  readonly #tcp: { writer: FrameWriter; form: FrameForm } | undefined;
  readonly #limit: number;
  /** UDP socket fd for the native fan-out, or -1. */
  readonly #fd: number;
  /** Waiting for a frame to start on (first frame, or after falling behind). */
  #waitingKey = true;
  /** What this viewer was really sent (its sender reports carry these). */
  packets = 0;
  octets = 0;
  /** Frames skipped because the viewer could not keep up. */
  dropped = 0;

  constructor(opts: RtpTrackReaderOptions) {
    this.track = opts.track;
    this.sink = opts.sink;
    // One builder per channel, shared by every reader, so each frame is framed once per channel.
    this.#tcp = opts.tcp && { writer: opts.tcp.writer, form: interleavedForm(opts.tcp.channel) };
    this.#limit = opts.queueLimit;
    this.#fd = opts.tcp ? -1 : (opts.sink.nativeFd ?? -1);
  }

  /** Sends the frames a newcomer starts with, then follows the live stream. */
  start(frames: Frame[]): void {
    for (const f of frames) this.deliver(f);
    this.track.readers.add(this);
  }

  stop(): void {
    this.track.readers.delete(this);
  }

  /** The publisher changed: start again on its first keyframe. */
  resync(): void {
    this.#waitingKey = true;
  }

  /** Sends a frame; UDP viewers with a native fd are only added to `batch`, which the track
   * sends for all of them at once. */
  deliver(f: Frame, batch?: FdBatch): void {
    if (this.#waitingKey) {
      if (!f.key) return;
      this.#waitingKey = false;
    }
    const tcp = this.#tcp;
    if (tcp) {
      const w = tcp.writer;
      if (w.closed) return;
      if (w.writableLength > this.#limit) {
        // Too far behind: drop this frame and everything up to the next keyframe, so the viewer
        // resumes on a clean picture instead of growing memory or slowing others.
        this.#waitingKey = this.track.isVideo;
        this.dropped++;
        return;
      }
      w.writeRaw(f.form(tcp.form));
    } else if (batch && this.#fd >= 0) {
      batch.add(this.#fd, this);
    } else {
      for (const p of f.packets) this.sink.sendRtp(p);
    }
    this.packets += f.packets.length;
    this.octets += f.bytes - 12 * f.packets.length;
  }

  /** The native fan-out could not send part of the last frame to this viewer: its sender reports
   * must not claim it. */
  unsent(packets: number, octets: number): void {
    this.packets -= packets;
    this.octets -= octets;
  }
}
