/** RTSP method handlers for stored media (RFC 2326 §10): OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE,
 * TEARDOWN, GET_PARAMETER, SET_PARAMETER. */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import { getMovie } from '../../media/mp4/index.js';
import { Mp4Error, type Mp4Movie } from '../../media/mp4/types.js';
import { createSampleReader } from '../../media/mp4/sample-reader.js';
import { buildSdp } from '../../sdp/index.js';
import { bindUdpPair, InterleavedSink, UdpSink, type UdpPortAllocator } from '../../transport/index.js';
import type { RtpSink } from '../../transport/types.js';
import { FilePlayer, InvalidRangeError } from '../../vod/file-player.js';
import { describeMovie, type VodPresentation } from '../../vod/movie-stream.js';
import type { Pacer } from '../../vod/pacer.js';
import { parseRequestUrl, resolveMediaFile } from '../../vod/resolve-path.js';
import { TrackSender } from '../../vod/track-sender.js';
import { HeaderError, parseRange, parseTransport, type TransportSpec } from '../headers/index.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { RequestHandler, RtspConnection } from './connection.js';
import { RtspError } from './errors.js';
import { RtspSession } from './session.js';

export const PUBLIC_METHODS = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

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
  /** Called when a session is created (for the server's bookkeeping). */
  onSession?: (s: RtspSession) => void;
}

function ok(headers?: Record<string, string>, body?: string | Buffer): RtspResponse {
  return { status: 200, headers: new Headers(headers), body };
}

