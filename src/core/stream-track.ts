/** One track of a live stream: takes RTP packets from whatever publishes (RTSP RECORD over UDP or
 * TCP, an SDP-described UDP feed, later relays and playlists), rewrites their header once onto
 * the stream's own continuous timeline, groups them into frames, keeps the frames since the last
 * keyframe for new viewers, and hands every frame to every reader. Nothing here is per reader
 * except the final send. */
import type { Logger } from '../logging/index.js';
import { ntpToMs, parseRtcpCompound } from '../rtcp/index.js';
import { randomUint16, randomUint32 } from '../rtp/seq.js';
import type { Format } from '../stream/types.js';
import { FdBatch, nativeFanout } from '../transport/native-fanout.js';
import { Frame } from './frame.js';
import { keyframeDetector, type KeyframeDetector } from './keyframe.js';
import type { TrackReader } from './reader.js';

export { Frame, type FrameForm } from './frame.js';

export interface StreamTrackOptions {
  id: number;
  format: Format;
  /** Extra SDP detail kept for viewers (bitrate, frame size). */
  bitrateKbps?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  /** Bytes a frame may gather before it is cut (live.maxFrameBytes; default 8 MiB). It is also
   * cut at a 256th of that in packets, so tiny packets cannot pin memory in Buffer overheads. */
  maxFrameBytes?: number;
  /** Where cut frames and refused senders are reported (default: nowhere). */
  log?: Logger;
}

/** live.maxFrameBytes when the creator does not say (tests, tools). */
const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** At most one "packets from a stranger" line per this many ms per track. */
const STRANGER_LOG_MS = 10_000;

/** Frames kept for audio-only catch-up and cap on the keyframe cache (bounded memory even for a
 * stream that never sends a keyframe). */
const MAX_GOP_FRAMES = 600;
const MAX_GOP_BYTES = 16 * 1024 * 1024;
const AUDIO_CACHE_MS = 3000;
/** Pending `whenKeyframe` calls per track (each is a PLAY in progress, already bounded by the
 * session limits; this only keeps a pathological caller from growing the set without end). */
const MAX_KEYFRAME_WAITERS = 16384;

export class StreamTrack {
  readonly id: number;
  readonly control: string;
  readonly format: Format;
  readonly options: StreamTrackOptions;
  readonly ssrc = randomUint32();
  readonly readers = new Set<TrackReader>();
  readonly #detector: KeyframeDetector | undefined;
  readonly #batch = nativeFanout ? new FdBatch() : undefined;
  /** Datagrams the native fan-out could not send (viewer gone, buffer full). */
  udpSendFailures = 0;
  /** Times a frame over maxFrameBytes (or its packet cap) was cut. */
  framesCut = 0;
  /** Packets (RTP and RTCP) refused because they came from an address other than the source's. */
  strangerPackets = 0;
  readonly #maxFrameBytes: number;
  readonly #maxFramePackets: number;
  readonly #log: Logger | undefined;
  /** Timestamp of the frame being cut, while its burst lasts (one log line per burst). */
  #cutTs: number | undefined;
  #strangerLoggedAt = 0;
  #strangerUnlogged = 0;
  readonly #video: boolean;
  #cur: Frame | undefined;
  #cache: Frame[] = [];
  #cacheBytes = 0;
  /** Pending `whenKeyframe` calls, each settled (timer cleared) exactly once. */
  readonly #keyWaiters = new Set<(got: boolean) => void>();
  // Timeline rewriting: output = input + offset, re-based whenever the source changes.
  #inSsrc: number | undefined;
  #seqOffset = 0;
  #tsOffset = 0;
  #needRebase = true;
  #lastOutSeq = randomUint16();
  #lastOutTs = randomUint32();
  #lastArrival = 0;
  #started = false;
  // Wall-clock mapping from the source's sender reports (source NTP ms ↔ output RTP ts).
  #srNtpMs: number | undefined;
  #srRtp = 0;
  #srAt = 0;
  packetsIn = 0;
  bytesIn = 0;
  /** Date.now() of the last packet from the source (publisher timeout). */
  lastPacketAt = 0;
  /** Date.now() of the first packet ever received (for the measured bitrate). */
  firstPacketAt = 0;

  constructor(opts: StreamTrackOptions) {
    this.options = opts;
    this.id = opts.id;
    this.control = `trackID=${opts.id}`;
    this.format = opts.format;
    this.#video = opts.format.media === 'video';
    this.#detector = keyframeDetector(opts.format.encodingName, opts.format.media);
    this.#maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxFramePackets = Math.max(16, Math.ceil(this.#maxFrameBytes / 256));
    this.#log = opts.log;
  }

  get isVideo(): boolean {
    return this.#video;
  }

