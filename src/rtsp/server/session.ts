/** An RTSP session: the tracks a client set up, their transports, and keep-alive. Three kinds:
 * a viewer of a stored file (`vod`), a viewer of a live stream (`live`), and a publisher pushing a
 * live stream with RECORD (`record`). A UDP session outlives the RTSP connection that made it; a
 * TCP-interleaved one dies with it. */
import { randomBytes } from 'node:crypto';
import type { LiveStream, LiveViewer } from '../../live/live-stream.js';
import type { LiveTrack } from '../../live/live-track.js';
import type { TrackReader } from '../../live/track-reader.js';
import type { Logger } from '../../logging/index.js';
import { buildBye, compound, newReceptionStats, updateReception, type ReceptionStats } from '../../rtcp/index.js';
import type { RtpSink } from '../../transport/types.js';
import type { FilePlayer } from '../../vod/file-player.js';
import type { VodPresentation, VodTrack } from '../../vod/types.js';
import type { TrackSender } from '../../vod/track-sender.js';

export interface SessionTrack {
  id: number;
  /** Transport header sent back in the SETUP response. */
  transport: string;
  /** Interleaved channels on the owning connection, when TCP. */
  channels?: [number, number];
  /** Where media goes (viewers). */
  sink?: RtpSink;
  /** Stored media: the file track and its RTP identity. */
  vod?: VodTrack;
  sender?: TrackSender;
  /** Live: the stream track this viewer reads or this publisher feeds. */
  live?: LiveTrack;
  /** Live viewer while playing. */
  reader?: TrackReader;
  /** Live viewer: what its receiver reports say. */
  reception?: ReceptionStats;
  /** Publisher over UDP: the sockets packets arrive on. */
  ingest?: { close(): void };
}

export type SessionKind = 'vod' | 'live' | 'record';
export type SessionState = 'ready' | 'playing' | 'paused' | 'recording';

export interface SessionOwner {
  /** Called when the session ends, so the connection can free its channels. */
  sessionClosed(session: RtspSession): void;
}

export interface SessionInit {
  kind: SessionKind;
  /** Presentation URL as the client named it (for RTP-Info). */
  baseUrl: string;
  clientAddress: string;
  log: Logger;
  /** SDES CNAME for sender reports. */
  cname: string;
  vod?: { presentation: VodPresentation; filePath: string };
  /** The live stream viewed, or the key published to. */
  live?: LiveStream;
  liveKey?: string;
}

export class RtspSession implements LiveViewer {
  readonly id = BigInt.asIntN(64, randomBytes(8).readBigUInt64BE()).toString().replace('-', '');
  readonly kind: SessionKind;
  readonly tracks = new Map<number, SessionTrack>();
  readonly createdAt = Date.now();
  readonly baseUrl: string;
  readonly clientAddress: string;
  readonly log: Logger;
  readonly cname: string;
  readonly vod: { presentation: VodPresentation; filePath: string } | undefined;
  live: LiveStream | undefined;
  readonly liveKey: string | undefined;
  lastActivity = Date.now();
  player: FilePlayer | undefined;
  /** The connection that carries interleaved data, if any track uses TCP. */
  owner: SessionOwner | undefined;
  /** Live viewer: playing, and its sender-report timer. */
  #livePlaying = false;
  #everPlayed = false;
  #srTimer: NodeJS.Timeout | undefined;
  /** Publisher: RECORD received. */
  recording = false;
  /** Called when the session closes (the handler detaches publishers, the server forgets it). */
  onClose: ((reason: string) => void) | undefined;
  readonly #closeListeners: ((reason: string) => void)[] = [];
  #closed = false;

  constructor(init: SessionInit) {
    this.kind = init.kind;
    this.baseUrl = init.baseUrl;
    this.clientAddress = init.clientAddress;
    this.log = init.log;
    this.cname = init.cname;
    this.vod = init.vod;
    this.live = init.live;
    this.liveKey = init.liveKey;
  }

  get state(): SessionState {
    if (this.kind === 'record') return this.recording ? 'recording' : 'ready';
    if (this.kind === 'live') return this.#livePlaying ? 'playing' : this.#everPlayed ? 'paused' : 'ready';
    const s = this.player?.state;
    return s === 'playing' ? 'playing' : s === 'paused' ? 'paused' : 'ready';
  }

