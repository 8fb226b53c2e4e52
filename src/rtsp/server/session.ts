/** An RTSP session: the tracks a viewer set up, their transports, playback state and keep-alive.
 * A UDP session outlives the RTSP connection that made it; a TCP-interleaved one dies with it. */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logging/index.js';
import type { RtpSink } from '../../transport/types.js';
import type { FilePlayer } from '../../vod/file-player.js';
import type { VodPresentation, VodTrack } from '../../vod/movie-stream.js';
import type { TrackSender } from '../../vod/track-sender.js';

export interface SessionTrack {
  vod: VodTrack;
  sink: RtpSink;
  sender: TrackSender;
  /** Transport header sent back in the SETUP response. */
  transport: string;
  /** Interleaved channels on the owning connection, when TCP. */
  channels?: [number, number];
}

export type SessionState = 'ready' | 'playing' | 'paused';

export interface SessionOwner {
  /** Called when the session ends, so the connection can free its channels. */
  sessionClosed(session: RtspSession): void;
}

export class RtspSession {
  readonly id = BigInt.asIntN(64, randomBytes(8).readBigUInt64BE()).toString().replace('-', '');
  readonly tracks = new Map<number, SessionTrack>();
  readonly createdAt = Date.now();
  lastActivity = Date.now();
  player: FilePlayer | undefined;
  /** The connection that carries interleaved data, if any track uses TCP. */
  owner: SessionOwner | undefined;
  #closed = false;

  constructor(
    readonly presentation: VodPresentation,
    /** Real path of the file. */
    readonly filePath: string,
    /** Presentation URL as the client named it (for RTP-Info). */
    readonly baseUrl: string,
    readonly clientAddress: string,
    readonly log: Logger,
  ) {}

  get state(): SessionState {
    const s = this.player?.state;
    return s === 'playing' ? 'playing' : s === 'paused' ? 'paused' : 'ready';
  }

  get closed(): boolean {
    return this.#closed;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Routes an RTCP packet a viewer sent on a track. */
  onRtcp(trackId: number, packet: Buffer): void {
    this.touch();
    this.tracks.get(trackId)?.sender.onRtcp(packet);
  }

  removeTrack(trackId: number): void {
    const t = this.tracks.get(trackId);
    if (!t) return;
    t.sink.close();
    this.tracks.delete(trackId);
  }

  /** Ends the session: RTCP BYE to the viewer (a closed transport drops it), sockets closed.
   * Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.player) this.player.close(reason);
    else for (const t of this.tracks.values()) t.sender.sendBye(0, reason);
    for (const t of this.tracks.values()) t.sink.close();
    this.owner?.sessionClosed(this);
    const stats = [...this.tracks.values()].map((t) => ({
      track: t.vod.description.id,
      packets: t.sender.packets,
      bytes: t.sender.octets,
      lost: t.sender.reception.cumulativeLost,
      jitter: t.sender.reception.jitter,
    }));
    this.log.info({ session: this.id, reason, tracks: stats }, 'session closed');
  }
}
