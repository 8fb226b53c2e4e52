/** `rivulet import-dss`: a Darwin Streaming Server `streamingserver.xml` (DSS 6.0.3's layout, and the
 * 5.x files before it) turned into a Rivulet config, with every pref either mapped to the key that
 * does the same or listed with the reason it is not.
 *
 * Pure: XML text and options in, YAML text and the lists out. What lies on disk (the relay config
 * the file names, the playlists folder, qtaccess files below the movie folder, which files exist) is
 * gathered by the caller, who learns what to look at from a first call (`files`) and hands the
 * facts to a second (`facts`); they only add report lines and decide the keys that name files that
 * are not there.
 *
 * The file: `<CONFIGURATION><SERVER>` then `<MODULE NAME="…">`, each holding `<PREF NAME="…"
 * TYPE="…">value</PREF>` and `<LIST-PREF NAME="…"><VALUE>…</VALUE>…</LIST-PREF>`. DSS wrote it with
 * an internal DTD (element and attribute declarations), which is accepted; an `<!ENTITY>` is
 * refused, and no entity is decoded (DSS's parser decoded none). Values are trimmed. Paths are kept
 * as written: they name the user's real files; a relative one (DSS took it from its working folder)
 * is taken from `baseDir`, the XML's folder. A pref DSS 6.0.3 had but the file leaves out, where
 * DSS's built-in default differs from Rivulet's (its ports, its folders, its limits), is mapped from
 * that default and marked `absent`.
 *
 * Bounded for hostile input: at most MAX_DSS_XML_BYTES, MAX_DSS_PREFS prefs, elements nested at
 * most 16 deep. */
