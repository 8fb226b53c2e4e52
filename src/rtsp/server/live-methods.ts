/** RTSP methods for live streams: publishing (ANNOUNCE, SETUP mode=record, RECORD) and viewing
 * (DESCRIBE, SETUP, PLAY, PAUSE of a live path). */
import type { Config } from '../../config/index.js';
import { settingName, type PathManager } from '../../core/index.js';
import type { Stream } from '../../core/stream.js';
import type { StreamTrack } from '../../core/stream-track.js';
import { streamTracksFrom } from '../../core/stream-tracks.js';
import { streamKey, type StreamRegistry } from '../../core/stream-registry.js';
import { liveOutput, RtpTrackReader } from '../../readers/rtp-track-reader.js';
import type { Logger } from '../../logging/index.js';
import { buildSdp, sdpRetransmitFor, viewerRetransmit, parseSdp, SdpError, type ParsedSdp } from '../../sdp/index.js';
import type { UdpPortAllocator } from '../../transport/index.js';
import { formatNptRange, formatRtpInfo, formatSession, rtpInfoUrl } from '../headers/index.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { Announcement } from './announcement.js';
import type { RtspConnection } from './connection.js';
import { RtspError } from './errors.js';
import { writeInside } from './safe-write.js';
import { LiveViewerSession } from './live-viewer-session.js';
import { PublisherSession } from './publisher-session.js';
import { RtspRecordSource } from './record-source.js';
import type { RtspSession } from './session.js';
import type { SessionTicket } from './session-quota.js';
import { MulticastMemberSink, type MulticastGroupInfo, type MulticastGroups } from '../../readers/multicast-group.js';
import { multicastGroups, pickTransport, presentationKbps, publisherUdp, recordTcpTransport, reliableUdpFor, stripMapped, viewerSink, viewerTransport } from './transport-setup.js';

export interface LiveDeps {
  config: Config;
  mediaRoot: string;
  registry: StreamRegistry;
  /** Per-path settings: takeover on ANNOUNCE, the grace time on RECORD. */
  paths: PathManager;
  sessions: Map<string, RtspSession>;
  ports: UdpPortAllocator;
  log: Logger;
  cname: string;
}

const fmtHeaders = (h: Record<string, string>) => new Headers(h);

export class LiveMethods {
  readonly #d: LiveDeps;
  readonly #groups: MulticastGroups;

  constructor(deps: LiveDeps) {
    this.#d = deps;
    this.#groups = multicastGroups(deps);
  }

  /** The multicast groups sending now (or lingering), one per live stream that has multicast
   * viewers. */
  multicastGroups(): MulticastGroupInfo[] {
    return this.#groups.list();
  }

