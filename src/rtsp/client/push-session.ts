/** Pushing a presentation to an RTSP server (what DSS's announced_destination does): ANNOUNCE
 * with the SDP (redirects followed), SETUP mode=record of each track over TCP (interleaved) or
 * UDP, RECORD; then `sendRtp`/`sendRtcp` per track until the session ends. The server's RTCP
 * (receiver reports) comes back as 'rtcp' events. Protocol only: where the packets come from is
 * the relay's business. */
import { parseSdp, SdpError, type ParsedSdp } from '../../sdp/index.js';
import { ClientSession, type ClientSessionEvents } from './client-session.js';
import type { RtspClientConnection, WriteResult } from './connection.js';
import { RtspClientError } from './errors.js';
import { expectOk, openFollowingRedirects } from './open.js';
import { setupTrack, type ClientTrack, type SessionOptions } from './setup.js';
import type { ClientUdpPair } from './udp.js';
import { resolveControl } from './url.js';

export type PushOptions = SessionOptions;

/** What one pushed track sent. */
export interface PushCounts {
  rtpPackets: number;
  rtcpPackets: number;
  /** RTP and RTCP bytes handed on. */
  bytes: number;
  /** Packets not sent: the connection's buffer was full, or the session had ended. */
  dropped: number;
}

export interface PushTrack extends ClientTrack {
  readonly counts: PushCounts;
}

export interface PushSessionEvents extends ClientSessionEvents {
  /** RTCP from the server (receiver reports); the packet may be a view into a socket chunk. */
  rtcp: [track: PushTrack, packet: Buffer];
  /** The connection's buffer emptied after a send answered 'buffered' (TCP). */
  drain: [];
}

export class PushSession extends ClientSession<PushSessionEvents> {
  /** The URL ANNOUNCE went to, after redirects (no user info). */
  readonly url: string;
  readonly description: ParsedSdp;
  readonly tracks: PushTrack[] = [];
  readonly #options: PushOptions;
  readonly #pairs: (ClientUdpPair | undefined)[] = [];
  #recording = false;

  private constructor(conn: RtspClientConnection, url: string, description: ParsedSdp, options: PushOptions) {
    super(conn, url, undefined, options);
    this.url = url;
    this.description = description;
    this.#options = options;
    conn.on('drain', () => this.emitSafely('drain'));
  }

  /** ANNOUNCE `sdp` to `url`, SETUP each of its tracks with mode=record, RECORD. Each `m=` needs
   * an `a=control` (one track may do without: it is the URL itself). Rejects with
   * RtspClientError, having released everything. */
  static async open(url: string, sdp: string, options: PushOptions = {}): Promise<PushSession> {
    let description: ParsedSdp;
    try {
      description = parseSdp(sdp);
    } catch (e) {
      if (!(e instanceof SdpError)) throw e;
      throw new RtspClientError('sdp', `cannot push an unusable SDP: ${e.message}`);
    }
    const missing = description.media.findIndex((m) => m.control === undefined);
    if (missing >= 0 && description.media.length > 1)
      throw new RtspClientError('sdp', `cannot push: track ${missing} of the SDP has no a=control to SETUP it by`);
    const { conn, requestUrl } = await openFollowingRedirects(url, options, async (c, reqUrl) =>
      expectOk(await c.request('ANNOUNCE', reqUrl, { 'Content-Type': 'application/sdp' }, sdp), 'ANNOUNCE', c.url),
    );
    const session = new PushSession(conn, requestUrl, description, options);
    await session.settle(async () => {
      await session.#setup();
      await session.#record();
    });
    return session;
  }

  get recording(): boolean {
    return this.#recording && !this.control.ended;
  }

  /** Sends one RTP packet of track `track` (its index or itself). Over TCP the answer is the
   * connection's (see WriteResult); over UDP 'written' (a datagram is never queued here). */
  sendRtp(track: number | PushTrack, packet: Buffer): WriteResult {
    return this.#send(track, packet, false);
  }

  /** Sends one RTCP packet (sender report, BYE) of track `track`. */
  sendRtcp(track: number | PushTrack, packet: Buffer): WriteResult {
    return this.#send(track, packet, true);
  }

  async #setup(): Promise<void> {
    const c = this.control;
    for (const [index, media] of this.description.media.entries()) {
      const url = resolveControl(this.url, media.control);
      const r = await setupTrack(c, url, index, 'record', this.#options);
      const serverPorts = r.spec.serverPort;
      const track: PushTrack = {
        index,
        media,
        url,
        transport: r.spec,
        channels: r.channels,
        serverPorts,
        counts: { rtpPackets: 0, rtcpPackets: 0, bytes: 0, dropped: 0 },
      };
      if (r.pair !== undefined) {
        if (serverPorts === undefined)
          throw new RtspClientError('transport', `SETUP ${c.conn.url.display} track ${index}: answered UDP without server_port`);
        try {
          await r.pair.connect(c.conn.remoteAddress, serverPorts);
        } catch (e) {
          throw new RtspClientError('transport', `track ${index} of ${c.conn.url.display}: ${(e as Error).message}`);
        }
        r.pair.onRtcp((p) => this.emitSafely('rtcp', track, p));
      }
      this.tracks.push(track);
      this.#pairs.push(r.pair);
    }
    const byChannel = new Map<number, PushTrack>();
    for (const t of this.tracks) if (t.channels !== undefined) byChannel.set(t.channels[1], t);
    if (byChannel.size > 0) {
      c.conn.onFrame((channel, payload) => {
        const t = byChannel.get(channel);
        if (t !== undefined) this.emitSafely('rtcp', t, payload);
      });
    }
  }

  async #record(): Promise<void> {
    const c = this.control;
    expectOk(await c.conn.request('RECORD', c.controlUrl, { ...c.headers(), Range: 'npt=0.000-' }), 'RECORD', c.conn.url);
    this.#recording = true;
    c.startKeepalive();
  }

  #send(which: number | PushTrack, packet: Buffer, rtcp: boolean): WriteResult {
    const track = typeof which === 'number' ? this.tracks[which] : which;
    if (track === undefined) throw new RangeError(`no track ${String(typeof which === 'number' ? which : which.index)}`);
    const counts = track.counts;
    if (this.control.ended) {
      counts.dropped++;
      return 'dropped';
    }
    let result: WriteResult = 'written';
    const pair = this.#pairs[track.index];
    if (pair !== undefined) {
      if (rtcp) pair.sendRtcp(packet);
      else pair.sendRtp(packet);
    } else if (track.channels !== undefined) {
      result = this.control.conn.writeInterleaved(track.channels[rtcp ? 1 : 0], packet);
    }
    if (result === 'dropped') counts.dropped++;
    else {
      if (rtcp) counts.rtcpPackets++;
      else counts.rtpPackets++;
      counts.bytes += packet.length;
    }
    return result;
  }
}

/** `PushSession.open`: ANNOUNCE, SETUP mode=record, RECORD. */
export function pushSession(url: string, sdp: string, options: PushOptions = {}): Promise<PushSession> {
  return PushSession.open(url, sdp, options);
}
