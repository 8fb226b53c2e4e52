/** Plays a movie to one viewer: seeks to a sync sample, reads samples ahead asynchronously,
 * and sends them in decode order at real-time pace (plus a small send-ahead) when the pacer
 * ticks. Packets carry RTP timestamps of their presentation time on the media timeline, so
 * pause/resume and seeks keep timestamps consistent with RTP-Info.
 *
 * Trick play (a `scale` other than 1, RTSP Scale): the media timeline advances at scale × real
 * time; only video is sent (all frames at 2x, keyframes only faster and in reverse). Its RTP
 * timestamps follow the delivery, not the media: from the PLAY's start they advance at the clock
 * rate per second of (speed-adjusted) real time, forwards in reverse too, so that media instant
 * t is RTP time rtptime + (t - start) / scale × rate (RFC 7826 §18.46 and its appendix C: the
 * receiver maps them back with the Scale and RTP-Info it was answered). We chose this form over
 * stamping the media instants (timestamps racing ahead at 4x, or going backwards) because a
 * jitter buffer and a decoder (ffmpeg, GStreamer's rtpjitterbuffer) take timestamps that run
 * backwards or 4x faster than they arrive as reordering or lateness and drop the frames; with
 * this form they play every keyframe as it comes. At scale 1 the two forms are the same.
 *
 * Speed (RTSP Speed): the same timestamps delivered `speed` times as fast. Overbuffering
 * (Instant-On, DSS's overbuffer_rate / max_send_ahead_time): at scale 1 the send-ahead grows
 * from `sendAhead` by (overbufferRate - 1) s per second up to `maxSendAhead`, so a player's first
 * seconds arrive faster than real time. */
import { EventEmitter } from 'node:events';
import type { Packetizer, RtpPayload } from '../codecs/types.js';
import { HintError } from '../media/mp4/hint.js';
import type { SampleInfo, SampleReader } from '../media/mp4/types.js';
import type { Logger } from '../logging/index.js';
import { fileSamples, ViewerThinning, type ThinningLog, type ThinningSettings, type ThinningStats } from '../readers/thinning.js';
import { MediaClock } from '../rtp/media-clock.js';
import { RtpOutput } from '../rtp/output.js';
import type { RtpSink } from '../transport/types.js';
import type { PacketCache } from './packet-cache.js';
import type { Pacer } from './pacer.js';
import { SampleQueue } from './sample-queue.js';
import { keyframesOnly } from './trick-play.js';
import type { VodTrack } from './types.js';

export interface PlayerTrack {
  vod: VodTrack;
  /** The viewer's output for this track; the player makes its clock follow playback. */
  output: RtpOutput<MediaClock>;
  /** Thinning under loss (`retransmit.thinning`) for a UDP unicast viewer's video track: while
   * playing, its receiver reports set a level and the samples it says are not sent. Ignored for
   * audio, for a TCP sink, and for a hint track without sync samples (no keyframe to tell). */
  thinning?: { settings: ThinningSettings; log: ThinningLog; label: object };
}

/** A file track's output for one viewer: its own SSRC and sequence numbers, on the track's media
 * timeline from a random origin. Made at SETUP, before any player exists. */
export function fileOutput(vod: VodTrack, sink: RtpSink, cname: string): RtpOutput<MediaClock> {
  return new RtpOutput({ sink, payloadType: vod.description.format.payloadType, clock: new MediaClock(vod.clockRate), cname });
}

