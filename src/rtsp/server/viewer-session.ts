/** What the two viewer kinds (file and live) share as core readers: how admission control, logs
 * and the admin see an RTSP play session, whatever it plays. */
import type { AdmissionClient } from '../../core/admission.js';
import type { CountedReader, ReaderStats } from '../../core/reader.js';
import { RtspSessionBase, type ViewerTrackBase } from './session-base.js';

export abstract class ViewerSession<T extends ViewerTrackBase> extends RtspSessionBase<T> implements CountedReader {
  readonly protocol = 'rtsp';
  /** The RTSP connection it was set up on (set by the admission gate): a UDP viewer plays on
   * after it closes, and then counts as a client of its own. */
  carrier: AdmissionClient | undefined;

  abstract get path(): string;
  abstract kbps(): number;
  abstract resync(): void;

  /** RTP from a viewer is only a sign of life (NAT keep-alives). */
  onRtp(): void {
    this.touch();
  }

  /** Receiver reports about a track: its output keeps the statistics. */
  protected rtcp(t: T, packet: Buffer): void {
    t.output.onRtcp(packet);
  }

  get label(): string {
    return `rtsp ${this.clientAddress} session ${this.id}`;
  }

  get playing(): boolean {
    return !this.closed && this.state === 'playing';
  }

  get carried(): boolean {
    return this.carrier !== undefined && !this.carrier.closed;
  }

  /** What it was sent over all its tracks: their outputs count on across PAUSE and PLAY. */
  stats(): ReaderStats {
    let bytes = 0;
    let packets = 0;
    for (const t of this.tracks.values()) {
      bytes += t.output.octets;
      packets += t.output.packets;
    }
    return { since: this.createdAt, bytes, packets };
  }
}