  /** `hops`: the relays the request came through (its Via), kept with the stream it publishes. */
  async announce(req: RtspRequest, conn: RtspConnection, key: string, url: string, hops: readonly string[] = []): Promise<RtspResponse> {
    // Who may publish (the path's publishAllow, broadcaster group, <Limit WRITE>) was decided by the
    // handler's authorization step.
    if (!key) throw new RtspError(400, 'ANNOUNCE needs a stream name in the URL');
    // A path fed by its configured source takes no publisher (PathError forbidden: 403).
    this.#d.paths.checkPublisher(key);
    const type = req.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
    if (type && type !== 'application/sdp') throw new RtspError(415, `ANNOUNCE body must be application/sdp, not ${type}`);
    let sdp: ParsedSdp;
    try {
      sdp = parseSdp(req.body.toString('utf8'));
    } catch (e) {
      if (e instanceof SdpError) throw new RtspError(415, `announced SDP refused: ${e.message}`);
      throw e;
    }
    const limits = this.#d.config.limits;
    if (sdp.media.length > limits.maxTracksPerAnnounce) {
      throw new RtspError(453, `announced SDP refused: ${sdp.media.length} media sections (limits.maxTracksPerAnnounce=${limits.maxTracksPerAnnounce})`);
    }
    if (!conn.announcements.has(key) && conn.announcements.size >= limits.maxAnnouncementsPerConnection) {
      throw new RtspError(453, `ANNOUNCE refused: this connection has announced ${conn.announcements.size} streams (limits.maxAnnouncementsPerConnection=${limits.maxAnnouncementsPerConnection})`);
    }
    const settings = this.#d.paths.settingsFor(key);
    const refuseBusy = (s: Stream | undefined) => {
      if (s && s.state === 'active' && !settings.takeover) {
        throw new RtspError(412, `'${key}' is already being broadcast by ${s.source?.label ?? 'another publisher'}`);
      }
    };
    refuseBusy(this.#d.registry.get(key));
    // Whatever can refuse the ANNOUNCE comes before anything changes: a refused one leaves no
    // announcement behind and takes over nobody.
    if (this.#d.config.live.writeSdp) await this.#writeSdp(key, req.body.toString('utf8'));
    const existing = this.#d.registry.get(key);
    refuseBusy(existing);
    if (existing && existing.state === 'active') {
      this.#d.log.info({ path: key, publisher: existing.source?.label, by: conn.remoteAddress, setting: settingName(settings, 'takeover') }, 'broadcast taken over');
      existing.source?.close('taken over by a new publisher');
    }
    const reuse = existing && existing.state !== 'ended' && existing.compatible(sdp.media) ? existing.tracks : undefined;
    const tracks = reuse ?? streamTracksFrom(sdp.media, { maxFrameBytes: this.#d.config.live.maxFrameBytes, log: this.#d.log.child({ path: key }) });
    conn.announcements.set(key, { key, sdp, tracks, hops });
    this.#d.log.info({ path: key, publisher: conn.remoteAddress, tracks: sdp.media.map((m) => m.format.encodingName).join('+'), url }, 'broadcast announced');
    return { status: 200, headers: fmtHeaders({}) };
  }

  async #writeSdp(key: string, text: string): Promise<void> {
    const segments = key.split('/');
    segments[segments.length - 1] += '.sdp';
    try {
      await writeInside(this.#d.mediaRoot, segments, text);
    } catch (e) {
      throw new RtspError(403, `ANNOUNCE refused: cannot write ${key}.sdp in the media folder (live.writeSdp): ${(e as Error).message}`);
    }
  }

  /** SETUP mode=record: where the publisher's packets for one track arrive. */
  async setupRecord(
    req: RtspRequest,
    conn: RtspConnection,
    segments: string[],
    rawLast: string | undefined,
    session: PublisherSession | undefined,
    ticket?: SessionTicket,
  ): Promise<RtspResponse> {
    // The track is named by the announced control attribute (streamid=0, trackID=1, stream=0...),
    // the last URL segment; what comes before names the stream.
    const candidates = [segments.join('/'), segments.slice(0, -1).join('/')];
    let ann: Announcement | undefined;
    let control: string | undefined;
    for (const [i, c] of candidates.entries()) {
      ann = conn.announcements.get(streamKey([c]));
      if (ann) {
        control = i === 0 ? rawLast : segments[segments.length - 1];
        break;
      }
    }
    if (!ann) throw new RtspError(455, 'SETUP for recording needs an ANNOUNCE of this stream first');
    if (session && session.liveKey !== ann.key) throw new RtspError(459, 'the session belongs to another stream');
    const idx = ann.sdp.media.findIndex((m) => m.control !== undefined && control !== undefined && (m.control === control || m.control.endsWith(`/${control}`)));
    const index = idx >= 0 ? idx : ann.sdp.media.length === 1 ? 0 : -1;
    if (index < 0) throw new RtspError(404, `no announced track matches '${control ?? ''}'`);
    const track = ann.tracks[index];
    const { spec, tcp } = pickTransport(req.headers.get('transport'), true, conn.secure);
    const s =
      session ??
      new PublisherSession({ baseUrl: '', clientAddress: conn.remoteAddress, log: this.#d.log, cname: this.#d.cname, liveKey: ann.key });
    if (s.tracks.has(track.id)) s.removeTrack(track.id);
    let transport: string;
    const since = { bytes: track.bytesIn, packets: track.packetsIn };
    if (tcp) {
      const channels = conn.allocateChannels(spec.interleaved);
      transport = recordTcpTransport(channels);
      s.tracks.set(track.id, { id: track.id, transport, channels, live: track, since });
      conn.bindChannels(s, track.id, channels);
    } else {
      const udp = await publisherUdp(spec, conn, this.#d.ports, (p) => track.ingest(p), (p) => track.onSourceRtcp(p), (a, rtcp) => track.refuseStranger(a, rtcp));
      transport = udp.transport;
      s.tracks.set(track.id, { id: track.id, transport, live: track, ingest: udp, since });
    }
    if (!session) {
      this.#d.sessions.set(s.id, s);
      ticket?.hold(s);
    }
    s.touch();
    return { status: 200, headers: fmtHeaders({ Session: this.#sessionHeader(s), Transport: transport }) };
  }

  record(s: RtspSession, conn: RtspConnection): RtspResponse {
    if (s.kind !== 'record') throw new RtspError(455, 'RECORD is only valid after SETUP with mode=record');
    const ann = conn.announcements.get(s.liveKey);
    if (!ann) throw new RtspError(455, 'the announcement for this session is gone');
    if (s.tracks.size === 0) throw new RtspError(455, 'no track has been set up');
    if (!s.recording) {
      const publisher = new RtspRecordSource(s, conn.remoteAddress, (closed) => this.#d.sessions.delete(closed.id), ann.hops);
      const stream = this.#d.registry.publish(ann.key, ann.tracks, publisher, this.#d.paths.settingsFor(ann.key).graceTime);
      s.startRecording(stream, publisher);
    }
    return { status: 200, headers: fmtHeaders({}) };
  }

  describe(stream: Stream, conn: RtspConnection, baseUrl: string, userAgent?: string): RtspResponse {
    const retransmit = sdpRetransmitFor(this.#d.config.retransmit, userAgent);
    const sdp = buildSdp(stream.description(), { serverAddress: stripMapped(conn.localAddress) || '0.0.0.0', retransmit });
    return { status: 200, headers: fmtHeaders({ 'Content-Type': 'application/sdp', 'Content-Base': `${baseUrl}/`, 'Cache-Control': 'no-cache' }), body: sdp };
  }

  async setupView(
    req: RtspRequest,
    conn: RtspConnection,
    stream: Stream,
    trackId: number | undefined,
    baseUrl: string,
    key: string,
    session: LiveViewerSession | undefined,
    ticket?: SessionTicket,
  ): Promise<RtspResponse> {
    if (session && session.live !== stream) throw new RtspError(459, 'a session can only hold tracks of one presentation');
    const track = trackId !== undefined ? stream.tracks.find((t) => t.id === trackId) : stream.tracks.length === 1 ? stream.tracks[0] : undefined;
    if (!track) throw new RtspError(404, trackId !== undefined ? `no track ${trackId} in this stream` : 'SETUP needs a track URL (trackID=N)');
    if (session && session.state === 'playing' && !session.tracks.has(track.id)) throw new RtspError(455, 'tracks cannot be added while playing');
    const { spec, tcp } = pickTransport(req.headers.get('transport'), false, conn.secure, this.#groups.refusal() ?? true);
    const s = session ?? new LiveViewerSession({ baseUrl, clientAddress: conn.remoteAddress, log: this.#d.log, cname: this.#d.cname, live: stream, liveKey: key });
    if (s.tracks.has(track.id)) s.removeTrack(track.id);
    const v = await viewerSink(spec, tcp, conn, this.#d.ports, (p) => s.onRtcp(track.id, p), () => this.#groups.join(stream, track));
    // Made here, not at PLAY, so counts and reports run on across PAUSE and PLAY.
    const output = liveOutput(track, v.sink, this.#d.cname);
    const rtx = viewerRetransmit(this.#d.config.retransmit, track, v.feedback === true);
    if (rtx) output.enableRetransmission(rtx, s.log);
    const kbps = presentationKbps(stream.tracks.map((t) => t.bitrateKbps));
    const echo = reliableUdpFor(req.headers.get('x-retransmit'), output, this.#d.config.retransmit, kbps, s.log);
    const transport = viewerTransport(v, output.ssrc);
    s.tracks.set(track.id, { id: track.id, transport, channels: v.channels, output, live: track });
    if (v.channels) conn.bindChannels(s, track.id, v.channels);
    if (!session) {
      this.#d.sessions.set(s.id, s);
      ticket?.hold(s);
      stream.addReader(s);
    }
    s.touch();
    return { status: 200, headers: fmtHeaders({ Session: this.#sessionHeader(s), Transport: transport, ...(echo !== undefined ? { 'x-Retransmit': echo } : {}) }) };
  }

  async play(s: LiveViewerSession, conn: RtspConnection): Promise<RtspResponse> {
    const stream = s.live;
    if (s.state === 'playing') return { status: 200, headers: fmtHeaders({ Range: formatNptRange('now') }) };
    if (stream.state !== 'active') throw new RtspError(404, `broadcast '${stream.path}' is not active`);
    const tracks = [...s.tracks.values()];
    // Wait (briefly) for a keyframe so the viewer starts on a clean picture and RTP-Info can name
    // the first packet it will get.
    const video = tracks.filter((t) => t.live.isVideo);
    await this.#keyframes(video.map((t) => t.live), s);
    if (s.closed) throw new RtspError(454, 'session closed');
    const since = video.map((t) => t.live.keyframeArrival).find((a) => a !== undefined);
    const starts = tracks.map((t) => {
      const frames = s.startFrames(t, since);
      const first = frames[0];
      const pos = first ? { seq: first.firstSeq, rtptime: first.ts } : t.live.nextPosition();
      // The viewer's receiver reports count from its first packet: this one, of its first PLAY.
      t.firstSeq ??= pos.seq;
      const reader = new RtpTrackReader({
        track: t.live,
        output: t.output,
        tcp: t.channels ? { writer: conn, channel: t.channels[0] } : undefined,
        queueLimit: this.#d.config.live.viewerQueueBytes,
        // A multicast group's send serves all its viewers: never thinned for one.
        thinning: t.output.sink instanceof MulticastMemberSink ? undefined : { settings: this.#d.config.retransmit.thinning, log: s.log, label: { session: s.id, track: t.id } },
      });
      t.reader = reader;
      return { t, frames, pos, reader };
    });
    const rtpInfo = formatRtpInfo(starts.map(({ t, pos }) => ({ url: rtpInfoUrl(`${s.baseUrl}/trackID=${t.id}`), seq: pos.seq, rtptime: pos.rtptime })));
    const res: RtspResponse = { status: 200, headers: fmtHeaders({ Range: formatNptRange('now'), 'RTP-Info': rtpInfo }) };
    // Media must follow the PLAY response on the wire: clients drop interleaved data that
    // arrives before it.
    res.after = () => {
      if (s.closed) return;
      s.startLive(this.#d.config.rtp.rtcpInterval);
      for (const { reader, frames } of starts) reader.start(frames);
    };
    return res;
  }

  /** Waits up to live.keyframeWait for every video track to hold a keyframe; stops early when
   * the session closes or the source goes away (the stream ends its tracks' waits then). */
  async #keyframes(video: StreamTrack[], s: LiveViewerSession): Promise<void> {
    if (video.every((t) => t.keyframeArrival !== undefined)) return;
    const stop = new AbortController();
    const forget = s.whenClosed(() => stop.abort());
    try {
      const ms = this.#d.config.live.keyframeWait * 1000;
      await Promise.all(video.map((t) => t.whenKeyframe(ms, stop.signal)));
    } finally {
      forget();
    }
  }

  #sessionHeader(s: RtspSession): string {
    return formatSession({ id: s.id, timeout: this.#d.config.rtsp.sessionTimeout });
  }

  pause(s: LiveViewerSession): RtspResponse {
    if (s.state !== 'playing') throw new RtspError(455, 'PAUSE is only valid while playing');
    s.pauseLive();
    return { status: 200, headers: fmtHeaders({}) };
  }
}
