/** A playlist broadcast as a live channel (`paths.<name>.playlist`): files played one after
 * another into the tracks of one live stream, so every viewer who tunes in sees the same moment,
 * as DSS's PlaylistBroadcaster did, but inside the server.
 *
 * The first item that plays defines the stream's tracks. Each item is played by a FilePlayer
 * whose outputs write into those tracks (`IngestSink`), as an encoder's packets would arrive.
 * All items share one timeline per track: the same SSRC, sequence numbers that continue, and
 * timestamps that continue from the media time played so far, so the stream track never re-bases
 * and players decode across item changes. Item k is due at T0 + the durations of the items
 * before it: each player is anchored at that instant (not at the previous one's 'end', which
 * comes a send-ahead early), so the broadcast keeps to the wall clock without drift.
 *
 * Items whose tracks do not match the first one's codecs (kind, encoding, clock rate, channels,
 * in the same order), or that cannot be read, are skipped with one log line. Other parameters
 * may differ (an H.264/H.265 item of another frame size or profile): MP4 files keep their
 * parameter sets in `avcC`/`hvcC`, not in band, so each item sends its own in band just before
 * its first frame, and players reconfigure at the switch. */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { PathPlaylist } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { createSampleReader } from '../media/mp4/sample-reader.js';
import { Mp4Error } from '../media/mp4/types.js';
import { openMedia } from '../media/open-media.js';
import {
  DEFAULT_WEIGHT,
  formatIssue,
  PlaylistError,
  PlaylistPicker,
  readPlaylist,
  readPlaylistConfig,
  type PickerItem,
  type PlayMode,
} from '../playlists/index.js';
import type { RtpPayload } from '../codecs/types.js';
import { MediaClock } from '../rtp/media-clock.js';
import { RtpOutput, type RtpOutputOptions } from '../rtp/output.js';
import { randomUint16, randomUint32 } from '../rtp/seq.js';
import type { RtpSink } from '../transport/types.js';
import { FilePlayer } from '../vod/file-player.js';
import { describeMovie, skippedSummary } from '../vod/movie-stream.js';
import { Pacer } from '../vod/pacer.js';
import type { VodTrack } from '../vod/types.js';
import { StreamTrack } from '../core/stream-track.js';
import type { Source, Stream } from '../core/stream.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { SourceError } from './source-error.js';
import { endWhenUnwatched } from './idle.js';

export class PlaylistSourceError extends SourceError {
  override readonly name: string = 'PlaylistSourceError';
}

export interface PlaylistSourceOptions {
  key: string;
  playlist: PathPlaylist;
  /** Real path of the media folder: relative items and `.playlist` files are read from it. */
  mediaRoot: string;
  registry: StreamRegistry;
  log: Logger;
  /** Seconds to go on with no viewers; absent, it runs until closed or played through. */
  idleTimeout?: number;
  graceTime: number;
  maxFrameBytes?: number;
  /** Seconds each item's packets are sent ahead of their time (default 0.25, as files). */
  sendAhead?: number;
}

/** A file track's packets into a live stream track: what `RtpOutput.send` writes is ingested as
 * an encoder's packet would be; RTCP (sender reports, BYE at each item's end) goes nowhere, the
 * stream track makes its own for viewers. */
export class IngestSink implements RtpSink {
  readonly kind = 'udp';
  readonly backlog = 0;
  constructor(readonly track: StreamTrack) {}

  sendRtp(packet: Buffer): void {
    this.track.ingest(packet);
  }

  sendRtcp(): void {}

  close(): void {}
}

/** One item ready to play. */
interface Opened {
  file: string;
  tracks: VodTrack[];
  duration: number;
}

/** One stream track and where its timeline stands. */
interface Lane {
  /** Into its stream track (`sink.track`). */
  sink: IngestSink;
  ssrc: number;
  /** RTP time of the broadcast's media instant 0. */
  base: number;
  /** Sequence number of the next packet. */
  seq: number;
}

const describeCodec = (t: VodTrack) => {
  const f = t.description.format;
  return `${t.kind} ${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`;
};

/** Why `tracks` cannot continue the timeline of `ref`, or undefined when they can. Other H.264/
 * H.265 parameters (frame size, profile) pass: each item sends its parameter sets in band
 * (`ItemOutput`). */
