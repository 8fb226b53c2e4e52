/** The RTSP side of the core's client directory (`core/clients.ts`): what Connected Users, the
 * metrics and the access log know of RTSP clients.
 *
 * A session is listed from its first SETUP (as DSS listed its RTP sessions: a player that set up
 * and has not played yet is connected) until it closes, whatever closes it (TEARDOWN, the
 * connection, the reaper, the administrator, shutdown); it then leaves one access-log record with
 * the last status it was answered, its figures and its codecs. A 401 or 403 answered to DESCRIBE,
 * SETUP, PLAY or ANNOUNCE leaves a record of its own, one per request, as DSS's access log did.
 * Nothing here runs per packet: figures are computed by the session when the directory asks. */
import type { ClientDirectory, ClientInfo, ClientKind, ClientRecord } from '../../core/clients.js';
import type { Access } from '../../auth/index.js';
import type { Format } from '../../stream/types.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import { stripUserInfo } from '../client/url.js';
import { sessionIdOf } from '../headers/index.js';
import type { RtspRequest, RtspResponse } from '../message/types.js';
import type { RtspConnection } from './connection.js';
import type { RtspSession } from './session.js';
import { stripMapped } from './transport-setup.js';

/** Who the access check let in. */
export interface Login {
  user?: string;
  realm?: string;
}

/** A 401 or 403 the access check answered. */
export interface Refusal {
  status: number;
  reason: string;
  access: Access;
  /** The path the request named. */
  path: string;
  /** The user its credentials named, if they could be read. */
  user?: string;
  realm?: string;
}

export interface SessionClientsOptions {
  /** Where clients are listed and records go. Default: none (nothing is listed; unit tests). */
  clients?: ClientDirectory;
  /** The server's sessions: one the administrator disconnects leaves it at once. */
  sessions: Map<string, RtspSession>;
  /** Whether a live stream is at a path: the kind of a refused viewer that has no session. */
  isLive(path: string): boolean;
}

/** Methods whose 401/403 leaves an access-log record. */
const RECORDED_REFUSALS: ReadonlySet<string> = new Set(['DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE']);
/** Bounds on what a client's request puts in a record. */
const MAX_URL = 1024;
const MAX_QUERY = 512;
const MAX_USER_AGENT = 256;

/** What is kept per listed session. */
interface Listed {
  id: string | undefined;
  info: ClientInfo;
  /** The last status the session's requests were answered. */
  status: number;
  /** Seconds into the presentation of its first PLAY. */
  playStart: number | undefined;
  audioCodec?: string;
  videoCodec?: string;
  query?: string;
  realm?: string;
}

/** What a connection told about its client before a session was set up. */
interface Heard {
  userAgent?: string;
  /** The query of its last DESCRIBE (or ANNOUNCE): a SETUP names the track URL, built without it. */
  query?: string;
}

/** The query of a request URI, if it has one. */
export function queryOf(uri: string): string | undefined {
  const i = uri.indexOf('?');
  if (i < 0) return undefined;
  const q = uri.slice(i + 1).split('#')[0];
  return q === '' ? undefined : q.slice(0, MAX_QUERY);
}

