/** A viewer of a live stream (`live`): per track a reader following the stream's track while
 * playing, its own sender reports, and what its receiver reports say. */
import type { ReaderStats } from '../../core/reader.js';
import type { Stream, Reader } from '../../core/stream.js';
import type { StreamTrack } from '../../core/stream-track.js';
import type { RtpTrackReader } from '../../readers/rtp-track-reader.js';
import { buildBye, compound, newReceptionStats, updateReception, type ReceptionStats } from '../../rtcp/index.js';
import { RtspSessionBase, type SessionBaseInit, type SessionState, type TrackStats, type ViewerTrackBase } from './session-base.js';

export interface LiveViewerTrack extends ViewerTrackBase {
  /** The stream track this viewer reads. */
  live: StreamTrack;
  /** While playing. */
  reader?: RtpTrackReader;
  /** What the viewer's receiver reports say. */
  reception: ReceptionStats;
}

export interface LiveViewerInit extends SessionBaseInit {
  /** The live stream viewed, and its key. */
  live: Stream;
  liveKey: string;
}

export class LiveViewerSession extends RtspSessionBase<LiveViewerTrack> implements Reader {
  readonly kind = 'live';
  readonly protocol = 'rtsp';
  readonly live: Stream;
  readonly liveKey: string;
  #playing = false;
  #everPlayed = false;
  #srTimer: NodeJS.Timeout | undefined;

  constructor(init: LiveViewerInit) {
    super(init);
    this.live = init.live;
    this.liveKey = init.liveKey;
  }

  get label(): string {
    return `rtsp ${this.clientAddress} session ${this.id}`;
  }

  /** What this viewer was sent, over all its tracks (the core's reader statistics). */
  stats(): ReaderStats {
    let bytes = 0;
    let packets = 0;
    for (const t of this.tracks.values()) {
      bytes += t.reader?.octets ?? 0;
      packets += t.reader?.packets ?? 0;
    }
    return { since: this.createdAt, bytes, packets };
  }

  get state(): SessionState {
    return this.#playing ? 'playing' : this.#everPlayed ? 'paused' : 'ready';
  }

  get started(): boolean {
    return this.#everPlayed;
  }

  /** Starts the readers' sender reports; the readers were created by the handler with their
   * first frames. */
  startLive(sendReports: () => void, intervalS: number): void {
    this.#playing = true;
    this.#everPlayed = true;
    sendReports();
    this.#srTimer = setInterval(sendReports, intervalS * 1000);
    this.#srTimer.unref();
  }

  pauseLive(): void {
    this.#playing = false;
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

  onRtp(): void {
    this.touch();
  }

  protected rtcp(t: LiveViewerTrack, packet: Buffer): void {
    updateReception(t.reception, packet, t.live.ssrc);
  }

  protected releaseTrack(t: LiveViewerTrack): void {
    t.reader?.stop();
    t.sink.close();
  }

  /** A last sender report and BYE on every track. */
  protected endMedia(reason: string): void {
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.live.removeReader(this, reason);
    for (const t of this.tracks.values()) {
      t.reader?.stop();
      const sr = t.live.senderReport(t.reader?.packets ?? 0, t.reader?.octets ?? 0, this.cname);
      t.sink.sendRtcp(compound(sr, buildBye(t.live.ssrc, reason)));
    }
  }

  protected trackStats(t: LiveViewerTrack): TrackStats {
    return {
      track: t.id,
      packets: t.reader?.packets ?? t.live.packetsIn,
      bytes: t.reader?.octets ?? t.live.bytesIn,
      lost: t.reception.cumulativeLost,
      jitter: t.reception.jitter,
      dropped: t.reader?.dropped,
    };
  }
}
