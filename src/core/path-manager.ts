/** What lives at a path, and what applies there. Protocol-neutral: a path is the stream key
 * (`live/cam1`, no leading slash, no `.sdp`), whoever asks.
 *
 * `resolve` answers a request path with a file presentation (each viewer gets its own player), a
 * live Stream (published by an encoder, or started from a source: an `.sdp` file beside the media,
 * or the source a `paths:` entry configures), or nothing with the reason. Failures are the lower
 * layers' typed errors, never a protocol's: `PathError` (no such thing, outside the media folder,
 * not streamable) and `SourceError` (a source that cannot start, with its status); each protocol
 * maps them once.
 *
 * `settingsFor` merges the `paths:` config section (exact names or `~regex` keys) over the global
 * `live:` settings. Configured sources (`paths:` and the playlists of `playlists.folder`) are
 * started through the starters table it is handed (src/sources/kinds.ts), so a new kind of source
 * touches neither this file nor any protocol; an operator lists, stops and starts them with
 * `sources`, `stopSource` and `startSource` (the control socket, later the admin). */
import {
  configuredSource,
  pathPattern,
  redactUrl,
  sourceTimings,
  type Config,
  type PathPlaylist,
  type PathSettings as PathEntry,
  type SourceScheme,
  type SourceSpec,
  type SourceTimings,
} from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { openMedia } from '../media/open-media.js';
import { Mp4Error, type Mp4Movie } from '../media/mp4/types.js';
import { describeMovie, skippedSummary } from '../vod/movie-stream.js';
import { PathError } from '../vod/path-error.js';
import { resolveMediaFile } from '../vod/resolve-path.js';
import type { VodPresentation } from '../vod/types.js';
import type { FolderPlaylist } from '../playlists/index.js';
import type { CoreEvents } from './events.js';
import { SourceControlError, type SourceInfo } from './source-control.js';
import type { Source } from './source.js';
import type { Stream } from './stream.js';
import { streamKey, type StreamRegistry } from './stream-registry.js';

/** The live settings that apply at one path. */
export interface PathSettings {
  /** Addresses/CIDRs that may publish here without credentials. */
  publishAllow: string[];
  /** Seconds viewers wait for a vanished publisher before BYE. */
  graceTime: number;
  /** A second publisher takes the path over (else it is refused). */
  takeover: boolean;
  /** The path whose audio ICY listeners hear while this one's source is away (paths.<name>.fallback). */
  fallback?: string;
  /** The `paths:` key that matched (`live/cam1` or `~^live/.*$`), for logs; undefined when only
   * the global `live:` settings apply. */
  entry?: string;
}

/** The config key a setting came from, for logs: `paths.<entry>.<name>` or `live.<name>`. */
export function settingName(s: PathSettings, name: 'publishAllow' | 'graceTime' | 'takeover'): string {
  return s.entry === undefined ? `live.${name}` : `paths.${s.entry}.${name}`;
}

/** What lives at a request path. */
export type PathTarget =
  /** A stored file: each viewer gets its own player over it. */
  | { kind: 'file'; key: string; file: string; presentation: VodPresentation }
  /** A live stream, active (a waiting one is refused with PathError not-found). */
  | { kind: 'live'; key: string; stream: Stream }
  /** Nothing: no stream, no source, no file; `reason` is the file layer's not-found. */
  | { kind: 'none'; key: string; reason: PathError };