/** The presentation URL a request names, without credentials, query or track. */
export function presentationUrl(uri: string): string {
  let base: string;
  try {
    base = parseRequestUrl(uri).baseUrl;
  } catch {
    base = uri.split(/[?#]/)[0];
  }
  return stripUserInfo(base).slice(0, MAX_URL);
}

function kindOf(s: RtspSession, conn: RtspConnection): ClientKind {
  if (s.kind === 'record') return 'publisher';
  if (conn.tunnelled) return 'http-tunnel';
  return s.kind === 'vod' ? 'rtsp-file' : 'rtsp-live';
}

/** The access log's names of the encodings set up, per media type (the first of each). */
function codecsOf(formats: Format[], into: { audioCodec?: string; videoCodec?: string }): void {
  for (const f of formats) {
    if (f.media === 'audio') into.audioCodec ??= f.encodingName;
    else if (f.media === 'video') into.videoCodec ??= f.encodingName;
  }
}

export class SessionClients {
  readonly #o: SessionClientsOptions;
  readonly #listed = new WeakMap<RtspSession, Listed>();
  readonly #heard = new WeakMap<RtspConnection, Heard>();

  constructor(opts: SessionClientsOptions) {
    this.#o = opts;
  }

  /** Every request, before it is handled: its User-Agent, and a DESCRIBE's or ANNOUNCE's query. */
  heard(req: RtspRequest, conn: RtspConnection): void {
    if (!this.#o.clients) return;
    const ua = req.headers.get('user-agent');
    const query = req.method === 'DESCRIBE' || req.method === 'ANNOUNCE' ? queryOf(req.uri) : undefined;
    if (ua === undefined && query === undefined) return;
    const h = this.#heard.get(conn) ?? {};
    if (ua !== undefined) h.userAgent = ua.slice(0, MAX_USER_AGENT);
    if (query !== undefined) h.query = query;
    this.#heard.set(conn, h);
  }

  /** A SETUP answered 200: a new session is listed from now; one already listed notes the codec
   * of the track it added. */
  setUp(res: RtspResponse, req: RtspRequest, conn: RtspConnection, login: Login): void {
    const directory = this.#o.clients;
    const sid = sessionIdOf(res.headers);
    const s = directory && sid !== undefined ? this.#o.sessions.get(sid) : undefined;
    if (!directory || !s) return;
    const known = this.#listed.get(s);
    if (known) {
      codecsOf(s.formats(), known);
      return;
    }
    const heard = this.#heard.get(conn);
    const first = s.tracks.values().next().value;
    const info: ClientInfo = {
      kind: kindOf(s, conn),
      protocol: conn.secure ? 'rtsps' : 'rtsp',
      address: stripMapped(conn.remoteAddress),
      url: presentationUrl(req.uri),
      path: s.kind === 'vod' ? s.path : s.liveKey,
      // HTTP for a tunnel, as Connected Users and the metrics show it; the access log writes TCP.
      transport: conn.tunnelled ? 'HTTP' : first?.channels ? 'TCP' : 'UDP',
      userAgent: req.headers.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? heard?.userAgent,
      user: login.user,
    };
    const listed: Listed = {
      id: undefined,
      info,
      status: res.status,
      playStart: undefined,
      query: queryOf(req.uri) ?? heard?.query,
      realm: login.user === undefined ? undefined : login.realm,
    };
    codecsOf(s.formats(), listed);
    this.#listed.set(s, listed);
    listed.id = directory.add({
      ...info,
      figures: () => s.figures(),
      close: (reason) => {
        // RTCP BYE (viewers) and the session gone, then the connection that set it up closed:
        // a player playing over UDP notices that, and over TCP the BYE is the last it reads.
        s.close(reason);
        this.#o.sessions.delete(s.id);
        conn.close();
      },
    });
    s.whenClosed((reason) => directory.end(listed.id, this.#record(s, listed, reason)));
  }

  /** A PLAY answered 200 from `start` seconds into the presentation (0 for live). */
  played(s: RtspSession, start: number): void {
    const listed = this.#listed.get(s);
    if (listed && listed.playStart === undefined) listed.playStart = start;
  }

  /** Every response: the status a listed session was answered last. */
  answered(req: RtspRequest | undefined, res: RtspResponse): void {
    if (!this.#o.clients) return;
    const sid = (req && sessionIdOf(req.headers)) ?? sessionIdOf(res.headers);
    const s = sid === undefined ? undefined : this.#o.sessions.get(sid);
    const listed = s && this.#listed.get(s);
    if (listed) listed.status = res.status;
  }

  /** A 401 or 403 the access check answered: a record of its own for the requests DSS logged. */
  refused(req: RtspRequest, conn: RtspConnection, r: Refusal): void {
    const directory = this.#o.clients;
    if (!directory || !RECORDED_REFUSALS.has(req.method)) return;
    const sid = sessionIdOf(req.headers);
    const s = sid === undefined ? undefined : this.#o.sessions.get(sid);
    const kind: ClientKind = s
      ? kindOf(s, conn)
      : r.access === 'write'
        ? 'publisher'
        : conn.tunnelled
          ? 'http-tunnel'
          : this.#o.isLive(r.path)
            ? 'rtsp-live'
            : 'rtsp-file';
    const now = Date.now();
    const heard = this.#heard.get(conn);
    directory.refused({
      kind,
      protocol: conn.secure ? 'rtsps' : 'rtsp',
      address: stripMapped(conn.remoteAddress),
      url: presentationUrl(req.uri),
      path: r.path,
      transport: conn.tunnelled ? 'HTTP' : 'TCP',
      userAgent: req.headers.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? heard?.userAgent,
      user: r.user,
      bytesSent: 0,
      packetsSent: 0,
      bytesReceived: 0,
      packetsLost: 0,
      status: r.status,
      startedAt: now,
      endedAt: now,
      playStart: 0,
      fileLength: 0,
      fileSize: 0,
      query: queryOf(req.uri),
      realm: r.realm,
      reason: r.reason,
    });
  }

  #record(s: RtspSession, listed: Listed, reason: string): ClientRecord {
    const movie = s.kind === 'vod' ? s.vod.presentation.movie : undefined;
    return {
      ...listed.info,
      ...s.figures(),
      status: listed.status,
      startedAt: s.createdAt,
      endedAt: Date.now(),
      playStart: listed.playStart ?? 0,
      fileLength: movie?.duration ?? 0,
      fileSize: movie?.size ?? 0,
      audioCodec: listed.audioCodec,
      videoCodec: listed.videoCodec,
      query: listed.query,
      realm: listed.realm,
      reason,
    };
  }
}
