/** A publisher pushing a live stream with ANNOUNCE and RECORD (`record`): per track the stream
 * track it feeds, and over UDP the sockets packets arrive on. */
import type { Source, Stream } from '../../core/stream.js';
import type { StreamTrack } from '../../core/stream-track.js';
import { RtspSessionBase, type SessionBaseInit, type SessionState, type SessionTrackBase, type TrackStats } from './session-base.js';

export interface PublisherTrack extends SessionTrackBase {
  /** The stream track this publisher feeds. */
  live: StreamTrack;
  /** Over UDP: the sockets packets arrive on. */
  ingest?: { close(): void };
}

export interface PublisherInit extends SessionBaseInit {
  /** The key published to. */
  liveKey: string;
}

export class PublisherSession extends RtspSessionBase<PublisherTrack> {
  readonly kind = 'record';
  readonly liveKey: string;
  /** The stream published, once RECORD is accepted. */
  live: Stream | undefined;
  #recording = false;
  #publisher: Source | undefined;

  constructor(init: PublisherInit) {
    super(init);
    this.liveKey = init.liveKey;
  }

  get recording(): boolean {
    return this.#recording;
  }

  get state(): SessionState {
    return this.#recording ? 'recording' : 'ready';
  }

  get started(): boolean {
    return this.#recording;
  }

  /** RECORD accepted: `stream` is fed by this session as `publisher`, which leaves it on close. */
  startRecording(stream: Stream, publisher: Source): void {
    this.live = stream;
    this.#recording = true;
    this.#publisher = publisher;
  }

  /** Date.now() when the client was last heard from: a request or RTCP, and also the media it
   * sends (encoders such as ffmpeg send no RTSP keep-alive while they publish; the live track
   * stamps each packet it accepts, so this costs nothing per packet here). */
  override get lastHeard(): number {
    let t = this.lastActivity;
    for (const tr of this.tracks.values()) if (tr.live.lastPacketAt > t) t = tr.live.lastPacketAt;
    return t;
  }

  onRtp(trackId: number, packet: Buffer): void {
    this.tracks.get(trackId)?.live.ingest(packet);
  }

  protected rtcp(t: PublisherTrack, packet: Buffer): void {
    t.live.onSourceRtcp(packet);
  }

  protected releaseTrack(t: PublisherTrack): void {
    t.ingest?.close();
  }

  protected endMedia(): void {}

  protected override ended(reason: string): void {
    const publisher = this.#publisher;
    if (publisher) this.live?.detach(publisher, reason);
  }

  protected trackStats(t: PublisherTrack): TrackStats {
    return { track: t.id, packets: t.live.packetsIn, bytes: t.live.bytesIn, lost: 0, jitter: 0 };
  }
}
