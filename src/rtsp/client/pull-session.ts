/** Pulling a presentation from an RTSP server (what DSS's rtsp_source does): OPTIONS and
 * DESCRIBE (redirects followed), SETUP of each track over TCP (interleaved) or UDP, PLAY, then
 * each track's RTP and RTCP packets as events until the session ends ('end' with the reason:
 * our close, the connection, BYE on every track, no media or no answer in time, a REDIRECT).
 * Protocol only: what the packets become is the relay's business. */
import { parseRtcpCompound } from '../../rtcp/index.js';
import { parseSdp, SdpError, type ParsedSdp } from '../../sdp/index.js';
import { HeaderError, parseRtpInfo, type RtpInfoEntry } from '../headers/index.js';
import { ClientSession, type ClientSessionEvents } from './client-session.js';
import type { RtspClientConnection, RtspClientResponse } from './connection.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError } from './errors.js';
import { expectOk, openFollowingRedirects } from './open.js';
import { publicMethods } from './session-control.js';
import { setupTrack, type ClientTrack, type SessionOptions } from './setup.js';
import type { ClientUdpPair } from './udp.js';
import { contentBase, resolveControl } from './url.js';

export interface PullOptions extends SessionOptions {
  /** ms without any RTP or RTCP, once playing, before the session ends with 'timeout'. Default
   * CLIENT_DEFAULTS.inactivityMs. */
  inactivityMs?: number;
  /** Called for each RTP packet from PLAY on (registered before PLAY is sent, so none is
   * missed); the packet may be a view into a socket chunk: copy what is kept. */
  onRtp?: (track: PullTrack, packet: Buffer) => void;
  /** The same for RTCP. */
  onRtcp?: (track: PullTrack, packet: Buffer) => void;
}

/** What one pulled track received. */
export interface PullCounts {
  rtpPackets: number;
  rtcpPackets: number;
  /** RTP and RTCP bytes. */
  bytes: number;
  /** An RTCP BYE arrived for this track. */
  bye: boolean;
}

export interface PullTrack extends ClientTrack {
  /** The PLAY answer's RTP-Info entry for this track, when there was one. */
  rtpInfo?: RtpInfoEntry;
  readonly counts: PullCounts;
}

export interface PullSessionEvents extends ClientSessionEvents {
  rtp: [track: PullTrack, packet: Buffer];
  rtcp: [track: PullTrack, packet: Buffer];
}

/** The session-level `a=control` (before the first `m=`), if any. */
function sessionControlAttr(sdp: string): string | undefined {
  const head = sdp.split(/\r?\nm=/)[0];
  return /^a=control:[ \t]*(.*?)[ \t]*$/m.exec(head)?.[1];
}

/** A DESCRIBE answer read: the SDP, its model, the base of its URLs. */
interface Described {
  sdp: string;
  description: ParsedSdp;
  contentBase: string;
}

function readDescribe(conn: RtspClientConnection, url: string, res: RtspClientResponse): Described {
  const d = conn.url.display;
  const type = res.headers.get('content-type');
  if (type !== undefined && !/^\s*application\/sdp\s*(;|$)/i.test(type))
    throw new RtspClientError('sdp', `${d} described the stream as ${type.slice(0, 100)}, not application/sdp`);
  const sdp = res.body.toString('utf8');
  try {
    return { sdp, description: parseSdp(sdp), contentBase: contentBase(res.headers, url) };
  } catch (e) {
    if (!(e instanceof SdpError)) throw e;
    throw new RtspClientError('sdp', `${d} described the stream with an SDP the client cannot use: ${e.message}`);
  }
}

export class PullSession extends ClientSession<PullSessionEvents> {
  /** The URL DESCRIBE went to, after redirects (no user info). */
  readonly url: string;
  /** The SDP the server described the presentation with, as sent. */
  readonly sdp: string;
  readonly description: ParsedSdp;
  /** The base track URLs resolved against (RFC 2326 C.1.1). */
  readonly contentBase: string;
  readonly tracks: PullTrack[] = [];
  readonly #options: PullOptions;
  readonly #byChannel = new Map<number, { track: PullTrack; rtcp: boolean }>();
  readonly #pairs: ClientUdpPair[] = [];
  #lastMedia = 0;
  #playing = false;

  private constructor(conn: RtspClientConnection, url: string, d: Described, methods: Set<string> | undefined, options: PullOptions) {
    super(conn, resolveControl(d.contentBase, sessionControlAttr(d.sdp)), methods, options);
    this.url = url;
    this.sdp = d.sdp;
    this.description = d.description;
    this.contentBase = d.contentBase;
    this.#options = options;
    if (options.onRtp) this.on('rtp', options.onRtp);
    if (options.onRtcp) this.on('rtcp', options.onRtcp);
  }

