/** A playlist channel while it runs: what plays next (the `Lineup`), its items on one timeline
 * (`Timeline`), and what it tells and takes from the outside at each item change.
 *
 * At each item start it writes `.current` and `.upcoming`, its state file and a line in its play
 * log, and sets the stream's now-playing title (`Stream.setMetadata`, from the file's tags).
 * About a second before each item ends (PREPARE_MS) it gets the next one ready: a reloaded setup
 * is applied, `.replacelist`/`.insertlist`/`.stoplist` are taken, the next pick is drawn and
 * opened with its tags read (items that cannot play, or whose codecs do not match the channel's,
 * are skipped with one log line each), so the switch does not wait for the disk. While an item
 * plays its position is saved every SAVE_MS, and once more as the channel closes. The scheduled
 * end, the idle timeout, a stop, a sequential list played through, or nothing left that plays end
 * the stream with the reason. */
import { join } from 'node:path';
import type { PathPlaylist, SourceSpec } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import {
  describeTaken,
  formatChannelState,
  formatCurrent,
  formatUpcoming,
  LatestFileWriter,
  MAX_ENTRIES,
  PlayLog,
  resolveSchedule,
  sameScheduleTime,
  scheduleState,
  takeControlFiles,
  type ChannelState,
  type Lineup,
  type LineupState,
  type Schedule,
} from '../../playlists/index.js';
import { Pacer } from '../../vod/pacer.js';
import type { VodTrack } from '../../vod/types.js';
import { streamTracksFrom } from '../../core/stream-tracks.js';
import type { Source, Stream } from '../../core/stream.js';
import { endWhenUnwatched } from '../idle.js';
import { describeCodec, mismatch, openItem, type Opened } from './item.js';
import { OncePerConfiguration } from './once.js';
import type { PlaylistSourceOptions } from './options.js';
import type { ChannelSetup } from './setup.js';
import { Timeline, type Playing } from './timeline.js';

/** How long before an item's end the next one is got ready (control files read, picked,
 * opened): a control file must be in place this long before the change it is meant for. */
export const PREPARE_MS = 1000;
/** How often the position of the item playing is saved. */
export const SAVE_MS = 10_000;
/** Consecutive skipped picks after which a broadcast gives up even if some file was never
 * drawn (weighted_random with bad luck). */
const MAX_SKIPS = 1000;
/** A saved position this close to its item's end is not resumed: the next item plays. */
const NEAR_END_S = 1;
/** Items skipped, told once per file and reason (log and play log) for each path and
 * configuration, across the tries of a channel that cannot start. */
const skipsTold = new OncePerConfiguration();
/** `finished` of a sequential list that played through: its state file goes, so a start plays
 * it from its top. */
const PLAYED_THROUGH = 'played through';
/** The channel's tick while someone watches: as file viewers are paced. */
const WATCHED_TICK_MS = 20;
/** Its tick while nobody does. A wakeup costs more than the little it sends (an idle channel at
 * 20 ms took 1.4 % of a core, at 100 ms 0.5 %); what it sends stays within the send-ahead, so
 * the stream's keyframe cache is as fresh for the first viewer, who switches the tick back. */
