/** A viewer of a live stream (`live`): per track an RTP output made at SETUP (the track's SSRC,
 * counts, sender reports, what its receiver reports say) and, while playing, a reader following
 * the stream's track into it. A multicast viewer's tracks are places in the stream's group
 * (`MulticastMemberSink`): the group sends, the viewer's outputs only count, and the viewer tells
 * the group when it plays, pauses and leaves. */
import type { Frame } from '../../core/frame.js';
import type { Stream } from '../../core/stream.js';
import type { StreamTrack } from '../../core/stream-track.js';
import { MulticastMemberSink } from '../../readers/multicast-group.js';
import type { RtpTrackReader } from '../../readers/rtp-track-reader.js';
import type { Format } from '../../stream/types.js';
import { outputStats, type SessionBaseInit, type SessionState, type TrackStats, type ViewerTrackBase } from './session-base.js';
import { ViewerSession } from './viewer-session.js';

export interface LiveViewerTrack extends ViewerTrackBase {
  /** The stream track this viewer reads. */
  live: StreamTrack;
  /** While playing. */
  reader?: RtpTrackReader;
}

export interface LiveViewerInit extends SessionBaseInit {
  /** The live stream viewed, and its key. */
  live: Stream;
  liveKey: string;
}

/** The track's place in a multicast group, if it has one. */
function groupOf(t: LiveViewerTrack): MulticastMemberSink | undefined {
  return t.output.sink instanceof MulticastMemberSink ? t.output.sink : undefined;
}

export class LiveViewerSession extends ViewerSession<LiveViewerTrack> {
  readonly kind = 'live';
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

  get path(): string {
    return this.liveKey;
  }

  /** The stream's bitrate: announced in SDP b=AS, or else measured. A multicast track counts
   * only for the group's first viewer playing it: the server sends it once for all of them. */
  kbps(): number {
    let kbps = 0;
    for (const t of this.tracks.values()) {
      const m = groupOf(t);
      if (!m || m.pays) kbps += t.live.bitrateKbps ?? 0;
    }
    return kbps;
  }

  /** Frames a track starts with at PLAY: the keyframe cache, or none for a multicast viewer
   * joining a group that is sending already (its first packet is the track's next one). */
  startFrames(t: LiveViewerTrack, since: number | undefined): Frame[] {
    return groupOf(t)?.sending ? [] : t.live.startFrames(since);
  }

  get state(): SessionState {
    return this.#playing ? 'playing' : this.#everPlayed ? 'paused' : 'ready';
  }

  get started(): boolean {
    return this.#everPlayed;
  }

  /** Starts the tracks' sender reports, every `intervalS` seconds; the readers were created by
   * the handler with their first frames. */
  startLive(intervalS: number): void {
    this.#playing = true;
    this.#everPlayed = true;
    for (const t of this.tracks.values()) groupOf(t)?.play();
    this.#sendReports();
    this.#srTimer = setInterval(() => this.#sendReports(), intervalS * 1000);
    this.#srTimer.unref();
  }

  #sendReports(): void {
    for (const t of this.tracks.values()) t.output.sendReport();
  }

  pauseLive(): void {
    this.#playing = false;
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#srTimer = undefined;
    for (const t of this.tracks.values()) {
      t.reader?.stop();
      t.reader = undefined;
      groupOf(t)?.pause();
    }
  }

  /** The live stream's publisher changed: viewers restart on its first keyframe. */
  resync(): void {
    for (const t of this.tracks.values()) t.reader?.resync();
  }

  protected releaseTrack(t: LiveViewerTrack): void {
    t.reader?.stop();
    t.output.close();
    t.output.sink.close();
  }

  /** A last sender report and BYE on every track. */
  protected endMedia(reason: string): void {
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.live.removeReader(this, reason);
    for (const t of this.tracks.values()) {
      t.reader?.stop();
      t.output.sendBye(reason);
    }
  }

  protected trackStats(t: LiveViewerTrack): TrackStats {
    return { ...outputStats(t), dropped: t.reader?.dropped, thinning: t.reader?.thinning };
  }

  protected formatOf(t: LiveViewerTrack): Format {
    return t.live.format;
  }
}
