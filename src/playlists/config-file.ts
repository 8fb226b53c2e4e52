/** A DSS playlist `.config` file (the broadcast description PlaylistBroadcaster read with
 * ConfParser and PLBroadcastDef): one `keyword value` per line, words split and quoted as in
 * playlists (`dss-text.ts`), `#` comments and blank lines skipped; a keyword given twice takes
 * its last value, as in DSS; words after the value are ignored, as in DSS. Paths are relative to
 * the config's folder (DSS changed into it before reading them).
 *
 * DSS stopped at the first line it could not take (an unknown keyword, a bad value, a keyword
 * without a value). Here a bad value or a missing one is an error (the broadcast must not start
 * on a guess) but reading goes on so that every error is reported at once; keywords DSS knew
 * that Rivulet has no use for (addresses and ports of its UDP push, its RTSP ANNOUNCE login, its
 * pid file ...) are accepted and reported once, in one issue; unknown keywords are reported and
 * ignored. A `<config>.def` defaults file is not read. */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readDssFile, splitLines, splitWords } from './dss-text.js';
import { PLAY_MODES, type PlayMode, type PlaylistIssue } from './types.js';

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
export const NTP_UNIX_OFFSET = 2_208_988_800;

/** A broadcast start or end: an NTP time in seconds, as the DSS admin wrote it, or `*N`: N
 * seconds after the broadcast is started (DSS read the config as it started). */
export type BroadcastTime = { kind: 'at'; ntpSeconds: number } | { kind: 'after'; seconds: number };

/** Unix milliseconds of a broadcast time, for a broadcast started at `startedAtMs`. */
export function broadcastTimeMs(t: BroadcastTime, startedAtMs: number): number {
  return t.kind === 'at' ? (t.ntpSeconds - NTP_UNIX_OFFSET) * 1000 : startedAtMs + t.seconds * 1000;
}

export interface PlaylistConfig {
  /** Absolute path of the config read. */
  file: string;
  /** `playlist_file`, absolute; undefined when not given (DSS then looked for `<base>.ply`). */
  playlistFile?: string;
  /** `play_mode`; default sequential_looped, as in DSS. */
  playMode: PlayMode;
  /** `recent_movies_list_size`: how many recent picks weighted_random does not repeat; default 0. */
  recent: number;
  /** `destination_sdp_file` as written: the SDP name (mount point) in the media folder. */
  destinationSdpFile?: string;
  /** `broadcast_start_time`; undefined (or 0 in the file): as soon as the broadcast is started. */
  start?: BroadcastTime;
  /** `broadcast_end_time`; undefined (or 0 in the file): never. */
  end?: BroadcastTime;
  /** `logging` enabled | disabled; default enabled. */
  logging: boolean;
  /** `log_file`, absolute; undefined when not given (DSS wrote `<config base name>.log` beside
   * the config; Rivulet names the log after the channel's path). */
  logFile?: string;
  /** `sdp_reference_movie`, absolute: the movie whose tracks the others must match. */
  sdpReferenceMovie?: string;
  /** `broadcast_name`: the title (SDP session name). */
  broadcastName?: string;
  /** `max_upcoming_list_size`: entries written to `.upcoming`; default 7. */
  maxUpcoming: number;
  /** DSS keywords accepted and not used, with their values. */
  unused: Record<string, string>;
}

export interface ParsedPlaylistConfig {
  config: PlaylistConfig;
  /** Ignored keywords and other things worth knowing; the broadcast can start. */
  warnings: PlaylistIssue[];
  /** Values that cannot be used; the broadcast must not start. */
  errors: PlaylistIssue[];
}

/** Keywords DSS's PlaylistBroadcaster took (or its admin wrote) that mean nothing to a
 * broadcaster inside the server. */
const UNUSED_KEYWORDS = new Set([
  'destination_ip_address',
  'destination_base_port',
  'multicast_ttl',
  'rtsp_port',
  'sdp_file',
  'broadcast_SDP_is_dynamic',
  'broadcaster_name',
  'broadcaster_password',
  'broadcast_password',
  'client_buffer_delay',
  'show_current',
  'show_upcoming',
  'pid_file',
  'max_err_file_k_size',
]);

