/** Retransmission on request (RFC 4585 generic NACK, RFC 4588 RTX) for one viewer's track: the
 * packets recently sent to it, kept by sequence number and bounded by age and bytes, and the RTX
 * packets that answer a NACK, capped so that a lossy (or lying) viewer cannot make the server send
 * more than a set share of the track's own rate again.
 *
 * RTX here is SSRC-multiplexed (RFC 4588 §5.2): the retransmissions go to the same port as the
 * media, under an SSRC and sequence numbers of their own and the `rtx` payload type the SDP
 * offered (`a=fmtp:<rtx> apt=<media>`), each payload the original sequence number (OSN) and then
 * the original payload. That is what GStreamer's `rtprtxreceive` takes (rtspsrc maps the payload
 * types from the SDP and pairs the RTX SSRC with the media SSRC by the OSNs it asked for). */
import { readRtpHeader, RTP_HEADER_SIZE } from './packet.js';
import { SentHistory, type HistoryLimits, type Sent } from './sent-history.js';
import { randomUint16, randomUint32 } from './seq.js';

/** How one viewer track retransmits (the `retransmit` config section, and the payload type the
 * SDP offered for this track's RTX). */
export interface RetransmitOptions extends HistoryLimits {
  /** RTX payload type (the SDP's `a=rtpmap:<pt> rtx/<rate>` for this track). */
  payloadType: number;
  /** Retransmitted bytes at most this share (percent) of the bytes the track sent. */
  maxPercent: number;
  /** A NACK for a packet sent less than this many ms ago is not answered (default 0): the packet
   * is still on its way (a sender thread's queue under load), and the viewer asks again if it
   * really was lost. */
  inFlightMs?: number;
}

/** What one viewer's NACKs asked for and what came of it. */
export interface RetransmitStats {
  /** NACK packets received about this track. */
  nacks: number;
  /** Packets sent again (as RTX). */
  resent: number;
  /** RTX bytes sent (headers included). */
  resentBytes: number;
  /** Asked for but refused: over the `maxPercent` budget. */
  refused: number;
  /** Asked for but no longer kept (older than the history, or never sent to this viewer). */
  tooOld: number;
}

export function newRetransmitStats(): RetransmitStats {
  return { nacks: 0, resent: 0, resentBytes: 0, refused: 0, tooOld: 0 };
}

interface Kept extends Sent {
  /** When it was last sent again (0: never): a packet is not sent twice within `RESEND_GAP_MS`. */
  resentAt: number;
}

/** A packet asked for again within this many ms of its last retransmission is not sent twice: the
 * first copy is still on its way (a receiver's NACKs repeat until the packet arrives). */
const RESEND_GAP_MS = 10;
/** The budget may save up at most this many bytes (or `historyBytes` times the share, if more),
 * so a burst of NACKs after a quiet spell is still bounded. */
const MIN_BURST_BYTES = 64 * 1024;
/** What the budget starts with, so that the first packets (a keyframe) can be sent again. */
const START_BUDGET_BYTES = 16 * 1024;

export class Retransmitter {
  readonly ssrc: number;
  readonly stats: RetransmitStats = newRetransmitStats();
  readonly #opts: RetransmitOptions;
  readonly #kept: SentHistory<Kept>;
  #seq: number;
  /** Bytes that may be sent again now: grows with what the track sends, spent by RTX. */
  #budget = 0;
  readonly #maxBudget: number;

  constructor(opts: RetransmitOptions, ssrc = randomUint32()) {
    this.#opts = opts;
    this.#kept = new SentHistory(opts);
    this.ssrc = ssrc;
    this.#seq = randomUint16();
    this.#maxBudget = Math.max(MIN_BURST_BYTES, (opts.historyBytes * opts.maxPercent) / 100);
    this.#budget = Math.min(START_BUDGET_BYTES, this.#maxBudget);
  }

  /** Bytes of packets kept now. */
  get keptBytes(): number {
    return this.#kept.bytes;
  }

  /** Packets kept now. */
  get keptPackets(): number {
    return this.#kept.size;
  }

  /** Remembers a packet just sent to the viewer (whole, header included), by its sequence
   * number. The caller must not change the Buffer afterwards. */
  keep(packet: Buffer, now = performance.now()): void {
    if (packet.length < RTP_HEADER_SIZE) return;
    this.#add(packet, now);
    this.#kept.trim(now);
  }

  /** `keep` for a frame's packets sent at once (a live viewer's shared packets): the history is
   * trimmed once, after all of them. */
  keepAll(packets: readonly Buffer[], now = performance.now()): void {
    for (const p of packets) if (p.length >= RTP_HEADER_SIZE) this.#add(p, now);
    this.#kept.trim(now);
  }

  #add(packet: Buffer, now: number): void {
    this.#budget = Math.min(this.#maxBudget, this.#budget + (packet.length * this.#opts.maxPercent) / 100);
    this.#kept.add({ packet, at: now, resentAt: 0 });
  }

  /** Answers a NACK: the RTX packets for the sequence numbers still kept, within the budget, in
   * the order asked; `send` is called with each. */
  onNack(lost: readonly number[], send: (rtx: Buffer) => void, now = performance.now()): void {
    this.stats.nacks++;
    this.#kept.trim(now);
    for (const seq of lost) {
      const k = this.#kept.get(seq);
      if (!k) {
        this.stats.tooOld++;
        continue;
      }
      if (k.resentAt !== 0 && now - k.resentAt < RESEND_GAP_MS) continue;
      if (now - k.at < (this.#opts.inFlightMs ?? 0)) continue;
      const size = k.packet.length + 2;
      if (size > this.#budget) {
        this.stats.refused++;
        continue;
      }
      const rtx = this.#rtxOf(k.packet);
      if (!rtx) continue;
      this.#budget -= size;
      k.resentAt = now;
      this.stats.resent++;
      this.stats.resentBytes += rtx.length;
      send(rtx);
    }
  }

  /** Forgets every packet (the viewer's stream starts again, e.g. after a seek). */
  clear(): void {
    this.#kept.clear();
  }

  /** RFC 4588 §4: the original header's marker and timestamp, our SSRC, PT and sequence number;
   * the payload is the original sequence number followed by the original payload (its CSRCs,
   * header extension and padding are not carried). */
  #rtxOf(original: Buffer): Buffer | undefined {
    const h = readRtpHeader(original);
    if (!h) return undefined;
    const out = Buffer.allocUnsafe(RTP_HEADER_SIZE + 2 + h.payloadLength);
    out[0] = 0x80;
    out[1] = (h.marker ? 0x80 : 0) | (this.#opts.payloadType & 0x7f);
    out.writeUInt16BE(this.#seq, 2);
    this.#seq = (this.#seq + 1) & 0xffff;
    out.writeUInt32BE(h.timestamp >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    out.writeUInt16BE(h.sequence, 12);
    original.copy(out, 14, h.payloadOffset, h.payloadOffset + h.payloadLength);
    return out;
  }
}