import { BlockList, isIP, isIPv4 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { Document, isMap, isScalar, isSeq, stringify, type Scalar, type YAMLMap } from 'yaml';
import { dssXmlFault, dssXmlParser } from './dss-xml.js';
import { configSchema } from './schema.js';

/** Largest streamingserver.xml read, bytes (DSS 6.0.3's is about 14 KB). */
export const MAX_DSS_XML_BYTES = 1024 * 1024;
/** Prefs read from one file; the rest are listed as one not mapped. */
export const MAX_DSS_PREFS = 5000;

/** The text cannot be used at all: not well-formed, not a DSS server config. The message reads
 * after the file's name (`… is not well-formed XML: line 3: …`). */
export class DssXmlError extends Error {
  override readonly name = 'DssXmlError';
}

/** One pref of the file. */
export interface DssPref {
  /** The MODULE's NAME; '' for a pref of `<SERVER>`. */
  module: string;
  name: string;
  /** The PREF's text, or the LIST-PREF's VALUEs, trimmed. */
  values: string[];
}

/** A pref carried over. */
export interface MappedPref {
  /** The MODULE it belongs to; absent for a `<SERVER>` pref. */
  module?: string;
  pref: string;
  /** Its value as shown to the user (a list as `[a, b]`, a secret hidden). */
  value: string;
  /** The Rivulet key that does the same (`media.dir`). */
  key: string;
  /** What the key is set to, as YAML; absent when Rivulet's default already does the same and
   * nothing is written. */
  to?: string;
  /** How Rivulet's key differs from the pref, or what to know. */
  note?: string;
  /** The file does not have it: DSS's built-in default is what was mapped. */
  absent?: boolean;
}

/** A pref that has no Rivulet equivalent, with the reason. */
export interface UnmappedPref {
  module?: string;
  pref: string;
  value: string;
  why: string;
}

/** The relay config, as the caller read it (src/relays reads DSS relay configs). */
export interface DssRelayFacts {
  /** Each relay run, as the path it becomes; `source` with its password masked. */
  paths?: { name: string; relay: string; source?: string; push: number; forward: number }[];
  /** What the relay reader said of the file: line, relay and reason. */
  issues?: { line: number; relay: string; level: 'warn' | 'info'; reason: string }[];
  /** The file does not exist (DSS ran no relays then). */
  missing?: boolean;
  /** The file cannot be used, and why. */
  error?: string;
}

/** The playlists folder, as the caller scanned it. */
export interface DssPlaylistFacts {
  /** Each playlist and the path it is broadcast at. */
  playlists: { key: string; playlistFile: string }[];
  /** What was skipped and why, one line each. */
  problems: string[];
}

/** What the caller found on disk. */
export interface DssFacts {
  relays?: DssRelayFacts;
  playlists?: DssPlaylistFacts;
  /** Access files found below the movie folder (absolute paths). */
  accessFiles?: string[];
  /** Whether the caller stopped looking for access files before the end of the movie folder. */
  accessFilesTruncated?: boolean;
  /** Files and folders the config names that do not exist. */
  missing?: string[];
}

export interface DssImportOptions {
  /** Where the XML was read from, for the YAML's header. Default: none named. */
  source?: string;
  /** Folder relative DSS paths are taken from (the XML's). Default: relative paths kept. */
  baseDir?: string;
  /** The PlaylistBroadcaster's playlists folder (the DSS web admin's `plroot`), mapped to
   * playlists.folder. Default: none. */
  playlistsFolder?: string;
  /** What lies on disk. Default: nothing known. */
  facts?: DssFacts;
}

/** One line of the report beside the prefs: a relay, a playlist, an access file, a warning. */
export interface DssNote {
  kind: 'relay' | 'relay issue' | 'playlist' | 'qtaccess' | 'warning';
  text: string;
}

export interface DssImportResult {
  /** The Rivulet config, commented. */
  yaml: string;
  /** The same, as groups of keys. */
  config: Record<string, Record<string, unknown>>;
  mapped: MappedPref[];
  unmapped: UnmappedPref[];
  notes: DssNote[];
  /** What the caller may look at on disk: the files the config names (DSS's defaults when the
   * file names none) and the RTSP ports (which tell a relay announced to this server itself). */
  files: {
    movieFolder?: string;
    relayConfig?: string;
    usersFile: string;
    groupsFile: string;
    accessFileName: string;
    rtspPorts: number[];
  };
}

// Reasons shared by families of prefs.
const LATENESS_THINNING = "DSS's thinning by how late its packets went out: Rivulet thins a UDP viewer by the loss its receiver reports (retransmit.thinning), and a live viewer that falls behind skips to the next keyframe (live.viewerQueueBytes)";
const RUDP_WINDOWS = "Rivulet's reliable UDP picks DSS's default windows from the presentation's bit rate (24 KB below 200 kbit/s, 48 KB up to 1000 kbit/s, else 64 KB): they cannot be set";
const RUDP_TIMING = "Rivulet's reliable UDP takes acknowledgements as they arrive and looks for packets to send again every 50 ms while any are outstanding, each after its timeout (from the measured round trip, 600 ms to 24 s)";
const TCP_BUFFERS = 'the system sizes TCP send buffers; Rivulet bounds what it queues for each TCP viewer (live.viewerQueueBytes)';
const DEBUG = "DSS's debugging output: Rivulet's is log.level: debug (or trace)";
const PLAYERS = 'a workaround for particular players: Rivulet serves every player the same standard RTSP';
const NO_3GPP = 'Rivulet has no 3GPP rate adaptation: each file streams at its own bit rate';
const STATS = "Rivulet's figures are always current: the web admin, /api/v1/server and /metrics on admin.port";
const RUN_AS = 'Rivulet runs as the user that starts it (User= and Group= of its systemd unit)';
const ADMIN_PROTOCOL =
  "concerned DSS's admin protocol on the RTSP ports (/modules/admin), which Rivulet does not have: its web admin, API and metrics are on admin.port and always ask for a user of admin.group";
const NO_SETTING = 'Rivulet has no such setting';
const MP3_LOG = "Rivulet logs ICY listeners with every other client in its access log (StreamingServer.log, logs.access): no mp3_access.log of their own";
/** DSS ran its MP3 module on every RTSP port and had no port of its own for it. */
const MP3_ON_RTSP_PORTS =
  'DSS took MP3 sources and listeners on its RTSP ports, and Rivulet takes Icecast sources and ICY listeners on rtsp.ports too: no radio port of its own (its default, 8000, is one of DSS\'s RTSP ports and would be taken twice). SHOUTcast v1 and x-audiocast sources (a bare password line, SOURCE password /mount) are taken on radio.ports only: for such encoders, move their port from rtsp.ports to radio.ports';
const MP3_OFF = 'DSS answered MP3 requests with 503: Rivulet opens no radio port, but still takes Icecast sources (radio.sourcePassword or a login of auth.broadcasterGroup) and ICY listeners of live audio paths on rtsp.ports';
const FILE_BUFFERS = "file reading is Rivulet's own: vod.readAhead bytes at once per viewer";
const REFLECTOR = 'Rivulet hands each live frame to every viewer at once and keeps the frames since the last keyframe for newcomers: no buckets or buffer seconds to set';
const RTP_INFO = 'Rivulet always answers PLAY with Range and RTP-Info as RFC 2326 says';
const PUBLISH_RULES = 'which paths may be published is said per path (paths: with publishAllow) and by qtaccess <Limit WRITE> rules';
const BROADCAST_DIRS = `Rivulet has no such setting: ${PUBLISH_RULES}`;
const ALWAYS_PUBLISH = `Rivulet always takes publishers allowed by live.publishAllow or a login: ${PUBLISH_RULES}`;

type Rule = (p: DssPref, m: Mapper) => void;

/** A pref Rivulet has no equivalent for. */
const not =
  (why: string): Rule =>
  (_p, m) =>
    m.skip(why);

/** Prefs whose value is never shown: passwords. */
const SECRET = /password/i;

/** Whether a value means on or off, as DSS's Bool16 read it. */
function boolOf(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (['true', 'enabled', 'yes', '1'].includes(t)) return true;
  if (['false', 'disabled', 'no', '0'].includes(t)) return false;
  return undefined;
}

/** A DSS `ip_allow_list` entry (`127.0.0.*`, `10.*`, an address, a CIDR) as an address or CIDR, or
 * undefined when a wildcard is not at the end. */
export function dssWildcardToCidr(entry: string): string | undefined {
  if (isIP(entry)) return entry;
  const slash = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (slash && isIP(slash[1]) && Number(slash[2]) <= (isIPv4(slash[1]) ? 32 : 128)) return entry;
  const parts = entry.split('.');
  if (parts.length > 4 || parts.length === 0 || (parts.length < 4 && parts[parts.length - 1] !== '*')) return undefined;
  while (parts.length < 4) parts.push('*');
  const fixed = parts.indexOf('*') < 0 ? 4 : parts.indexOf('*');
  if (parts.slice(fixed).some((p) => p !== '*')) return undefined;
  if (parts.slice(0, fixed).some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const octets = [...parts.slice(0, fixed).map(Number), ...Array<number>(4 - fixed).fill(0)];
  return `${octets.join('.')}/${fixed * 8}`;
}

/** Whether the list lets 127.0.0.1 in. */
function allowsLoopback(entries: string[]): boolean {
  const b = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    if (!isIPv4(addr)) continue;
    if (bits === undefined) b.addAddress(addr, 'ipv4');
    else b.addSubnet(addr, Number(bits), 'ipv4');
  }
  return b.check('127.0.0.1', 'ipv4');
}

/** A value as YAML on one line. */
function yamlText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlText).join(', ')}]`;
  if (typeof v === 'string') return stringify(v).trimEnd();
  return String(v);
}

/** The value at a key's parts in a config tree, or undefined. */
function valueAt(tree: Record<string, unknown>, parts: readonly string[]): unknown {
  let at: unknown = tree;
  for (const part of parts) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Builds the config while the rules run, recording what each pref became. */
class Mapper {
  readonly tree: Record<string, Record<string, unknown>> = {};
  readonly mapped: MappedPref[] = [];
  readonly unmapped: UnmappedPref[] = [];
  #pref: DssPref = { module: '', name: '', values: [] };
  #absent = false;

  constructor(
    readonly opts: DssImportOptions,
    /** Another pref of the file, by module and name. */
    readonly lookup: (module: string, name: string) => DssPref | undefined,
  ) {}

  run(p: DssPref, rule: Rule, absent = false): void {
    this.#pref = p;
    this.#absent = absent;
    rule(p, this);
  }

  /** The pref's value as one text (a list's values space-separated). */
  get text(): string {
    return this.#pref.values.join(' ');
  }

  #base() {
    const p = this.#pref;
    const value = SECRET.test(p.name) ? '(hidden)' : p.values.length > 1 ? `[${p.values.join(', ')}]` : p.values[0] === undefined || p.values[0] === '' ? '""' : p.values[0];
    return { ...(p.module ? { module: p.module } : {}), pref: p.name, value };
  }

  /** Sets `key` (`group.name`, or deeper: `group.section.name`) to `value`. */
  set(key: string, value: unknown, note?: string): void {
    const parts = key.split('.');
    let at: Record<string, unknown> = this.tree;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]] = value;
    this.mapped.push({ ...this.#base(), key, to: SECRET.test(this.#pref.name) ? '(hidden)' : yamlText(value), ...(note ? { note } : {}), ...(this.#absent ? { absent: true } : {}) });
  }

  /** Maps the pref to `key` left at Rivulet's default, which does the same. */
  keep(key: string, note: string): void {
    this.mapped.push({ ...this.#base(), key, note, ...(this.#absent ? { absent: true } : {}) });
  }

  skip(why: string): void {
    // A default standing in for a pref the file leaves out, that leads nowhere (a relay config
    // that is not there): nothing to report, as nothing was written in the file.
    if (!this.#absent) this.unmapped.push({ ...this.#base(), why });
  }

  get(key: string): unknown {
    return valueAt(this.tree, key.split('.'));
  }

  /** The value read as on/off, or undefined (reported) when it is neither. */
  bool(): boolean | undefined {
    const b = boolOf(this.text);
    if (b === undefined) this.skip(`'${this.text}' is neither true nor false`);
    return b;
  }

  /** The value read as a whole number, or undefined (reported) when it is not one. */
  int(): number | undefined {
    if (/^-?\d{1,15}$/.test(this.text)) return Number(this.text);
    this.skip(`'${this.text}' is not a whole number`);
    return undefined;
  }

  /** The value as a path: kept when absolute, else taken from `baseDir`; undefined (reported)
   * when empty. */
  path(): { path: string; note?: string } | undefined {
    const t = this.text;
    if (t === '') {
      this.skip('empty: Rivulet keeps its default');
      return undefined;
    }
    if (isAbsolute(t) || this.opts.baseDir === undefined) return { path: t };
    return { path: resolve(this.opts.baseDir, t), note: `relative in DSS (to its working folder): taken from the folder of the XML, ${this.opts.baseDir}` };
  }

  /** Sets `key` from a whole number within [min, max]. */
  number(key: string, min: number, max: number, note?: string): void {
    const n = this.int();
    if (n === undefined) return;
    if (n < min || n > max) this.skip(`${n} is outside what ${key} takes (${min} to ${max})`);
    else this.set(key, n, note);
  }

  /** Sets `key` from a number (decimals allowed) within [min, max]. */
  decimal(key: string, min: number, max: number, note?: string): void {
    if (!/^-?\d{1,9}(\.\d{1,9})?$/.test(this.text)) {
      this.skip(`'${this.text}' is not a number`);
      return;
    }
    const n = Number(this.text);
    if (n < min || n > max) this.skip(`${n} is outside what ${key} takes (${min} to ${max})`);
    else this.set(key, n, note);
  }

  /** Sets `key` from on/off. */
  flag(key: string, note?: string): void {
    const b = this.bool();
    if (b !== undefined) this.set(key, b, note);
  }

  /** Sets `key` from a path pref. */
  file(key: string, note?: string): void {
    const p = this.path();
    if (p) this.set(key, p.path, [p.note, note].filter(Boolean).join('; ') || undefined);
  }

  /** Sets `key` from a non-empty text. */
  string(key: string, note?: string): void {
    if (this.text === '') this.skip(`empty: ${key} keeps Rivulet's default`);
    else this.set(key, this.text, note);
  }
}

