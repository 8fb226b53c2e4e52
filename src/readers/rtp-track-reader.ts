/** One viewer's (or relay destination's) subscription to one live track. The frames are shared;
 * a reader only decides whether to send (it waits for a keyframe, and skips to the next one when
 * what it has queued is over the limit: a TCP viewer's connection, or any other sink's own
 * `backlog`, e.g. a push session's connection or a forward's socket; a UDP viewer of a video
 * track may be thinned under loss, `thinning.ts`) and counts what it sent into the RTP output,
 * which outlives it (PAUSE ends a reader, not the output) and sends the sender reports. */
import { RtpOutput, type ReceptionStats } from '../rtp/output.js';
import { Thinner, type ThinningLog, type ThinningSettings, type ThinningStats } from './thinning.js';
import { interleavedForm, type FrameWriter } from '../transport/interleaved.js';
import type { FdBatch } from '../transport/native-fanout.js';
import type { RtpSink } from '../transport/types.js';
import type { Frame, FrameForm } from '../core/frame.js';
import type { TrackReader } from '../core/reader.js';
import type { StreamTrack } from '../core/stream-track.js';

export interface RtpTrackReaderOptions {
  track: StreamTrack;
  /** The viewer's output for this track (its sink, its counts); it carries the track's SSRC. */
  output: RtpOutput;
  /** For TCP viewers: the connection and the RTP channel, so a frame goes out in one write. */
  tcp?: { writer: FrameWriter; channel: number };
  /** Bytes a TCP viewer's connection (or, without `tcp`, the sink: `RtpSink.backlog`) may hold
   * unsent before the reader skips to the next keyframe. */
  queueLimit: number;
  /** Thinning under loss (`retransmit.thinning`), given for a unicast viewer (never for a place in
   * a multicast group: one send serves all its viewers); taken only on a video track over UDP
   * (TCP loses nothing). Level changes are logged with `label` (session, track), and a summary
   * at `stop`. */
  thinning?: { settings: ThinningSettings; log: ThinningLog; label: object };
}

/** A live viewer's output for one track, made at SETUP: the track's SSRC (every viewer gets the
 * packets the track rewrote once onto its timeline) and the track's clock for sender reports. */
export function liveOutput(track: StreamTrack, sink: RtpSink, cname: string): RtpOutput {
  return new RtpOutput({
    sink,
    payloadType: track.format.payloadType,
    clock: track,
    cname,
    ssrc: track.ssrc,
  });
}

export class RtpTrackReader implements TrackReader {
  readonly track: StreamTrack;
  readonly output: RtpOutput;
  readonly #sink: RtpSink;
  readonly #tcp: { writer: FrameWriter; form: FrameForm } | undefined;
  readonly #limit: number;
  /** UDP socket fd for the native fan-out, or -1. */
  readonly #fd: number;
  /** Waiting for a frame to start on (first frame, or after falling behind). */
  #waitingKey = true;
  /** Frames skipped because the viewer could not keep up. */
  dropped = 0;
  readonly #thinner: Thinner | undefined;

  constructor(opts: RtpTrackReaderOptions) {
    this.track = opts.track;
    this.output = opts.output;
    this.#sink = opts.output.sink;
    // One builder per channel, shared by every reader, so each frame is framed once per channel.
    this.#tcp = opts.tcp && { writer: opts.tcp.writer, form: interleavedForm(opts.tcp.channel) };
    this.#limit = opts.queueLimit;
    this.#fd = opts.tcp ? -1 : (this.#sink.nativeFd ?? -1);
    const th = opts.thinning;
    if (th?.settings.enabled && !opts.tcp && this.#sink.kind === 'udp' && this.track.isVideo) {
      this.#thinner = new Thinner({ settings: th.settings, encodingName: this.track.format.encodingName, log: th.log, label: th.label });
    }
  }

  /** The viewer's receiver reports reach thinning while this reader plays. */
  readonly #onReception = (r: Readonly<ReceptionStats>): void => this.#thinner?.reception(r);

  /** What thinning did to this viewer track; undefined when it is not thinned (TCP, audio,
   * multicast, off). */
  get thinning(): Readonly<ThinningStats> | undefined {
    return this.#thinner?.stats;
  }

  /** Sends the frames a newcomer starts with, then follows the live stream. */
  start(frames: Frame[]): void {
    if (this.#thinner) this.output.onReception = this.#onReception;
    for (const f of frames) this.deliver(f);
    this.track.readers.add(this);
  }

  stop(): void {
    if (this.output.onReception === this.#onReception) this.output.onReception = undefined;
    if (this.track.readers.delete(this)) this.#thinner?.logSummary();
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
      if (w.writableLength > this.#limit) return this.#behind();
      w.writeRaw(f.form(tcp.form));
    } else {
      // A viewer's UDP sink holds nothing (0); a push session's connection or a forward's socket
      // may fall behind like a TCP viewer.
      if (this.#sink.backlog > this.#limit) return this.#behind();
      if (this.#thinner) return this.#thinned(f, this.#thinner, batch);
      if (batch && this.#fd >= 0) {
        // The output hears of packets the native send could not deliver (`unsent`).
        batch.add(this.#fd, this.output);
      } else {
        for (const p of f.packets) this.#sink.sendRtp(p);
      }
    }
    this.output.sent(f.packets.length, f.bytes - 12 * f.packets.length, f.packets);
  }

  /** A thinned viewer: the frame as its level says (dropped, the shared packets, or renumbered
   * copies, which only this viewer's sink sends). */
  #thinned(f: Frame, th: Thinner, batch: FdBatch | undefined): void {
    const packets = th.pass(f);
    if (!packets) return;
    if (packets === f.packets && batch && this.#fd >= 0) batch.add(this.#fd, this.output);
    else for (const p of packets) this.#sink.sendRtp(p);
    this.output.sent(packets.length, f.bytes - 12 * packets.length, packets);
  }

  /** Too far behind: this frame and everything up to the next keyframe are dropped, so the far
   * end resumes on a clean picture instead of memory growing or others slowing (audio can go on
   * with the next frame). */
  #behind(): void {
    this.#waitingKey = this.track.isVideo;
    this.dropped++;
  }
}