export interface FilePlayerOptions {
  tracks: PlayerTrack[];
  /** Movie duration in seconds. */
  duration: number;
  reader: SampleReader;
  pacer: Pacer;
  log: Logger;
  /** Seconds sent ahead of real time (default 0.25). */
  sendAhead?: number;
  /** Largest RTP payload in bytes (default 1400). */
  maxPayloadSize?: number;
  /** Seconds between sender reports (default 5). */
  rtcpInterval?: number;
  /** TCP viewers whose unsent backlog exceeds this many bytes are not fed until it drains. */
  maxBacklog?: number;
  /** Payloads shared with the other viewers of the file (default: none, each viewer packetizes
   * its own). */
  packets?: PacketCache;
  /** Instant-On: how fast the send-ahead grows after a PLAY, × real time (2: the first seconds go
   * out twice as fast); 1 (the default) keeps it at `sendAhead`. */
  overbufferRate?: number;
  /** Seconds the send-ahead may grow to with overbuffering (default: `sendAhead`). */
  maxSendAhead?: number;
}

export interface PlayRange {
  /** Where to start (a reverse play starts here and goes back). */
  start?: number;
  /** Where to stop; a reverse play stops at the start of the file, or at `end` when it is before
   * `start` (RTSP 2.0's reverse range). */
  end?: number;
  /** Viewing rate (default 1): 2, 4, 8 forwards, negative backwards; see `keyframesOnly`. A file
   * without video (or whose video is a hint track without sync samples) plays at 1. */
  scale?: number;
  /** Delivery rate of the same timeline (default 1). */
  speed?: number;
}

export interface PlayResult {
  /** Actual start (a sync sample at or before the requested time) and end, seconds. */
  start: number;
  end: number;
  rtpInfo: { trackId: number; seq: number; rtptime: number }[];
  /** The viewing and delivery rates used. */
  scale: number;
  speed: number;
}

interface Lane {
  /** Position in the player's lanes (the sample queue names lanes by it). */
  i: number;
  t: PlayerTrack;
  packetizer: Packetizer;
  timescale: number;
  edit: number;
  /** Next sample index to read from the file (-1 before the first, rewinding). */
  next: number;
  /** Media instant (s) of sample `next`: its decode time, its presentation time rewinding;
   * ±Infinity past either end. */
  nextNpt: number;
  /** When sample `next` is due, on the RTP line (see `#line`); Infinity past the end. */
  nextDue: number;
  /** Reading for this lane has reached the end of the range or of the track. */
  exhausted: boolean;
  /** Hint samples that could not be replayed (their packets are skipped). */
  hintErrors: number;
  /** The packet cache's id for this track's payloads, when they are shared with other viewers. */
  shared: number | undefined;
  /** Thinning under loss, for a thinned viewer's video track. */
  thin: ViewerThinning<readonly RtpPayload[]> | undefined;
  /** Hands the output's receiver reports to `thin` while playing. */
  onReception: ((r: { reports: number; fractionLost: number; highestSeq: number }) => void) | undefined;
  /** Where the lane's sample lookups are written (no object per sample): the sample being queued,
   * and the one after it. */
  cur: SampleInfo;
  peek: SampleInfo;
}

/** A sample taken from its lane that must be waited for: read from disk, or a hint sample. */
interface PendingSample {
  lane: Lane;
  /** The lane's own copy (its lookup objects are reused). */
  info: SampleInfo;
  due: number;
  pts: number;
}

const blankSample = (): SampleInfo => ({ index: 0, offset: 0, size: 0, dts: 0, cts: 0, sync: false });

/** Lanes that replay hint samples make their payloads in `load`, not with a packetizer. */
const LOADED: Packetizer = { packetize: () => [] };

type State = 'ready' | 'playing' | 'paused' | 'ended';

export class InvalidRangeError extends Error {
  override readonly name = 'InvalidRangeError';
}

/** How far past the send horizon samples are read ahead, seconds / items. Reads are mostly
 * served from the shared cache; a quarter second hides a disk read, and every queued sample is
 * memory held per viewer (thousands of viewers). */
const LOOKAHEAD_S = 0.25;
const LOOKAHEAD_ITEMS = 256;