const UNWATCHED_TICK_MS = 100;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Seconds to the millisecond, never below 0 (a position before an item's first packet is due). */
const seconds3 = (s: number) => Math.round(Math.max(0, s) * 1000) / 1000;

/** The channel's play log `name` in `folder` (no name: logging disabled), the folder read at each
 * write; a write that fails is logged once. */
export function openPlayLog(folder: PlaylistSourceOptions['logFolder'], name: string | undefined, log: Logger): PlayLog | undefined {
  if (name === undefined) return undefined;
  const file = typeof folder === 'string' ? join(folder, name) : () => join(folder(), name);
  return new PlayLog(file, (e, at) => log.warn({ file: at, err: e.message }, 'cannot write the playlist log'));
}

export interface ChannelOptions
  extends Pick<PlaylistSourceOptions, 'key' | 'playlist' | 'registry' | 'idleTimeout' | 'graceTime' | 'maxFrameBytes' | 'sendAhead' | 'readCache' | 'configuredAt' | 'logFolder'> {
  /** The channel's logger (bound to its path). */
  log: Logger;
  setup: ChannelSetup;
  lineup: Lineup;
  stateFile: string;
  /** The sdp_reference_movie's tracks, which define the channel's; undefined: the first item's. */
  reference?: readonly VodTrack[];
  /** Reads the setup again for `reload`. */
  readSetup: (playlist: PathPlaylist) => Promise<ChannelSetup>;
}

/** The next thing a channel does: play an item (from a media second), or end (`finished`: for
 * good, Source.finished). */
export type Step = { item: Opened; from: number; inserted: boolean } | { end: string; finished?: string };

/** The end at the scheduled time: for good, as the schedule stays where it is until the config
 * changes. */
export const SCHEDULED_END = { end: 'broadcast ended at its scheduled time', finished: 'ended at its scheduled time' } as const;

export class Channel {
  readonly #o: ChannelOptions;
  readonly #log: Logger;
  readonly #lineup: Lineup;
  readonly #pacer: Pacer;
  readonly #state: LatestFileWriter;
  readonly #current: LatestFileWriter;
  readonly #upcoming: LatestFileWriter;
  /** Files whose write failure was logged. */
  readonly #writeFailed = new Set<string>();
  #setup: ChannelSetup;
  #playlist: PathPlaylist;
  #configuredAt: number;
  #schedule: Schedule;
  #playLog: PlayLog | undefined;
  #ref: readonly VodTrack[] | undefined;
  #timeline: Timeline | undefined;
  #stream: Stream | undefined;
  #item: { step: Extract<Step, { item: Opened }>; playing: Playing } | undefined;
  /** The lineup as of the item playing, before the next was drawn: what a restart resumes. */
  #snapshot: LineupState;
  /** What plays after the item playing, as `.upcoming` last said. */
  #upcomingShown: string[] = [];
  #next: Promise<Step> | undefined;
  /** A setup read by `reload` (at Unix ms `at`), applied at the next item. */
  #pending: { setup: ChannelSetup; at: number } | undefined;
  #reloads = 0;
  /** The `.stoplist` taken: the broadcast ends once what it inserted has played. */
  #stopBy: string | undefined;
  /** Source.finished. */
  #finished: string | undefined;
  /** The position as the channel closed, for a state saved after that. */
  #closedPosition: number | undefined;
  /** The play log's line for a resumed item, written after the start line. */
  #resumed: string | undefined;
  #prepareTimer: NodeJS.Timeout | undefined;
  #saveTimer: NodeJS.Timeout | undefined;
  #endTimer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: ChannelOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#lineup = opts.lineup;
    this.#setup = opts.setup;
    this.#playlist = opts.playlist;
    this.#configuredAt = opts.configuredAt;
    this.#schedule = resolveSchedule(opts.setup.times, opts.configuredAt);
    this.#ref = opts.reference;
    this.#snapshot = opts.lineup.exportState();
    const writer = (file: string) => new LatestFileWriter(file, (e) => this.#writeFailure(file, e));
    this.#state = writer(opts.stateFile);
    this.#current = writer(opts.setup.control.current);
    this.#upcoming = writer(opts.setup.control.upcoming);
    this.#playLog = openPlayLog(opts.logFolder, opts.setup.logName, this.#log);
    // Unwatched until a reader comes: see readersChanged.
    this.#pacer = new Pacer(UNWATCHED_TICK_MS, (e) => {
      this.#log.error({ err: (e as Error).stack ?? String(e) }, 'playlist player failed');
      this.#stream?.end('playlist player failed');
    });
  }

  /** The item to start with: the one a restart saved (from its position when known), else the
   * first pick that plays. */
  async first(saved: ChannelState['current'] | undefined): Promise<Step> {
    if (saved) {
      const step = await this.#resume(saved);
      if (step) return step;
    }
    return this.#pick();
  }

  /** Publishes the stream and plays `first`. */
  start(first: Extract<Step, { item: Opened }>): Stream {
    const o = this.#o;
    const ref = (this.#ref ??= first.item.tracks);
    const tracks = streamTracksFrom(
      ref.map((t) => t.description),
      { maxFrameBytes: o.maxFrameBytes, log: this.#log },
    );
    this.#timeline = new Timeline({ tracks, pacer: this.#pacer, log: this.#log, sendAhead: o.sendAhead, readCache: o.readCache });
    const finished = () => this.#finished;
    const source: Source = {
      kind: 'playlist',
      label: `playlist ${o.key}`,
      get finished() {
        return finished();
      },
      close: (reason) => this.#close(reason),
      reload: (spec) => this.reload(spec),
      status: () => this.status(),
      readersChanged: (n) => {
        this.#pacer.intervalMs = n > 0 ? WATCHED_TICK_MS : UNWATCHED_TICK_MS;
      },
    };
    const stream = o.registry.publish(o.key, tracks, source, o.graceTime);
    this.#stream = stream;
    this.#idle = endWhenUnwatched(stream, o.idleTimeout);
    this.#saveTimer = setInterval(() => this.#save(), SAVE_MS);
    this.#saveTimer.unref();
    this.#armEndTimer();
    this.#log.info({ playlist: this.#setup.name, tracks: ref.map(describeCodec).join(', ') }, 'playlist broadcast started');
    this.#playLog?.info(`broadcast started: ${o.key} (${this.#setup.name})`);
    if (this.#resumed) this.#playLog?.info(this.#resumed);
    this.#play(first);
    return stream;
  }

  /** Takes a changed setting (SIGHUP) at the next item: the list, mode, window, schedule and
   * log are read again (a DSS playlist's files too) and take effect when the next item is got
   * ready; the history and the place in the list carry over. False (a new source is needed)
   * when the setting is no playlist, names another `.playlist` file (another channel's control
   * files, config and log), turns a native list into a file or back, or changes `autostart`
   * (how the channel is started and stopped). */
  reload(spec: SourceSpec): boolean {
    const next = spec.scheme === 'playlist' ? spec.playlist : undefined;
    const now = this.#playlist;
    if (this.#closed || next === undefined || typeof next !== typeof now) return false;
    if (typeof next === 'string' ? next !== now : typeof now !== 'string' && next.autostart !== now.autostart) return false;
    this.#playlist = next;
    const id = ++this.#reloads;
    // What a moved `*N` counts from: this reload, as for the PathManager.
    const at = Date.now();
    this.#o.readSetup(next).then(
      (setup) => {
        if (this.#closed || id !== this.#reloads) return;
        this.#pending = { setup, at };
        this.#log.debug({ playlist: setup.name }, 'playlist read again; it applies from the next item');
      },
      (e: unknown) => this.#log.warn({ err: (e as Error).message }, 'playlist reload failed; the channel goes on with what it had'),
    );
    return true;
  }

  /** What plays now and next, as plain JSON. */
  status(): Record<string, unknown> {
    const item = this.#item;
    const position = this.#timeline?.position();
    return {
      current: item?.step.item.file ?? null,
      position: position === undefined ? null : seconds3(position),
      itemStartedAt: item ? new Date(Date.now() - (performance.now() - item.playing.startAt)).toISOString() : null,
      upcoming: this.#upcomingShown,
      mode: this.#lineup.mode,
      items: this.#lineup.items,
    };
  }

  async #resume(saved: NonNullable<ChannelState['current']>): Promise<Step | undefined> {
    const { file } = saved;
    if (!saved.inserted && !this.#lineup.has(file)) {
      this.#log.info({ file }, 'the item playing before the restart is no longer in the list; the next one plays');
      return undefined;
    }
    const opened = await openItem(file);
    const why = typeof opened === 'string' ? opened : this.#ref && mismatch(opened.tracks, this.#ref);
    if (typeof opened === 'string' || why) {
      this.#skipped(file, why ?? 'cannot play');
      return undefined;
    }
    const p = saved.position;
    if (p !== null && p >= opened.duration - NEAR_END_S) {
      this.#log.info({ file, position: seconds3(p) }, 'the item playing before the restart had nearly ended; the next one plays');
      return undefined;
    }
    const from = p ?? 0;
    this.#log.info({ file, position: seconds3(from) }, 'playlist resumed at the item it was playing');
    this.#resumed = `resumed at ${file} from ${from.toFixed(3)} s`;
    return { item: opened, from, inserted: saved.inserted };
  }

  /** The next pick that plays, skipping (and logging) those that cannot. */
  async #pick(): Promise<Step> {
    const failed = new Set<string>();
    for (let skips = 0; skips < MAX_SKIPS && failed.size < this.#lineup.files; skips++) {
      if (this.#closed) return { end: 'closed' };
      if (this.#stopBy !== undefined && this.#lineup.inserted === 0) return { end: `stopped by ${this.#stopBy}`, finished: `stopped by ${this.#stopBy}` };
      const pick = this.#lineup.next();
      if (!pick) {
        this.#log.info('playlist played through');
        return { end: 'playlist played through', finished: PLAYED_THROUGH };
      }
      const opened = await openItem(pick.file);
      const why = typeof opened === 'string' ? opened : this.#ref ? mismatch(opened.tracks, this.#ref) : undefined;
      if (why === undefined) return { item: opened as Opened, from: 0, inserted: pick.inserted };
      if (!pick.inserted) failed.add(pick.file);
      this.#skipped(pick.file, why);
    }
    this.#log.error({ skipped: failed.size }, 'nothing in the playlist plays; the broadcast ends');
    return { end: 'nothing in the playlist plays' };
  }

  #skipped(file: string, why: string): void {
    if (!skipsTold.first(this.#o.key, this.#o.configuredAt, `${file}\0${why}`)) return;
    this.#playLog?.skipped(file, why);
    this.#log.warn({ file, reason: why }, 'playlist item skipped');
  }

  #play(step: Extract<Step, { item: Opened }>): void {
    const { item, from } = step;
    const playing = this.#timeline!.play(item, from, (reason) => {
      if (reason !== 'end of stream') this.#log.warn({ file: item.file, reason }, 'playlist item stopped early');
      // Played through: a restart from here goes on with the next.
      this.#item = undefined;
      void this.#switch();
    });
    this.#item = { step, playing };
    // What listeners are told plays (ICY StreamTitle, whatever reads it), from the file's tags.
    this.#stream?.setMetadata({ title: item.title });
    this.#snapshot = this.#lineup.exportState();
    this.#log.info({ file: item.file, duration: item.duration, from: seconds3(playing.start), inserted: step.inserted }, 'playlist item playing');
    this.#playLog?.played(item.file);
    void this.#current.write(formatCurrent(item.file));
    this.#showUpcoming();
    this.#save();
    const wait = Math.max(0, playing.endAt - PREPARE_MS - performance.now());
    this.#prepareTimer = setTimeout(() => void this.#prepare(), wait);
    this.#prepareTimer.unref();
  }

  /** Gets the next step ready (once). */
  #prepare(): Promise<Step> {
    if (this.#prepareTimer) clearTimeout(this.#prepareTimer);
    this.#prepareTimer = undefined;
    return (this.#next ??= this.#prepareNext().catch((e: unknown) => {
      this.#log.error({ err: (e as Error).stack ?? String(e) }, 'getting the next playlist item ready failed');
      return { end: 'playlist failed' };
    }));
  }

  async #prepareNext(): Promise<Step> {
    if (this.#closed) return { end: 'closed' };
    const reloaded = this.#applyPending();
    // Only a reload moves the schedule under a running channel (the end timer keeps the end). A
    // start moved later does not end it: a reload cannot un-start a broadcast on the air.
    if (scheduleState(this.#schedule, Date.now()).state === 'after') return SCHEDULED_END;
    const taken = await this.#takeControlFiles();
    if (taken || reloaded) {
      // What a restart from here resumes, and what plays next, as the files or the reload just
      // changed them; saved now, as the files taken are gone.
      this.#snapshot = this.#lineup.exportState();
      if (this.#closed) {
        // Closed while the files were read: its state was saved without them.
        if (taken) this.#state.writeNow(this.#stateText());
        return { end: 'closed' };
      }
      this.#showUpcoming();
      if (taken) this.#save();
    }
    return this.#pick();
  }

  async #switch(): Promise<void> {
    const next = await this.#prepare();
    this.#next = undefined;
    if (this.#closed) return;
    try {
      if ('item' in next) this.#play(next);
      else this.#finish(next.end, next.finished);
    } catch (e) {
      this.#log.error({ err: (e as Error).stack ?? String(e) }, 'the playlist item change failed; the broadcast ends');
      this.#finish('playlist failed');
    }
  }

  #finish(reason: string, finished?: string): void {
    if (this.#closed) return;
    this.#finished = finished;
    this.#stream?.end(reason);
  }

  /** Takes the control files present (none once the channel closes); returns how many. */
  async #takeControlFiles(): Promise<number> {
    const { taken, refused } = await takeControlFiles(this.#setup.control, this.#setup.controlRoot, () => this.#closed);
    for (const r of refused) this.#log.warn({ file: r.file, err: r.error }, `playlist ${r.kind} not taken`);
    for (const t of taken) {
      const files = t.entries.map((e) => e.file);
      if (t.kind === 'replacelist') {
        if (files.length === 0) {
          this.#log.warn({ file: t.file }, 'playlist replacelist has no items; the list stays');
          continue;
        }
        const { recent } = this.#lineup.replace(t.entries);
        if (recent < this.#setup.list.recent) this.#log.info({ recent }, 'the no-repeat window is smaller for the replacement list');
      } else {
        const n = this.#lineup.insert(files);
        if (n < files.length) {
          const lost = `${files.length - n} of its items not inserted: at most ${MAX_ENTRIES} inserted items wait`;
          this.#log.warn({ file: t.file }, `playlist ${t.kind}: ${lost}`);
          this.#playLog?.info(`${t.file}: ${lost}`);
        }
        if (t.kind === 'stoplist') this.#stopBy = t.file;
      }
      const line = describeTaken(t);
      this.#log.info({ file: t.file }, `playlist ${line}`);
      this.#playLog?.info(line);
    }
    return taken.length;
  }

  /** A setup read by `reload`: its list (and mode, window, upcoming size), schedule and log
   * take over now; the channel's tracks stay those it started with. True when one was applied. */
  #applyPending(): boolean {
    const pending = this.#pending;
    if (!pending) return false;
    const s = pending.setup;
    this.#pending = undefined;
    try {
      this.#lineup.reconfigure(s.list, s.maxUpcoming);
    } catch (e) {
      this.#log.warn({ err: (e as Error).message }, 'the reloaded playlist cannot be used; the channel goes on with what it had');
      return false;
    }
    const before = this.#setup;
    const changed = s.list.signature !== before.list.signature || s.maxUpcoming !== before.maxUpcoming;
    if (s.reference !== before.reference) {
      this.#log.warn({ reference: s.reference ?? null }, 'sdp_reference_movie changed: the channel keeps its tracks until it starts again');
    }
    const moved = !sameScheduleTime(s.times.start, before.times.start) || !sameScheduleTime(s.times.end, before.times.end);
    if (moved) {
      this.#configuredAt = pending.at;
      this.#schedule = resolveSchedule(s.times, this.#configuredAt);
      this.#armEndTimer();
    }
    if (s.logName !== before.logName) this.#playLog = openPlayLog(this.#o.logFolder, s.logName, this.#log);
    this.#setup = s;
    if (changed || moved) this.#log.info({ playlist: s.name, items: s.list.items.length, mode: s.list.mode }, 'playlist reloaded: the change plays from the next item');
    return true;
  }

  #armEndTimer(): void {
    if (this.#endTimer) clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    const end = this.#schedule.endMs;
    if (end === undefined || this.#closed) return;
    const wait = end - Date.now();
    // Past already: a reload moved it; the next item change ends the broadcast.
    if (wait <= 0) return;
    this.#endTimer = setTimeout(() => (wait > MAX_TIMER_MS ? this.#armEndTimer() : this.#finish(SCHEDULED_END.end, SCHEDULED_END.finished)), Math.min(wait, MAX_TIMER_MS));
    this.#endTimer.unref();
  }

  #stateText(): string {
    const item = this.#item;
    const position = this.#closed ? this.#closedPosition : this.#timeline?.position();
    const state: ChannelState = {
      version: 1,
      key: this.#o.key,
      savedAt: new Date().toISOString(),
      // Before its first packet is due an item's position is below its start (it was started a
      // send-ahead early).
      current: item ? { file: item.step.item.file, inserted: item.step.inserted, position: position === undefined ? null : seconds3(position) } : null,
      lineup: this.#snapshot,
    };
    return formatChannelState(state);
  }

  /** Writes `.upcoming`: what the lineup holds before the next pick is drawn from it; after a
   * `.stoplist`, only what plays before the stop. */
  #showUpcoming(): void {
    const next = this.#lineup.upcoming();
    this.#upcomingShown = this.#stopBy === undefined ? next : next.slice(0, this.#lineup.inserted);
    void this.#upcoming.write(formatUpcoming(this.#upcomingShown));
  }

  #save(): void {
    void this.#state.write(this.#stateText());
  }

  #writeFailure(file: string, e: Error): void {
    if (this.#writeFailed.has(file)) return;
    this.#writeFailed.add(file);
    this.#log.warn({ file, err: e.message }, 'cannot write a playlist file; the broadcast goes on');
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#prepareTimer, this.#endTimer]) if (t) clearTimeout(t);
    for (const t of [this.#saveTimer, this.#idle]) if (t) clearInterval(t);
    // Taken before the player stops, so the position saved is where it was.
    this.#closedPosition = this.#timeline?.position();
    const text = this.#stateText();
    this.#timeline?.close(reason);
    this.#pacer.stop();
    // Blocking, so they land even when the process exits right after (shutdown).
    if (this.#finished === PLAYED_THROUGH) this.#state.removeNow();
    else this.#state.writeNow(text);
    this.#current.removeNow();
    this.#upcoming.removeNow();
    this.#playLog?.info(`broadcast stopped: ${reason}`);
    this.#log.info({ reason }, 'playlist broadcast stopped');
  }
}