/** DSS's connection and bandwidth caps: -1 unlimited (Rivulet's 0); DSS's 0 refused everyone,
 * which Rivulet cannot say. */
function limit(key: string): Rule {
  return (_p, m) => {
    const n = m.int();
    if (n === undefined) return;
    if (n < 0) m.set(key, 0, "unlimited: DSS's -1 is Rivulet's 0");
    else if (n === 0) m.skip(`0 made DSS refuse every viewer; Rivulet's 0 means no limit: set ${key} to the number you want`);
    else m.set(key, n);
  };
}

/** A log file name: Rivulet's are fixed. */
function logName(fixed: string, key: string): Rule {
  return (_p, m) => {
    if (m.text === fixed) m.keep(key, `${fixed}.log in logs.folder, the name Rivulet uses`);
    else m.skip(`Rivulet names this log ${fixed}.log (in logs.folder)`);
  };
}

/** error_logfile_dir and request_logfile_dir: Rivulet has one logs.folder, the first one given. */
const logFolder: Rule = (_p, m) => {
  const p = m.path();
  if (!p) return;
  const taken = m.get('logs.folder');
  if (taken === undefined) m.set('logs.folder', p.path, [p.note, 'Rivulet writes Error.log, StreamingServer.log and the playlist logs there'].filter(Boolean).join('; '));
  else if (taken === p.path) m.keep('logs.folder', 'the same folder');
  else m.skip(`Rivulet writes all its logs in one folder, logs.folder, set from the other log folder (${typeof taken === 'string' ? taken : ''})`);
};

/** On/off prefs where on is what Rivulet always does. */
function always(key: string, onNote: string, offWhy: string): Rule {
  return (_p, m) => {
    const b = m.bool();
    if (b === true) m.keep(key, onNote);
    else if (b === false) m.skip(offWhy);
  };
}

/** Who may publish without a login: DSS's ip_allow_list (wildcards) unless
 * authenticate_local_broadcast made everyone log in. */
const ipAllowList: Rule = (_p, m) => {
  if (boolOf(m.lookup('QTSSReflectorModule', 'authenticate_local_broadcast')?.values.join(' ') ?? '') === true) {
    m.set('live.publishAllow', [], 'authenticate_local_broadcast is true: every publisher logs in');
    return;
  }
  const entries = m.text.split(/[\s,]+/).filter(Boolean);
  const cidrs: string[] = [];
  const bad: string[] = [];
  for (const e of entries) {
    const c = dssWildcardToCidr(e);
    if (c === undefined) bad.push(e);
    else if (!cidrs.includes(c)) cidrs.push(c);
  }
  if (cidrs.length === 0) {
    m.skip(bad.length ? `${bad.join(', ')}: a wildcard only stands for the last parts of an address (10.1.*.*); write live.publishAllow as addresses or CIDRs` : 'empty: nobody publishes without a login (live.publishAllow: [])');
    if (!bad.length) m.set('live.publishAllow', []);
    return;
  }
  const notes = ['wildcards written as CIDRs'];
  if (allowsLoopback(cidrs) && !cidrs.includes('::1')) {
    cidrs.push('::1');
    notes.push('::1 added: Rivulet also listens on IPv6, and a local encoder may come from there');
  }
  if (bad.length) notes.push(`${bad.join(', ')} left out: a wildcard only stands for the last parts of an address`);
  m.set('live.publishAllow', cidrs, notes.join('; '));
};

const authenticateLocal: Rule = (_p, m) => {
  const b = m.bool();
  if (b === true) m.set('live.publishAllow', [], 'every publisher logs in, local ones too');
  else if (b === false) m.keep('live.publishAllow', 'publishers from ip_allow_list need no login');
};

