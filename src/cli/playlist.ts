/** `rivulet playlist`: DSS's `PlaylistBroadcaster -p` preflight (`check`), and the control of a
 * running server's playlists (`start`, `stop`, `status`, through its control socket:
 * playlist-control.ts).
 *
 * `check FILE|NAME` reads a `.playlist` (or its `.config`, which names it) and the `.config` of
 * the same base name beside it, or the playlist a config names NAME (`paths.NAME.playlist`, a
 * file or a list, or the playlist of playlists.folder broadcast at NAME); opens every entry as
 * the file player does (`openMedia` + `describeMovie`), and prints a table: each entry, whether
 * it would play, its codecs and duration, and why not — missing or unreadable, no playable
 * track, or codecs other than the reference's (the config's `sdp_reference_movie`, else the
 * first entry that plays). H.264/H.265 entries whose parameters differ (another frame size or
 * profile) play: the broadcaster sends their parameter sets in band at the switch, so the
 * difference is only noted. Exit status 1 when nothing would play (or the config, an
 * sdp_reference_movie that cannot play or the no-repeat window stops the broadcast from
 * starting, as the server would refuse it), 2 for a usage error. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/index.js';
import { scanPlaylistFolder } from '../playlists/index.js';
import {
  DEFAULT_WEIGHT,
  formatIssue,
  PlaylistError,
  PlaylistPicker,
  readPlaylist,
  readPlaylistConfig,
  type PlaylistConfig,
  type PlaylistEntry,
  type PlaylistIssue,
  type PlayMode,
} from '../playlists/index.js';
import type { VodTrack } from '../vod/types.js';
import { mismatch, openItem } from '../sources/index.js';
import { audioShape, fmtpText, IN_BAND } from '../sources/playlist/index.js';
import { controlCommand, type CliIo } from './playlist-control.js';

export const PLAYLIST_USAGE = `Usage: rivulet playlist check FILE|NAME [--config FILE] [--set KEY=VALUE]...
       rivulet playlist start NAME [--config FILE] [--set KEY=VALUE]...
       rivulet playlist stop NAME [--config FILE] [--set KEY=VALUE]...
       rivulet playlist status [NAME] [--json] [--config FILE] [--set KEY=VALUE]...

check   Checks a playlist before it is broadcast (as PlaylistBroadcaster -p did): FILE is a
        DSS .playlist file, or the .config that names one; the .config with the playlist's
        base name beside it is read too. NAME is a playlist of the config: paths.NAME.playlist
        (a .playlist file or a list of items), or the playlist of playlists.folder broadcast
        at NAME. Prints each entry, whether it plays, its codecs and duration, what does not
        match the reference movie (sdp_reference_movie, else the first entry that plays) and
        why, and the total duration of what plays.
        Exit status: 0 when something can play, 1 when nothing can or the broadcast would
        not start (its config, its sdp_reference_movie, its no-repeat window), 2 for a usage
        error.
start   Starts the playlist broadcast at NAME on the running server now: one the operator
        stopped, one that ended (a .stoplist, a sequential list played through), or one
        waiting for a retry. Before its start time it is refused (404, with the start time:
        startsAt), as a viewer is.
stop    Stops it: its viewers get BYE, and it stays stopped (no restart, no schedule, viewers
        get 404) until started again or the server restarts.
status  Shows each playlist (or NAME): running (viewers, current and upcoming items),
        stopped, waiting (for its schedule or a retry) or idle.
        start, stop and status ask the server through its control socket (control.socket of
        the config it runs with). Exit status: 0 done, 1 refused (the server's reason is
        printed) or no server answers, 2 for a usage error.

Options:
  --config FILE    the config file the server runs with (as for rivulet serve)
  --set KEY=VALUE  set a config key as rivulet serve --set does (repeatable)
  --json           start, stop, status: print the server's answer as JSON
  -h, --help       show this help
`;

interface Probe {
  /** Undefined when the file cannot be opened or has nothing playable; `reason` says why. */
  tracks?: VodTrack[];
  duration?: number;
  reason?: string;
}

interface Row {
  entry: PlaylistEntry;
  probe: Probe;
  plays: boolean;
  note: string;
}

/** Opens `file` as the broadcaster does; never throws. */
async function probe(file: string): Promise<Probe> {
  const r = await openItem(file);
  return typeof r === 'string' ? { reason: r } : { tracks: r.tracks, duration: r.duration };
}

const rtpmap = (t: VodTrack) => {
  const f = t.description.format;
  return `${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`;
};
const size = (t: VodTrack) => (t.description.width && t.description.height ? `${t.description.width}x${t.description.height}` : '');
// MPEG audio's rate and channels are not in its rtpmap (always MPA/90000): shown beside it.
const codecs = (tracks: VodTrack[]) => tracks.map((t) => [rtpmap(t), size(t), audioShape(t)].filter(Boolean).join(' ')).join(', ');

/** Why `tracks` cannot follow `ref` on one timeline (undefined: they can), by the broadcaster's
 * own rule (`mismatch`), or, for those that play, what differs that players pick up in band. */
