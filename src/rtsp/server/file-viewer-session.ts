/** A viewer of a stored file (`vod`): each track has its own RTP output (own SSRC, on the file's
 * media timeline), and PLAY builds the session's file player. */
import { readerAdded, readerRemoved, type CoreEvents } from '../../core/events.js';
import type { MediaClock } from '../../rtp/media-clock.js';
import type { RtpOutput } from '../../rtp/output.js';
import type { Format } from '../../stream/types.js';
import type { FilePlayer } from '../../vod/file-player.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import type { VodPresentation, VodTrack } from '../../vod/types.js';
import { outputStats, type SessionBaseInit, type SessionState, type TrackStats, type ViewerTrackBase } from './session-base.js';
import { ViewerSession } from './viewer-session.js';

export interface FileTrackState extends ViewerTrackBase {
  /** The file track. */
  vod: VodTrack;
  output: RtpOutput<MediaClock>;
}

export interface FileViewerInit extends SessionBaseInit {
  vod: { presentation: VodPresentation; filePath: string };
}

export class FileViewerSession extends ViewerSession<FileTrackState> {
  readonly kind = 'vod';
  readonly vod: { presentation: VodPresentation; filePath: string };
  /** Built by the first PLAY. */
  player: FilePlayer | undefined;
  /** Where it reports itself as a reader, once registered (`readerAdded`). */
  #events: CoreEvents | undefined;

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

  /** The file's path below the media folder, as the client named it. */
  get path(): string {
    return parseRequestUrl(this.baseUrl).segments.join('/');
  }

  /** The file's bitrate: what it sends while playing. */
  kbps(): number {
    let kbps = 0;
    for (const t of this.tracks.values()) kbps += t.vod.description.bitrateKbps ?? 0;
    return kbps;
  }

  /** A file is its own source: it never changes under the viewer. */
  resync(): void {}

  /** Registered as a session: a reader of its file from now until it closes, as `events` hear. */
  readerAdded(events: CoreEvents | undefined): void {
    this.#events = events;
    events?.emit('reader.added', readerAdded(this.path, this));
  }

  protected releaseTrack(t: FileTrackState): void {
    t.output.close();
    t.output.sink.close();
  }

  protected endMedia(reason: string): void {
    if (this.player) this.player.close(reason);
    else for (const t of this.tracks.values()) t.output.sendBye(reason);
  }

  protected trackStats(t: FileTrackState): TrackStats {
    return { ...outputStats(t), thinning: this.player?.thinning(t.output) };
  }

  protected formatOf(t: FileTrackState): Format {
    return t.vod.description.format;
  }

  protected override ended(reason: string): void {
    this.#events?.emit('reader.removed', readerRemoved(this.path, this, reason));
  }
}