const SERVER_RULES: Record<string, Rule> = {
  rtsp_port: (_p, m) => {
    const ports: number[] = [];
    const bad: string[] = [];
    for (const v of m.text.split(/\s+/).filter(Boolean)) {
      const n = Number(v);
      if (/^\d{1,5}$/.test(v) && n >= 1 && n <= 65535) {
        if (!ports.includes(n)) ports.push(n);
      } else bad.push(v);
    }
    if (ports.length === 0) {
      m.skip(bad.length ? `${bad.join(', ')}: not port numbers` : 'no port given: Rivulet listens on its default, 8554');
      return;
    }
    const notes = ['every RTSP port also takes RTSP-over-HTTP tunnels, as in DSS'];
    if (ports.some((p) => p < 1024)) notes.push(`ports below 1024 need root or CAP_NET_BIND_SERVICE: ${ports.filter((p) => p < 1024).join(', ')}`);
    if (bad.length) notes.push(`${bad.join(', ')} left out: not port numbers`);
    m.set('rtsp.ports', ports, notes.join('; '));
  },
  bind_ip_addr: (p, m) => {
    const addrs = p.values.flatMap((v) => v.split(/\s+/)).filter(Boolean);
    if (addrs.length === 0 || addrs.every((a) => a === '0' || a === '0.0.0.0')) {
      m.keep('rtsp.bind', "every address: Rivulet's default, which listens on IPv6 too");
      return;
    }
    const bad = addrs.filter((a) => a !== '0' && !isIP(a));
    const good = addrs.map((a) => (a === '0' ? '0.0.0.0' : a)).filter((a) => isIP(a));
    if (good.length === 0) m.skip(`${bad.join(', ')}: not IP addresses`);
    else m.set('rtsp.bind', good, bad.length ? `${bad.join(', ')} left out: not IP addresses` : undefined);
  },
  movie_folder: (_p, m) => m.file('media.dir'),
  maximum_connections: limit('limits.maxConnections'),
  maximum_bandwidth: limit('limits.maxBandwidthKbps'),
  authentication_scheme: (_p, m) => {
    const s = m.text.toLowerCase();
    if (s === 'basic' || s === 'digest' || s === 'none') m.set('auth.scheme', s);
    else m.skip(`'${m.text}' is not basic, digest or none`);
  },
  default_authorization_realm: (_p, m) => m.string('auth.realm'),
  enable_allow_guest_default: (_p, m) => m.flag('auth.allowGuestDefault'),
  rtp_timeout: (_p, m) => {
    const n = m.int();
    if (n === undefined) return;
    if (n <= 0) m.set('rtsp.sessionTimeout', 86400, "0 (never) in DSS: Rivulet's longest, a day");
    else {
      const t = Math.min(86400, Math.max(5, n));
      m.set('rtsp.sessionTimeout', t, `a session without requests or RTCP for this long is closed, as DSS's rtp_timeout did${t !== n ? ` (${n} is outside 5 to 86400)` : ''}; Rivulet also tells players this timeout`);
    }
  },
  real_rtsp_timeout: not('Rivulet has one idle timeout, rtsp.sessionTimeout, set from rtp_timeout: a session without requests or RTCP for that long is closed'),
  rtsp_timeout: not('the timeout players were told (0: none): Rivulet tells them rtsp.sessionTimeout, the one it applies'),
  error_logging: (_p, m) => m.flag('logs.error'),
  error_logfile_dir: logFolder,
  error_logfile_name: logName('Error', 'logs.error'),
  error_logfile_size: (_p, m) => m.number('logs.errorRollSize', 0, 2 ** 40),
  error_logfile_interval: (_p, m) => m.number('logs.errorRollDays', 0, 3650),
  error_logfile_verbosity: (_p, m) => {
    const n = m.int();
    if (n !== undefined) m.set('logs.errorVerbosity', Math.min(4, Math.max(0, n)), '0 fatal, 1 warnings, 2 info, 3 asserts, 4 debug, as in DSS');
  },
  screen_logging: not('Rivulet always logs to standard output too (log.level, log.format)'),
  RTSP_server_info: (_p, m) => {
    const b = m.bool();
    if (b === true) m.keep('rtsp.serverHeader', 'responses carry Server: Rivulet');
    else if (b === false) m.set('rtsp.serverHeader', '', 'no Server: header');
  },
  run_user_name: not(RUN_AS),
  run_group_name: not(RUN_AS),
  module_folder: not('Rivulet loads no modules: what the DSS modules did is built in'),
  pid_file: not('Rivulet writes no pid file: a service manager (systemd) tracks it'),
  auto_restart: not('Rivulet does not restart itself: run it under a service manager (systemd Restart=on-failure)'),
  auto_start: not('starting at boot is the service manager\'s job (systemctl enable)'),
  safe_play_duration: not('Rivulet never drops viewers already playing to get back under limits.maxBandwidthKbps: it refuses new ones (453)'),
  total_bytes_update: not(STATS),
  average_bandwidth_update: not(STATS),
  enable_monitor_stats_file: not(`no status file: ${STATS}`),
  monitor_stats_file_interval_seconds: not(`no status file: ${STATS}`),
  monitor_stats_file_name: not(`no status file: ${STATS}`),
  tcp_seconds_to_buffer: not(TCP_BUFFERS),
  min_tcp_buffer_size: not(TCP_BUFFERS),
  max_tcp_buffer_size: not(TCP_BUFFERS),
  send_interval: not('Rivulet sends each packet at its own time, not in fixed intervals'),
  max_send_ahead_time: (_p, m) => m.number('vod.maxSendAheadTime', 0, 60, 'Instant-On: how far ahead a file viewer may be sent'),
  overbuffer_rate: (_p, m) => m.decimal('vod.overbufferRate', 1, 10, 'Instant-On, over UDP and TCP alike'),
  do_report_http_connection_ip_address: not(`${NO_SETTING}: its HTTP tunnel replies carry no x-server-ip-address (needed only behind round-robin DNS)`),
  append_source_addr_in_transport: not(`${NO_SETTING}: its Transport replies name no source address`),
  alt_transport_src_ipaddr: not(`${NO_SETTING}: its Transport replies name no source address`),
  auto_delete_sdp_files: not('Rivulet never deletes SDP files'),
  sdp_file_delete_interval_seconds: not('Rivulet never deletes SDP files'),
  RTSP_error_message: not(`${NO_SETTING}: errors carry their reason phrase, and the log says why`),
  run_num_threads: not('Rivulet runs on one event loop (with a native UDP fan-out): no threads to count'),
  run_num_rtsp_threads: not('Rivulet runs on one event loop (with a native UDP fan-out): no threads to count'),
  force_logs_close_on_write: not(`${NO_SETTING}: each log line is written as it comes`),
  enable_udp_monitor_stream: not('Rivulet has no monitor stream: to copy a live path to a UDP address, give it paths.<name>.forward'),
  default_stream_quality: not(NO_3GPP),
  break_on_assert: not(DEBUG),
  RTSP_debug_printfs: not(DEBUG),
  enable_packet_header_printfs: not(DEBUG),
  packet_header_printf_options: not(DEBUG),
  reliable_udp_printfs: not(DEBUG),
  ack_logging_enabled: not(DEBUG),
};
for (const n of ['drop_all_packets_delay', 'drop_all_video_delay', 'thin_all_the_way_delay', 'always_thin_delay', 'start_thinning_delay', 'start_thicking_delay', 'thick_all_the_way_delay', 'quality_check_interval', 'disable_thinning']) {
  SERVER_RULES[n] = not(LATENESS_THINNING);
}
SERVER_RULES.reliable_udp = (_p, m) => m.flag('retransmit.reliableUdp.enabled', "QuickTime's reliable UDP (Skip Protection), for files and live streams alike");
SERVER_RULES.reliable_udp_slow_start = (_p, m) => m.flag('retransmit.reliableUdp.slowStart');
SERVER_RULES.reliable_udp_dirs = not("Rivulet's reliable UDP is for every path (retransmit.reliableUdp.enabled), not chosen by folder");
for (const n of ['small_window_size', 'medium_window_size', 'large_window_size', 'window_size_threshold', 'window_size_max_threshold']) SERVER_RULES[n] = not(RUDP_WINDOWS);
for (const n of ['max_retransmit_delay', 'rtcp_poll_interval']) SERVER_RULES[n] = not(RUDP_TIMING);
SERVER_RULES.rtcp_rcv_buf_size = not("Rivulet leaves the RTCP sockets' receive buffers at the system's size");

/** Families of SERVER prefs known by their names' start. */
const SERVER_PREFIXES: [RegExp, Rule][] = [
  [/^player_requires_/, not(PLAYERS)],
  [/3gpp/i, not(NO_3GPP)],
  [/^udp_monitor_/, not('Rivulet has no monitor stream: to copy a live path to a UDP address, give it paths.<name>.forward')],
];