  /** Bitrate in kbit/s: announced (SDP b=AS), else measured over everything received so far
   * (undefined before a second of packets). */
  get bitrateKbps(): number | undefined {
    if (this.options.bitrateKbps) return this.options.bitrateKbps;
    const ms = this.lastPacketAt - this.firstPacketAt;
    return ms >= 1000 ? (this.bytesIn * 8) / ms : undefined;
  }

  /** The next packets come from a new source (publisher back, takeover): continue the output
   * timeline from where it stopped instead of jumping. */
  rebase(): void {
    this.#needRebase = true;
    this.#srNtpMs = undefined;
    this.#flush();
    this.#cache = [];
    this.#cacheBytes = 0;
  }

  /** One RTP packet from the source. Ignored when it is not RTP version 2. */
  ingest(buf: Buffer): void {
    if (buf.length < 12 || buf[0] >> 6 !== 2) return;
    const now = performance.now();
    this.lastPacketAt = Date.now();
    if (this.packetsIn === 0) this.firstPacketAt = this.lastPacketAt;
    this.packetsIn++;
    this.bytesIn += buf.length;
    const inSsrc = buf.readUInt32BE(8);
    const inSeq = buf.readUInt16BE(2);
    const inTs = buf.readUInt32BE(4);
    if (!this.#needRebase && inSsrc !== this.#inSsrc && this.#started) {
      // The source restarted on its own (encoder restart): frames of the old source must not be
      // followed by non-key frames of the new one.
      this.#flush();
      this.#cache = [];
      this.#cacheBytes = 0;
      for (const r of this.readers) r.resync?.();
    }
    if (this.#needRebase || inSsrc !== this.#inSsrc) {
      const outSeq = (this.#lastOutSeq + 1) & 0xffff;
      const outTs = this.#started
        ? (this.#lastOutTs + Math.max(1, Math.round(((now - this.#lastArrival) / 1000) * this.format.clockRate))) >>> 0
        : this.#lastOutTs;
      this.#seqOffset = (outSeq - inSeq) & 0xffff;
      this.#tsOffset = (outTs - inTs) >>> 0;
      this.#inSsrc = inSsrc;
      this.#needRebase = false;
      this.#started = true;
    }
    const seq = (inSeq + this.#seqOffset) & 0xffff;
    const ts = (inTs + this.#tsOffset) >>> 0;
    const out = Buffer.allocUnsafe(buf.length);
    buf.copy(out);
    out.writeUInt16BE(seq, 2);
    out.writeUInt32BE(ts, 4);
    out.writeUInt32BE(this.ssrc, 8);
    this.#lastOutSeq = seq;
    this.#lastOutTs = ts;
    this.#lastArrival = now;
    const marker = (buf[1] & 0x80) !== 0;
    let f = this.#cur;
    if (f && f.ts !== ts) {
      this.#flush();
      f = undefined;
    }
    if (!f) {
      if (this.#cutTs !== undefined && this.#cutTs !== ts) this.#cutTs = undefined;
      f = this.#cur = new Frame(ts, seq, this.#detector === undefined, now);
    }
    // Any packet of the frame may carry the keyframe: encoders often lead with an access unit
    // delimiter or SEI before the parameter sets and the IDR slice.
    if (!f.key && this.#detector) {
      const cc = buf[0] & 0x0f;
      let off = 12 + 4 * cc;
      if (buf[0] & 0x10 && buf.length >= off + 4) off += 4 + 4 * buf.readUInt16BE(off + 2);
      f.key = off < buf.length && this.#detector(buf.subarray(off));
    }
    f.add(out);
    if (marker || !this.#video) this.#flush();
    else if (f.bytes >= this.#maxFrameBytes || f.packets.length >= this.#maxFramePackets) this.#cut(f);
  }

  /** A frame that never ends (no marker, same timestamp) would hold memory without bound. What
   * it gathered goes out now as a frame of its own and later packets of the same timestamp form
   * the next ones: viewers lose nothing (their decoder only sees RTP packets in order), the
   * keyframe cache stays capped, and a new timestamp starts a clean frame as always. */
  #cut(f: Frame): void {
    this.framesCut++;
    if (this.#cutTs !== f.ts) {
      this.#cutTs = f.ts;
      this.#log?.warn(
        { track: this.id, bytes: f.bytes, packets: f.packets.length, maxFrameBytes: this.#maxFrameBytes, framesCut: this.framesCut },
        'live frame without an end marker grew past live.maxFrameBytes; sending it on in pieces',
      );
    }
    this.#flush();
  }

  /** A packet for this track from an address that is not its source's: dropped, counted, and
   * reported at most once per STRANGER_LOG_MS with how many came since the last report. */
  refuseStranger(address: string, rtcp: boolean): void {
    this.strangerPackets++;
    this.#strangerUnlogged++;
    const now = Date.now();
    if (now - this.#strangerLoggedAt < STRANGER_LOG_MS) return;
    this.#log?.warn(
      { track: this.id, from: address, kind: rtcp ? 'rtcp' : 'rtp', packets: this.#strangerUnlogged, total: this.strangerPackets },
      'dropped packets sent to a publisher port from an address other than the publisher',
    );
    this.#strangerLoggedAt = now;
    this.#strangerUnlogged = 0;
  }

  #flush(): void {
    const f = this.#cur;
    if (!f) return;
    this.#cur = undefined;
    this.#remember(f);
    const batch = this.#batch;
    for (const r of this.readers) r.deliver(f, batch);
    if (batch) this.udpSendFailures += batch.flush(f.packets);
  }

  #remember(f: Frame): void {
    if (this.#video) {
      if (f.key) {
        this.#cache = [];
        this.#cacheBytes = 0;
      } else if (this.#cache.length === 0) return; // nothing to start from yet
      if (this.#cache.length >= MAX_GOP_FRAMES || this.#cacheBytes + f.bytes > MAX_GOP_BYTES) {
        this.#cache = [];
        this.#cacheBytes = 0;
        return;
      }
    } else {
      const horizon = f.arrival - AUDIO_CACHE_MS;
      let drop = 0;
      while (drop < this.#cache.length && this.#cache[drop].arrival < horizon) drop++;
      if (drop) this.#cache = this.#cache.slice(drop);
    }
    this.#cache.push(f);
    this.#cacheBytes += f.bytes;
    // A video cache is never empty without starting on a keyframe.
    if (this.#video && this.#keyWaiters.size > 0) this.#settleWaiters(true);
  }

  /** Resolves true once a new video reader has a keyframe to start on (at once if it has, and
   * for audio, which needs none); false after `ms`, when `signal` aborts, when the track's
   * source goes away (`endKeyframeWaits`), or at once when too many calls are pending. Leaves
   * no timer or listener behind once settled. */
  whenKeyframe(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.#video || this.#cache.length > 0) return Promise.resolve(true);
    if (!(ms > 0) || signal?.aborted === true || this.#keyWaiters.size >= MAX_KEYFRAME_WAITERS) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const settle = (got: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#keyWaiters.delete(settle);
        resolve(got);
      };
      const onAbort = (): void => settle(false);
      const timer = setTimeout(settle, ms, false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#keyWaiters.add(settle);
    });
  }

  /** The source went away (publisher left, stream ended): pending `whenKeyframe` calls resolve
   * false now instead of waiting out their time. */
  endKeyframeWaits(): void {
    this.#settleWaiters(false);
  }

  #settleWaiters(got: boolean): void {
    for (const settle of [...this.#keyWaiters]) settle(got);
  }

  /** Frames a new reader starts with: video from the last keyframe; audio from `since`. */
  startFrames(since?: number): Frame[] {
    if (this.#video) return this.#cache.slice();
    if (since === undefined) return [];
    return this.#cache.filter((f) => f.arrival >= since);
  }

  /** Arrival time of the keyframe a new video reader would start on. */
  get keyframeArrival(): number | undefined {
    return this.#video && this.#cache.length ? this.#cache[0].arrival : undefined;
  }

  /** Sequence number and RTP time of the next packet this track will produce. */
  nextPosition(): { seq: number; rtptime: number } {
    return { seq: (this.#lastOutSeq + 1) & 0xffff, rtptime: this.rtpTimeAt(performance.now()) };
  }

  /** Output RTP time corresponding to a local instant (performance.now() ms). */
  rtpTimeAt(nowPerf: number): number {
    if (this.#srNtpMs !== undefined) {
      return (this.#srRtp + Math.round(((nowPerf - this.#srAt) / 1000) * this.format.clockRate)) >>> 0;
    }
    if (!this.#started) return this.#lastOutTs;
    return (this.#lastOutTs + Math.round(((nowPerf - this.#lastArrival) / 1000) * this.format.clockRate)) >>> 0;
  }

  /** Wall clock (NTP, as ms) for a local instant: the source's clock when it sends SRs, so
   * tracks stay in sync the way the encoder had them; else ours. */
  ntpMsAt(nowPerf: number): number {
    if (this.#srNtpMs !== undefined) return this.#srNtpMs + (nowPerf - this.#srAt);
    return performance.timeOrigin + nowPerf;
  }

  /** RTCP from the source: its sender reports give the wall-clock mapping. */
  onSourceRtcp(buf: Buffer): void {
    this.lastPacketAt = Date.now();
    if (this.#needRebase) return;
    for (const p of parseRtcpCompound(buf)) {
      if (p.type !== 'sr') continue;
      this.#srNtpMs = ntpToMs(p.ntpTime);
      this.#srRtp = (p.rtpTimestamp + this.#tsOffset) >>> 0;
      this.#srAt = performance.now();
    }
  }
}
