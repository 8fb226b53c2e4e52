/** DSS's access log (QTSSAccessLogModule), `StreamingServer.log`: W3C extended format, one line
 * per client session at its end (and per 401/403), in DSS 6.0.3's field order, `-` for an empty
 * field. A new file starts with
 *
 *     #Log File Created On: 05/01/2024 12:00:00
 *     #Software: Rivulet 0.1.0
 *     #Version: 1.0
 *     #Date: 2024-05-01 12:00:00
 *     #Remark: all time values are in GMT.
 *     #Fields: c-ip date time c-dns cs-uri-stem ...
 *
 * and `#Remark: Streaming beginning STARTUP|SHUTDOWN <date>` mark the server's start and stop.
 * Dates follow `gmt` (DSS request_logtime_in_gmt); the creation line is local time, as DSS.
 *
 * Where Rivulet differs from DSS, on purpose: counters are written whole (DSS cut them to 32
 * bits, a limit its own notes list as one to beat; a number of any length still parses);
 * avgbandwidth is what the session was sent over its duration (DSS wrote the movie's average
 * bit rate, which a live stream has not); c-playerid is the QuickTime `qtid` token (DSS wrote the
 * client's address there by mistake); no field is followed by a trailing space. */
import type { ClientRecord } from '../core/clients.js';
import { formatDateTime } from './log-time.js';
import { RollingFile, type RollingFileOptions, type RollingFileSettings } from './rolling-file.js';

/** DSS 6.0.3's `#Fields:`, in order. */
export const ACCESS_FIELDS = [
  'c-ip',
  'date',
  'time',
  'c-dns',
  'cs-uri-stem',
  'c-starttime',
  'x-duration',
  'c-rate',
  'c-status',
  'c-playerid',
  'c-playerversion',
  'c-playerlanguage',
  'cs(User-Agent)',
  'c-os',
  'c-osversion',
  'c-cpu',
  'filelength',
  'filesize',
  'avgbandwidth',
  'protocol',
  'transport',
  'audiocodec',
  'videocodec',
  'sc-bytes',
  'cs-bytes',
  'c-bytes',
  's-pkts-sent',
  'c-pkts-received',
  'c-pkts-lost-client',
  'c-buffercount',
  'c-totalbuffertime',
  'c-quality',
  's-ip',
  's-dns',
  's-totalclients',
  's-cpu-util',
  'cs-uri-query',
  'c-username',
  'sc(Realm)',
] as const;

/** DSS kept 255 bytes of the User-Agent, 31 of each token. */
const MAX_USER_AGENT = 255;
const MAX_TOKEN = 31;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is encoded
const UNSAFE = /[\s\x00-\x1f\x7f]/g;

/** A text field on no more than one token: white space and control characters percent-encoded
 * (a space is `%20`, as DSS's ReplaceSpaces wrote it), `-` when empty. */
export function textField(v: string | undefined, max = 1024): string {
  if (v === undefined || v === '') return '-';
  const s = v
    .slice(0, max)
    .replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return s === '-' ? '%2D' : s;
}

/** A counter or a measure: a whole number, 0 when unknown. */
function num(n: number | undefined): string {
  return n !== undefined && Number.isFinite(n) && n > 0 ? String(Math.round(n)) : '0';
}

/** QuickTime-style User-Agent tokens, as DSS's UserAgentParser read them from
 * `QTS (qtver=6.5;cpu=PPC;os=Mac 10.3;lang=en)`. */
export interface UserAgentTokens {
  id?: string;
  version?: string;
  language?: string;
  os?: string;
  osVersion?: string;
  cpu?: string;
}

const TOKEN_KEYS: Record<string, keyof UserAgentTokens> = {
  qtid: 'id',
  qtver: 'version',
  lang: 'language',
  os: 'os',
  osver: 'osVersion',
  cpu: 'cpu',
};

/** The tokens of the first `(...)` of an encoded User-Agent (`textField`), `name=value` separated
 * by `;`; the first of each name counts. An `os` with a `%20` and no `osver` is split there
 * (`os=Windows%20NT%204.0` is os Windows, version NT%204.0), as DSS did. */
export function parseUserAgent(encoded: string): UserAgentTokens {
  const tokens: UserAgentTokens = {};
  const open = encoded.indexOf('(');
  if (open < 0) return tokens;
  const close = encoded.indexOf(')', open);
  const inside = encoded.slice(open + 1, close < 0 ? undefined : close);
  for (const part of inside.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key =
      TOKEN_KEYS[
        part
          .slice(0, eq)
          .replace(/^(%20)+/, '')
          .trim()
      ];
    const value = part.slice(eq + 1);
    if (key && value && tokens[key] === undefined) tokens[key] = value;
  }
  if (tokens.os && tokens.osVersion === undefined) {
    const at = tokens.os.indexOf('%20');
    if (at >= 0) {
      tokens.osVersion = tokens.os.slice(at + 3);
      tokens.os = tokens.os.slice(0, at);
    }
  }
  for (const k of Object.keys(tokens) as (keyof UserAgentTokens)[])
    tokens[k] = tokens[k]!.slice(0, MAX_TOKEN);
  return tokens;
}