/** Emits 'end' when the range or the file is done, or when the file cannot be read further. */
export class FilePlayer extends EventEmitter<{ end: [reason: string] }> {
  readonly #lanes: Lane[];
  readonly #opts: Required<Omit<FilePlayerOptions, 'tracks' | 'reader' | 'pacer' | 'log' | 'duration' | 'packets'>>;
  /** Whether trick play can pick keyframes: some video, none of it a hint track without sync
   * samples (whose keyframes cannot be told). */
  readonly #trickable: boolean;
  readonly #packets: PacketCache | undefined;
  readonly #reader: SampleReader;
  readonly #pacer: Pacer;
  readonly #log: Logger;
  readonly #duration: number;
  #state: State = 'ready';
  readonly #queue = new SampleQueue();
  #gen = 0;
  #filling = false;
  #end = 0;
  /** Where a reverse play stops. */
  #low = 0;
  /** Media instant that wall-clock `#wallStart` corresponds to. */
  #nptStart = 0;
  #wallStart = 0;
  #pausedAt = 0;
  #lastReport = 0;
  #scale = 1;
  #speed = 1;
  /** Video keyframes only (fast or reverse trick play). */
  #keyOnly = false;
  /** The send-ahead (s on the RTP line) at `#leadSince` (performance.now() ms); it grows from
   * there when overbuffering. */
  #leadBase = 0;
  #leadSince = 0;
  /** `close` was called (thinning's summary is said once). */
  #closed = false;
  /** A play has queued nothing yet: its first samples are sent as soon as they are read, not at
   * the pacer's next tick (which may be tens of ms away under load). */
  #kick = false;