/** Each module's prefs; a string: every pref of the module, for that reason. */
const MODULE_RULES: Record<string, Record<string, Rule> | string> = {
  QTSSAccessLogModule: {
    request_logging: (_p, m) => m.flag('logs.access'),
    request_logfile_dir: logFolder,
    request_logfile_name: logName('StreamingServer', 'logs.access'),
    request_logfile_size: (_p, m) => m.number('logs.accessRollSize', 0, 2 ** 40),
    request_logfile_interval: (_p, m) => m.number('logs.accessRollDays', 0, 3650),
    request_logtime_in_gmt: (_p, m) => m.flag('logs.gmt'),
  },
  QTSSFileModule: {
    sdp_url: not(`${NO_SETTING}: the SDP Rivulet makes for a file has no u= line`),
    admin_email: not(`${NO_SETTING}: the SDP Rivulet makes for a file has no e= line`),
    max_allowed_speed: (_p, m) => m.decimal('vod.maxSpeed', 1, 16, 'the largest RTSP Speed honoured'),
    flow_control_probe_interval: not(FILE_BUFFERS),
    add_seconds_to_client_buffer_delay: not(NO_SETTING),
    record_movie_file_sdp: not(`${NO_SETTING}: Rivulet makes each file's SDP when asked and writes none`),
    enable_movie_file_sdp: not(`${NO_SETTING}: Rivulet makes each file's SDP when asked and writes none`),
    allow_invalid_hint_track_refs: not('Rivulet checks hint tracks and packetizes the media itself when one is broken (vod.preferHintTracks)'),
    enable_player_compatibility: not(PLAYERS),
  },
  QTSSReflectorModule: {
    ip_allow_list: ipAllowList,
    authenticate_local_broadcast: authenticateLocal,
    BroadcasterGroup: (_p, m) => m.string('auth.broadcasterGroup'),
    timeout_broadcaster_session_secs: (_p, m) => m.number('live.publisherTimeout', 1, 3600, 'seconds without packets after which a publisher is gone'),
    kill_clients_when_broadcast_stops: (_p, m) => {
      const b = m.bool();
      if (b === true) m.set('live.graceTime', 0, 'viewers get BYE as soon as the publisher goes');
      else if (b === false) m.keep('live.graceTime', 'viewers wait live.graceTime, 10 s, for the publisher to come back, then get BYE; DSS kept them waiting');
    },
    allow_duplicate_broadcasts: (_p, m) => {
      const b = m.bool();
      if (b === false) m.keep('live.takeover', 'a second publisher on a path in use gets 412');
      else if (b === true) m.skip('one publisher feeds a path in Rivulet; live.takeover: true lets a new one take it over instead');
    },
    max_announced_sdp_length_kbytes: (_p, m) => {
      const n = m.int();
      if (n === undefined) return;
      if (n <= 0) m.keep('rtsp.maxBodyBytes', "no limit in DSS; Rivulet always bounds request bodies, 64 KiB by default");
      else if (n * 1024 > 16777216) m.skip(`${n} KB is more than rtsp.maxBodyBytes takes (16 MiB)`);
      else m.set('rtsp.maxBodyBytes', n * 1024, 'Rivulet bounds every request body, an ANNOUNCE\'s SDP among them');
    },
    enable_broadcast_announce: always('live.publishAllow', 'Rivulet always takes ANNOUNCE from publishers it allows', ALWAYS_PUBLISH),
    enable_broadcast_push: always('live.publishAllow', 'Rivulet always takes RECORD from publishers it allows', ALWAYS_PUBLISH),
    allow_broadcasts: always('live.publishAllow', 'Rivulet always reflects what allowed publishers send', ALWAYS_PUBLISH),
    allow_non_sdp_urls: always('paths', 'a live path plays with or without .sdp', 'Rivulet always serves a live path with or without .sdp'),
    disable_overbuffering: not('Rivulet overbuffers files only (vod.overbufferRate): a live viewer gets each frame as it comes, and the frames since the last keyframe at once when it joins'),
    redirect_broadcast_keyword: not(BROADCAST_DIRS),
    redirect_broadcasts_dir: not(BROADCAST_DIRS),
    broadcast_dir_list: not(BROADCAST_DIRS),
    allow_announced_kill: not('Rivulet has no .kill announce: a publisher ends its broadcast with TEARDOWN'),
    max_broadcast_announce_duration_secs: not(NO_SETTING),
    enforce_static_sdp_port_range: not(`${NO_SETTING}: SDP files may name any port`),
    minimum_static_sdp_port: not(`${NO_SETTING}: SDP files may name any port`),
    maximum_static_sdp_port: not(`${NO_SETTING}: SDP files may name any port`),
    use_one_SSRC_per_stream: not(`${NO_SETTING}: each track of a live stream is one RTP stream`),
    timeout_stream_SSRC_secs: not(`${NO_SETTING}: each track of a live stream is one RTP stream`),
    enable_rtp_play_info: not(RTP_INFO),
    disable_rtp_play_info: not(RTP_INFO),
    reflector_rtp_info_offset_msec: not(RTP_INFO),
    force_rtp_info_sequence_and_time: not(RTP_INFO),
    enable_play_response_range_header: not(RTP_INFO),
    enable_player_compatibility: not(PLAYERS),
  },
  QTSSRelayModule: {
    relay_prefs_file: (_p, m) => {
      const r = m.opts.facts?.relays;
      if (r?.missing) {
        m.skip('the file does not exist, so DSS ran no relays');
        return;
      }
      m.file('relays.dssConfig', 'Rivulet reads DSS relay configs as they are: each relay runs as the paths: entry it amounts to');
    },
    relay_stats_url: not("relay status is on the web admin's Relays page and /api/v1/relays (admin.port)"),
  },
  QTSSAccessModule: {
    modAccess_usersfilepath: (_p, m) => m.file('auth.usersFile'),
    modAccess_groupsfilepath: (_p, m) => m.file('auth.groupsFile'),
    modAccess_qtaccessfilename: (_p, m) => {
      if (m.text === '' || /[/\\\0]/.test(m.text) || m.text === '.' || m.text === '..') m.skip(`'${m.text}' is not a file name`);
      else m.set('auth.accessFileName', m.text, 'Rivulet reads these access files as DSS did');
    },
    modAccess_enabled: always('auth.accessFileName', 'Rivulet always honours access files', 'Rivulet always honours access files: remove them to open their folders'),
  },
  QTSSAdminModule: {
    AdministratorGroup: (_p, m) => m.string('admin.group', "its members sign in to Rivulet's web admin and API on admin.port"),
    LocalAccessOnly: not(ADMIN_PROTOCOL),
    IPAccessList: not(ADMIN_PROTOCOL),
    Authenticate: not(ADMIN_PROTOCOL),
    enable_remote_admin: not(ADMIN_PROTOCOL),
    RequestTimeIntervalMilli: not(ADMIN_PROTOCOL),
  },
  QTSSRefMovieModule: {
    refmovie_xfer_enabled: always('rtsp.ports', 'an HTTP GET of a movie on any RTSP port gets a reference movie', 'Rivulet always answers an HTTP GET of a movie with a reference movie'),
    refmovie_rtsp_port: not("Rivulet's reference movies name the RTSP port the GET came in on (else the first of rtsp.ports)"),
  },
  QTSSSpamDefenseModule: {
    num_conns_per_ip_addr: (_p, m) => m.number('limits.maxConnectionsPerIp', 0, 1000000),
  },
  QTSSMP3StreamingModule: {
    mp3_streaming_enabled: (_p, m) => {
      const b = m.bool();
      if (b !== undefined) m.set('radio.ports', [], b ? MP3_ON_RTSP_PORTS : MP3_OFF);
    },
    mp3_broadcast_password: (_p, m) => {
      if (boolOf(m.lookup('QTSSMP3StreamingModule', 'mp3_streaming_enabled')?.values.join(' ') ?? '') === false) m.skip('mp3_streaming_enabled is false: DSS took no MP3 source with it, so no one publishes radio with it here either');
      else if (m.text === '') m.keep('radio.sourcePassword', 'empty: no source publishes with a password; users of auth.broadcasterGroup publish with their own login');
      else m.set('radio.sourcePassword', m.text, "the password of Icecast's user source, and of SHOUTcast v1 and x-audiocast sources, as in DSS");
    },
    mp3_max_flow_control_time: (_p, m) => {
      const ms = m.int();
      if (ms === undefined) return;
      if (ms <= 0) {
        m.skip(`${ms} ms: Rivulet always drops a listener that falls behind; radio.maxFlowControlTime keeps its default, 10 s`);
        return;
      }
      const s = Math.min(600, Math.max(1, ms / 1000));
      m.set('radio.maxFlowControlTime', s, `milliseconds in DSS, seconds in Rivulet: a listener further behind is dropped${s * 1000 !== ms ? ` (${ms} ms is outside 1 to 600 s)` : ''}`);
    },
    mp3_broadcast_buffer_size: not("DSS's read size for MP3 sources: Rivulet reads what the socket gives and bounds each listener's queue by radio.maxFlowControlTime"),
    mp3_request_timeout: not('Rivulet has one limit for a request to arrive, on every port: limits.requestTimeout'),
    mp3_request_logging: not(MP3_LOG),
    mp3_request_logfile_name: not(MP3_LOG),
    mp3_request_logfile_dir: not(MP3_LOG),
    mp3_request_logfile_size: not(MP3_LOG),
    mp3_request_logfile_interval: not(MP3_LOG),
    mp3_request_logtime_in_gmt: not(MP3_LOG),
  },
  QTSSWebStatsModule: "Rivulet's status pages are the web admin on admin.port (and /api/v1/server, /metrics)",
  QTSSHttpFileModule: 'Rivulet does not serve files for HTTP download',
  QTSSFlowControlModule: {
    flow_control_udp_thinning_module_enabled: (_p, m) => m.flag('retransmit.thinning.enabled'),
    loss_thin_tolerance: (_p, m) => m.number('retransmit.thinning.thinPercent', 1, 100),
    num_losses_to_thin: (_p, m) => m.number('retransmit.thinning.thinReports', 1, 100),
    loss_thick_tolerance: (_p, m) => m.number('retransmit.thinning.thickenPercent', 0, 100),
    num_losses_to_thick: (_p, m) => m.number('retransmit.thinning.thickenReports', 1, 100),
    num_worses_to_thin: not("Rivulet thins on the loss viewers report alone, not on QuickTime's 'getting worse' reports"),
  },
  QTSSHomeDirectoryModule: "Rivulet serves no users' home folders (~user URLs)",
};
for (const n of ['num_shared_buffer_increase_per_session', 'shared_buffer_unit_k_size', 'private_buffer_unit_k_size', 'num_shared_buffer_units_per_buffer', 'num_private_buffer_units_per_buffer', 'max_shared_buffer_units_per_buffer', 'max_private_buffer_units_per_buffer', 'enable_shared_file_buffers', 'enable_private_file_buffers']) {
  (MODULE_RULES.QTSSFileModule as Record<string, Rule>)[n] = not(FILE_BUFFERS);
}
for (const n of ['reflector_bucket_size', 'reflector_delay', 'reflector_bucket_offset_delay_msec', 'reflector_buffer_size_sec', 'reflector_use_in_packet_receive_time', 'reflector_in_packet_max_receive_sec']) {
  (MODULE_RULES.QTSSReflectorModule as Record<string, Rule>)[n] = not(REFLECTOR);
}
for (const mod of ['QTSSFileModule', 'QTSSReflectorModule']) {
  (MODULE_RULES[mod] as Record<string, Rule>).compatibility_adjust_sdp_media_bandwidth_percent = not(PLAYERS);
  (MODULE_RULES[mod] as Record<string, Rule>).compatibility_adjust_rtp_start_time_milli = not(PLAYERS);
}

