/** One track's RTP identity for one viewer: SSRC, sequence numbers, timestamp origin, counts,
 * and the RTCP it sends (SR + SDES, BYE) and receives (receiver reports → statistics). */
import type { RtpPayload } from '../codecs/types.js';
import { buildBye, buildSdesCname, buildSenderReport, compound, newReceptionStats, updateReception, type ReceptionStats } from '../rtcp/index.js';
import { writeRtpPacket } from '../rtp/packet.js';
import { randomUint16, randomUint32 } from '../rtp/seq.js';
import type { RtpSink } from '../transport/types.js';

export type { ReceptionStats } from '../rtcp/index.js';

export interface TrackSenderOptions {
  sink: RtpSink;
  payloadType: number;
  clockRate: number;
  /** SDES CNAME of this server. */
  cname: string;
}

export class TrackSender {
  readonly ssrc = randomUint32();
  readonly rtpBase = randomUint32();
  readonly sink: RtpSink;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly reception: ReceptionStats = newReceptionStats();
  packets = 0;
  octets = 0;
  #seq = randomUint16();
  readonly #cname: string;

  constructor(opts: TrackSenderOptions) {
    this.sink = opts.sink;
    this.payloadType = opts.payloadType;
    this.clockRate = opts.clockRate;
    this.#cname = opts.cname;
  }

  /** Sequence number the next packet will carry (RTP-Info seq). */
  get nextSeq(): number {
    return this.#seq;
  }

  /** RTP timestamp of a media instant, so pause/seek keep timestamps on the media timeline. */
  rtpTimeAt(npt: number): number {
    return (this.rtpBase + Math.round(npt * this.clockRate)) >>> 0;
  }

  send(payload: RtpPayload, timestamp: number): void {
    const pkt = writeRtpPacket(payload, {
      payloadType: this.payloadType,
      sequence: this.#seq,
      timestamp,
      ssrc: this.ssrc,
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.packets++;
    this.octets += payload.length;
    this.sink.sendRtp(pkt);
  }

  /** SR + SDES mapping wall clock `nowMs` to the media instant `npt`. */
  sendReport(npt: number, nowMs = Date.now()): void {
    this.sink.sendRtcp(
      compound(
        buildSenderReport({
          ssrc: this.ssrc,
          wallclockMs: nowMs,
          rtpTimestamp: this.rtpTimeAt(npt),
          packetCount: this.packets,
          octetCount: this.octets,
        }),
        buildSdesCname(this.ssrc, this.#cname),
      ),
    );
  }

  sendBye(npt: number, reason?: string): void {
    this.sink.sendRtcp(
      compound(
        buildSenderReport({
          ssrc: this.ssrc,
          wallclockMs: Date.now(),
          rtpTimestamp: this.rtpTimeAt(npt),
          packetCount: this.packets,
          octetCount: this.octets,
        }),
        buildSdesCname(this.ssrc, this.#cname),
        buildBye(this.ssrc, reason),
      ),
    );
  }

  /** Reads receiver reports about this track's SSRC into `reception`. */
  onRtcp(buf: Buffer): void {
    updateReception(this.reception, buf, this.ssrc);
  }
}
