/** One viewer's RTP output for one track, whatever feeds it: the SSRC it sends as, the sequence
 * numbers of packets it writes itself, packet and octet counts, the RTCP it sends (SR + SDES, BYE)
 * and what the viewer's receiver reports say. File viewers and live viewers both use it, so the
 * per-viewer RTP end (and later retransmission) is written once.
 *
 * Two ways packets reach the viewer:
 * - `send(payload, timestamp)`: the output writes the header (its SSRC, its next sequence number).
 *   A file player does this; each viewer has its own stream.
 * - `sent(packets, octets)`: someone else sent packets that already carry this output's SSRC and
 *   only the counts are taken. A live reader does this: the stream track rewrote the header once
 *   onto its own timeline and every viewer gets the same Buffers, so nothing here touches them.
 *
 * Retransmission seam (RTP retransmission, RFC 4588, and Skip Protection, a later issue): it goes
 * here and nowhere else. A NACK or the client's Skip Protection feedback arrives through
 * `onRtcp`, which would look the lost sequence numbers up and send them again through `sink`:
 * for `send` a small ring of recently written packets kept by sequence number (the packets are
 * already built, so keeping them costs no copy); for shared live packets the stream track's
 * frames, which hold every packet of the current GOP. Resent packets are counted like any other
 * and never advance `nextSeq`. */
import type { RtpPayload } from '../codecs/types.js';
import {
  buildBye,
  buildSdesCname,
  buildSenderReport,
  compound,
  newReceptionStats,
  updateReception,
  type ReceptionStats,
} from '../rtcp/index.js';
import type { RtpSink } from '../transport/types.js';
import { writeRtpPacket, type RtpHeaderFields } from './packet.js';
import { randomUint16, randomUint32 } from './seq.js';

export type { ReceptionStats } from '../rtcp/index.js';

/** Where an output's sender reports take "now" from: the RTP time and the wall clock of a local
 * instant. A live stream track is one (`rtpTimeAt`/`ntpMsAt`); a file's is a `MediaClock`. */
export interface RtpClock {
  /** RTP timestamp, on the output's timeline, of a local instant (performance.now() ms). */
  rtpTimeAt(nowPerf: number): number;
  /** Wall clock (Unix ms, for the NTP field) of that instant. */
  ntpMsAt(nowPerf: number): number;
}

export interface RtpOutputOptions<C extends RtpClock> {
  sink: RtpSink;
  /** Payload type of the packets `send` writes. */
  payloadType: number;
  /** Where sender reports take the RTP time and wall clock of now from. */
  clock: C;
  /** SDES CNAME of this server. */
  cname: string;
  /** SSRC the packets carry (default: a random one of the output's own). A live output gives its
   * stream track's, since the shared packets already carry it. */
  ssrc?: number;
  /** Sequence number of the first packet `send` writes (default random). A playlist's next item
   * continues where the previous item's output stopped (its `nextSeq`). */
  seq?: number;
}

export class RtpOutput<C extends RtpClock = RtpClock> {
  readonly ssrc: number;
  readonly sink: RtpSink;
  readonly payloadType: number;
  readonly clock: C;
  /** What the viewer's receiver reports about this SSRC say. */
  readonly reception: ReceptionStats = newReceptionStats();
  readonly #cname: string;
  #seq: number;
  /** Header fields of the packet being sent, reused: sinks read them during the call only. */
  readonly #header: RtpHeaderFields;
  #packets = 0;
  #octets = 0;

  constructor(opts: RtpOutputOptions<C>) {
    this.ssrc = opts.ssrc ?? randomUint32();
    this.#seq = (opts.seq ?? randomUint16()) & 0xffff;
    this.sink = opts.sink;
    this.payloadType = opts.payloadType;
    this.clock = opts.clock;
    this.#cname = opts.cname;
    this.#header = { payloadType: this.payloadType, sequence: 0, timestamp: 0, ssrc: this.ssrc };
  }

  /** RTP packets the viewer was really sent (sender reports carry it). */
  get packets(): number {
    return this.#packets;
  }

  /** Payload octets (headers excluded, as RFC 3550 counts them) the viewer was really sent. */
  get octets(): number {
    return this.#octets;
  }

  /** Sequence number the next packet `send` writes will carry (RTP-Info seq). */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Writes one packet of this output's own stream and sends it. */
  send(payload: RtpPayload, timestamp: number): void {
    const h = this.#header;
    h.sequence = this.#seq;
    h.timestamp = timestamp;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#packets++;
    this.#octets += payload.length;
    // Retransmission seam: keep the payload and its header fields by sequence number here (see
    // the file comment). A sink that gathers packets writes them into its own buffers.
    if (this.sink.writeRtp) this.sink.writeRtp(payload, h);
    else this.sink.sendRtp(writeRtpPacket(payload, h));
  }

  /** Someone sent the viewer `packets` shared packets carrying this SSRC, with `octets` of
   * payload: counted only, the packets are not touched. */
  sent(packets: number, octets: number): void {
    this.#packets += packets;
    this.#octets += octets;
  }

  /** Part of what `sent` counted never left (the native fan-out could not send it): sender
   * reports must not claim it. */
  unsent(packets: number, octets: number): void {
    this.#packets -= packets;
    this.#octets -= octets;
  }

  /** Sends SR + SDES for the local instant `nowPerf`. */
  sendReport(nowPerf = performance.now()): void {
    this.sink.sendRtcp(compound(this.#senderReport(nowPerf), buildSdesCname(this.ssrc, this.#cname)));
  }

  /** Sends a last SR + SDES, then BYE: the viewer's stream from this output is over. */
  sendBye(reason?: string, nowPerf = performance.now()): void {
    this.sink.sendRtcp(
      compound(
        this.#senderReport(nowPerf),
        buildSdesCname(this.ssrc, this.#cname),
        buildBye(this.ssrc, reason),
      ),
    );
  }

  #senderReport(nowPerf: number): Buffer {
    return buildSenderReport({
      ssrc: this.ssrc,
      wallclockMs: this.clock.ntpMsAt(nowPerf),
      rtpTimestamp: this.clock.rtpTimeAt(nowPerf),
      packetCount: this.#packets,
      octetCount: this.#octets,
    });
  }

  /** RTCP from the viewer: its receiver reports about this SSRC go into `reception`.
   * Retransmission seam: NACKs and Skip Protection feedback would be read here. */
  onRtcp(buf: Buffer): void {
    updateReception(this.reception, buf, this.ssrc);
  }
}
