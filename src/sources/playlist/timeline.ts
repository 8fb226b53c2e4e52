/** A channel's items on one continuous timeline per stream track. Each item is played by a
 * FilePlayer whose outputs write into the stream's tracks (`IngestSink`), as an encoder's
 * packets would arrive. All items share one timeline per track: the same SSRC, sequence numbers
 * that continue, and timestamps that continue from the media time played so far, so the stream
 * track never re-bases and players decode across item changes. Item k is due at T0 + the
 * durations of the items before it: each player is anchored at that instant (not at the
 * previous one's 'end', which comes a send-ahead early), so the broadcast keeps to the wall
 * clock without drift.
 *
 * An item may start part-way (a channel resuming after a restart): the player starts at the
 * sync sample at or before the position asked, and that instant takes the timeline's place, so
 * the timeline has no jump there either. */
import type { RtpPayload } from '../../codecs/types.js';
import type { Logger } from '../../logging/index.js';
import type { ReadCache } from '../../media/mp4/read-cache.js';
import { createSampleReader } from '../../media/mp4/sample-reader.js';
import { buildSenderReport } from '../../rtcp/index.js';
import { MediaClock } from '../../rtp/media-clock.js';
import { RtpOutput, type RtpOutputOptions } from '../../rtp/output.js';
import { randomUint16, randomUint32 } from '../../rtp/seq.js';
import type { RtpSink } from '../../transport/types.js';
import { FilePlayer } from '../../vod/file-player.js';
import type { Pacer } from '../../vod/pacer.js';
import type { VodTrack } from '../../vod/types.js';
import type { StreamTrack } from '../../core/stream-track.js';
import type { Opened } from './item.js';

/** A file track's packets into a live stream track: what `RtpOutput.send` writes is ingested as
 * an encoder's packet would be; the items' RTCP (sender reports, BYE at each item's end) goes
 * nowhere. Instead the channel tells the track, as an encoder's sender report would, which RTP
 * time is due at which instant (`syncAt`): packets arrive a send-ahead early and, while nobody
 * watches, in bursts, so the track could not guess that from their arrival, and RTP-Info and
 * the sender reports viewers get would wander by as much. */
export class IngestSink implements RtpSink {
  readonly kind = 'udp';
  readonly backlog = 0;
  #sync: { ssrc: number; rtp: number; at: number } | undefined;
  constructor(readonly track: StreamTrack) {}

  /** RTP time `rtp` is due at performance.now() `at`; told to the track with the next packet (a
   * track takes a sender report only once it has a packet to place it on). */
  syncAt(ssrc: number, rtp: number, at: number): void {
    this.#sync = { ssrc, rtp, at };
  }

  sendRtp(packet: Buffer): void {
    this.track.ingest(packet);
    const sync = this.#sync;
    if (!sync) return;
    this.#sync = undefined;
    const now = performance.now();
    const rtpTimestamp = (sync.rtp + Math.round(((now - sync.at) / 1000) * this.track.format.clockRate)) >>> 0;
    this.track.onSourceRtcp(buildSenderReport({ ssrc: sync.ssrc, wallclockMs: Date.now(), rtpTimestamp, packetCount: 0, octetCount: 0 }));
  }

  sendRtcp(): void {}

  close(): void {}
}

/** fmtp keys holding a video format's parameter sets (base64, comma-separated), in the order a
 * decoder needs them: H.264 SPS and PPS (RFC 6184 §8.1), H.265 VPS, SPS, PPS (RFC 7798 §7.1). */
const PARAMETER_SET_KEYS: Record<string, readonly string[]> = {
  H264: ['sprop-parameter-sets'],
  H265: ['sprop-vps', 'sprop-sps', 'sprop-pps'],
};

/** A track's parameter sets as single NAL unit packet payloads (RFC 6184 §5.6, RFC 7798 §4.4.1),
 * none for other codecs. Taken from the description the item's SDP would carry, so hinted and
 * unhinted files alike send what their `avcC`/`hvcC` hold. */
function parameterSetPayloads(t: VodTrack): RtpPayload[] {
  const f = t.description.format;
  const out: RtpPayload[] = [];
  for (const key of PARAMETER_SET_KEYS[f.encodingName] ?? []) {
    for (const b64 of f.fmtp[key]?.split(',') ?? []) {
      const nal = Buffer.from(b64, 'base64');
      if (nal.length > 0) out.push({ parts: [nal], length: nal.length, marker: false });
    }
  }
  return out;
}

/** An item's media clock on the channel's timeline: media instant `start` (where the item
 * starts, known once its player has sought) is RTP time `base`. */
class ItemClock extends MediaClock {
  #start = 0;

  startsAt(npt: number): void {
    this.#start = npt;
  }

  override rtpTimeOf(npt: number): number {
    return super.rtpTimeOf(npt - this.#start);
  }
}

/** An item's output into its lane. Its first packet is preceded by the item's parameter sets,
 * with that packet's timestamp and no marker, so they join the item's first (IDR) frame: the
 * stream track sees that frame start with an SPS and keeps it as the keyframe new viewers start
 * on, and players already watching reconfigure at the switch. Sent at every item start, even
 * when they did not change: a few small packets per item, and viewers joining on the cached
 * GOP get them in band too. Only the first `send` checks more than one field. */
class ItemOutput extends RtpOutput<MediaClock> {
  #sets: RtpPayload[] | undefined;

