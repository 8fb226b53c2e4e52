/** Plays a movie to one viewer: seeks to a sync sample, reads samples ahead asynchronously,
 * and sends them in decode order at real-time pace (plus a small send-ahead) when the pacer
 * ticks. Packets carry RTP timestamps of their presentation time on the media timeline, so
 * pause/resume and seeks keep timestamps consistent with RTP-Info. */
import { EventEmitter } from 'node:events';
import type { Packetizer, RtpPayload } from '../codecs/types.js';
import { HintError } from '../media/mp4/hint.js';
import type { SampleInfo, SampleReader } from '../media/mp4/types.js';
import type { Logger } from '../logging/index.js';
import { MediaClock } from '../rtp/media-clock.js';
import { RtpOutput } from '../rtp/output.js';
import type { RtpSink } from '../transport/types.js';
import type { PacketCache } from './packet-cache.js';
import type { Pacer } from './pacer.js';
import { SampleQueue } from './sample-queue.js';
import type { VodTrack } from './types.js';

export interface PlayerTrack {
  vod: VodTrack;
  /** The viewer's output for this track; the player makes its clock follow playback. */
  output: RtpOutput<MediaClock>;
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
}

export interface PlayRange {
  start?: number;
  end?: number;
}

export interface PlayResult {
  /** Actual start (a sync sample at or before the requested time) and end, seconds. */
  start: number;
  end: number;
  rtpInfo: { trackId: number; seq: number; rtptime: number }[];
}