/** DSS 6.0.3's built-in defaults (Linux paths) where Rivulet's differ: a file without the pref
 * ran with these. */
const DSS_DEFAULTS: DssPref[] = [
  { module: '', name: 'rtsp_port', values: ['554', '7070', '8000', '8001'] },
  { module: '', name: 'movie_folder', values: ['/usr/local/movies/'] },
  { module: '', name: 'maximum_connections', values: ['1000'] },
  { module: '', name: 'maximum_bandwidth', values: ['102400'] },
  { module: '', name: 'rtp_timeout', values: ['120'] },
  { module: '', name: 'error_logfile_dir', values: ['/var/streaming/logs/'] },
  { module: 'QTSSAccessLogModule', name: 'request_logfile_dir', values: ['/var/streaming/logs/'] },
  { module: 'QTSSRelayModule', name: 'relay_prefs_file', values: ['/etc/streaming/relayconfig.xml'] },
  { module: 'QTSSMP3StreamingModule', name: 'mp3_streaming_enabled', values: ['true'] },
];

/** The rule for a pref, or undefined for one Rivulet does not know. */
function ruleFor(p: DssPref): Rule | undefined {
  if (p.module === '') return Object.hasOwn(SERVER_RULES, p.name) ? SERVER_RULES[p.name] : SERVER_PREFIXES.find(([re]) => re.test(p.name))?.[1];
  const mod = Object.hasOwn(MODULE_RULES, p.module) ? MODULE_RULES[p.module] : undefined;
  if (typeof mod === 'string') return not(mod);
  return mod && Object.hasOwn(mod, p.name) ? mod[p.name] : undefined;
}

/** One element of the file. */
interface XmlElement {
  name: string;
  attrs: Readonly<Record<string, string>>;
  children: XmlElement[];
  text: string;
}

/** fast-xml-parser's ordered form (`[{ TAG: [children], ':@': attrs }, { '#text': … }]`) as
 * elements. */
function elements(nodes: unknown): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const out: XmlElement[] = [];
  for (const node of nodes as Record<string, unknown>[]) {
    const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
    if (name === undefined) continue;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries((node[':@'] as Record<string, unknown> | undefined) ?? {})) if (typeof v === 'string') attrs[k] = v;
    const content = Array.isArray(node[name]) ? (node[name] as Record<string, unknown>[]) : [];
    const text = content.map((c) => c['#text']).filter((t) => typeof t === 'string' || typeof t === 'number').join('');
    out.push({ name, attrs, children: elements(content), text });
  }
  return out;
}