function compare(tracks: VodTrack[], ref: VodTrack[]): { skip?: string; note?: string } {
  const skip = mismatch(tracks, ref);
  if (skip) return { skip };
  const notes: string[] = [];
  for (const [i, a] of tracks.entries()) {
    const b = ref[i];
    const sizes = size(a) !== size(b);
    if (!sizes && fmtpText(a) === fmtpText(b)) continue;
    const what = sizes ? `frame size ${size(a)} where the reference has ${size(b)}` : `other ${a.description.format.encodingName} parameters than the reference`;
    const inBand = IN_BAND.has(a.description.format.encodingName);
    notes.push(inBand ? `${what}: plays, its parameter sets sent in band at the switch` : `${what}: plays`);
  }
  return { note: notes.join('; ') };
}

const seconds = (s: number | undefined) => (s === undefined ? '-' : `${s.toFixed(3)} s`);

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
function table(head: string[], rows: string[][], right: Set<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

/** The playlist and config FILE names: a `.config` names its playlist (`playlist_file`, else the
 * `.playlist` of its base name); a playlist has the `.config` of its base name, if there is one. */
function locate(file: string): { playlist?: string; config?: string } {
  const abs = resolve(file);
  const base = join(dirname(abs), basename(abs, extname(abs)));
  if (extname(abs) === '.config') return { config: abs };
  return { playlist: abs, config: existsSync(`${base}.config`) ? `${base}.config` : undefined };
}

const stdio: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Runs the command; returns the exit status. */
export async function playlist(argv: string[], io: CliIo = stdio): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(PLAYLIST_USAGE);
    return 0;
  }
  const [verb, name, ...extra] = positionals;
  const usage = () => {
    io.out(PLAYLIST_USAGE);
    return 2;
  };
  if (extra.length > 0) return usage();
  const config = () => loadConfig({ configFile: values.config, sets: values.set });
  switch (verb) {
    case 'check':
      if (name === undefined) return usage();
      return check(name, config, io.out);
    case 'start':
    case 'stop':
      if (name === undefined) return usage();
      return controlCommand(verb, name, config().control.socket, values.json ?? false, io);
    case 'status':
      return controlCommand(verb, name, config().control.socket, values.json ?? false, io);
    default:
      return usage();
  }
}

/** What a check reads: the entries, how they are picked, and what the config said. */
interface Checked {
  entries: PlaylistEntry[];
  mode: PlayMode;
  recent?: number;
  sdpReferenceMovie?: string;
  /** Entries are shown relative to this folder. */
  home: string;
  /** The .config with errors that would stop the broadcast, and how many. */
  brokenConfig?: { file: string; errors: number };
}

/** Reads a DSS playlist FILE (or its .config) and the .config beside it, printing the header
 * and the issues; undefined (after saying why) when it cannot be read. */
async function readDss(file: string, write: (s: string) => void): Promise<Checked | undefined> {
  const issue = (level: string, i: PlaylistIssue) => write(`${level}: ${formatIssue(i)}\n`);
  const where = locate(file);
  let config: PlaylistConfig | undefined;
  let configErrors = 0;
  if (where.config) {
    try {
      const parsed = await readPlaylistConfig(where.config);
      config = parsed.config;
      configErrors = parsed.errors.length;
      where.playlist ??= config.playlistFile ?? where.config.replace(/\.config$/, '.playlist');
      write(`Config:   ${where.config} (play_mode ${config.playMode}${config.playMode === 'weighted_random' ? `, recent_movies_list_size ${config.recent}` : ''})\n`);
      for (const e of parsed.errors) issue('error', e);
      for (const w of parsed.warnings) issue('warning', w);
    } catch (e) {
      if (!(e instanceof PlaylistError)) throw e;
      write(`error: ${e.message}\n`);
      return undefined;
    }
  }
  const playlistFile = where.playlist!;
  write(`Playlist: ${playlistFile}\n`);
  let list;
  try {
    list = await readPlaylist(playlistFile);
  } catch (e) {
    if (!(e instanceof PlaylistError)) throw e;
    write(`error: ${e.message}\nnothing can play\n`);
    return undefined;
  }
  for (const w of list.issues) issue('warning', w);
  return {
    entries: list.entries,
    mode: config?.playMode ?? 'sequential_looped',
    recent: config?.recent,
    sdpReferenceMovie: config?.sdpReferenceMovie,
    home: dirname(playlistFile),
    brokenConfig: configErrors && where.config ? { file: where.config, errors: configErrors } : undefined,
  };
}

/** The playlist file or list a config names NAME, or undefined. */
async function named(name: string, cfg: Config): Promise<{ file: string } | { list: Exclude<Config['paths'][string]['playlist'], string | undefined> } | undefined> {
  const p = Object.hasOwn(cfg.paths, name) ? cfg.paths[name].playlist : undefined;
  if (typeof p === 'string') return { file: resolve(cfg.media.dir, p) };
  if (p !== undefined) return { list: p };
  if (cfg.playlists.folder === '') return undefined;
  let mediaRoot: string | undefined;
  try {
    mediaRoot = realpathSync(cfg.media.dir);
  } catch {
    mediaRoot = undefined;
  }
  const found = (await scanPlaylistFolder(cfg.playlists.folder, { mediaRoot })).playlists.find((f) => f.key === name);
  return found && { file: found.playlistFile };
}

