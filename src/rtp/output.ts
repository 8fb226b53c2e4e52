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
 * Retransmission on request (RFC 4585 generic NACK + RFC 4588 RTX, `retransmit.ts`) lives here
 * and nowhere else, off until `enableRetransmission` (a UDP viewer that set up with RTP/AVPF):
 * then every packet sent is kept by sequence number for a while (a file viewer's own packets are
 * built once into a Buffer that is kept; a live viewer's shared packets are kept by reference,
 * handed over with `sent`), and a NACK arriving through `onRtcp` is answered with RTX packets on
 * the same sink. Resent packets never advance `nextSeq` and are not counted in the sender
 * reports, which speak for the media SSRC only.
 *
 * QuickTime's reliable UDP (`reliable-udp.ts`, DSS's Skip Protection) is the other way, off until
 * `enableReliableUdp` (a UDP viewer whose SETUP carried `x-Retransmit`): packets are kept the same
 * way until the viewer acknowledges them in RTCP APP `qtak` packets, and those not acknowledged in
 * time are sent again as they were (same SSRC and sequence number), within a congestion window.
 * `windowFull` tells a file player to hold its new packets while the window is full; a live
 * viewer's shared packets are never held (only its resends are limited). */
import type { RtpPayload } from '../codecs/types.js';
import {
  parseQtAck,
  parseRtcpCompound,
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
import { ReliableUdpSender, type ReliableUdpOptions, type ReliableUdpStats } from './reliable-udp.js';
import { Retransmitter, type RetransmitOptions, type RetransmitStats } from './retransmit.js';
import { randomUint16, randomUint32 } from './seq.js';

export type { ReceptionStats } from '../rtcp/index.js';

/** NACKs for packets sent less than this many ms ago are not answered when the sink sends
 * through the native sender thread (see `enableRetransmission`). */
const IN_FLIGHT_MS = 50;

/** Where an output's sender reports take "now" from: the RTP time and the wall clock of a local
 * instant. A live stream track is one (`rtpTimeAt`/`ntpMsAt`); a file's is a `MediaClock`. */
export interface RtpClock {
  /** RTP timestamp, on the output's timeline, of a local instant (performance.now() ms). */
  rtpTimeAt(nowPerf: number): number;
  /** Wall clock (Unix ms, for the NTP field) of that instant. */
  ntpMsAt(nowPerf: number): number;
}

/** Where an output says, once at its end, what retransmission did (a session's logger). */
export interface RetransmitLog {
  info(obj: object, msg: string): void;
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
  #rtx: Retransmitter | undefined;
  #rtxLog: RetransmitLog | undefined;
  #rudp: ReliableUdpSender | undefined;
  #rudpLog: RetransmitLog | undefined;
  /** Hears each RTCP packet that brought a receiver report about this SSRC, after `reception`
   * took it in (a live reader's thinning under loss). */
  onReception: ((r: Readonly<ReceptionStats>) => void) | undefined;

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

  /** Keeps what is sent from now on and answers the viewer's NACKs with RTX packets (see the file
   * comment). For a UDP viewer whose SETUP asked for the AVPF profile; `log` hears the counts once,
   * at `sendBye`. */
  enableRetransmission(opts: RetransmitOptions, log?: RetransmitLog): void {
    // Through the native sender thread a packet may wait in its queue: a NACK that soon is for a
    // packet on its way, not lost (a loaded machine made GStreamer ask for dozens of those).
    this.#rtx ??= new Retransmitter((this.sink.nativeFd ?? -1) >= 0 ? { inFlightMs: IN_FLIGHT_MS, ...opts } : opts);
    this.#rtxLog = log;
  }

  /** The stream starts again elsewhere (a seek, a change of scale): packets sent before are of no
   * use to the viewer, whose jitter buffer was flushed, and are not sent again. */
  forgetSent(): void {
    this.#rtx?.clear();
    this.#rudp?.clear();
  }

  /** QuickTime's reliable UDP from now on (see the file comment): for a unicast UDP viewer whose
   * SETUP carried `x-Retransmit`; `log` hears the counts once, at `sendBye`. */
  enableReliableUdp(opts: ReliableUdpOptions, log?: RetransmitLog): void {
    this.#rudp ??= new ReliableUdpSender(opts, (p) => this.sink.sendRtp(p));
    this.#rudpLog = log;
  }

  /** What reliable UDP did for this viewer; undefined without it. */
  get reliableUdp(): Readonly<ReliableUdpStats> | undefined {
    return this.#rudp?.stats;
  }

  /** The reliable UDP congestion window is full: a file player holds its new packets until acks
   * free it (or the unacknowledged ones expire). Always false without reliable UDP. */
  get windowFull(): boolean {
    return this.#rudp?.windowFull ?? false;
  }

  /** Nothing is sent again any more (the viewer's track is gone): reliable UDP forgets its
   * packets and its timer stops. Idempotent. */
  close(): void {
    this.#rudp?.stop();
    this.#rtx?.clear();
  }

  /** What the viewer's NACKs asked for and what was sent again; undefined without retransmission. */
  get retransmit(): Readonly<RetransmitStats> | undefined {
    return this.#rtx?.stats;
  }

  /** SSRC of the RTX packets; undefined without retransmission. */
  get rtxSsrc(): number | undefined {
    return this.#rtx?.ssrc;
  }

  /** Writes one packet of this output's own stream and sends it. */
  send(payload: RtpPayload, timestamp: number): void {
    const h = this.#header;
    h.sequence = this.#seq;
    h.timestamp = timestamp;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#packets++;
    this.#octets += payload.length;
    if (this.#rtx || this.#rudp) {
      // Built once, sent and kept: the payload's parts are views of file data that may be reused.
      const packet = writeRtpPacket(payload, h);
      this.#rtx?.keep(packet);
      this.#rudp?.keep(packet);
      this.sink.sendRtp(packet);
    } else if (this.sink.writeRtp) this.sink.writeRtp(payload, h);
    else this.sink.sendRtp(writeRtpPacket(payload, h));
  }

  /** Someone sent the viewer `packets` shared packets carrying this SSRC, with `octets` of
   * payload: counted, and with retransmission on the packets themselves (`shared`) are kept by
   * reference, never changed. */
  sent(packets: number, octets: number, shared?: readonly Buffer[]): void {
    this.#packets += packets;
    this.#octets += octets;
    if (!shared) return;
    this.#rtx?.keepAll(shared);
    this.#rudp?.keepAll(shared);
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
    this.#logRetransmission();
    // The packets still unacknowledged go on being sent again until acknowledged or expired (the
    // last ones of a file deserve it as much): the timer stops by itself then, or at `close`.
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

  /** RTCP from the viewer: its receiver reports about this SSRC go into `reception`; with
   * retransmission on, its generic NACKs about this SSRC are answered; with reliable UDP, its
   * `qtak` acknowledgements of this SSRC taken. */
  onRtcp(buf: Buffer): void {
    const reports = this.reception.reports;
    updateReception(this.reception, buf, this.ssrc);
    if (this.reception.reports !== reports) this.onReception?.(this.reception);
    const rtx = this.#rtx;
    const rudp = this.#rudp;
    if (!rtx && !rudp) return;
    for (const p of parseRtcpCompound(buf)) {
      if (p.type === 'nack' && rtx && p.mediaSsrc === this.ssrc) rtx.onNack(p.lost, (pkt) => this.sink.sendRtp(pkt));
      else if (p.type === 'app' && rudp) {
        const ack = parseQtAck(p);
        if (ack?.mediaSsrc === this.ssrc) rudp.onAck(ack.seqs);
      }
    }
  }

  /** The retransmission counts, said once (the first BYE) when NACKs or acks came. */
  #logRetransmission(): void {
    const rl = this.#rudpLog;
    const r = this.#rudp?.stats;
    if (rl && r) {
      this.#rudpLog = undefined;
      if (r.acks > 0 || r.resent > 0 || r.expired > 0) rl.info({ ssrc: this.ssrc, ...r }, 'reliable udp');
    }
    const log = this.#rtxLog;
    const s = this.#rtx?.stats;
    if (!log || !s) return;
    this.#rtxLog = undefined;
    if (s.nacks > 0) log.info({ ssrc: this.ssrc, rtxSsrc: this.#rtx?.ssrc, ...s }, 'retransmission');
  }
}