/** What a source starter is given. */
export interface SourceStart {
  /** The path it feeds (stream key). */
  key: string;
  /** What follows `<scheme>:` in `paths.<key>.source` (for `sdp`, the file); an `.sdp` file
   * beside the media is started as `sdp` with its absolute path. */
  target: string;
  /** Real path of the media folder, which relative targets are read from. */
  mediaRoot: string;
  registry: StreamRegistry;
  log: Logger;
  /** Seconds without viewers before it stops itself; undefined: it runs until closed. */
  idleTimeout: number | undefined;
  /** The path's graceTime. */
  graceTime: number;
  /** live.maxFrameBytes for its tracks. */
  maxFrameBytes: number;
  /** `playlist` only: `paths.<key>.playlist` as the schema read it. */
  playlist?: PathPlaylist;
  /** Unix ms when this source was configured (server start, or the reload that added or changed
   * it): what a schedule of `*N` (N seconds after the start) counts from. */
  configuredAt: number;
  /** state.folder (absolute): where a source keeps what must survive a restart. */
  stateFolder: string;
  /** logs.folder (absolute), read at each use (it can change while the server runs): where a
   * source writes a log of its own (a playlist's). */
  logFolder: () => string;
  /** The path's `paths:` entry, when it has one: a starter reads its own keys there (`sdp`,
   * `sourceTransport`). */
  entry?: PathEntry;
  /** How a `paths.<key>.source` starts, stops and retries (`sourceTimings`), defaults applied. */
  timings?: SourceTimings;
  /** The relay servers the request that started it came through (its Via), first first; empty
   * when the server started it. A relay names them in its own requests, so that a chain leading
   * back to any of them is refused there. */
  hops: readonly string[];
  /** Aborted when the configured source is removed, changed or stopped by the operator, or the
   * server stops: what the source keeps between its starts (a relay's figures) is let go then.
   * Absent for an `.sdp` file beside the media. */
  signal?: AbortSignal;
  /** Called by a source that stopped feeding on its own (its far end dropped) while its stream
   * waits graceTime for it, before it detaches: an always-on source, or an on-demand one whose
   * viewers wait, is started again at `retryAt` (Unix ms; default: its back-off). */
  dropped(retryAt?: number): void;
}

/** Starts one kind of source: binds what it needs and publishes its stream in the registry, or
 * throws SourceError. */
export type SourceStarter = (opts: SourceStart) => Promise<Stream>;

/** One starter per kind a `paths:` entry may name (config's SOURCE_FORMS). */
export type SourceStarters = Readonly<Record<SourceScheme, SourceStarter>>;

export interface PathManagerOptions {
  /** The running config, read at each use so a reload that replaces `paths` reaches new
   * publishers at once. */
  config: () => Pick<Config, 'live' | 'paths' | 'vod' | 'state' | 'logs'>;
  /** Real path of the media folder. */
  mediaRoot: string;
  /** Live streams by path. */
  registry: StreamRegistry;
  /** Where ended streams are reported: an always-on configured source restarts from there. */
  events: CoreEvents;
  log: Logger;
  /** How each kind of configured source starts (the sources layer's SOURCE_STARTERS). */
  starters: SourceStarters;
}

type Entry = Config['paths'][string];

interface Compiled {
  source: Config['paths'];
  exact: Map<string, Entry>;
  patterns: { key: string; re: RegExp; entry: Entry }[];
}

/** What a configured source is, as the config says it (`paths:` or `playlists.folder`). */
interface Wanted {
  /** The key it is configured with (`source` or `playlist`), for messages. */
  setting: 'source' | 'playlist';
  /** The config key it comes from, for messages: `paths.<key>.<setting>` or `playlists.folder`. */
  origin: string;
  /** The value as written, a URL's password masked: for logs, messages and the operator. */
  text: string;
  /** Everything of the entry the source depends on, to notice a change on reload. */
  fingerprint: string;
  spec: SourceSpec;
  onDemand: boolean;
  /** The exact `paths:` entry it comes from (none for the folder's playlists). */
  entry?: Entry;
  /** A `source:`'s timings (none for playlists). */
  timings?: SourceTimings;
}

/** A configured source as last applied (`applySources`). */
interface Configured extends Wanted {
  /** Unix ms of the start or reload that configured it as it is (SourceStart.configuredAt). */
  configuredAt: number;
  /** The stream it last started. */
  stream?: Stream;
  /** Pending start of an always-on source (a retry, or its scheduled start). */
  timer?: NodeJS.Timeout;
  /** Unix ms the pending start is due, and whether it is the source's own schedule. */
  due?: { at: number; scheduled: boolean };
  /** Next restart delay of an always-on source: doubles while it fails to start. */
  delayMs: number;
  /** Stopped by the operator: nothing starts it until `startSource` (not kept across restarts). */
  held: boolean;
  /** Why it ended for good (Source.finished: a playlist's `.stoplist`, played through, past its
   * end): held like a stop until `startSource` or a reload. */
  finished?: string;
  /** The source of the stream it last started: a stream forgets its source as it ends, and
   * `#ended` asks it whether it finished. */
  source?: Source;
  /** Aborted when this configuration of the source ends (SourceStart.signal). */
  abort: AbortController;
}