const ENABLED = new Set(['enabled', 'disabled']);

function parseTime(v: string, key: string): BroadcastTime | undefined | string {
  if (v.startsWith('*')) {
    if (!/^[+-]?\d+$/.test(v.slice(1))) return `${key} '${v}': after * comes a number of seconds`;
    return { kind: 'after', seconds: Number(v.slice(1)) };
  }
  if (!/^\d+$/.test(v)) return `${key} '${v}' is neither NTP seconds (since 1900) nor *N (N seconds after the start)`;
  const n = Number(v);
  if (n === 0) return undefined;
  if (n < NTP_UNIX_OFFSET) return `${key} ${v} is not an NTP time: NTP seconds count from 1900, so any date after 1970 is above ${NTP_UNIX_OFFSET}`;
  return { kind: 'at', ntpSeconds: n };
}

/** Parses a config's text; `file` (absolute) names it in issues and anchors relative paths. */
export function parsePlaylistConfig(text: string, file: string): ParsedPlaylistConfig {
  const here = dirname(file);
  const path = (p: string) => (isAbsolute(p) ? p : join(here, p));
  const config: PlaylistConfig = {
    file,
    playMode: 'sequential_looped',
    recent: 0,
    logging: true,
    maxUpcoming: 7,
    unused: {},
  };
  const warnings: PlaylistIssue[] = [];
  const errors: PlaylistIssue[] = [];
  const unusedAt: string[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i].trimStart();
    if (raw === '' || raw.startsWith('#')) continue;
    const words = splitWords(raw);
    if (!Array.isArray(words)) {
      errors.push({ file, line, message: words.error });
      continue;
    }
    const [key, value] = words;
    if (value === undefined) {
      errors.push({ file, line, message: `${key} has no value` });
      continue;
    }
    const bad = (message: string) => errors.push({ file, line, message });
    const count = (what: string, set: (n: number) => void) => {
      if (/^\d+$/.test(value)) set(Number(value));
      else bad(`${key} '${value}' is not ${what}`);
    };
    switch (key) {
      case 'playlist_file':
        config.playlistFile = path(value);
        break;
      case 'play_mode':
        if ((PLAY_MODES as readonly string[]).includes(value)) config.playMode = value as PlayMode;
        else bad(`play_mode '${value}' is not one of ${PLAY_MODES.join(', ')}`);
        break;
      case 'recent_movies_list_size':
        count('a whole number of items (0 or more)', (n) => (config.recent = n));
        break;
      case 'max_upcoming_list_size':
        count('a whole number of items', (n) => (config.maxUpcoming = n));
        break;
      case 'destination_sdp_file':
        config.destinationSdpFile = value;
        break;
      case 'broadcast_start_time':
      case 'broadcast_end_time': {
        const t = parseTime(value, key);
        if (typeof t === 'string') bad(t);
        else if (key === 'broadcast_start_time') config.start = t;
        else config.end = t;
        break;
      }
      case 'logging':
        if (ENABLED.has(value)) config.logging = value === 'enabled';
        else bad(`logging '${value}' is neither enabled nor disabled`);
        break;
      case 'log_file':
        config.logFile = path(value);
        break;
      case 'sdp_reference_movie':
        config.sdpReferenceMovie = path(value);
        break;
      case 'broadcast_name':
        config.broadcastName = value;
        break;
      default:
        if (UNUSED_KEYWORDS.has(key)) {
          if (!(key in config.unused)) unusedAt.push(`${key} (line ${line})`);
          config.unused[key] = value;
        } else warnings.push({ file, line, message: `unknown keyword '${key}' ignored` });
    }
  }
  if (unusedAt.length) {
    warnings.push({ file, message: `DSS keywords Rivulet has no use for, ignored: ${unusedAt.join(', ')}` });
  }
  return { config, warnings, errors };
}

/** Reads and parses the config at `file`; throws PlaylistError when it cannot be read. */
export async function readPlaylistConfig(file: string): Promise<ParsedPlaylistConfig> {
  const abs = resolve(file);
  return parsePlaylistConfig(await readDssFile(abs), abs);
}
