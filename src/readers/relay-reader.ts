/** A live stream sent on whole to one relay destination (a push to another server, a UDP
 * forward): one RTP sink per stream track, in track order. It is a reader of the stream like any
 * viewer (the stream waits its grace time for it, resyncs it, ends it), starts each track on a
 * keyframe from the GOP cache, and sends sender reports made from the tracks' clocks, so the far
 * end can line audio up with video as it would for a viewer. Protocol-neutral: what a sink
 * speaks is its own business. */
import { RtpOutput } from '../rtp/output.js';
import type { RtpSink } from '../transport/types.js';
import type { Reader, ReaderStats } from '../core/reader.js';
import type { Stream } from '../core/stream.js';
import { RtpTrackReader } from './rtp-track-reader.js';

export interface RelayReaderOptions {
  stream: Stream;
  /** Where each of `stream.tracks` goes, in the same order; closed with the reader. */
  sinks: RtpSink[];
  /** `relay-push`, `relay-forward`: what readers' events and status pages show. */
  protocol: string;
  /** Who, e.g. `push rtsp://edge/live/cam`. */
  label: string;
  /** SDES CNAME of the sender reports. */
  cname: string;
  /** Bytes a sink may hold unsent before its track skips to the next keyframe. */
  queueLimit: number;
  /** The stream ended under the reader (not called after `leave`). */
  onClosed: (reason: string) => void;
}

export class RelayReader implements Reader {
  readonly protocol: string;
  readonly label: string;
  readonly stream: Stream;
  /** One per stream track, in track order. */
  readonly outputs: RtpOutput[];
  readonly #tracks: RtpTrackReader[];
  readonly #sinks: RtpSink[];
  readonly #onClosed: (reason: string) => void;
  readonly #since = Date.now();
  #done = false;

  constructor(opts: RelayReaderOptions) {
    if (opts.sinks.length !== opts.stream.tracks.length) {
      throw new RangeError(`${opts.sinks.length} sinks for the ${opts.stream.tracks.length} tracks of ${opts.stream.path}`);
    }
    this.protocol = opts.protocol;
    this.label = opts.label;
    this.stream = opts.stream;
    this.#sinks = opts.sinks;
    this.#onClosed = opts.onClosed;
    // The track's SSRC: its packets are shared with every viewer and already carry it.
    this.outputs = opts.stream.tracks.map(
      (track, i) => new RtpOutput({ sink: opts.sinks[i], payloadType: track.format.payloadType, clock: track, cname: opts.cname, ssrc: track.ssrc }),
    );
    this.#tracks = opts.stream.tracks.map((track, i) => new RtpTrackReader({ track, output: this.outputs[i], queueLimit: opts.queueLimit }));
  }

  /** Joins the stream: video starts from the last keyframe held (or waits for the next), audio
   * from the same instant; a first sender report goes out at once. */
  start(): void {
    if (this.#done) return;
    this.stream.addReader(this);
    const since = this.stream.tracks.map((t) => t.keyframeArrival).find((a) => a !== undefined);
    for (const r of this.#tracks) r.start(r.track.startFrames(since));
    this.sendReports();
  }

  /** SR + SDES on every track. */
  sendReports(): void {
    if (this.#done) return;
    for (const o of this.outputs) o.sendReport();
  }

  /** RTCP the far end sent about track `index` (its receiver reports). */
  onRtcp(index: number, packet: Buffer): void {
    this.outputs[index]?.onRtcp(packet);
  }

  /** Frames skipped on every track because a sink was too far behind. */
  get dropped(): number {
    return this.#tracks.reduce((n, r) => n + r.dropped, 0);
  }

  /** Packets the far end's receiver reports say it lost, over every track. */
  get packetsLost(): number {
    return this.outputs.reduce((n, o) => n + Math.max(0, o.reception.cumulativeLost), 0);
  }

  get closed(): boolean {
    return this.#done;
  }

  resync(): void {
    for (const r of this.#tracks) r.resync();
  }

  /** The stream is over: a last report and BYE, the sinks closed, the owner told. */
  close(reason: string): void {
    if (this.#finish(reason)) this.#onClosed(reason);
  }

  /** The destination leaves a stream that goes on (dropped, removed, shutting down). */
  leave(reason: string): void {
    if (this.#finish(reason)) this.stream.removeReader(this, reason);
  }

  stats(): ReaderStats {
    return {
      since: this.#since,
      bytes: this.outputs.reduce((n, o) => n + o.octets, 0),
      packets: this.outputs.reduce((n, o) => n + o.packets, 0),
    };
  }

  /** False when it had finished already. */
  #finish(reason: string): boolean {
    if (this.#done) return false;
    this.#done = true;
    for (const r of this.#tracks) r.stop();
    // RTCP carries at most 255 bytes of reason.
    const bye = Buffer.byteLength(reason) <= 255 ? reason : undefined;
    for (const o of this.outputs) o.sendBye(bye);
    for (const s of this.#sinks) s.close();
    return true;
  }
}
