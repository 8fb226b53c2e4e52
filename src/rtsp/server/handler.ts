/** RTSP method handlers (RFC 2326 §10). Stored media is handled here; live paths (viewing and
 * publishing) go to LiveMethods. */
import type { Authorizer } from '../../auth/index.js';
import type { Config } from '../../config/index.js';
import type { ClientDirectory } from '../../core/clients.js';
import type { CoreEvents, PathManager, PathTarget } from '../../core/index.js';
import type { Logger } from '../../logging/index.js';
import type { ReadCache } from '../../media/mp4/read-cache.js';
import { createSampleReader } from '../../media/mp4/sample-reader.js';
import { buildSdp, sdpRetransmitFor, viewerRetransmit } from '../../sdp/index.js';
import type { UdpPortAllocator } from '../../transport/index.js';
import { streamKey, type StreamRegistry } from '../../core/stream-registry.js';
import { SourceError } from '../../sources/source-error.js';
import { fileOutput, FilePlayer, InvalidRangeError } from '../../vod/file-player.js';
import type { PacketCache } from '../../vod/packet-cache.js';
import type { Pacer } from '../../vod/pacer.js';
import { PathError } from '../../vod/path-error.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import { nearestScale } from '../../vod/trick-play.js';
import {
  formatNptRange,
  formatPrebuffer,
  formatRate,
  formatRtpInfo,
  formatSession,
  HeaderError,
  parsePrebufferMaxTime,
  parseRange,
  type ParsedRange,
  parseScale,
  parseSpeed,
  rtpInfoUrl,
  sessionIdOf,
} from '../headers/index.js';
import { LOOP_DETECTED, parseVia } from '../headers/via.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { RequestHandler, RtspConnection } from './connection.js';
import { RtspError, rtspErrorFromPath } from './errors.js';
import { RtspAccessControl } from './access-control.js';
import { LiveMethods } from './live-methods.js';
import type { MulticastGroupInfo } from '../../readers/multicast-group.js';
import { FileViewerSession } from './file-viewer-session.js';
import type { RtspSession } from './session.js';
import { SessionClients } from './session-clients.js';
import { SessionQuota, type SessionTicket } from './session-quota.js';
import { OUR_RETRANSMIT, pickTransport, presentationKbps, reliableUdpFor, stripMapped, viewerSink, viewerTransport, wantsRecord } from './transport-setup.js';