  constructor(opts: RtpOutputOptions<MediaClock>, sets: RtpPayload[]) {
    super(opts);
    this.#sets = sets.length > 0 ? sets : undefined;
  }

  override send(payload: RtpPayload, timestamp: number): void {
    const sets = this.#sets;
    if (sets) {
      this.#sets = undefined;
      for (const s of sets) super.send(s, timestamp);
    }
    super.send(payload, timestamp);
  }
}

/** One stream track and where its timeline stands. */
interface Lane {
  sink: IngestSink;
  ssrc: number;
  /** RTP time of the broadcast's media instant 0. */
  base: number;
  /** Sequence number of the next packet. */
  seq: number;
}

/** A switch noticed later than this (ms) re-anchors the broadcast instead of catching up in a
 * burst. */
const MAX_LATE_MS = 500;
/** The file player's send-ahead when none is given (FilePlayerOptions.sendAhead). */
const DEFAULT_SEND_AHEAD = 0.25;

export interface TimelineOptions {
  tracks: StreamTrack[];
  pacer: Pacer;
  log: Logger;
  /** Seconds each item's packets are sent ahead of their time (default 0.25, as files). */
  sendAhead?: number;
  /** Shared movie data (PlaylistSourceOptions.readCache). Default: none. */
  readCache?: ReadCache;
}

/** The item playing: where it started in the file and when, on the local clock. */
export interface Playing {
  item: Opened;
  /** Media second of the file it started at (a sync sample at or before the one asked). */
  start: number;
  /** performance.now() ms at which `start` was due. */
  startAt: number;
  /** performance.now() ms at which its end is due. */
  endAt: number;
}

export class Timeline {
  readonly #o: TimelineOptions;
  readonly #lanes: Lane[];
  #player: FilePlayer | undefined;
  #playing: Playing | undefined;
  /** performance.now() ms at which the broadcast's media instant 0 is due; undefined until the
   * first item plays. */
  #anchor: number | undefined;
  /** Media seconds of the items played so far. */
  #elapsed = 0;

  constructor(opts: TimelineOptions) {
    this.#o = opts;
    this.#lanes = opts.tracks.map((track) => ({ sink: new IngestSink(track), ssrc: randomUint32(), base: randomUint32(), seq: randomUint16() }));
  }

  get playing(): Playing | undefined {
    return this.#playing;
  }

  /** Media second reached in the item playing. */
  position(nowMs = performance.now()): number | undefined {
    return this.#player?.position(nowMs);
  }

  /** Plays `item` from its media second `from` (below its duration) at the instant the
   * timeline has reached; `onEnd` hears when its last packet has been sent. */
  play(item: Opened, from: number, onEnd: (reason: string) => void): Playing {
    const now = performance.now();
    this.#anchor ??= now;
    let startAt = this.#anchor + this.#elapsed * 1000;
    if (now - startAt > MAX_LATE_MS) {
      this.#o.log.warn({ file: item.file, lateMs: Math.round(now - startAt) }, 'playlist fell behind; the broadcast goes on from now');
      this.#anchor += now - startAt;
      startAt = now;
    }
    const elapsed = this.#elapsed;
    for (const l of this.#lanes) l.sink.syncAt(l.ssrc, l.base + Math.round(elapsed * l.sink.track.format.clockRate), startAt);
    const clocks: ItemClock[] = [];
    const outputs = item.tracks.map((vod, i) => {
      const l = this.#lanes[i];
      const f = l.sink.track.format;
      const clock = new ItemClock(f.clockRate, l.base + Math.round(elapsed * f.clockRate));
      clocks.push(clock);
      return new ItemOutput({ sink: l.sink, payloadType: f.payloadType, clock, cname: 'rivulet', ssrc: l.ssrc, seq: l.seq }, parameterSetPayloads(vod));
    });
    const player = new FilePlayer({
      tracks: item.tracks.map((vod, i) => ({ vod, output: outputs[i] })),
      duration: item.duration,
      reader: createSampleReader(item.file, { cache: this.#o.readCache }),
      pacer: this.#o.pacer,
      log: this.#o.log,
      sendAhead: this.#o.sendAhead,
    });
    // No packet leaves before the pacer's next tick, so the clocks learn the start in time.
    const { start } = player.play({ start: from }, startAt);
    for (const c of clocks) c.startsAt(start);
    const length = item.duration - start;
    const playing: Playing = { item, start, startAt, endAt: startAt + length * 1000 };
    this.#player = player;
    this.#playing = playing;
    player.once('end', (reason) => {
      player.close();
      for (const [i, out] of outputs.entries()) this.#lanes[i].seq = out.nextSeq;
      // An item that stopped early (a read error) is followed at once, not after its length in
      // silence: the timeline goes on from what its packets reached (sent a send-ahead early).
      const sent = (performance.now() - startAt) / 1000 + (this.#o.sendAhead ?? DEFAULT_SEND_AHEAD);
      this.#elapsed = elapsed + (reason === 'end of stream' ? length : Math.min(length, Math.max(0, sent)));
      if (this.#player === player) {
        this.#player = undefined;
        this.#playing = undefined;
      }
      onEnd(reason);
    });
    return playing;
  }

  close(reason: string): void {
    this.#player?.close(reason);
    this.#player = undefined;
    this.#playing = undefined;
  }
}