  constructor(opts: FilePlayerOptions) {
    super();
    this.#reader = opts.reader;
    this.#pacer = opts.pacer;
    this.#log = opts.log;
    this.#duration = opts.duration;
    this.#packets = opts.packets;
    const sendAhead = opts.sendAhead ?? 0.25;
    this.#opts = {
      sendAhead,
      maxPayloadSize: opts.maxPayloadSize ?? 1400,
      rtcpInterval: opts.rtcpInterval ?? 5,
      maxBacklog: opts.maxBacklog ?? 2 * 1024 * 1024,
      overbufferRate: Math.max(1, opts.overbufferRate ?? 1),
      maxSendAhead: Math.max(sendAhead, opts.maxSendAhead ?? 0),
    };
    this.#leadBase = sendAhead;
    this.#lanes = opts.tracks.map((t, i) => ({
      ...thinningOf(t),
      i,
      t,
      packetizer: t.vod.load ? LOADED : t.vod.createPacketizer(this.#opts.maxPayloadSize),
      timescale: t.vod.mp4.timescale,
      edit: t.vod.mp4.editMediaTime,
      next: 0,
      nextNpt: 0,
      nextDue: 0,
      exhausted: false,
      hintErrors: 0,
      shared: opts.packets && !t.vod.load && !t.vod.statefulPacketizer ? opts.packets.laneId(t.vod, this.#opts.maxPayloadSize) : undefined,
      cur: blankSample(),
      peek: blankSample(),
    }));
    const video = opts.tracks.filter((t) => t.vod.kind === 'video');
    this.#trickable = video.length > 0 && video.every((t) => !(t.vod.load && t.vod.mp4.allSync));
    // Sender reports name the RTP line, which is the media timeline except in trick play.
    const line = { position: (nowMs: number) => this.#lineAt(nowMs) };
    for (const t of opts.tracks) t.output.clock.follow(line);
  }

  get state(): State {
    return this.#state;
  }

  /** Current media instant (seconds). */
  position(nowMs = performance.now()): number {
    if (this.#state !== 'playing') return this.#pausedAt;
    const at = this.#nptStart + (this.#scale * this.#speed * (nowMs - this.#wallStart)) / 1000;
    return this.#scale < 0 ? Math.max(this.#low, at) : at;
  }

  /** The viewing rate of the current (or last) play. */
  get scale(): number {
    return this.#scale;
  }

  /** The delivery rate of the current (or last) play. */
  get speed(): number {
    return this.#speed;
  }

  /** The RTP line (seconds) of media instant `npt` in this play: the media timeline at scale 1;
   * in trick play, real time from the play's start (see the file comment). */
  #line(npt: number): number {
    return this.#scale === 1 ? npt : this.#nptStart + (npt - this.#nptStart) / this.#scale;
  }

  /** Where the RTP line is at a local instant: it advances at `speed` × real time. */
  #lineAt(nowMs: number): number {
    if (this.#state !== 'playing') return this.#line(this.#pausedAt);
    return this.#nptStart + (this.#speed * (nowMs - this.#wallStart)) / 1000;
  }

  /** How far ahead of the RTP line packets go out at `nowMs`: `sendAhead`, growing while
   * overbuffering (normal play only). */
  #lead(nowMs: number): number {
    const o = this.#opts;
    if (o.overbufferRate <= 1 || this.#scale !== 1) return o.sendAhead;
    return Math.min(o.maxSendAhead, this.#leadBase + ((o.overbufferRate - 1) * Math.max(0, nowMs - this.#leadSince)) / 1000);
  }

  /** `startAt` (performance.now() ms, default now) is the local instant the start of the range
   * is due: a playlist anchors each item at the end of the previous one, so the broadcast keeps
   * to the wall clock however late a switch is noticed. */
  play(range: PlayRange, startAt = performance.now()): PlayResult {
    let scale = range.scale ?? 1;
    if (!Number.isFinite(scale) || scale === 0 || !this.#trickable) scale = 1;
    const speed = range.speed !== undefined && range.speed > 0 && Number.isFinite(range.speed) ? range.speed : 1;
    // Normal play resumes where it paused, with what it read ahead and sent ahead; trick play
    // (or a change of rate) starts again from the keyframe at or before that point.
    const resuming = range.start === undefined && this.#state === 'paused' && scale === 1 && this.#scale === 1;
    this.#speed = speed;
    if (resuming) {
      this.#nptStart = this.#pausedAt;
      if (range.end !== undefined) this.#end = Math.min(range.end, this.#duration);
    } else {
      for (const l of this.#lanes) l.thin?.restart();
      const from = range.start ?? (this.#state === 'paused' ? this.#pausedAt : 0);
      this.#seek(from, range.end, scale);
      this.#leadBase = this.#opts.sendAhead;
    }
    this.#wallStart = startAt;
    this.#leadSince = startAt;
    this.#state = 'playing';
    for (const l of this.#lanes) if (l.onReception) l.t.output.onReception = l.onReception;
    const start = this.#nptStart;
    const rtpInfo = this.#lanes.map((l) => ({
      trackId: l.t.vod.description.id,
      seq: l.t.output.nextSeq,
      rtptime: l.t.output.clock.rtpTimeOf(start),
    }));
    // The first sender report goes with the first packets, at the pacer's next tick: nothing may
    // precede the PLAY response on an interleaved connection (players drop what comes before it).
    this.#lastReport = -Infinity;
    this.#pacer.add(this);
    this.#kick = true;
    this.#fill();
    return { start, end: this.#scale < 0 ? this.#low : this.#end, rtpInfo, scale: this.#scale, speed };
  }

  /** Stops sending; returns the media instant paused at. */
  pause(): number {
    if (this.#state === 'playing') {
      const now = performance.now();
      this.#pausedAt = this.position(now);
      // What went out ahead stays with the viewer: a resume sends on from there.
      this.#leadBase = this.#lead(now);
      this.#state = 'paused';
      this.#pacer.delete(this);
      this.#unhear();
    }
    return this.#pausedAt;
  }

  /** Sends BYE on every track and stops for good. */
  close(reason?: string): void {
    if (this.#state !== 'ended') this.#bye(reason);
    this.#stop('ended');
    if (!this.#closed) for (const l of this.#lanes) l.thin?.logSummary();
    this.#closed = true;
    this.#reader.close().catch((e: unknown) => this.#log.debug({ err: (e as Error).message }, 'closing the movie failed'));
  }

  #stop(state: State): void {
    this.#gen++;
    this.#state = state;
    this.#pacer.delete(this);
    this.#queue.clear();
    this.#unhear();
  }

  /** Receiver reports no longer move thinning (not playing). */
  #unhear(): void {
    for (const l of this.#lanes) if (l.onReception && l.t.output.onReception === l.onReception) l.t.output.onReception = undefined;
  }

  /** What thinning did to the viewer track sent by `output`; undefined when it is not thinned. */
  thinning(output: RtpOutput<MediaClock>): Readonly<ThinningStats> | undefined {
    return this.#lanes.find((l) => l.t.output === output)?.thin?.stats;
  }

  #bye(reason?: string): void {
    const now = performance.now();
    for (const l of this.#lanes) l.t.output.sendBye(reason, now);
  }

  #npt(l: Lane, t: number): number {
    return (t - l.edit) / l.timescale;
  }

  #seek(requested: number, end: number | undefined, scale: number): void {
    if (!(requested >= 0)) requested = 0;
    if (this.#duration > 0 && requested >= this.#duration) {
      // Rewinding may start at the very end; playing forwards from there plays nothing.
      if (scale > 0) throw new InvalidRangeError(`start ${requested.toFixed(3)} s is past the end (${this.#duration.toFixed(3)} s)`);
      requested = this.#duration;
    }
    this.#gen++;
    this.#queue.clear();
    for (const l of this.#lanes) l.t.output.forgetSent();
    this.#scale = scale;
    this.#keyOnly = keyframesOnly(scale);
    const video = this.#lanes.filter((l) => l.t.vod.kind === 'video');
    let start = requested;
    if (video.length) {
      start = Infinity;
      for (const l of video) {
        const m = l.t.vod.mp4;
        let i = m.syncAtOrBefore(m.sampleAtDts(Math.round(requested * l.timescale + l.edit)));
        while (i > 0 && this.#npt(l, m.sample(i).cts) > requested + 1e-6) i = m.syncAtOrBefore(i - 1);
        l.next = i;
        start = Math.min(start, Math.max(0, this.#npt(l, m.sample(i).cts)));
      }
    }
    for (const l of this.#lanes) {
      // Trick play sends video only.
      l.exhausted = scale !== 1 && l.t.vod.kind !== 'video';
      if (l.t.vod.kind === 'video' && video.length) continue;
      const m = l.t.vod.mp4;
      let i = m.sampleAtDts(Math.round(start * l.timescale + l.edit));
      // The sample that contains the start instant begins at or before it; take the next one
      // when this one ends before the start (no audio from before the video starts).
      if (i + 1 < m.sampleCount && this.#npt(l, m.sample(i + 1).cts) <= start + 1e-6) i++;
      l.next = i;
      if (!video.length) start = Math.max(0, Math.min(start, this.#npt(l, m.sample(i).cts)));
    }
    this.#nptStart = start;
    this.#pausedAt = start;
    this.#end = end !== undefined && end > start ? Math.min(end, this.#duration) : this.#duration;
    this.#low = scale < 0 && end !== undefined && end < start ? Math.max(0, end) : 0;
    for (const l of this.#lanes) this.#setNext(l, l.next);
  }

  /** Makes `index` the lane's next sample, with its instants (past either end: none). */
  #setNext(l: Lane, index: number): void {
    const m = l.t.vod.mp4;
    l.next = index;
    if (index < 0 || index >= m.sampleCount) {
      l.nextNpt = index < 0 ? -Infinity : Infinity;
      l.nextDue = Infinity;
      return;
    }
    const s = sampleOf(m, index, l.peek);
    l.nextNpt = this.#npt(l, this.#scale < 0 ? s.cts : s.dts);
    l.nextDue = this.#line(l.nextNpt);
  }

  /** The sample a lane reads after `index`: the next one, or in keyframes-only trick play the
   * next sync sample (the previous one, rewinding); -1 or sampleCount when there is none. */
  #after(l: Lane, index: number): number {
    const m = l.t.vod.mp4;
    if (this.#scale < 0) return index > 0 ? m.syncAtOrBefore(index - 1) : -1;
    if (!this.#keyOnly) return index + 1;
    let i = index + 1;
    while (i < m.sampleCount && !m.sample(i).sync) i++;
    return i;
  }

  /** Picks the lane whose next sample is due first (decode order across tracks). */
  #nextLane(): Lane | undefined {
    let best: Lane | undefined;
    let bestDue = Infinity;
    for (const l of this.#lanes) {
      if (l.exhausted) continue;
      if (this.#scale < 0 ? l.nextNpt < this.#low - 1e-6 : l.nextNpt >= this.#end) {
        l.exhausted = true;
        continue;
      }
      if (l.nextDue < bestDue) {
        bestDue = l.nextDue;
        best = l;
      }
    }
    return best;
  }

  /** Queues samples up to the read-ahead horizon: at once while they are in memory (payloads
   * another viewer made, or data in the shared cache), asynchronously from the first one that
   * must be read from disk (or is a hint sample) on. */
  #fill(): void {
    if (this.#filling) return;
    const gen = this.#gen;
    try {
      const pending = this.#fillNow();
      if (pending) {
        this.#filling = true;
        void this.#fillLater(gen, pending);
      }
    } catch (e) {
      this.#readFailed(gen, e);
    }
  }

  /** Queues what needs no waiting; returns the first sample that does, taken from its lane. */
  #fillNow(): PendingSample | undefined {
    const now = performance.now();
    const horizon = this.#lineAt(now) + this.#lead(now) + LOOKAHEAD_S;
    const q = this.#queue;
    while (this.#state !== 'ended' && q.size < LOOKAHEAD_ITEMS && !(q.lastDue > horizon)) {
      const lane = this.#nextLane();
      if (!lane) return undefined;
      const info = sampleOf(lane.t.vod.mp4, lane.next, lane.cur);
      const { index, sync } = info;
      const due = lane.nextDue;
      const pts = this.#line(this.#npt(lane, info.cts));
      // Payloads another viewer made already carry the sample's bytes: nothing to read.
      let payloads = lane.shared === undefined ? undefined : this.#packets!.get(lane.shared, index);
      const data = payloads || lane.t.vod.load ? undefined : this.#reader.readNow?.(info);
      const pending = payloads || data ? undefined : { lane, info: { ...info }, due, pts };
      this.#setNext(lane, this.#after(lane, lane.next));
      if (pending) return pending;
      payloads ??= this.#packetize(lane, index, data!);
      this.#queueSample(lane, pts, due, payloads, sync);
    }
    return undefined;
  }

  async #fillLater(gen: number, first: PendingSample): Promise<void> {
    try {
      let p: PendingSample | undefined = first;
      while (p) {
        const { lane, info } = p;
        const data = this.#reader.readNow?.(info) ?? (await this.#reader.read(info));
        const payloads = lane.t.vod.load ? await this.#load(lane, info, data) : this.#packetize(lane, info.index, data);
        if (gen !== this.#gen || this.#state === 'ended') return;
        this.#queueSample(lane, p.pts, p.due, payloads, info.sync);
        p = this.#fillNow();
      }
    } catch (e) {
      this.#readFailed(gen, e);
    } finally {
      this.#filling = false;
    }
  }

  #packetize(lane: Lane, index: number, data: Buffer): RtpPayload[] {
    const payloads = lane.packetizer.packetize(data);
    if (lane.shared !== undefined) this.#packets!.set(lane.shared, index, payloads);
    return payloads;
  }

  #readFailed(gen: number, e: unknown): void {
    if (gen !== this.#gen) return;
    this.#log.warn({ err: (e as Error).message }, 'reading the movie failed; ending the stream');
    this.#bye('read error');
    this.#stop('ended');
    this.emit('end', 'read error');
  }

  /** Queues a sample; a play's first goes out once the PLAY response has been written (nothing
   * may precede it on an interleaved connection), not at the pacer's next tick. */
  #queueSample(lane: Lane, pts: number, due: number, payloads: RtpPayload[], sync: boolean): void {
    this.#queue.push(lane.i, pts, due, payloads, sync);
    if (!this.#kick) return;
    this.#kick = false;
    this.#pacer.pumpSoon(this);
  }

  /** A hint sample's payloads; a malformed one costs its packets, not the stream. */
  async #load(lane: Lane, info: SampleInfo, data: Buffer): Promise<RtpPayload[]> {
    try {
      return await lane.t.vod.load!(info, data, this.#reader);
    } catch (e) {
      if (!(e instanceof HintError)) throw e;
      const n = ++lane.hintErrors;
      // The first one says what is wrong; a broken track would otherwise log once per sample.
      if (n === 1 || n % 1000 === 0) {
        this.#log.warn(
          { track: lane.t.vod.description.id, sample: info.index + 1, count: n, err: e.message },
          'skipping the packets of a malformed hint sample',
        );
      }
      return [];
    }
  }

  #report(nowMs: number): void {
    this.#lastReport = nowMs;
    for (const l of this.#lanes) l.t.output.sendReport(nowMs);
  }

  pump(nowMs: number): void {
    if (this.#state !== 'playing') return;
    for (const l of this.#lanes) if (l.t.output.sink.backlog > this.#opts.maxBacklog || l.t.output.windowFull) return;
    const horizon = this.#lineAt(nowMs) + this.#lead(nowMs);
    const q = this.#queue;
    while (q.headDue <= horizon) {
      const lane = this.#lanes[q.headLane];
      const { output } = lane.t;
      // As int32 (the writer takes it modulo 2^32): a small integer, where a uint32 above 2^31
      // would be a heap number allocated per packet.
      const ts = output.clock.rtpTimeOf(q.headPts) | 0;
      const payloads = q.headPayloads;
      // A thinned viewer's level may leave this sample out (a frame is one sample).
      if (lane.thin?.drops(payloads, q.headSync, payloads.length)) {
        q.shift();
        continue;
      }
      q.shift();
      for (const p of payloads) output.send(p, p.timestampOffset ? (ts + p.timestampOffset) | 0 : ts);
    }
    if (nowMs - this.#lastReport >= this.#opts.rtcpInterval * 1000) this.#report(nowMs);
    if (q.size === 0 && this.#lanes.every((l) => l.exhausted) && !this.#filling) {
      // Everything up to the end of the range (its start, rewinding) has been sent.
      this.#pausedAt = this.#scale < 0 ? this.#low : this.#end;
      this.#bye('end of stream');
      this.#stop('ended');
      this.emit('end', 'end of stream');
      return;
    }
    this.#fill();
  }
}

/** A lane's thinning, for a UDP viewer's video track that asked for it (see `PlayerTrack`). */
function thinningOf(t: PlayerTrack): Pick<Lane, 'thin' | 'onReception'> {
  const th = t.thinning;
  const v = t.vod;
  if (!th?.settings.enabled || v.kind !== 'video' || t.output.sink.kind !== 'udp' || (v.load && v.mp4.allSync)) return { thin: undefined, onReception: undefined };
  const thin = new ViewerThinning<readonly RtpPayload[]>({ settings: th.settings, encodingName: v.description.format.encodingName, log: th.log, label: th.label }, fileSamples);
  return { thin, onReception: (r) => thin.reception(r) };
}

/** A track's sample `index`, written into `out` where the track can. */
function sampleOf(m: VodTrack['mp4'], index: number, out: SampleInfo): SampleInfo {
  return m.sampleInto ? m.sampleInto(index, out) : m.sample(index);
}