interface Lane {
  /** Position in the player's lanes (the sample queue names lanes by it). */
  i: number;
  t: PlayerTrack;
  packetizer: Packetizer;
  timescale: number;
  edit: number;
  /** Next sample index to read from the file. */
  next: number;
  /** Decode instant (s) of sample `next`, Infinity past the last sample. */
  nextDue: number;
  /** Reading for this lane has reached the end of the range or of the track. */
  exhausted: boolean;
  /** Hint samples that could not be replayed (their packets are skipped). */
  hintErrors: number;
  /** The packet cache's id for this track's payloads, when they are shared with other viewers. */
  shared: number | undefined;
}

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
  /** Media instant that wall-clock `#wallStart` corresponds to. */
  #nptStart = 0;
  #wallStart = 0;
  #pausedAt = 0;
  #lastReport = 0;

  constructor(opts: FilePlayerOptions) {
    super();
    this.#reader = opts.reader;
    this.#pacer = opts.pacer;
    this.#log = opts.log;
    this.#duration = opts.duration;
    this.#packets = opts.packets;
    this.#opts = {
      sendAhead: opts.sendAhead ?? 0.25,
      maxPayloadSize: opts.maxPayloadSize ?? 1400,
      rtcpInterval: opts.rtcpInterval ?? 5,
      maxBacklog: opts.maxBacklog ?? 2 * 1024 * 1024,
    };
    this.#lanes = opts.tracks.map((t, i) => ({
      i,
      t,
      packetizer: t.vod.load ? LOADED : t.vod.createPacketizer(this.#opts.maxPayloadSize),
      timescale: t.vod.mp4.timescale,
      edit: t.vod.mp4.editMediaTime,
      next: 0,
      nextDue: 0,
      exhausted: false,
      hintErrors: 0,
      shared: opts.packets && !t.vod.load && !t.vod.statefulPacketizer ? opts.packets.laneId(t.vod, this.#opts.maxPayloadSize) : undefined,
    }));
    for (const t of opts.tracks) t.output.clock.follow(this);
  }

  get state(): State {
    return this.#state;
  }

  /** Current media instant (seconds). */
  position(nowMs = performance.now()): number {
    if (this.#state === 'playing') return this.#nptStart + (nowMs - this.#wallStart) / 1000;
    return this.#pausedAt;
  }

  /** `startAt` (performance.now() ms, default now) is the local instant the start of the range
   * is due: a playlist anchors each item at the end of the previous one, so the broadcast keeps
   * to the wall clock however late a switch is noticed. */
  play(range: PlayRange, startAt = performance.now()): PlayResult {
    const resuming = range.start === undefined && this.#state === 'paused';
    if (resuming) {
      this.#nptStart = this.#pausedAt;
      if (range.end !== undefined) this.#end = Math.min(range.end, this.#duration);
    } else {
      this.#seek(range.start ?? 0, range.end);
    }
    this.#wallStart = startAt;
    this.#state = 'playing';
    const start = this.#nptStart;
    const rtpInfo = this.#lanes.map((l) => ({
      trackId: l.t.vod.description.id,
      seq: l.t.output.nextSeq,
      rtptime: l.t.output.clock.rtpTimeOf(start),
    }));
    this.#report(Math.min(startAt, performance.now()));
    this.#pacer.add(this);
    this.#fill();
    return { start, end: this.#end, rtpInfo };
  }

  /** Stops sending; returns the media instant paused at. */
  pause(): number {
    if (this.#state === 'playing') {
      this.#pausedAt = this.position();
      this.#state = 'paused';
      this.#pacer.delete(this);
    }
    return this.#pausedAt;
  }

  /** Sends BYE on every track and stops for good. */
  close(reason?: string): void {
    if (this.#state !== 'ended') this.#bye(reason);
    this.#stop('ended');
    this.#reader.close().catch((e: unknown) => this.#log.debug({ err: (e as Error).message }, 'closing the movie failed'));
  }

  #stop(state: State): void {
    this.#gen++;
    this.#state = state;
    this.#pacer.delete(this);
    this.#queue.clear();
  }

  #bye(reason?: string): void {
    const now = performance.now();
    for (const l of this.#lanes) l.t.output.sendBye(reason, now);
  }

  #npt(l: Lane, t: number): number {
    return (t - l.edit) / l.timescale;
  }

  #seek(requested: number, end: number | undefined): void {
    if (!(requested >= 0)) requested = 0;
    if (this.#duration > 0 && requested >= this.#duration) {
      throw new InvalidRangeError(`start ${requested.toFixed(3)} s is past the end (${this.#duration.toFixed(3)} s)`);
    }
    this.#gen++;
    this.#queue.clear();
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
      l.exhausted = false;
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
    for (const l of this.#lanes) this.#setNext(l, l.next);
  }

  /** Makes `index` the lane's next sample, with its due instant (Infinity past the last). */
  #setNext(l: Lane, index: number): void {
    const m = l.t.vod.mp4;
    l.next = index;
    l.nextDue = index < m.sampleCount ? this.#npt(l, m.sample(index).dts) : Infinity;
  }

  /** Picks the lane whose next sample is due first (decode order across tracks). */
  #nextLane(): Lane | undefined {
    let best: Lane | undefined;
    let bestDue = Infinity;
    for (const l of this.#lanes) {
      if (l.exhausted) continue;
      if (l.nextDue >= this.#end) {
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

  #fill(): void {
    if (this.#filling) return;
    this.#filling = true;
    const gen = this.#gen;
    void (async () => {
      try {
        while (gen === this.#gen && this.#state !== 'ended') {
          const horizon = this.position() + this.#opts.sendAhead + LOOKAHEAD_S;
          if (this.#queue.size >= LOOKAHEAD_ITEMS || this.#queue.lastDue > horizon) break;
          const lane = this.#nextLane();
          if (!lane) break;
          const info = lane.t.vod.mp4.sample(lane.next);
          this.#setNext(lane, lane.next + 1);
          // Payloads another viewer made already carry the sample's bytes: nothing to read.
          let payloads = lane.shared === undefined ? undefined : this.#packets!.get(lane.shared, info.index);
          if (!payloads) {
            const data = this.#reader.readNow?.(info) ?? (await this.#reader.read(info));
            if (lane.t.vod.load) payloads = await this.#load(lane, info, data);
            else {
              payloads = lane.packetizer.packetize(data);
              if (lane.shared !== undefined) this.#packets!.set(lane.shared, info.index, payloads);
            }
          }
          if (gen !== this.#gen) return;
          this.#queue.push(lane.i, this.#npt(lane, info.cts), this.#npt(lane, info.dts), payloads);
        }
      } catch (e) {
        if (gen === this.#gen) {
          this.#log.warn({ err: (e as Error).message }, 'reading the movie failed; ending the stream');
          this.#bye('read error');
          this.#stop('ended');
          this.emit('end', 'read error');
        }
      } finally {
        this.#filling = false;
      }
    })();
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
    for (const l of this.#lanes) if (l.t.output.sink.backlog > this.#opts.maxBacklog) return;
    const horizon = this.position(nowMs) + this.#opts.sendAhead;
    const q = this.#queue;
    while (q.headDue <= horizon) {
      const lane = this.#lanes[q.headLane];
      const { output } = lane.t;
      const ts = output.clock.rtpTimeOf(q.headPts);
      const payloads = q.headPayloads;
      q.shift();
      for (const p of payloads) output.send(p, p.timestampOffset ? (ts + p.timestampOffset) >>> 0 : ts);
    }
    if (nowMs - this.#lastReport >= this.#opts.rtcpInterval * 1000) this.#report(nowMs);
    if (q.size === 0 && this.#lanes.every((l) => l.exhausted) && !this.#filling) {
      // Everything up to the end of the range has been sent.
      this.#pausedAt = this.#end;
      this.#bye('end of stream');
      this.#stop('ended');
      this.emit('end', 'end of stream');
      return;
    }
    this.#fill();
  }
}