/** What a line needs from the server at the time it is written. */
export interface AccessLineContext {
  /** Dates in GMT (true) or local time. */
  gmt: boolean;
  /** Clients connected now (s-totalclients). */
  totalClients: number;
  /** The server's CPU use now, % (s-cpu-util). */
  cpuPercent: number;
  /** The server's address (s-ip) and host name (s-dns). */
  serverIp: string;
  serverDns: string;
}

/** The transport field: DSS's log tools know `UDP` and `TCP` only, so what the client directory
 * calls `HTTP` (a tunnel), `TLS` or plain `TCP` (interleaved: RTP on the connection, which is TCP
 * in every one of them) is written `TCP`; `-` when unknown. */
function accessTransport(t: string): string {
  if (t === '') return '-';
  return /^udp$/i.test(t) ? 'UDP' : 'TCP';
}

/** The path part of the URL the client named (cs-uri-stem: DSS's presentation URL). */
function uriStem(r: ClientRecord): { stem: string; query: string | undefined } {
  try {
    const u = new URL(r.url);
    return { stem: u.pathname || '/', query: r.query ?? (u.search ? u.search.slice(1) : undefined) };
  } catch {
    return { stem: `/${r.path.replace(/^\//, '')}`, query: r.query };
  }
}

/** One access-log line (with its line break) for a finished session. */
export function formatAccessLine(r: ClientRecord, ctx: AccessLineContext): string {
  const durationMs = Math.max(0, r.endedAt - r.startedAt);
  const ua = r.userAgent ? textField(r.userAgent, MAX_USER_AGENT) : '-';
  const tokens = ua === '-' ? {} : parseUserAgent(ua);
  const sent = r.packetsSent;
  const lost = Math.max(0, r.packetsLost);
  const lossFraction = sent > 0 ? Math.min(1, lost / sent) : 0;
  let quality: number;
  if (sent === 0) quality = 0;
  else if (!r.packetsReceived && lost === 0)
    quality = 100; // the client told nothing: assumed whole
  else {
    const received = r.packetsReceived ?? Math.max(0, sent - lost);
    quality = received + lost > 0 ? Math.round((100 * received) / (received + lost)) : 100;
  }
  const { stem, query } = uriStem(r);
  const protocol = /^rtsps?$/i.test(r.protocol) ? 'RTP' : r.protocol.toUpperCase();
  const values: string[] = [
    textField(r.address),
    formatDateTime(r.endedAt, ctx.gmt),
    '-',
    textField(stem),
    num(r.playStart),
    num(durationMs / 1000),
    '1',
    String(r.status),
    textField(tokens.id),
    textField(tokens.version),
    textField(tokens.language),
    ua,
    textField(tokens.os),
    textField(tokens.osVersion),
    textField(tokens.cpu),
    num(r.fileLength),
    num(r.fileSize),
    num(durationMs > 0 ? (r.bytesSent * 8000) / durationMs : 0),
    textField(protocol),
    accessTransport(r.transport),
    textField(r.audioCodec),
    textField(r.videoCodec),
    num(r.bytesSent),
    num(r.bytesReceived),
    num(r.bytesSent * (1 - lossFraction)),
    num(sent),
    num(r.packetsReceived),
    num(lost),
    '1',
    '0',
    String(quality),
    textField(ctx.serverIp),
    textField(ctx.serverDns),
    num(ctx.totalClients),
    num(ctx.cpuPercent),
    textField(query),
    textField(r.user),
    textField(r.realm),
  ];
  return `${values.join(' ')}\n`;
}

/** The W3C header of a new access log (after its creation line). */
export function accessHeader(software: string, now: number, gmt: boolean): string {
  return (
    `#Software: ${software}\n` +
    '#Version: 1.0\n' +
    `#Date: ${formatDateTime(now, gmt)}\n` +
    `#Remark: all time values are in ${gmt ? 'GMT' : 'local time'}.\n` +
    `#Fields: ${ACCESS_FIELDS.join(' ')}\n`
  );
}

export interface AccessLogSettings extends RollingFileSettings {
  /** Dates in GMT (default true). */
  gmt?: boolean;
}

export interface AccessLogOptions
  extends AccessLogSettings, Pick<RollingFileOptions, 'onProblem' | 'now' | 'maxPendingBytes' | 'retryMs'> {
  /** `#Software:` (e.g. `Rivulet 0.1.0`). */
  software: string;
}

export class AccessLog {
  readonly file: RollingFile;
  #gmt: boolean;
  readonly #now: () => number;

  constructor(opts: AccessLogOptions) {
    this.#gmt = opts.gmt ?? true;
    this.#now = opts.now ?? Date.now;
    this.file = new RollingFile({
      ...opts,
      name: 'StreamingServer',
      header: (now) => accessHeader(opts.software, now, this.#gmt),
    });
  }

  /** Writes a finished session's line. */
  record(r: ClientRecord, ctx: Omit<AccessLineContext, 'gmt'>): void {
    if (this.file.enabled) this.file.write(formatAccessLine(r, { ...ctx, gmt: this.#gmt }));
  }

  startup(at = this.#now()): void {
    this.#remark('STARTUP', at);
  }

  shutdown(at = this.#now()): void {
    this.#remark('SHUTDOWN', at);
  }

  set(s: AccessLogSettings): void {
    this.#gmt = s.gmt ?? true;
    this.file.set(s);
  }

  #remark(what: string, at: number): void {
    this.file.write(`#Remark: Streaming beginning ${what} ${formatDateTime(at, this.#gmt)}\n`);
  }
}
