/** A viewer of a stored file (`vod`): each track has its own RTP sender, and PLAY builds the
 * session's file player. */
import type { FilePlayer } from '../../vod/file-player.js';
import type { TrackSender } from '../../vod/track-sender.js';
import type { VodPresentation, VodTrack } from '../../vod/types.js';
import { RtspSessionBase, type SessionBaseInit, type SessionState, type TrackStats, type ViewerTrackBase } from './session-base.js';

export interface FileTrackState extends ViewerTrackBase {
  /** The file track and its RTP identity. */
  vod: VodTrack;
  sender: TrackSender;
}

export interface FileViewerInit extends SessionBaseInit {
  vod: { presentation: VodPresentation; filePath: string };
}

export class FileViewerSession extends RtspSessionBase<FileTrackState> {
  readonly kind = 'vod';
  readonly vod: { presentation: VodPresentation; filePath: string };
  /** Built by the first PLAY. */
  player: FilePlayer | undefined;

  constructor(init: FileViewerInit) {
    super(init);
    this.vod = init.vod;
  }

  get state(): SessionState {
    const s = this.player?.state;
    return s === 'playing' ? 'playing' : s === 'paused' ? 'paused' : 'ready';
  }

  get started(): boolean {
    return this.player !== undefined;
  }

  onRtp(): void {
    this.touch();
  }

  protected rtcp(t: FileTrackState, packet: Buffer): void {
    t.sender.onRtcp(packet);
  }

  protected releaseTrack(t: FileTrackState): void {
    t.sink.close();
  }

  protected endMedia(reason: string): void {
    if (this.player) this.player.close(reason);
    else for (const t of this.tracks.values()) t.sender.sendBye(0, reason);
  }

  protected trackStats(t: FileTrackState): TrackStats {
    return { track: t.id, packets: t.sender.packets, bytes: t.sender.octets, lost: t.sender.reception.cumulativeLost, jitter: t.sender.reception.jitter };
  }
}
