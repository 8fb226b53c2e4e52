/** A publisher pushing a live stream with ANNOUNCE and RECORD (`record`): per track the stream
 * track it feeds, and over UDP the sockets packets arrive on. */
import type { ClientFigures } from '../../core/clients.js';
import type { Source, Stream } from '../../core/stream.js';
import type { StreamTrack } from '../../core/stream-track.js';
import type { Format } from '../../stream/types.js';
import { RtspSessionBase, type SessionBaseInit, type SessionState, type SessionTrackBase, type TrackStats } from './session-base.js';

export interface PublisherTrack extends SessionTrackBase {
  /** The stream track this publisher feeds. */
  live: StreamTrack;
  /** Over UDP: the sockets packets arrive on. */
  ingest?: { close(): void };
  /** The stream track's counts when this session set it up: a track an earlier publisher fed
   * (a takeover, a compatible re-announce) counts on from there. */
  since: { bytes: number; packets: number };
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

  protected formatOf(t: PublisherTrack): Format {
    return t.live.format;
  }

  /** What it sent us: the media its tracks took in since it set them up (RTCP not counted). Loss
   * is not measured on ingest, so none is claimed. */
  figures(): ClientFigures {
    let bytesReceived = 0;
    let packetsReceived = 0;
    for (const t of this.tracks.values()) {
      bytesReceived += t.live.bytesIn - t.since.bytes;
      packetsReceived += t.live.packetsIn - t.since.packets;
    }
    return { bytesSent: 0, packetsSent: 0, bytesReceived, packetsLost: 0, packetsReceived };
  }
}