function mismatch(tracks: readonly VodTrack[], ref: readonly VodTrack[]): string | undefined {
  const mine = tracks.map(describeCodec).join(', ');
  const theirs = ref.map(describeCodec).join(', ');
  return mine === theirs ? undefined : `its tracks (${mine}) do not match the channel's (${theirs})`;
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

/** Opens a playlist item as the file player would; a string says why it cannot play. */
async function openItem(file: string): Promise<Opened | string> {
  try {
    const movie = await openMedia(file);
    const pres = describeMovie(movie);
    if (pres.tracks.length === 0) {
      const why = skippedSummary(pres.skipped);
      return `no playable track${why ? `: ${why}` : ''}`;
    }
    if (!(movie.duration > 0)) return 'it has no duration';
    return { file, tracks: pres.tracks, duration: movie.duration };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return 'missing (no such file)';
    return e instanceof Mp4Error ? `not a streamable movie: ${e.message}` : `cannot read it: ${err.message}`;
  }
}

/** The items, mode and no-repeat window, from a DSS `.playlist` (and its `.config`) or the
 * list written in the config. */
async function loadList(opts: PlaylistSourceOptions): Promise<{ items: PickerItem[]; mode: PlayMode; recent: number; name: string }> {
  const p = opts.playlist;
  const log = opts.log;
  if (typeof p !== 'string') {
    const items = p.items.map((i) =>
      typeof i === 'string' ? { file: resolve(opts.mediaRoot, i), weight: DEFAULT_WEIGHT } : { file: resolve(opts.mediaRoot, i.file), weight: i.weight },
    );
    return { items, mode: p.mode, recent: p.recent, name: 'list' };
  }
  const file = resolve(opts.mediaRoot, p);
  const configFile = join(dirname(file), `${basename(file, extname(file))}.config`);
  let mode: PlayMode = 'sequential_looped';
  let recent = 0;
  if (existsSync(configFile)) {
    const parsed = await readPlaylistConfig(configFile);
    if (parsed.errors.length) throw new PlaylistError(parsed.errors.map(formatIssue).join('; '));
    for (const w of parsed.warnings) log.info({ path: opts.key }, formatIssue(w));
    mode = parsed.config.playMode;
    recent = parsed.config.recent;
  }
  const list = await readPlaylist(file);
  for (const i of list.issues) log.warn({ path: opts.key }, formatIssue(i));
  return { items: list.entries.map((e) => ({ file: e.file, weight: e.weight })), mode, recent, name: file };
}

/** Reads the playlist, opens its first playable item, publishes the stream and starts the
 * broadcast. Throws PlaylistSourceError when the list cannot be read or nothing in it plays. */
export async function startPlaylistSource(opts: PlaylistSourceOptions): Promise<Stream> {
  const log = opts.log.child({ path: opts.key });
  let picker: PlaylistPicker;
  let list: Awaited<ReturnType<typeof loadList>>;
  try {
    list = await loadList(opts);
    picker = new PlaylistPicker({ items: list.items, mode: list.mode, recent: list.recent });
  } catch (e) {
    const status = e instanceof PlaylistError ? 415 : 500;
    throw new PlaylistSourceError(`playlist of '${opts.key}': ${(e as Error).message}`, status);
  }
  const b = new Broadcast(opts, log, picker, new Set(list.items.map((i) => i.file)).size);
  const first = await b.nextItem(undefined);
  if (!first) throw new PlaylistSourceError(`playlist of '${opts.key}': nothing in it plays (broadcast not active)`, 404);
  return b.start(first, list.name);
}

/** Consecutive skipped picks after which a broadcast gives up even if some file was never
 * drawn (weighted_random with bad luck). */
const MAX_SKIPS = 1000;
/** A switch noticed later than this (ms) re-anchors the broadcast instead of catching up in a
 * burst. */
const MAX_LATE_MS = 500;

class Broadcast {
  readonly #o: PlaylistSourceOptions;
  readonly #log: Logger;
  readonly #picker: PlaylistPicker;
  /** Different files in the list: a pass that failed this many has tried every one. */
  readonly #files: number;
  readonly #pacer: Pacer;
  /** Skip reasons already logged, by file: one line per file and reason, not one per pass. */
  readonly #reported = new Map<string, string>();
  #ref: readonly VodTrack[] | undefined;
  #lanes: Lane[] = [];
  #stream: Stream | undefined;
  #player: FilePlayer | undefined;
  #next: Promise<Opened | undefined> | undefined;
  #idle: NodeJS.Timeout | undefined;
  /** performance.now() ms at which the broadcast's media instant 0 is due. */
  #anchor = 0;
  /** Media seconds of the items played so far. */
  #elapsed = 0;
  #closed = false;

  constructor(opts: PlaylistSourceOptions, log: Logger, picker: PlaylistPicker, files: number) {
    this.#o = opts;
    this.#log = log;
    this.#picker = picker;
    this.#files = files;
    this.#pacer = new Pacer(20, (e) => {
      log.error({ err: (e as Error).stack ?? String(e) }, 'playlist player failed');
      this.#stream?.end('playlist player failed');
    });
  }

  /** The next item that plays, skipping (and logging) those that cannot; undefined when the
   * list has played through or a whole pass found nothing that plays. `ref` undefined: the
   * first item, which defines the channel's tracks. */
  async nextItem(ref: readonly VodTrack[] | undefined): Promise<Opened | undefined> {
    const failed = new Set<string>();
    for (let skips = 0; skips < MAX_SKIPS && failed.size < this.#files; skips++) {
      if (this.#closed) return undefined;
      const item = this.#picker.pick();
      if (!item) {
        this.#log.info('playlist played through');
        return undefined;
      }
      const opened = await openItem(item.file);
      const why = typeof opened === 'string' ? opened : ref ? mismatch(opened.tracks, ref) : undefined;
      if (why === undefined) return opened as Opened;
      failed.add(item.file);
      if (this.#reported.get(item.file) !== why) {
        this.#reported.set(item.file, why);
        this.#log.warn({ file: item.file, reason: why }, 'playlist item skipped');
      }
    }
    this.#log.error({ skipped: failed.size }, 'nothing in the playlist plays; the broadcast ends');
    return undefined;
  }

  start(first: Opened, name: string): Stream {
    const o = this.#o;
    this.#ref = first.tracks;
    const tracks = first.tracks.map(
      (t, i) =>
        new StreamTrack({
          id: i + 1,
          format: t.description.format,
          bitrateKbps: t.description.bitrateKbps,
          width: t.description.width,
          height: t.description.height,
          frameRate: t.description.frameRate,
          maxFrameBytes: o.maxFrameBytes,
          log: this.#log,
        }),
    );
    this.#lanes = tracks.map((track) => ({ sink: new IngestSink(track), ssrc: randomUint32(), base: randomUint32(), seq: randomUint16() }));
    const source: Source = { kind: 'playlist', label: `playlist ${o.key}`, close: (reason) => this.#close(reason) };
    const stream = o.registry.publish(o.key, tracks, source, o.graceTime);
    this.#stream = stream;
    this.#watchIdle(stream);
    this.#log.info({ playlist: name, tracks: first.tracks.map(describeCodec).join(', ') }, 'playlist broadcast started');
    this.#anchor = performance.now();
    this.#play(first);
    return stream;
  }

  #play(item: Opened): void {
    const now = performance.now();
    let startAt = this.#anchor + this.#elapsed * 1000;
    if (now - startAt > MAX_LATE_MS) {
      this.#log.warn({ file: item.file, lateMs: Math.round(now - startAt) }, 'playlist fell behind; the broadcast goes on from now');
      this.#anchor += now - startAt;
      startAt = now;
    }
    const elapsed = this.#elapsed;
    const outputs = item.tracks.map((vod, i) => {
      const l = this.#lanes[i];
      const f = l.sink.track.format;
      const clock = new MediaClock(f.clockRate, l.base + Math.round(elapsed * f.clockRate));
      return new ItemOutput({ sink: l.sink, payloadType: f.payloadType, clock, cname: 'rivulet', ssrc: l.ssrc, seq: l.seq }, parameterSetPayloads(vod));
    });
    const player = new FilePlayer({
      tracks: item.tracks.map((vod, i) => ({ vod, output: outputs[i] })),
      duration: item.duration,
      reader: createSampleReader(item.file),
      pacer: this.#pacer,
      log: this.#log,
      sendAhead: this.#o.sendAhead,
    });
    this.#player = player;
    player.once('end', (reason) => {
      player.close();
      for (const [i, out] of outputs.entries()) this.#lanes[i].seq = out.nextSeq;
      this.#elapsed = elapsed + item.duration;
      if (reason !== 'end of stream') this.#log.warn({ file: item.file, reason }, 'playlist item stopped early');
      void this.#switch();
    });
    player.play({ start: 0 }, startAt);
    this.#log.info({ file: item.file, duration: item.duration, at: Math.round(elapsed * 1000) / 1000 }, 'playlist item playing');
    // Open the next item while this one plays, so the switch does not wait for the disk.
    this.#next = this.nextItem(this.#ref);
  }

  async #switch(): Promise<void> {
    const next = await this.#next;
    if (this.#closed) return;
    if (next) this.#play(next);
    else this.#stream?.end(this.#picker.done ? 'playlist played through' : 'nothing in the playlist plays');
  }

  #watchIdle(stream: Stream): void {
    this.#idle = endWhenUnwatched(stream, this.#o.idleTimeout);
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idle) clearInterval(this.#idle);
    this.#player?.close(reason);
    this.#pacer.stop();
    this.#log.info({ reason }, 'playlist broadcast stopped');
  }
}