function stripMapped(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

const fmt3 = (n: number) => n.toFixed(3);

export class RtspHandler implements RequestHandler {
  readonly #d: HandlerDeps;
  readonly #presentations = new WeakMap<Mp4Movie, VodPresentation>();
  /** Set while shutting down: new requests get 503. */
  refusing = false;

  constructor(deps: HandlerDeps) {
    this.#d = deps;
  }

  decorate(res: RtspResponse, req: RtspRequest | undefined): void {
    const server = this.#d.config.rtsp.serverHeader;
    if (server && !res.headers.has('server')) res.headers.set('Server', server);
    if (!res.headers.has('date')) res.headers.set('Date', new Date().toUTCString());
    if (req && !res.headers.has('session')) {
      const sid = req.headers.get('session');
      if (sid && res.status < 300) res.headers.set('Session', sid.split(';')[0].trim());
    }
  }

  async handle(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    if (req.version.startsWith('HTTP/')) {
      // The parser hands over the rest of an HTTP connection raw (for tunnelling, not served yet).
      throw new RtspError(505, `HTTP ${req.method} is not served on the RTSP port`, true);
    }
    if (!req.headers.has('cseq')) throw new RtspError(400, 'request has no CSeq header');
    if (req.version !== 'RTSP/1.0') throw new RtspError(505, `protocol ${req.version} is not supported`);
    if (this.refusing) throw new RtspError(503, 'server is shutting down');
    const sid = req.headers.get('session')?.split(';')[0].trim();
    if (sid) this.#d.sessions.get(sid)?.touch();
    switch (req.method) {
      case 'OPTIONS':
        return ok({ Public: PUBLIC_METHODS.join(', ') });
      case 'DESCRIBE':
        return this.#describe(req, conn);
      case 'SETUP':
        return this.#setup(req, conn);
      case 'PLAY':
        return this.#play(req);
      case 'PAUSE':
        return this.#pause(req);
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

  /** Finds the movie a URL names and what of it can be streamed (403/404/415 otherwise). */
  async #presentation(segments: string[]): Promise<{ path: string; pres: VodPresentation }> {
    const path = await resolveMediaFile(this.#d.mediaRoot, segments);
    let movie: Mp4Movie;
    try {
      movie = await getMovie(path);
    } catch (e) {
      if (e instanceof Mp4Error) throw new RtspError(415, `/${segments.join('/')} is not a streamable movie: ${e.message}`);
      throw e;
    }
    let pres = this.#presentations.get(movie);
    if (!pres) {
      pres = describeMovie(movie, segments[segments.length - 1]);
      this.#presentations.set(movie, pres);
      for (const s of pres.skipped) {
        this.#d.log.info({ file: path, track: s.id, codec: s.codec }, `track left out of the stream: ${s.reason}`);
      }
    }
    if (pres.tracks.length === 0) {
      const why = pres.skipped.map((s) => `track ${s.id} (${s.codec.trim()}): ${s.reason}`).join('; ');
      throw new RtspError(415, `/${segments.join('/')} has no playable track${why ? `: ${why}` : ''}`);
    }
    return { path, pres };
  }

  #session(req: RtspRequest): RtspSession {
    const sid = req.headers.get('session')?.split(';')[0].trim();
    if (!sid) throw new RtspError(454, `${req.method} without a Session header`);
    const s = this.#d.sessions.get(sid);
    if (!s) throw new RtspError(454, `session ${sid.slice(0, 40)} not found`);
    return s;
  }

  async #describe(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    const url = parseRequestUrl(req.uri);
    const { pres } = await this.#presentation(url.segments);
    const sdp = buildSdp(pres.stream, { serverAddress: stripMapped(conn.localAddress) || '0.0.0.0' });
    return ok(
      {
        'Content-Type': 'application/sdp',
        'Content-Base': `${url.baseUrl}/`,
        'Cache-Control': 'must-revalidate',
        'Last-Modified': new Date(pres.movie.mtimeMs).toUTCString(),
      },
      sdp,
    );
  }

  #pickTransport(header: string | undefined): { spec: TransportSpec; tcp: boolean } {
    if (!header) throw new RtspError(461, 'SETUP without a Transport header');
    let specs: TransportSpec[];
    try {
      specs = parseTransport(header);
    } catch (e) {
      if (e instanceof HeaderError) throw new RtspError(400, `bad Transport header: ${e.message}`);
      throw e;
    }
    let why = 'no supported transport offered (RTP/AVP unicast over UDP, or RTP/AVP/TCP interleaved)';
    for (const spec of specs) {
      const proto = `${spec.protocol}/${spec.profile}`;
      if (proto !== 'RTP/AVP') {
        why = `${proto}/${spec.lowerTransport} is not supported (RTP/AVP over UDP or TCP is)`;
        continue;
      }
      if (spec.mode && spec.mode !== 'play') {
        why = `mode=${spec.mode} is not available for stored media`;
        continue;
      }
      if (spec.lowerTransport === 'TCP') return { spec, tcp: true };
      if (spec.lowerTransport === 'UDP') {
        if (spec.delivery === 'multicast') {
          why = 'multicast delivery is not offered for this stream';
          continue;
        }
        if (!spec.clientPort) throw new RtspError(400, 'UDP transport without client_port');
        return { spec, tcp: false };
      }
    }
    throw new RtspError(461, why, false, { Unsupported: 'transport' });
  }

  async #setup(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    const url = parseRequestUrl(req.uri);
    const sid = req.headers.get('session')?.split(';')[0].trim();
    let session = sid ? this.#d.sessions.get(sid) : undefined;
    if (sid && !session) throw new RtspError(454, `session ${sid.slice(0, 40)} not found`);
    const { path, pres } = session
      ? { path: session.filePath, pres: session.presentation }
      : await this.#presentation(url.segments);
    if (session) {
      const resolved = await resolveMediaFile(this.#d.mediaRoot, url.segments);
      if (resolved !== session.filePath) throw new RtspError(459, 'a session can only hold tracks of one presentation');
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
    const { spec, tcp } = this.#pickTransport(req.headers.get('transport'));
    const created = !session;
    session ??= new RtspSession(pres, path, url.baseUrl, conn.remoteAddress, this.#d.log.child({ component: 'session' }));
    const s = session;
    let sink: RtpSink;
    let transport: string;
    let channels: [number, number] | undefined;
    if (tcp) {
      channels = conn.allocateChannels(spec.interleaved);
      sink = new InterleavedSink(conn, channels[0], channels[1]);
      transport = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]}`;
    } else {
      const [crtp, crtcp] = spec.clientPort!;
      let pair;
      try {
        pair = await bindUdpPair(this.#d.ports, conn.localAddress);
      } catch (e) {
        throw new RtspError(453, (e as Error).message);
      }
      const udp = await UdpSink.open({
        pair,
        clientAddress: conn.remoteAddress,
        clientRtpPort: crtp,
        clientRtcpPort: crtcp,
        onRtcp: (pkt) => s.onRtcp(id, pkt),
        log: conn.log,
      });
      sink = udp;
      const [srtp, srtcp] = udp.serverPorts;
      transport =
        `RTP/AVP;unicast;source=${stripMapped(conn.localAddress)};` +
        `client_port=${crtp}-${crtcp};server_port=${srtp}-${srtcp}`;
    }
    const sender = new TrackSender({
      sink,
      payloadType: vodTrack.description.format.payloadType,
      clockRate: vodTrack.clockRate,
      cname: this.#d.cname,
    });
    transport += `;ssrc=${sender.ssrc.toString(16).toUpperCase().padStart(8, '0')};mode="PLAY"`;
    s.tracks.set(id, { vod: vodTrack, sink, sender, transport, channels });
    if (channels) conn.bindChannels(s, id, channels);
    if (created) {
      this.#d.sessions.set(s.id, s);
      this.#d.onSession?.(s);
      s.log.info({ session: s.id, client: conn.remoteAddress, file: path }, 'session created');
    }
    s.touch();
    return ok({
      Session: `${s.id};timeout=${this.#d.config.rtsp.sessionTimeout}`,
      Transport: transport,
    });
  }

  #play(req: RtspRequest): RtspResponse {
    const s = this.#session(req);
    if (s.tracks.size === 0) throw new RtspError(455, 'no track has been set up');
    let start: number | undefined;
    let end: number | undefined;
    const rh = req.headers.get('range');
    if (rh) {
      let r;
      try {
        r = parseRange(rh);
      } catch (e) {
        if (e instanceof HeaderError) throw new RtspError(457, `bad Range: ${e.message}`);
        throw e;
      }
      if (r.unit !== 'npt') throw new RtspError(457, `only npt ranges are supported (got ${r.unit})`);
      if (r.start !== 'now') start = r.start;
      end = r.end;
    }
    if (!s.player) {
      const tracks = [...s.tracks.values()].map((t) => ({ vod: t.vod, sender: t.sender }));
      const cfg = this.#d.config;
      s.player = new FilePlayer({
        tracks,
        duration: s.presentation.movie.duration,
        reader: createSampleReader(s.filePath, { readAhead: cfg.vod.readAhead }),
        pacer: this.#d.pacer,
        log: s.log,
        sendAhead: cfg.vod.sendAhead,
        maxPayloadSize: cfg.rtp.maxPayloadSize,
        rtcpInterval: cfg.rtp.rtcpInterval,
      });
      s.player.on('end', (reason) => s.log.debug({ session: s.id, reason }, 'stream ended'));
    }
    const p = s.player;
    if (p.state === 'playing' && start === undefined && end === undefined) {
      // A PLAY while playing without a Range only keeps the session alive.
      return ok({ Range: `npt=${fmt3(p.position())}-${fmt3(s.presentation.movie.duration)}` });
    }
    let result;
    try {
      result = p.play({ start: start ?? (p.state === 'paused' ? undefined : 0), end });
    } catch (e) {
      if (e instanceof InvalidRangeError) throw new RtspError(457, e.message);
      throw e;
    }
    const rtpInfo = result.rtpInfo
      .map((r) => `url=${s.baseUrl}/trackID=${r.trackId};seq=${r.seq};rtptime=${r.rtptime}`)
      .join(',');
    return ok({ Range: `npt=${fmt3(result.start)}-${fmt3(result.end)}`, 'RTP-Info': rtpInfo });
  }

  #pause(req: RtspRequest): RtspResponse {
    const s = this.#session(req);
    if (!s.player || s.state === 'ready') throw new RtspError(455, 'PAUSE is only valid while playing');
    const at = s.player.pause();
    return ok({ Range: `npt=${fmt3(at)}-${fmt3(s.presentation.movie.duration)}` });
  }

  #teardown(req: RtspRequest): RtspResponse {
    const s = this.#session(req);
    const url = parseRequestUrl(req.uri);
    if (url.trackId !== undefined && s.tracks.size > 1 && s.tracks.has(url.trackId)) {
      s.tracks.get(url.trackId)!.sender.sendBye(s.player?.position() ?? 0, 'teardown');
      s.removeTrack(url.trackId);
      return ok();
    }
    s.close('teardown');
    this.#d.sessions.delete(s.id);
    return ok();
  }
}