/** The prefs of a streamingserver.xml text, in file order, and what in it is not a pref. Throws
 * DssXmlError when it cannot be used. */
export function parseDssXml(text: string): { prefs: DssPref[]; strays: UnmappedPref[] } {
  if (Buffer.byteLength(text) > MAX_DSS_XML_BYTES) throw new DssXmlError(`is larger than ${MAX_DSS_XML_BYTES} bytes: not a DSS config`);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!body.includes('<')) throw new DssXmlError('is not XML: expected <CONFIGURATION>');
  if (/<!ENTITY/i.test(body)) throw new DssXmlError('declares an <!ENTITY>: a DSS config has none, and Rivulet expands no entities');
  const fault = dssXmlFault(body);
  if (fault) throw new DssXmlError(`is not well-formed XML: line ${fault.line}: ${fault.msg}`);
  const parser = dssXmlParser({ maxNestedTags: 16 });
  let root: XmlElement | undefined;
  try {
    root = elements(parser.parse(body))[0];
  } catch (e) {
    throw new DssXmlError(`is not readable as XML: ${(e as Error).message}`);
  }
  if (!root) throw new DssXmlError('has no elements: expected <CONFIGURATION>');
  if (root.name === 'RELAY_CONFIG') throw new DssXmlError('is a relay config (relayconfig.xml), not streamingserver.xml: import the streamingserver.xml that names it, or give it to Rivulet as relays.dssConfig');
  if (root.name !== 'CONFIGURATION') throw new DssXmlError(`has the root element <${root.name}>, not <CONFIGURATION>: not a DSS streamingserver.xml`);
  const prefs: DssPref[] = [];
  const strays: UnmappedPref[] = [];
  for (const section of root.children) {
    const module = section.name === 'MODULE' ? (section.attrs.NAME ?? '') : '';
    if (section.name !== 'SERVER' && section.name !== 'MODULE') {
      strays.push({ pref: `<${section.name}>`, value: '', why: 'not <SERVER> or <MODULE>: DSS ignored it too' });
      continue;
    }
    for (const el of section.children) {
      if (prefs.length >= MAX_DSS_PREFS) {
        strays.push({ pref: '…', value: '', why: `more than ${MAX_DSS_PREFS} prefs: the rest are not read` });
        return { prefs, strays };
      }
      const name = el.attrs.NAME ?? '';
      if ((el.name !== 'PREF' && el.name !== 'LIST-PREF') || name === '') {
        strays.push({ ...(module ? { module } : {}), pref: `<${el.name}${name ? ` NAME="${name}"` : ''}>`, value: '', why: 'not a PREF or LIST-PREF with a NAME: Rivulet has no objects to set' });
        continue;
      }
      const values = el.name === 'PREF' ? [el.text.trim()] : el.children.filter((c) => c.name === 'VALUE').map((c) => c.text.trim());
      prefs.push({ module, name, values });
    }
  }
  return { prefs, strays };
}

/** `text` in lines of at most `width` characters, the first starting with `first`, the others
 * with `indent`. */
function wrap(text: string, indent = '', first = '', width = 94): string[] {
  const out: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.trim() && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else line = line.trim() ? `${line} ${word}` : `${line}${word}`;
  }
  if (line.trim()) out.push(line);
  return out;
}

/** A YAML comment of those lines (the library puts `#` before each; the space is ours). */
const comment = (lines: string[]) => lines.map((l) => ` ${l}`).join('\n');

/** The pref as the report names it: `QTSSAccessLogModule request_logging`. */
export function prefLabel(p: { module?: string; pref: string }): string {
  return p.module ? `${p.module} ${p.pref}` : p.pref;
}

/** Group order in the YAML, as rivulet.example.yaml has them. */
const GROUP_ORDER = ['rtsp', 'media', 'live', 'auth', 'limits', 'logs', 'relays', 'playlists', 'radio', 'admin'];

/** The commented YAML of `tree`: each key after a comment naming the prefs it comes from, and the
 * prefs not carried over at the end, grouped by reason. */