  /** OPTIONS, DESCRIBE and SETUP of every track; PLAY is `play()`. Rejects with RtspClientError
   * (its `code` says what failed), having released everything. */
  static async open(url: string, options: PullOptions = {}): Promise<PullSession> {
    const { conn, requestUrl, result } = await openFollowingRedirects(url, options, async (c, reqUrl) => {
      const opt = await c.request('OPTIONS', reqUrl);
      // OPTIONS is only asked for Public (which keepalive to send); a server that refuses it may
      // still describe the stream. A redirect, though, counts.
      let methods: Set<string> | undefined;
      try {
        methods = publicMethods(expectOk(opt, 'OPTIONS', c.url));
      } catch (e) {
        if (!(e instanceof RtspClientError) || e.code !== 'status') throw e;
      }
      const res = expectOk(await c.request('DESCRIBE', reqUrl, { Accept: 'application/sdp' }), 'DESCRIBE', c.url);
      return { described: readDescribe(c, reqUrl, res), methods };
    });
    const session = new PullSession(conn, requestUrl, result.described, result.methods, options);
    await session.settle(() => session.#setup());
    return session;
  }

  get playing(): boolean {
    return this.#playing && !this.control.ended;
  }

  /** UDP datagrams that came from an address other than the server's, ignored. */
  get foreignDatagrams(): number {
    return this.#pairs.reduce((n, p) => n + p.foreign, 0);
  }

  /** PLAY from the start (`Range: npt=0.000-`), then keepalives and the inactivity watch. Rejects
   * with RtspClientError; the session stays open (close it). */
  async play(): Promise<void> {
    if (this.#playing) return;
    const c = this.control;
    const res = expectOk(
      await c.conn.request('PLAY', c.controlUrl, { ...c.headers(), Range: 'npt=0.000-' }),
      'PLAY',
      c.conn.url,
    );
    this.#readRtpInfo(res.headers.get('rtp-info'));
    this.#playing = true;
    this.#lastMedia = Date.now();
    c.startKeepalive();
    const limit = this.#options.inactivityMs ?? CLIENT_DEFAULTS.inactivityMs;
    c.every(Math.min(1000, Math.max(50, limit / 2)), () => {
      if (Date.now() - this.#lastMedia > limit)
        c.end('timeout', new RtspClientError('timeout', `no media from ${c.conn.url.display} for ${limit} ms`));
    });
  }

  async #setup(): Promise<void> {
    const c = this.control;
    for (const [index, media] of this.description.media.entries()) {
      const url = resolveControl(this.contentBase, media.control);
      const r = await setupTrack(c, url, index, 'play', this.#options);
      const track: PullTrack = {
        index,
        media,
        url,
        transport: r.spec,
        channels: r.channels,
        serverPorts: r.spec.serverPort,
        counts: { rtpPackets: 0, rtcpPackets: 0, bytes: 0, bye: false },
      };
      this.tracks.push(track);
      if (r.pair !== undefined) {
        this.#pairs.push(r.pair);
        r.pair.onRtp((p) => this.#rtp(track, p));
        r.pair.onRtcp((p) => this.#rtcp(track, p));
      } else if (r.channels !== undefined) {
        for (const [i, ch] of r.channels.entries()) {
          if (this.#byChannel.has(ch))
            throw new RtspClientError('transport', `${c.conn.url.display} gave interleaved channel ${ch} to two tracks`);
          this.#byChannel.set(ch, { track, rtcp: i === 1 });
        }
      }
    }
    if (this.#byChannel.size > 0) {
      c.conn.onFrame((channel, payload) => {
        const t = this.#byChannel.get(channel);
        if (t === undefined) return;
        if (t.rtcp) this.#rtcp(t.track, payload);
        else this.#rtp(t.track, payload);
      });
    }
  }

  #readRtpInfo(raw: string | undefined): void {
    if (raw === undefined) return;
    let entries: RtpInfoEntry[];
    try {
      entries = parseRtpInfo(raw);
    } catch (e) {
      if (e instanceof HeaderError) return;
      throw e;
    }
    for (const [i, e] of entries.entries()) {
      const byUrl = this.tracks.find(
        (t) => t.url === e.url || (t.media.control !== undefined && e.url.endsWith(`/${t.media.control}`)),
      );
      const t = byUrl ?? this.tracks[i];
      if (t !== undefined) t.rtpInfo = e;
    }
  }

  #rtp(track: PullTrack, packet: Buffer): void {
    this.#lastMedia = Date.now();
    track.counts.rtpPackets++;
    track.counts.bytes += packet.length;
    this.emitSafely('rtp', track, packet);
  }

  #rtcp(track: PullTrack, packet: Buffer): void {
    this.#lastMedia = Date.now();
    track.counts.rtcpPackets++;
    track.counts.bytes += packet.length;
    this.emitSafely('rtcp', track, packet);
    if (!track.counts.bye && parseRtcpCompound(packet).some((p) => p.type === 'bye')) {
      track.counts.bye = true;
      if (this.tracks.every((t) => t.counts.bye)) this.control.end('bye', undefined);
    }
  }
}

/** `PullSession.open` then `play()`: DESCRIBE, SETUP, PLAY. `onRtp`/`onRtcp` in the options see
 * every packet; 'end' listeners may be added on the session returned. On failure everything is
 * released and the RtspClientError thrown. */
export async function pullSession(url: string, options: PullOptions = {}): Promise<PullSession> {
  const s = await PullSession.open(url, options);
  try {
    await s.play();
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}