  get closed(): boolean {
    return this.#closed;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Date.now() when the client was last heard from: a request or RTCP, and for a publisher also
   * the media it sends (encoders such as ffmpeg send no RTSP keep-alive while they publish; the
   * live track stamps each packet it accepts, so this costs nothing per packet here). */
  get lastHeard(): number {
    let t = this.lastActivity;
    if (this.kind === 'record') for (const tr of this.tracks.values()) if (tr.live && tr.live.lastPacketAt > t) t = tr.live.lastPacketAt;
    return t;
  }

  /** PLAY (viewers) or RECORD (publishers) has been accepted at least once. A session that never
   * starts holds ports for nothing, so keep-alives do not save it from the reaper. */
  get started(): boolean {
    return this.player !== undefined || this.#everPlayed || this.recording;
  }

  /** Runs `fn` once when the session closes (at once if it already has): quotas are given back,
   * a PLAY stops waiting. Returns a function that removes `fn` if it has not run yet. */
  whenClosed(fn: (reason: string) => void): () => void {
    if (this.#closed) {
      fn('closed');
      return () => {};
    }
    this.#closeListeners.push(fn);
    return () => {
      const i = this.#closeListeners.indexOf(fn);
      if (i >= 0) this.#closeListeners.splice(i, 1);
    };
  }

  /** RTCP from the client on a track: receiver reports from viewers, SRs from publishers. */
  onRtcp(trackId: number, packet: Buffer): void {
    this.touch();
    const t = this.tracks.get(trackId);
    if (!t) return;
    if (this.kind === 'record') t.live?.onSourceRtcp(packet);
    else if (t.sender) t.sender.onRtcp(packet);
    else if (t.live && t.reception) updateReception(t.reception, packet, t.live.ssrc);
  }

  /** RTP from the client on a track (publishers over TCP). */
  onRtp(trackId: number, packet: Buffer): void {
    if (this.kind !== 'record') {
      this.touch();
      return;
    }
    this.tracks.get(trackId)?.live?.ingest(packet);
  }

  /** Live viewer: starts the readers; they were created by the handler with their first frames. */
  startLive(sendReports: () => void, intervalS: number): void {
    this.#livePlaying = true;
    this.#everPlayed = true;
    sendReports();
    this.#srTimer = setInterval(sendReports, intervalS * 1000);
    this.#srTimer.unref();
  }

  pauseLive(): void {
    this.#livePlaying = false;
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#srTimer = undefined;
    for (const t of this.tracks.values()) {
      t.reader?.stop();
      t.reader = undefined;
    }
  }

  /** The live stream's publisher changed: viewers restart on its first keyframe. */
  resync(): void {
    for (const t of this.tracks.values()) t.reader?.resync();
  }

  newReception(): ReceptionStats {
    return newReceptionStats();
  }

  removeTrack(trackId: number): void {
    const t = this.tracks.get(trackId);
    if (!t) return;
    t.reader?.stop();
    t.ingest?.close();
    t.sink?.close();
    this.tracks.delete(trackId);
  }

  /** Ends the session: RTCP BYE to viewers (a closed transport drops it), sockets closed.
   * Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#srTimer) clearInterval(this.#srTimer);
    if (this.player) this.player.close(reason);
    else if (this.kind === 'vod') for (const t of this.tracks.values()) t.sender?.sendBye(0, reason);
    if (this.kind === 'live') {
      this.live?.viewers.delete(this);
      for (const t of this.tracks.values()) {
        t.reader?.stop();
        if (t.live && t.sink) {
          const sr = t.live.senderReport(t.reader?.packets ?? 0, t.reader?.octets ?? 0, this.cname);
          t.sink.sendRtcp(compound(sr, buildBye(t.live.ssrc, reason)));
        }
      }
    }
    for (const t of this.tracks.values()) {
      t.ingest?.close();
      t.sink?.close();
    }
    this.owner?.sessionClosed(this);
    this.onClose?.(reason);
    for (const fn of this.#closeListeners.splice(0)) {
      try {
        fn(reason);
      } catch (e) {
        this.log.error({ session: this.id, err: (e as Error).stack ?? String(e) }, 'session close listener failed');
      }
    }
    const stats = [...this.tracks.values()].map((t) => ({
      track: t.id,
      packets: t.sender?.packets ?? t.reader?.packets ?? t.live?.packetsIn ?? 0,
      bytes: t.sender?.octets ?? t.reader?.octets ?? t.live?.bytesIn ?? 0,
      lost: (t.sender?.reception ?? t.reception)?.cumulativeLost ?? 0,
      jitter: (t.sender?.reception ?? t.reception)?.jitter ?? 0,
      dropped: t.reader?.dropped,
    }));
    this.log.info({ session: this.id, kind: this.kind, reason, tracks: stats }, 'session closed');
  }
}

/** Sessions by id. A session that has closed (TEARDOWN, broadcast ended, connection lost) is
 * gone at once for every lookup, not only after the reaper's next sweep. */
export class SessionMap extends Map<string, RtspSession> {
  override get(id: string): RtspSession | undefined {
    const s = super.get(id);
    if (s?.closed) {
      super.delete(id);
      return undefined;
    }
    return s;
  }

  override has(id: string): boolean {
    return this.get(id) !== undefined;
  }
}