function renderYaml(tree: Record<string, Record<string, unknown>>, mapped: MappedPref[], unmapped: UnmappedPref[], opts: DssImportOptions): string {
  const ordered: Record<string, Record<string, unknown>> = {};
  for (const g of [...GROUP_ORDER, ...Object.keys(tree)]) if (tree[g] && !ordered[g]) ordered[g] = tree[g];
  const doc = new Document(ordered);
  const comments = new Map<string, string[]>();
  for (const m of mapped) {
    if (m.to === undefined) continue;
    const lines = comments.get(m.key) ?? [];
    lines.push(...wrap(`from ${prefLabel(m)} ${m.value}${m.absent ? " (not in the file: DSS's default)" : ''}${m.note ? `: ${m.note}` : ''}`, '  '));
    comments.set(m.key, lines);
  }
  const groups = (doc.contents as YAMLMap).items;
  const annotate = (map: YAMLMap, prefix: string): void => {
    for (const pair of map.items) {
      const key = pair.key as Scalar;
      const path = `${prefix}.${String(key.value)}`;
      const lines = comments.get(path);
      if (lines) key.commentBefore = comment(lines);
      if (isSeq(pair.value) && pair.value.items.every((it) => isScalar(it))) pair.value.flow = true;
      else if (isMap(pair.value)) annotate(pair.value, path);
    }
  };
  groups.forEach((groupPair, i) => {
    if (i > 0) (groupPair.key as Scalar).spaceBefore = true;
    annotate(groupPair.value as YAMLMap, String((groupPair.key as Scalar).value));
  });
  doc.commentBefore = comment([
    ...wrap(
      `Rivulet config written by rivulet import-dss${opts.source ? ` from ${opts.source}` : ''}. Each key says the DSS pref it comes from; keys not here keep Rivulet's defaults (rivulet.example.yaml documents every key). The DSS prefs Rivulet has no equivalent for are listed at the end.`,
    ),
    'Start with: rivulet serve --config <this file>',
  ]);
  const byWhy = new Map<string, string[]>();
  for (const u of unmapped) byWhy.set(u.why, [...(byWhy.get(u.why) ?? []), prefLabel(u)]);
  if (byWhy.size > 0) {
    const trailer = ['DSS prefs not carried over, and why:'];
    for (const [why, names] of byWhy) trailer.push(...wrap(`- ${names.join(', ')}: ${why}`, '    ', '  '));
    doc.comment = comment(trailer);
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Drops the keys the schema refuses (a value out of a range no rule foresaw), moving their prefs
 * to the unmapped ones with the schema's message: what is written always loads. */
function keepValid(tree: Record<string, Record<string, unknown>>, mapped: MappedPref[], unmapped: UnmappedPref[]): MappedPref[] {
  for (let round = 0; round < 10; round++) {
    const r = configSchema.safeParse(tree);
    if (r.success) break;
    for (const issue of r.error.issues) {
      const parts = issue.path.map(String);
      if (parts.length < 2) continue;
      const parent = valueAt(tree, parts.slice(0, -1));
      const name = parts[parts.length - 1];
      if (typeof parent !== 'object' || parent === null || !(name in parent)) continue;
      delete (parent as Record<string, unknown>)[name];
      // Sections left empty go too.
      for (let n = parts.length - 1; n > 0; n--) {
        const section = valueAt(tree, parts.slice(0, n)) as Record<string, unknown>;
        if (Object.keys(section).length > 0) break;
        delete (n === 1 ? tree : (valueAt(tree, parts.slice(0, n - 1)) as Record<string, unknown>))[parts[n - 1]];
      }
      const key = parts.join('.');
      for (const m of mapped.filter((x) => x.key === key && x.to !== undefined)) {
        unmapped.push({ ...(m.module ? { module: m.module } : {}), pref: m.pref, value: m.value, why: `${key} would not be valid (${issue.message})` });
      }
      mapped = mapped.filter((x) => !(x.key === key && x.to !== undefined));
    }
  }
  return mapped;
}

/** What the facts say, as report lines; the warnings for mapped files that are not there. */
function factNotes(r: Pick<DssImportResult, 'mapped'>, facts: DssFacts, config: Record<string, Record<string, unknown>>): DssNote[] {
  const notes: DssNote[] = [];
  const relays = facts.relays;
  if (relays?.error) notes.push({ kind: 'warning', text: `relays.dssConfig ${String(config.relays?.dssConfig)}: ${relays.error}; rivulet serve logs the same and runs no relay from it` });
  for (const p of relays?.paths ?? []) {
    const legs = [p.source ? `pulled from ${p.source}` : 'fed by its publishers', p.push ? `announced to ${p.push} server${p.push > 1 ? 's' : ''}` : '', p.forward ? `sent by UDP to ${p.forward} destination${p.forward > 1 ? 's' : ''}` : ''];
    notes.push({ kind: 'relay', text: `"${p.relay}" → path ${p.name}: ${legs.filter(Boolean).join(', ')}` });
  }
  for (const i of relays?.issues ?? []) notes.push({ kind: 'relay issue', text: `line ${i.line}${i.relay ? ` (relay "${i.relay}")` : ''}: ${i.reason}` });
  for (const p of facts.playlists?.playlists ?? []) notes.push({ kind: 'playlist', text: `${p.playlistFile} → path ${p.key}` });
  for (const p of facts.playlists?.problems ?? []) notes.push({ kind: 'warning', text: `playlists.folder: ${p}` });
  const accessFileName = typeof config.auth?.accessFileName === 'string' ? config.auth.accessFileName : 'qtaccess';
  for (const f of facts.accessFiles ?? []) notes.push({ kind: 'qtaccess', text: `${f}: read as it is (auth.accessFileName: ${accessFileName}); its folder and those below stay protected` });
  if (facts.accessFilesTruncated) notes.push({ kind: 'warning', text: `the movie folder is too large to look through for every ${accessFileName} file: those listed are the first found` });
  const missing = new Set(facts.missing ?? []);
  for (const m of r.mapped) {
    if (m.to === undefined) continue;
    const value = valueAt(config, m.key.split('.'));
    if (typeof value !== 'string' || !missing.has(value)) continue;
    const why = m.key === 'media.dir' ? 'rivulet serve refuses to start until it exists' : m.key.startsWith('auth.') ? 'no one can log in until it exists' : 'it does not exist';
    notes.push({ kind: 'warning', text: `${m.key} ${value} does not exist: ${why}` });
    missing.delete(value);
  }
  return notes;
}

/** The Rivulet config equivalent to a streamingserver.xml text. Throws DssXmlError when the text
 * cannot be used. */
export function importDssXml(text: string, opts: DssImportOptions = {}): DssImportResult {
  const { prefs, strays } = parseDssXml(text);
  const seen = new Map<string, DssPref>();
  const m = new Mapper(opts, (module, name) => prefs.find((p) => p.module === module && p.name === name));
  for (const p of prefs) {
    const id = `${p.module}\0${p.name}`;
    if (seen.has(id)) {
      m.run(p, not('given twice: the first is used, as DSS did'));
      continue;
    }
    seen.set(id, p);
    const rule = ruleFor(p);
    if (rule) m.run(p, rule);
    else if (p.module !== '' && !Object.hasOwn(MODULE_RULES, p.module)) m.run(p, not(`${p.module} is not a DSS 6.0.3 module Rivulet knows: not carried over`));
    else m.run(p, not('not a DSS 6.0.3 pref Rivulet knows: not carried over'));
  }
  for (const d of DSS_DEFAULTS) {
    if (!seen.has(`${d.module}\0${d.name}`)) m.run(d, ruleFor(d)!, true);
  }
  if (opts.playlistsFolder !== undefined) {
    m.run({ module: 'PlaylistBroadcaster', name: 'playlists folder', values: [opts.playlistsFolder] }, (_p, mm) =>
      mm.file('playlists.folder', 'each NAME/NAME.playlist there, with its NAME.config, broadcasts at path NAME (or at its destination_sdp_file) from the server\'s start'),
    );
  }
  const unmapped = [...strays, ...m.unmapped];
  const mapped = keepValid(m.tree, m.mapped, unmapped);
  const config = m.tree;
  const auth = config.auth ?? {};
  const files: DssImportResult['files'] = {
    ...(typeof config.media?.dir === 'string' ? { movieFolder: config.media.dir } : {}),
    ...(typeof config.relays?.dssConfig === 'string' ? { relayConfig: config.relays.dssConfig } : {}),
    usersFile: typeof auth.usersFile === 'string' ? auth.usersFile : '/etc/streaming/qtusers',
    groupsFile: typeof auth.groupsFile === 'string' ? auth.groupsFile : '/etc/streaming/qtgroups',
    accessFileName: typeof auth.accessFileName === 'string' ? auth.accessFileName : 'qtaccess',
    rtspPorts: Array.isArray(config.rtsp?.ports) ? (config.rtsp.ports as number[]) : [8554],
  };
  return {
    yaml: renderYaml(config, mapped, unmapped, opts),
    config,
    mapped,
    unmapped,
    notes: factNotes({ mapped }, opts.facts ?? {}, config),
    files,
  };
}

/** The report, one line per pref: what was mapped to which key, what was not and why, then the
 * relays, playlists, access files and warnings. */
export function formatDssReport(r: DssImportResult): string {
  const lines: string[] = [];
  for (const m of r.mapped) {
    const to = m.to === undefined ? `${m.key} left at its default` : `${m.key}: ${m.to}`;
    lines.push(`mapped:      ${prefLabel(m)} ${m.value}${m.absent ? " (not in the file: DSS's default)" : ''} → ${to}${m.note ? ` (${m.note})` : ''}`);
  }
  for (const u of r.unmapped) lines.push(`not mapped:  ${prefLabel(u)}${u.value ? ` ${u.value}` : ''}: ${u.why}`);
  for (const n of r.notes) lines.push(`${`${n.kind}:`.padEnd(12)} ${n.text}`);
  return `${lines.join('\n')}\n`;
}