export const PUBLIC_METHODS = ['OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

export interface HandlerDeps {
  config: Config;
  /** Real path of the media folder. */
  mediaRoot: string;
  sessions: Map<string, RtspSession>;
  pacer: Pacer;
  ports: UdpPortAllocator;
  log: Logger;
  /** RTCP SDES CNAME of this server. */
  cname: string;
  /** Live streams by path. */
  registry: StreamRegistry;
  /** Per-path settings (the `paths:` config section over the global `live:` one). */
  paths: PathManager;
  /** Where readers coming and going and failed logins are reported (none in unit tests). */
  events?: CoreEvents;
  /** This server's name in the Via of its relays' requests (relays.serverId): a request whose
   * Via names it has come round a relay chain back here and is refused. Default: none. */
  serverId?: string;
  /** Where sessions are listed while they last (Connected Users) and leave their access-log
   * record, with the 401/403 refusals. Default: none (nothing is listed). */
  clients?: ClientDirectory;
  /** Movie data shared by every viewer of a file (vod.readCacheBytes). Default: none (each
   * viewer reads its own vod.readAhead windows). */
  readCache?: ReadCache;
  /** RTP payloads of file samples shared by every viewer of a file. Default: none (each viewer
   * packetizes its own). */
  packets?: PacketCache;
}

/** Methods that start or feed a stream, through which a relay chain could loop. */
const LOOP_CHECKED = new Set(['DESCRIBE', 'SETUP', 'ANNOUNCE', 'PLAY']);

function ok(headers?: Record<string, string>, body?: string | Buffer): RtspResponse {
  return { status: 200, headers: new Headers(headers), body };
}

/** A PLAY's Range. Rewinding, RTSP 2.0 writes it backwards, from where to start down to where to
 * stop (`npt=11.5-0`, RFC 7826 §18.40; GStreamer's rtspsrc sends it so): read as the range
 * written the other way round, then turned back. */
function parsePlayRange(value: string, reverse: boolean): ParsedRange {
  try {
    return parseRange(value);
  } catch (e) {
    if (!reverse || !(e instanceof HeaderError) || e.status !== 457) throw e;
    const m = /^\s*npt\s*=\s*([^-;]*)-([^;]*)(.*)$/i.exec(value);
    if (!m) throw e;
    const r = parseRange(`npt=${m[2]}-${m[1]}${m[3]}`);
    return r.unit === 'npt' && typeof r.start === 'number' ? { ...r, start: r.end, end: r.start } : r;
  }
}

/** A PLAY's Scale, Speed and x-Prebuffer maxtime, as asked; bad syntax is 400. */
function playRates(req: RtspRequest): { scale?: number; speed?: number; prebuffer?: number } {
  const scale = req.headers.get('scale');
  const speed = req.headers.get('speed');
  const prebuffer = req.headers.get('x-prebuffer');
  try {
    return {
      scale: scale === undefined ? undefined : parseScale(scale),
      speed: speed === undefined ? undefined : parseSpeed(speed),
      prebuffer: prebuffer === undefined ? undefined : parsePrebufferMaxTime(prebuffer),
    };
  } catch (e) {
    if (e instanceof HeaderError) throw new RtspError(e.status, e.message);
    throw e;
  }
}

export class RtspHandler implements RequestHandler {
  readonly #d: HandlerDeps;
  /** Set while shutting down: new requests get 503. */
  refusing = false;

  readonly #live: LiveMethods;
  readonly #access: RtspAccessControl;
  readonly #quota: SessionQuota;
  readonly #clients: SessionClients;

  constructor(deps: HandlerDeps) {
    this.#d = deps;
    this.#clients = new SessionClients({
      clients: deps.clients,
      sessions: deps.sessions,
      isLive: (path) => deps.registry.get(path)?.state === 'active',
    });
    this.#quota = new SessionQuota(() => deps.config.limits);
    this.#live = new LiveMethods({ ...deps, log: deps.log.child({ component: 'live' }) });
    this.#access = new RtspAccessControl({ ...deps, log: deps.log.child({ component: 'auth' }) });
  }

  /** The one Authorizer of this server (its users, nonces and failure counts), shared with the
   * plain-HTTP entry so a reference movie is authorized exactly as DESCRIBE is. */
  get authorizer(): Authorizer {
    return this.#access.authorizer;
  }

  /** The live streams' multicast groups now. */
  multicastGroups(): MulticastGroupInfo[] {
    return this.#live.multicastGroups();
  }

  /** Sessions set up on `conn` that are still open, UDP ones included: a connection that holds
   * any is in use even when silent (an encoder publishing over UDP sends nothing on it). */
  sessionsSetUpOn(conn: RtspConnection): number {
    return this.#quota.heldOn(conn);
  }

  decorate(res: RtspResponse, req: RtspRequest | undefined): void {
    const server = this.#d.config.rtsp.serverHeader;
    if (server && !res.headers.has('server')) res.headers.set('Server', server);
    if (!res.headers.has('date')) res.headers.set('Date', new Date().toUTCString());
    if (req && !res.headers.has('session')) {
      const sid = req.headers.get('session');
      if (sid && res.status < 300) res.headers.set('Session', sid.split(';')[0].trim());
    }
    // Every response passes here, errors included: the last status a session was answered.
    this.#clients.answered(req, res);
  }

  async handle(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    try {
      return await this.#dispatch(req, conn);
    } catch (e) {
      // The file layer's refusals (bad URL, outside the media folder, no such file) become
      // statuses here, for every method and the access check alike.
      if (e instanceof PathError) throw rtspErrorFromPath(e);
      throw e;
    }
  }

  async #dispatch(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    if (req.version.startsWith('HTTP/')) {
      // The parser hands over the rest of an HTTP connection raw (for tunnelling, not served yet).
      throw new RtspError(505, `HTTP ${req.method} is not served on the RTSP port`, true);
    }
    if (!req.headers.has('cseq')) throw new RtspError(400, 'request has no CSeq header');
    if (req.version !== 'RTSP/1.0') throw new RtspError(505, `protocol ${req.version} is not supported`);
    if (this.refusing) throw new RtspError(503, 'server is shutting down');
    const sid = sessionIdOf(req.headers);
    if (sid) this.#d.sessions.get(sid)?.touch();
    const hops = this.#hops(req);
    this.#clients.heard(req, conn);
    const access = await this.#access.check(req, conn);
    if (access.refused) {
      this.#clients.refused(req, conn, access.refusal);
      return access.refused;
    }
    switch (req.method) {
      case 'OPTIONS':
        return ok({ Public: PUBLIC_METHODS.join(', ') });
      case 'DESCRIBE':
        return this.#describe(req, conn, hops);
      case 'ANNOUNCE': {
        const url = parseRequestUrl(req.uri);
        return this.#live.announce(req, conn, streamKey(url.segments), url.baseUrl, hops);
      }
      case 'SETUP': {
        const res = await this.#setup(req, conn, hops);
        this.#clients.setUp(res, req, conn, access);
        return res;
      }
      case 'PLAY':
        return this.#play(req, conn);
      case 'PAUSE':
        return this.#pause(req);
      case 'RECORD':
        return this.#live.record(this.#session(req), conn);
      case 'TEARDOWN':
        return this.#teardown(req);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        if (sid && !this.#d.sessions.has(sid)) throw new RtspError(454, `session ${sid} not found`);
        return ok();
      default:
        throw new RtspError(501, `method ${req.method.slice(0, 32)} is not implemented`, false, {
          Public: PUBLIC_METHODS.join(', '),
        });
    }
  }

  /** The relay servers the request came through (its Via). Throws 403 `Loop Detected` when one
   * of them is this server: a relay chain came back round (the relay that sent it reads the
   * phrase). */
  #hops(req: RtspRequest): string[] {
    const id = this.#d.serverId;
    if (id === undefined || !LOOP_CHECKED.has(req.method)) return [];
    const hops = parseVia(req.headers.getAll('via'));
    if (hops.some((h) => h.toLowerCase() === id.toLowerCase())) {
      throw new RtspError(403, `relay loop refused: the request came through ${hops.join(' → ')}, and ${id} is this server`, false, {}, LOOP_DETECTED);
    }
    return hops;
  }

  /** What lives at the path: the PathManager decides; a source that cannot start is answered
   * with its status here (PathErrors are mapped for every method in `handle`). `hops`: the relay
   * servers the request came through, which a relay source it starts names upstream. */
  async #resolve(segments: string[], hops: readonly string[]): Promise<PathTarget> {
    try {
      return await this.#d.paths.resolve(segments, { hops });
    } catch (e) {
      if (e instanceof SourceError) throw rtspErrorFromPath(e);
      throw e;
    }
  }

  #session(req: RtspRequest): RtspSession {
    const sid = sessionIdOf(req.headers);
    if (!sid) throw new RtspError(454, `${req.method} without a Session header`);
    const s = this.#d.sessions.get(sid);
    if (!s) throw new RtspError(454, `session ${sid.slice(0, 40)} not found`);
    return s;
  }

  async #describe(req: RtspRequest, conn: RtspConnection, hops: readonly string[]): Promise<RtspResponse> {
    const url = parseRequestUrl(req.uri);
    const at = await this.#resolve(url.segments, hops);
    if (at.kind === 'live') return this.#acceptRetransmit(this.#live.describe(at.stream, conn, url.baseUrl, req.headers.get('user-agent')));
    if (at.kind === 'none') throw new PathError('not-found', `${at.reason.message} (no file, and no broadcast is active there)`);
    const pres = at.presentation;
    const retransmit = sdpRetransmitFor(this.#d.config.retransmit, req.headers.get('user-agent'));
    const sdp = buildSdp(pres.stream, { serverAddress: stripMapped(conn.localAddress) || '0.0.0.0', retransmit });
    return this.#acceptRetransmit(ok(
      {
        'Content-Type': 'application/sdp',
        'Content-Base': `${url.baseUrl}/`,
        'Cache-Control': 'must-revalidate',
        'Last-Modified': new Date(pres.movie.mtimeMs).toUTCString(),
      },
      sdp,
    ));
  }

  /** A DESCRIBE answer says QuickTime may ask for its reliable UDP (while it is on). */
  #acceptRetransmit(res: RtspResponse): RtspResponse {
    if (this.#d.config.retransmit.reliableUdp.enabled) res.headers.set('x-Accept-Retransmit', OUR_RETRANSMIT);
    return res;
  }


  async #setup(req: RtspRequest, conn: RtspConnection, hops: readonly string[]): Promise<RtspResponse> {
    const url = parseRequestUrl(req.uri);
    const sid = sessionIdOf(req.headers);
    const session = sid ? this.#d.sessions.get(sid) : undefined;
    if (sid && !session) throw new RtspError(454, `session ${sid.slice(0, 40)} not found`);
    // A new session takes its place in the per-connection and per-address quota before anything
    // is bound; a SETUP that fails gives it back.
    const ticket = session ? undefined : this.#quota.reserve(conn);
    try {
      if (session?.kind === 'record' || (!session && wantsRecord(req.headers.get('transport')))) {
        const rawLast = req.uri.split(/[?#]/)[0].split('/').filter((x) => x).pop();
        return await this.#live.setupRecord(req, conn, url.trackId !== undefined ? [...url.segments, rawLast ?? ''] : url.segments, rawLast, session, ticket);
      }
      if (session?.kind === 'live') return await this.#live.setupView(req, conn, session.live, url.trackId, url.baseUrl, session.liveKey, session, ticket);
      const at = session ? undefined : await this.#resolve(url.segments, hops);
      if (at?.kind === 'live') return await this.#live.setupView(req, conn, at.stream, url.trackId, url.baseUrl, at.key, undefined, ticket);
      if (at?.kind === 'none') throw at.reason;
      return await this.#setupVod(req, conn, url, session, ticket, at);
    } finally {
      ticket?.release();
    }
  }

  async #setupVod(
    req: RtspRequest,
    conn: RtspConnection,
    url: ReturnType<typeof parseRequestUrl>,
    session: FileViewerSession | undefined,
    ticket: SessionTicket | undefined,
    /** What the PathManager found for a new session. */
    file: Extract<PathTarget, { kind: 'file' }> | undefined,
  ): Promise<RtspResponse> {
    const { path, pres } = session
      ? { path: session.vod.filePath, pres: session.vod.presentation }
      : { path: file!.file, pres: file!.presentation };
    if (session) {
      const resolved = await this.#d.paths.filePath(url.segments);
      if (resolved !== path) throw new RtspError(459, 'a session can only hold tracks of one presentation');
    }
    const vodTrack =
      url.trackId !== undefined
        ? pres.tracks.find((t) => t.description.id === url.trackId)
        : pres.tracks.length === 1
          ? pres.tracks[0]
          : undefined;
    if (!vodTrack) {
      throw new RtspError(404, url.trackId !== undefined ? `no track ${url.trackId} in this movie` : 'SETUP needs a track URL (trackID=N)');
    }
    const id = vodTrack.description.id;
    if (session && session.state !== 'ready' && !session.tracks.has(id)) {
      throw new RtspError(455, 'tracks cannot be added while the session is playing');
    }
    if (session?.tracks.has(id)) {
      if (session.state !== 'ready') throw new RtspError(455, 'transport cannot change while playing');
      session.removeTrack(id);
    }
    const { spec, tcp } = pickTransport(req.headers.get('transport'), false, conn.secure);
    const s =
      session ??
      new FileViewerSession({
        baseUrl: url.baseUrl,
        clientAddress: conn.remoteAddress,
        log: this.#d.log.child({ component: 'session' }),
        cname: this.#d.cname,
        vod: { presentation: pres, filePath: path },
      });
    const v = await viewerSink(spec, tcp, conn, this.#d.ports, (pkt) => s.onRtcp(id, pkt));
    const output = fileOutput(vodTrack, v.sink, this.#d.cname);
    const rtx = viewerRetransmit(this.#d.config.retransmit, vodTrack.description, v.feedback === true);
    if (rtx) output.enableRetransmission(rtx, s.log);
    const kbps = presentationKbps(pres.tracks.map((t) => t.description.bitrateKbps));
    const echo = reliableUdpFor(req.headers.get('x-retransmit'), output, this.#d.config.retransmit, kbps, s.log);
    const transport = viewerTransport(v, output.ssrc);
    s.tracks.set(id, { id, vod: vodTrack, output, transport, channels: v.channels });
    if (v.channels) conn.bindChannels(s, id, v.channels);
    if (!session) {
      this.#d.sessions.set(s.id, s);
      ticket?.hold(s);
      s.log.info({ session: s.id, client: conn.remoteAddress, file: path }, 'session created');
      s.readerAdded(this.#d.events);
    }
    s.touch();
    return ok({
      Session: formatSession({ id: s.id, timeout: this.#d.config.rtsp.sessionTimeout }),
      Transport: transport,
      ...(echo !== undefined ? { 'x-Retransmit': echo } : {}),
    });
  }

  async #play(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    const s = this.#session(req);
    if (s.kind === 'record') throw new RtspError(455, 'PLAY is not valid in a publishing session');
    if (s.tracks.size === 0) throw new RtspError(455, 'no track has been set up');
    const rates = playRates(req);
    if (s.kind === 'live') {
      const res = await this.#live.play(s, conn);
      this.#clients.played(s, 0);
      // A live stream plays at its own pace: a Scale or Speed is answered with the 1 used
      // (RFC 2326 §12.34: the answer carries the value chosen), not refused.
      if (rates.scale !== undefined) res.headers.set('Scale', formatRate(1));
      if (rates.speed !== undefined) res.headers.set('Speed', formatRate(1));
      return res;
    }
    let start: number | undefined;
    let end: number | undefined;
    const rh = req.headers.get('range');
    if (rh) {
      let r;
      try {
        r = parsePlayRange(rh, (rates.scale ?? 1) < 0);
      } catch (e) {
        if (e instanceof HeaderError) throw new RtspError(457, `bad Range: ${e.message}`);
        throw e;
      }
      if (r.unit !== 'npt') throw new RtspError(457, `only npt ranges are supported (got ${r.unit})`);
      if (r.start !== 'now') start = r.start;
      end = r.end;
    }
    const vod = s.vod;
    const duration = vod.presentation.movie.duration;
    if (!s.player) {
      const cfg = this.#d.config;
      // Thinning under loss: a UDP viewer's video (files are never sent to a multicast group;
      // TCP and tunnelled viewers are not thinned).
      const thin = cfg.retransmit.thinning;
      const tracks = [...s.tracks.values()].map((t) => ({
        vod: t.vod,
        output: t.output,
        thinning: thin.enabled && t.output.sink.kind === 'udp' && t.vod.kind === 'video' ? { settings: thin, log: s.log, label: { session: s.id, track: t.id } } : undefined,
      }));
      s.player = new FilePlayer({
        tracks,
        duration,
        reader: createSampleReader(vod.filePath, { readAhead: cfg.vod.readAhead, cache: this.#d.readCache }),
        packets: this.#d.packets,
        pacer: this.#d.pacer,
        log: s.log,
        sendAhead: cfg.vod.sendAhead,
        overbufferRate: cfg.vod.overbufferRate,
        maxSendAhead: cfg.vod.maxSendAheadTime,
        maxPayloadSize: cfg.rtp.maxPayloadSize,
        rtcpInterval: cfg.rtp.rtcpInterval,
      });
      s.player.on('end', (reason) => s.log.debug({ session: s.id, reason }, 'stream ended'));
    }
    const p = s.player;
    // Trick play: an unsupported Scale gets the nearest supported one; Speed within vod.maxSpeed.
    const scale = rates.scale === undefined ? 1 : nearestScale(rates.scale);
    const speed = rates.speed === undefined ? 1 : Math.max(0.1, Math.min(rates.speed, this.#d.config.vod.maxSpeed));
    if (p.state === 'playing' && start === undefined && end === undefined && scale === p.scale && speed === p.speed) {
      // A PLAY while playing without a Range only keeps the session alive.
      return ok({ Range: formatNptRange(p.position(), duration) });
    }
    let result;
    try {
      // Without a Range: a paused player resumes, a playing one changes rate where it is, and a
      // new play starts at the beginning (at the end, rewinding).
      const from = start ?? (p.state === 'paused' ? undefined : p.state === 'playing' ? p.position() : scale < 0 ? duration : 0);
      result = p.play({ start: from, end, scale, speed });
    } catch (e) {
      if (e instanceof InvalidRangeError) throw new RtspError(457, e.message);
      throw e;
    }
    for (const r of result.rtpInfo) {
      // The viewer's receiver reports count from its first packet: this one, of its first PLAY.
      const t = s.tracks.get(r.trackId);
      if (t) t.firstSeq ??= r.seq;
    }
    this.#clients.played(s, result.start);
    const rtpInfo = formatRtpInfo(result.rtpInfo.map((r) => ({ url: rtpInfoUrl(`${s.baseUrl}/trackID=${r.trackId}`), seq: r.seq, rtptime: r.rtptime })));
    // Rewinding, the range runs backwards (RFC 7826 §18.40): npt=<start>-<where it stops>.
    const res = ok({ Range: formatNptRange(result.start, result.end), 'RTP-Info': rtpInfo });
    if (rates.scale !== undefined || result.scale !== 1) res.headers.set('Scale', formatRate(result.scale));
    if (rates.speed !== undefined) res.headers.set('Speed', formatRate(result.speed));
    // QuickTime's Instant-On: how far before the asked start the stream begins (its keyframe).
    if (rates.prebuffer !== undefined && start !== undefined) res.headers.set('x-Prebuffer', formatPrebuffer(Math.max(0, start - result.start)));
    return res;
  }

  #pause(req: RtspRequest): RtspResponse {
    const s = this.#session(req);
    if (s.kind === 'live') return this.#live.pause(s);
    if (s.kind === 'record') throw new RtspError(455, 'PAUSE is not valid in a publishing session');
    // PAUSE after the stream reached its end is harmless (players send it on EOS); before any
    // PLAY it is not valid in the Ready state.
    if (!s.player) throw new RtspError(455, 'PAUSE is only valid while playing');
    const at = s.player.pause();
    return ok({ Range: formatNptRange(at, s.vod.presentation.movie.duration) });
  }

  #teardown(req: RtspRequest): RtspResponse {
    const s = this.#session(req);
    const url = parseRequestUrl(req.uri);
    if (s.kind === 'vod' && url.trackId !== undefined && s.tracks.size > 1 && s.tracks.has(url.trackId)) {
      s.tracks.get(url.trackId)!.output.sendBye('teardown');
      s.removeTrack(url.trackId);
      return ok();
    }
    s.close('teardown');
    this.#d.sessions.delete(s.id);
    return ok();
  }
}