/** First and longest wait, seconds, before an always-on source without `sourceRetry` (a
 * playlist) is started again. */
const RESTART = { min: 1, max: 30 } as const;
/** Longest single timer: setTimeout takes a signed 32-bit delay (about 24.8 days) and fires at
 * once beyond it, so a start further away is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a source's failure says to try again (SourceError.retryAt, Unix ms), read by its shape so
 * the core need not import the sources layer; undefined when it says nothing usable. */
function retryAtOf(e: unknown): number | undefined {
  const at = typeof e === 'object' && e !== null ? (e as { retryAt?: unknown }).retryAt : undefined;
  return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
}

/** Why a source's failure means it ended for good (a playlist past its end), by its shape. */
function finishedOf(e: unknown): string | undefined {
  const f = typeof e === 'object' && e !== null ? (e as { finished?: unknown }).finished : undefined;
  return typeof f === 'string' ? f : undefined;
}

/** Whether a source's failure names its own back-off (SourceError.retry), not a schedule. */
function isBackoff(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retry?: unknown }).retry === 'backoff';
}

const iso = (ms: number) => new Date(ms).toISOString();

export class PathManager {
  readonly #d: PathManagerOptions;
  /** The regexes of the `paths` object last seen, compiled once per config (not per request). */
  #compiled: Compiled | undefined;
  /** Presentations by parsed movie, so a file is described (and its skipped tracks logged) once. */
  readonly #presentations = new WeakMap<Mp4Movie, VodPresentation>();
  /** Sources being started, by path: viewers asking at once share one start. */
  readonly #starting = new Map<string, Promise<Stream>>();
  /** Configured sources by exact path name. */
  readonly #sources = new Map<string, Configured>();
  /** The playlists of playlists.folder as last scanned (applySources). */
  #folder: readonly FolderPlaylist[] = [];
  #closed = false;