/** FILE, or NAME of the config (loaded only when FILE is no file). */
async function check(arg: string, config: () => Config, write: (s: string) => void): Promise<number> {
  let checked: Checked | undefined;
  const isFile = existsSync(arg) && statSync(arg).isFile();
  const cfg = isFile ? undefined : config();
  const target = cfg ? await named(arg, cfg) : { file: arg };
  if (!target) {
    const folder = cfg!.playlists.folder;
    write(`error: '${arg}' is no file, and the config has no playlist at that path (no paths.${arg}.playlist${folder ? `, none in playlists.folder ${folder}` : ', no playlists.folder'})\nnothing can play\n`);
    return 1;
  }
  if ('file' in target) checked = await readDss(target.file, write);
  else {
    const l = target.list;
    write(`Playlist: paths.${arg}.playlist (mode ${l.mode}${l.mode === 'weighted_random' ? `, recent ${l.recent}` : ''})\n`);
    const entries = l.items.map((item, i): PlaylistEntry => {
      const [file, weight] = typeof item === 'string' ? [item, DEFAULT_WEIGHT] : [item.file, item.weight];
      return { file: resolve(cfg!.media.dir, file), weight, from: { playlist: `paths.${arg}.playlist`, line: i + 1 } };
    });
    checked = { entries, mode: l.mode, recent: l.recent, home: cfg!.media.dir };
  }
  return checked ? report(checked, write) : 1;
}

/** Probes each entry and prints the table and the verdict; returns the exit status. */
async function report(c: Checked, write: (s: string) => void): Promise<number> {
  const probes = new Map<string, Promise<Probe>>();
  const probeOnce = (f: string) => {
    let p = probes.get(f);
    if (!p) probes.set(f, (p = probe(f)));
    return p;
  };
  let ref: { file: string; tracks: VodTrack[] } | undefined;
  /** Why the broadcast would not start whatever its entries: the server refuses it too (415). */
  let noStart: string | undefined;
  if (c.sdpReferenceMovie) {
    const r = await probeOnce(c.sdpReferenceMovie);
    if (r.tracks) ref = { file: c.sdpReferenceMovie, tracks: r.tracks };
    else noStart = `sdp_reference_movie ${c.sdpReferenceMovie} cannot play (${r.reason})`;
  }
  const rows: Row[] = [];
  for (const entry of c.entries) {
    const p = await probeOnce(entry.file);
    if (!p.tracks) {
      rows.push({ entry, probe: p, plays: false, note: `would be skipped: ${p.reason}` });
      continue;
    }
    if (noStart) {
      // Without its reference the channel has no tracks to match: nothing to compare with.
      rows.push({ entry, probe: p, plays: true, note: '' });
      continue;
    }
    if (!ref) {
      ref = { file: entry.file, tracks: p.tracks };
      rows.push({ entry, probe: p, plays: true, note: 'the reference: the others must match its codecs' });
      continue;
    }
    const cmp = compare(p.tracks, ref.tracks);
    rows.push({ entry, probe: p, plays: !cmp.skip, note: cmp.skip ? `would be skipped: ${cmp.skip}` : (cmp.note ?? '') });
  }

  const shown = (f: string) => (f.startsWith(`${c.home}/`) ? relative(c.home, f) : f);
  if (ref && !rows.some((r) => r.entry.file === ref.file)) write(`Reference: ${ref.file} (${codecs(ref.tracks)})\n`);
  write('\n');
  if (rows.length) {
    write(
      `${table(
        ['#', 'entry', 'weight', 'plays', 'duration', 'codecs', 'notes'],
        rows.map((r, i) => [
          String(i + 1),
          shown(r.entry.file),
          String(r.entry.weight),
          r.plays ? 'yes' : 'no',
          seconds(r.probe.duration),
          r.probe.tracks ? codecs(r.probe.tracks) : '-',
          r.note,
        ]),
        new Set([0, 2, 4]),
      )}\n\n`,
    );
  }
  const playing = rows.filter((r) => r.plays);
  const total = playing.reduce((s, r) => s + (r.probe.duration ?? 0), 0);
  write(`${playing.length} of ${rows.length} entr${rows.length === 1 ? 'y plays' : 'ies play'}: ${seconds(total)} in one pass through the list\n`);
  if (playing.length === 0) {
    write('nothing can play\n');
    return 1;
  }
  if (noStart) {
    write(`the broadcast would not start: ${noStart}\n`);
    return 1;
  }
  if (c.brokenConfig) {
    const n = c.brokenConfig.errors;
    write(`the broadcast would not start: fix the error${n === 1 ? '' : 's'} in ${c.brokenConfig.file} first\n`);
    return 1;
  }
  try {
    new PlaylistPicker({ items: playing.map((r) => r.entry), mode: c.mode, recent: c.recent });
  } catch (e) {
    if (!(e instanceof PlaylistError)) throw e;
    write(`the broadcast would not start: ${e.message}\n`);
    return 1;
  }
  return 0;
}
