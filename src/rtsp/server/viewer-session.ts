/** What the two viewer kinds (file and live) share as core readers: how admission control, logs
 * and the admin see an RTSP play session, whatever it plays. */
import type { AdmissionClient } from '../../core/admission.js';
import type { ClientFigures } from '../../core/clients.js';
import type { CountedReader, ReaderStats } from '../../core/reader.js';
import { RtspSessionBase, type ViewerTrackBase } from './session-base.js';

/** Bytes of the fixed RTP header: what a viewer was sent is counted as its packets' payload plus
 * this per packet (the RTP bytes on the wire, as DSS's sc-bytes; no packet we send carries CSRCs,
 * and a publisher's header extensions are not counted). */
const RTP_HEADER_BYTES = 12;

/** Packets the viewer says it received on a track: the span from the first packet it was sent to
 * the highest it reports, less those it reports lost (RFC 3550 A.3), never more than it was sent.
 * Undefined before its first receiver report. */
function receivedOn(t: ViewerTrackBase): number | undefined {
  const r = t.output.reception;
  if (t.firstSeq === undefined || r.reports === 0) return undefined;
  // The client counts its extended sequence numbers from the first one it got (cycles in the
  // high 16 bits), so the span is at most one cycle off when the first packets were lost.
  const expected = r.highestSeq - t.firstSeq + 1;
  const got = expected - r.cumulativeLost;
  return Math.max(0, Math.min(t.output.packets, got));
}

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

  /** RTCP bytes received from the viewer (its receiver reports): the access log's cs-bytes. */
  #rtcpBytes = 0;

  /** Receiver reports about a track: its output keeps the statistics. */
  protected rtcp(t: T, packet: Buffer): void {
    this.#rtcpBytes += packet.length;
    t.output.onRtcp(packet);
  }

  /** Sent: its outputs' RTP packets and bytes (payload and fixed header); received: its RTCP;
   * lost: what its receiver reports say, summed over tracks; jitter: the worst track's, in ms;
   * resent: what went again at its request (NACK answered with RTX, or reliable UDP), when it
   * asked for either. */
  figures(): ClientFigures {
    let bytesSent = 0;
    let packetsSent = 0;
    let packetsLost = 0;
    let jitter: number | undefined;
    let packetsReceived: number | undefined;
    let packetsResent: number | undefined;
    for (const t of this.tracks.values()) {
      const o = t.output;
      const again = o.retransmit ?? o.reliableUdp;
      if (again) packetsResent = (packetsResent ?? 0) + again.resent;
      packetsSent += o.packets;
      bytesSent += o.octets + RTP_HEADER_BYTES * o.packets;
      const r = o.reception;
      if (r.reports === 0) continue;
      packetsLost += Math.max(0, r.cumulativeLost);
      const rate = this.formatOf(t).clockRate;
      if (rate > 0) jitter = Math.max(jitter ?? 0, (r.jitter * 1000) / rate);
      const got = receivedOn(t);
      if (got !== undefined) packetsReceived = (packetsReceived ?? 0) + got;
    }
    return { bytesSent, packetsSent, bytesReceived: this.#rtcpBytes, packetsLost, jitter, packetsReceived, ...(packetsResent !== undefined ? { packetsResent } : {}) };
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