  constructor(opts: PathManagerOptions) {
    this.#d = opts;
    opts.events.on('path.unpublished', ({ path }) => this.#ended(path));
  }

  /** The settings for `path`: an exact `paths:` key wins, else the first `~regex` key (in file
   * order) that matches, else none; its keys override the global `live:` ones. */
  settingsFor(path: string): PathSettings {
    const { live, paths } = this.#d.config();
    const found = this.#match(paths, path);
    const e = found?.entry;
    return {
      publishAllow: e?.publishAllow ?? live.publishAllow,
      graceTime: e?.graceTime ?? live.graceTime,
      takeover: e?.takeover ?? live.takeover,
      ...(e?.fallback === undefined ? {} : { fallback: e.fallback }),
      entry: found?.key,
    };
  }

  /** What lives at the path of these URL segments, starting its source if one is configured or an
   * `.sdp` file describes it. A live stream wins over a file of the same name. */
  async resolve(segments: string[], opts: { hops?: readonly string[] } = {}): Promise<PathTarget> {
    const key = streamKey(segments);
    const stream = await this.#live(segments, key, opts.hops ?? []);
    if (stream) {
      if (stream.state !== 'active') throw new PathError('not-found', `broadcast '${key}' is not active`);
      return { kind: 'live', key, stream };
    }
    try {
      return { kind: 'file', key, ...(await this.#file(segments)) };
    } catch (e) {
      if (e instanceof PathError && e.kind === 'not-found') return { kind: 'none', key, reason: e };
      throw e;
    }
  }

  /** Whether `resolve` would find something to stream here, starting nothing: a live stream, a
   * configured source, an `.sdp` file, or a file with a playable track. */
  async has(segments: string[]): Promise<boolean> {
    if (segments.length === 0) return false;
    const key = streamKey(segments);
    const running = this.#d.registry.get(key);
    if ((running && running.state !== 'ended') || this.#sources.has(key)) return true;
    if ((await this.#sdpFile(segments)) !== undefined) return true;
    if (isSdpName(segments)) return false;
    try {
      await this.#file(segments);
      return true;
    } catch (e) {
      if (e instanceof PathError && (e.kind === 'not-found' || e.kind === 'unsupported')) return false;
      throw e;
    }
  }

  /** Whether a source is configured at `key` (`paths.<key>.source` or a playlist), running or
   * not: protocols that only serve live paths ask this before starting anything. */
  isConfigured(key: string): boolean {
    return this.#sources.has(key);
  }

  /** The file these segments name inside the media folder (PathError otherwise). */
  filePath(segments: string[]): Promise<string> {
    return resolveMediaFile(this.#d.mediaRoot, segments);
  }

  /** Throws PathError (forbidden) when nobody may publish at `key`: its configured source feeds
   * it. Protocols ask before accepting a publisher. */
  checkPublisher(key: string): void {
    const c = this.#sources.get(key);
    if (c) throw new PathError('forbidden', `'${key}' is fed by its configured source (${c.origin}: ${c.text}) and takes no publisher`);
  }

  /** Brings the configured sources in line with the config's `paths:` and the playlists of
   * `playlists.folder` (`folder`: a new scan of it; left out, the last one), at start and after
   * a reload. A path whose source was removed is stopped, its viewers get BYE. A running
   * playlist, changed or not (its DSS files may have been edited), is offered the setting
   * (`Source.reload`): when it takes it, its viewers carry on and it plays the change from its
   * next item. Otherwise a changed source (its value or whether it is on demand) is stopped and a
   * new always-on one starts now, a new on-demand one when its first viewer asks; unchanged ones
   * run on (a playlist waiting for its start time or a retry is tried again at once). A source
   * the operator stopped stays stopped while its path is configured. */
  applySources(folder?: readonly FolderPlaylist[]): void {
    if (this.#closed) return;
    if (folder) this.#folder = folder;
    const wanted = this.#wanted();
    const held = new Set<string>();
    for (const [key, c] of this.#sources) {
      const w = wanted.get(key);
      const same = w !== undefined && w.fingerprint === c.fingerprint && w.onDemand === c.onDemand && w.origin === c.origin;
      if (w && (this.#reloaded(key, c, w, same) || same)) {
        wanted.delete(key);
        // A playlist waiting for its start or a retry is tried again now: its DSS files (their
        // schedule, a broken entry) may have been edited since.
        if (same && c.timer && c.spec.scheme === 'playlist') {
          clearTimeout(c.timer);
          c.delayMs = retryOf(c).min * 1000;
          this.#keepRunning(key, c);
        } else if (c.finished !== undefined) {
          // A reload lifts the hold of a playlist that ended for good: it plays again.
          c.finished = undefined;
          if (!c.onDemand && !c.held) this.#keepRunning(key, c);
        }
        continue;
      }
      this.#sources.delete(key);
      if (c.timer) clearTimeout(c.timer);
      c.abort.abort();
      if (w && c.held) held.add(key);
      if (c.stream?.state !== 'ended') c.stream?.end(w ? 'its configured source changed' : 'its configured source was removed');
      this.#d.log.info({ path: key, source: c.text }, w ? 'configured source changed' : 'configured source removed');
    }
    const now = Date.now();
    for (const [key, w] of wanted) {
      const c: Configured = { ...w, configuredAt: now, delayMs: retryOf(w).min * 1000, held: held.has(key), abort: new AbortController() };
      this.#sources.set(key, c);
      this.#d.log.info({ path: key, source: w.text, onDemand: w.onDemand, from: w.origin }, 'configured source');
      if (!w.onDemand && !c.held) this.#keepRunning(key, c);
    }
  }

  /** Every configured source with what it is doing, in path order. */
  sources(): SourceInfo[] {
    return [...this.#sources.keys()].sort().map((key) => this.#info(key, this.#sources.get(key)!));
  }

  /** The operator stops the source at `key`: its stream ends ('stopped by the operator'), its
   * viewers get BYE, and nothing starts it again (no restart, no schedule, no viewer: they get
   * not-found) until `startSource`. Throws SourceControlError (unknown path, already stopped). */
  stopSource(key: string): SourceInfo {
    const c = this.#configured(key);
    if (c.held) throw new SourceControlError('conflict', `'${key}' is already stopped`);
    c.held = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = c.due = undefined;
    c.abort.abort();
    const running = this.#running(key);
    running?.end('stopped by the operator');
    this.#d.log.info({ path: key, source: c.text }, 'configured source stopped by the operator');
    return this.#info(key, c);
  }

  /** The operator starts the source at `key` now: a hold (stopped, or ended for good) is lifted
   * and a pending retry is not waited for; a playlist before its start time is refused (404,
   * SourceError.retryAt) and then waits for it. Throws SourceControlError (unknown path, already running), or the
   * source's own failure (SourceError); an always-on source that fails is then retried as at
   * any failure. */
  async startSource(key: string): Promise<SourceInfo> {
    const c = this.#configured(key);
    if (this.#running(key)) throw new SourceControlError('conflict', `'${key}' is already running`);
    c.held = false;
    c.finished = undefined;
    if (c.timer) clearTimeout(c.timer);
    c.timer = c.due = undefined;
    c.delayMs = retryOf(c).min * 1000;
    if (c.abort.signal.aborted) c.abort = new AbortController();
    this.#d.log.info({ path: key, source: c.text }, 'configured source started by the operator');
    try {
      await this.#startConfigured(key, c);
    } catch (e) {
      if (!c.onDemand) this.#failed(key, c, e);
      if (e instanceof PathError) throw new SourceControlError('conflict', `'${key}' changed while it started: ${e.message}`);
      throw e;
    }
    return this.#info(key, c);
  }

  /** Stops restarting always-on sources (shutdown; the registry ends the streams). */
  close(): void {
    this.#closed = true;
    for (const c of this.#sources.values()) {
      if (c.timer) clearTimeout(c.timer);
      c.abort.abort();
    }
  }

  /** The configured sources the config asks for now: `paths:` entries, then the folder's
   * playlists where no `paths:` entry says what feeds the path. */
  #wanted(): Map<string, Wanted> {
    const { paths, live } = this.#d.config();
    const wanted = new Map<string, Wanted>();
    for (const [key, e] of Object.entries(paths)) {
      const c = pathPattern(key) ? undefined : configuredSource(e);
      if (!c) continue;
      const { source, sdp, sourceTransport, sourceDescribeTimeout, sourceIdleTimeout, sourceRetry } = e;
      wanted.set(key, {
        ...c,
        origin: `paths.${key}.${c.setting}`,
        text: c.setting === 'source' ? redactUrl(e.source!) : c.spec.target,
        fingerprint: JSON.stringify([c.spec.target, source, sdp, sourceTransport, sourceDescribeTimeout, sourceIdleTimeout, sourceRetry]),
        entry: e,
        timings: c.setting === 'source' ? sourceTimings(e, live) : undefined,
      });
    }
    for (const p of this.#folder) {
      const e = Object.hasOwn(paths, p.key) ? paths[p.key] : undefined;
      if (e?.source !== undefined || e?.playlist !== undefined) {
        const what = e.playlist !== undefined ? 'playlist' : 'source';
        this.#d.log.warn({ path: p.key, playlist: p.playlistFile }, `playlists.folder: ${p.playlistFile} is not broadcast: paths.${p.key}.${what} says what feeds '${p.key}'`);
        continue;
      }
      const spec: SourceSpec = { scheme: 'playlist', target: p.playlistFile, playlist: p.playlistFile };
      // A DSS playlist broadcasts from the server's start, as PlaylistBroadcaster did.
      wanted.set(p.key, { setting: 'playlist', origin: 'playlists.folder', text: p.playlistFile, fingerprint: p.playlistFile, spec, onDemand: false });
    }
    return wanted;
  }

  /** Offers a running playlist its setting (`w`) on reload; true when it took it and runs on. */
  #reloaded(key: string, c: Configured, w: Wanted, same: boolean): boolean {
    const stream = this.#running(key);
    const source = stream?.source;
    if (c.spec.scheme !== 'playlist' || w.spec.scheme !== 'playlist' || w.onDemand !== c.onDemand || !source?.reload) return false;
    let took: boolean;
    try {
      took = source.reload(w.spec);
    } catch (e) {
      this.#d.log.error({ path: key, err: (e as Error).stack ?? String(e) }, 'playlist reload failed; it is started anew');
      took = false;
    }
    if (!took) return false;
    if (!same) {
      Object.assign(c, { setting: w.setting, origin: w.origin, text: w.text, fingerprint: w.fingerprint, spec: w.spec, configuredAt: Date.now() });
      this.#d.log.info({ path: key, source: w.text }, 'configured playlist changed; it plays the change from its next item');
    }
    return true;
  }

  #configured(key: string): Configured {
    const c = this.#sources.get(key);
    if (!c) throw new SourceControlError('unknown', `nothing is configured to feed '${key}'`);
    return c;
  }

  /** The live stream at `key`, if one is there. */
  #running(key: string): Stream | undefined {
    const s = this.#d.registry.get(key);
    return s && s.state !== 'ended' ? s : undefined;
  }

  #info(key: string, c: Configured): SourceInfo {
    const stream = this.#running(key);
    const base = { path: key, setting: c.setting, origin: c.origin, text: c.text, onDemand: c.onDemand, readers: stream?.readers.size ?? 0 };
    if (stream?.state === 'active') {
      let status: Record<string, unknown> | undefined;
      try {
        status = stream.source?.status?.();
      } catch (e) {
        status = { error: (e as Error).message };
      }
      return { ...base, state: 'running', since: iso(stream.activeSince || stream.createdAt), ...(status && { status }) };
    }
    if (c.held) return { ...base, state: 'stopped' };
    if (c.finished !== undefined) return { ...base, state: 'stopped', finished: c.finished };
    if (c.due) return { ...base, state: 'waiting', waiting: c.due.scheduled ? 'schedule' : 'retry', nextStart: iso(c.due.at) };
    // A stream waiting for its source (dropped, coming back) is waiting for a start too.
    if (stream || this.#starting.has(startId(key, c.spec))) return { ...base, state: 'waiting', waiting: 'start' };
    return { ...base, state: 'idle' };
  }

  /** A live stream at this path: one already there, else one started from its configured source
   * or from an `.sdp` file (`name.sdp` or `name`). */
  async #live(segments: string[], key: string, hops: readonly string[]): Promise<Stream | undefined> {
    const running = this.#running(key);
    if (running) return running;
    if (segments.length === 0) return undefined;
    const configured = this.#sources.get(key);
    if (configured) return this.#startConfigured(key, configured, hops);
    const file = await this.#sdpFile(segments);
    return file === undefined ? undefined : this.#start(key, { scheme: 'sdp', target: file }, { idleTimeout: this.#d.config().live.sdpIdleTimeout, hops });
  }

  /** The `.sdp` file describing the path's feed, if there is one in the media folder. */
  async #sdpFile(segments: string[]): Promise<string | undefined> {
    const last = segments[segments.length - 1];
    try {
      return await this.filePath(isSdpName(segments) ? segments : [...segments.slice(0, -1), `${last}.sdp`]);
    } catch (e) {
      if (e instanceof PathError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  /** The movie a URL names and what of it can be streamed (PathError otherwise). */
  async #file(segments: string[]): Promise<{ file: string; presentation: VodPresentation }> {
    const file = await this.filePath(segments);
    let movie: Mp4Movie;
    try {
      movie = await openMedia(file);
    } catch (e) {
      if (e instanceof Mp4Error) throw new PathError('unsupported', `/${segments.join('/')} is not a streamable movie: ${e.message}`);
      throw e;
    }
    let pres = this.#presentations.get(movie);
    if (!pres) {
      pres = describeMovie(movie, segments[segments.length - 1], { preferHintTracks: this.#d.config().vod.preferHintTracks });
      this.#presentations.set(movie, pres);
      for (const s of pres.skipped) {
        this.#d.log.info({ file, track: s.id, codec: s.codec }, `track left out of the stream: ${s.reason}`);
      }
    }
    if (pres.tracks.length === 0) {
      const why = skippedSummary(pres.skipped);
      throw new PathError('unsupported', `/${segments.join('/')} has no playable track${why ? `: ${why}` : ''}`);
    }
    return { file, presentation: pres };
  }

  /** Starts a source at `key`, once however many viewers ask meanwhile (the first one's `hops`
   * go upstream). `c`: its configuration, when `paths:` or the folder has one. */
  #start(key: string, spec: SourceSpec, o: { idleTimeout: number | undefined; hops: readonly string[]; c?: Configured }): Promise<Stream> {
    const id = startId(key, spec);
    let starting = this.#starting.get(id);
    if (!starting) {
      const { live, state } = this.#d.config();
      const c = o.c;
      starting = this.#d.starters[spec.scheme]({
        key,
        target: spec.target,
        mediaRoot: this.#d.mediaRoot,
        registry: this.#d.registry,
        log: this.#d.log,
        idleTimeout: o.idleTimeout,
        graceTime: this.settingsFor(key).graceTime,
        maxFrameBytes: live.maxFrameBytes,
        playlist: spec.playlist,
        configuredAt: c?.configuredAt ?? Date.now(),
        stateFolder: state.folder,
        logFolder: () => this.#d.config().logs.folder,
        entry: c?.entry,
        timings: c?.timings,
        hops: o.hops,
        signal: c?.abort.signal,
        dropped: (retryAt) => {
          if (c) this.#dropped(key, c, retryAt);
        },
      });
      this.#starting.set(id, starting);
      const done = () => this.#starting.delete(id);
      starting.then(done, done);
    }
    return starting;
  }

  async #startConfigured(key: string, c: Configured, hops: readonly string[] = []): Promise<Stream> {
    if (c.held) throw new PathError('not-found', `broadcast '${key}' is not active (stopped)`);
    if (c.finished !== undefined) throw new PathError('not-found', `broadcast '${key}' is not active (${c.finished})`);
    const spec = c.spec;
    const idleTimeout = c.onDemand ? (c.timings?.idleTimeout ?? this.#d.config().live.sdpIdleTimeout) : undefined;
    const stream = await this.#start(key, spec, { idleTimeout, hops, c });
    if (this.#sources.get(key) !== c || c.held) {
      // A reload removed or changed the source, or the operator stopped it, while it was starting.
      stream.end(c.held ? 'stopped by the operator' : 'its configured source changed');
      throw new PathError('not-found', `broadcast '${key}' is not active${c.held ? ' (stopped)' : ''}`);
    }
    if (c.spec !== spec && !stream.source?.reload?.(c.spec)) {
      // A reload changed the playlist while it was starting, and it cannot take the change.
      stream.end('its configured source changed');
      throw new PathError('not-found', `broadcast '${key}' is not active`);
    }
    c.stream = stream;
    c.source = stream.source;
    return stream;
  }

  /** Starts an always-on source, and again later when that fails. */
  #keepRunning(key: string, c: Configured): void {
    c.timer = c.due = undefined;
    if (this.#closed || this.#sources.get(key) !== c || c.held) return;
    // An on-demand source restarted after a drop: only while its viewers still wait for it.
    if (c.onDemand && !this.#running(key)) return;
    this.#startConfigured(key, c).then(
      () => undefined,
      (e: unknown) => this.#failed(key, c, e),
    );
  }

  /** An always-on source failed to start: it is started again at the moment it asked for
   * (SourceError.retryAt: a playlist scheduled to start then), else after the back-off. */
  #failed(key: string, c: Configured, e: unknown): void {
    if (this.#closed || this.#sources.get(key) !== c || c.held || c.timer) return;
    const finished = c.spec.scheme === 'playlist' ? finishedOf(e) : undefined;
    if (finished !== undefined) {
      this.#finished(key, c, finished);
      return;
    }
    const at = retryAtOf(e);
    const due = at !== undefined && at > Date.now() ? at : undefined;
    if (due !== undefined && !isBackoff(e)) {
      this.#d.log.info({ path: key, source: c.text, reason: (e as Error).message, startsAt: iso(due) }, 'configured source waits for its start time');
      this.#startAt(key, c, due, true);
      return;
    }
    // A source that times its own retries (a relay: its back-off, the longest after a loop) is
    // taken at its word; others wait the path's back-off.
    const retryIn = due !== undefined ? due - Date.now() : c.delayMs;
    this.#d.log.warn({ path: key, source: c.text, err: (e as Error).message, retryInSeconds: Math.round(retryIn / 100) / 10 }, 'configured source failed to start');
    if (due !== undefined) this.#startAt(key, c, due, false);
    else this.#restartLater(key, c, false);
  }

  /** A source dropped while its stream waits graceTime for it (SourceStart.dropped): started
   * again at `retryAt`, or after the back-off, if it is always on or viewers wait for it. */
  #dropped(key: string, c: Configured, retryAt: number | undefined): void {
    if (this.#closed || this.#sources.get(key) !== c || c.held || c.timer) return;
    if (c.onDemand && !this.#running(key)?.readers.size) return;
    const at = retryAt ?? Date.now() + retryOf(c).min * 1000;
    this.#d.log.info({ path: key, source: c.text, startsAt: iso(at) }, 'configured source dropped; it is started again');
    this.#startAt(key, c, at, false);
  }

  /** Starts an always-on source at Unix ms `at`, re-arming the timer while `at` is beyond the
   * longest one setTimeout takes. */
  #startAt(key: string, c: Configured, at: number, scheduled: boolean): void {
    c.due = { at, scheduled };
    const wait = Math.max(0, at - Date.now());
    c.timer = setTimeout(() => {
      if (wait > MAX_TIMER_MS && Date.now() < at) this.#startAt(key, c, at, scheduled);
      else this.#keepRunning(key, c);
    }, Math.min(wait, MAX_TIMER_MS));
    c.timer.unref();
  }

  /** A stream ended: an always-on configured source there starts again, unless it ended for
   * good (Source.finished: then no viewer starts it either, until `startSource` or a reload). */
  #ended(path: string): void {
    const c = this.#sources.get(path);
    if (!c || c.held || this.#closed || c.stream?.state !== 'ended') return;
    const finished = c.spec.scheme === 'playlist' ? c.source?.finished : undefined;
    if (finished !== undefined) {
      this.#finished(path, c, finished);
      return;
    }
    if (c.onDemand || c.timer) return;
    // Its own new start ended it (a relay back with another description): nothing to restart.
    if (this.#starting.has(startId(path, c.spec))) return;
    // A playlist that ended otherwise (nothing in it plays now, a failure) is tried again with
    // the back-off, so a fixed file brings it back and a broken list does not busy-loop.
    this.#restartLater(path, c, c.spec.scheme !== 'playlist');
  }

  #finished(key: string, c: Configured, why: string): void {
    c.finished = why;
    this.#d.log.info({ path: key, source: c.text, why }, 'playlist ended for good; it stays off the air until `rivulet playlist start` or a config reload');
  }

  /** `ran`: the last run started and listened until it ended (its feed stopped or never came),
   * so the next starts soon: its ports are deaf only for that moment when an encoder comes back.
   * A source that fails to start (port taken, unreadable SDP) waits longer each time, to keep
   * the log readable. */
  #restartLater(key: string, c: Configured, ran: boolean): void {
    if (this.#closed || this.#sources.get(key) !== c) return;
    const retry = retryOf(c);
    const delay = ran ? retry.min * 1000 : c.delayMs;
    c.delayMs = ran ? retry.min * 1000 : Math.min(retry.max * 1000, c.delayMs * 2);
    this.#startAt(key, c, Date.now() + delay, false);
  }

  #match(paths: Config['paths'], path: string): { key: string; entry: Entry } | undefined {
    const c = this.#compile(paths);
    const exact = c.exact.get(path);
    if (exact) return { key: path, entry: exact };
    const hit = c.patterns.find((p) => p.re.test(path));
    return hit && { key: hit.key, entry: hit.entry };
  }

  #compile(paths: Config['paths']): Compiled {
    if (this.#compiled?.source === paths) return this.#compiled;
    const exact = new Map<string, Entry>();
    const patterns: Compiled['patterns'] = [];
    // Object key order is insertion (file) order for non-integer keys; a path name that is an
    // integer ("7") would come first, which only matters among regexes, and those start with ~.
    for (const [key, entry] of Object.entries(paths)) {
      const re = pathPattern(key);
      if (re) patterns.push({ key, re, entry });
      else exact.set(key, entry);
    }
    this.#compiled = { source: paths, exact, patterns };
    return this.#compiled;
  }
}

/** A configured source's restart back-off, seconds: its `sourceRetry`, or RESTART. */
function retryOf(w: Pick<Wanted, 'timings'>): { min: number; max: number } {
  return w.timings?.retry ?? RESTART;
}

/** Starts in progress are keyed by the source too: a reload that changes it mid-start must not
 * get the old one's stream. */
function startId(key: string, spec: SourceSpec): string {
  return `${key}\n${spec.scheme}:${spec.target}`;
}

/** `live/cam1.sdp` names the SDP file itself. */
function isSdpName(segments: string[]): boolean {
  return segments[segments.length - 1].toLowerCase().endsWith('.sdp');
}
