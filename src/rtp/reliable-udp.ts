/** QuickTime's reliable UDP (DSS "Skip Protection") for one viewer's track: every packet sent is
 * kept (the shared `SentHistory`) with the time it was sent until the viewer acknowledges it in
 * an RTCP APP `qtak` packet; a packet not acknowledged within the retransmit timeout is sent
 * again, as the same packet (same SSRC and sequence number, as DSS did: the client's own
 * reordering puts it in place), until it is older than the history and of no use any more.
 *
 * As in DSS's RTPBandwidthTracker:
 * - Round-trip time by Karn's rule (samples only from packets sent once, whose ack cannot be for a
 *   copy), smoothed with gain 1/8, the mean deviation with gain 1/4; timeout = smoothed + 4 ×
 *   deviation, clamped to 600 ms – 24 s (600 ms before the first sample).
 * - A congestion window in bytes: the window the server picks from the stream's bit rate (24 KB
 *   below 200 kbit/s, 48 KB up to 1000 kbit/s, else or unknown 64 KB; the client's `window=` is
 *   echoed but not used, as in DSS 6.0.3); with slow start it starts at half the window with the
 *   threshold at three quarters, else full. Acked bytes grow it (by the bytes below the threshold,
 *   by bytes²/window above), never past the window; a retransmission halves it (threshold ¾ of
 *   it), at most every 250 ms, never below one 1466-byte segment.
 *
 * Bytes in flight are the unacknowledged packets still inside their timeout (a timed-out one is
 * presumed lost until sent again). Resends go only while they fit in the window; `windowFull`
 * tells a file player to hold its new packets too. Live viewers are not held (their packets are
 * the stream's, shared, sent as they come): for them only the resends are limited.
 *
 * A timer checks for due packets every `TICK_MS` while any are outstanding, and stops when none
 * are (and at `stop`): an idle or finished viewer holds no timer. */
import { RTP_HEADER_SIZE } from './packet.js';
import { SentHistory, type HistoryLimits, type Sent } from './sent-history.js';

/** Retransmit timeout bounds (DSS's kMinRetransmitIntervalMSecs, kMaxRetransmitIntervalMSecs). */
export const MIN_RTO_MS = 600;
export const MAX_RTO_MS = 24_000;
/** DSS's kMaximumSegmentSize: the smallest congestion window. */
export const MIN_WINDOW_BYTES = 1466;
/** A retransmission shrinks the window at most this often. */
const ADJUST_GAP_MS = 250;
/** How often due packets are looked for while any are outstanding. */
export const TICK_MS = 50;

/** DSS's window for a stream of this bit rate (small/medium/large_window_size around
 * window_size_threshold 200 and window_size_max_threshold 1000 kbit/s). */
export function reliableWindowBytes(bitrateKbps: number | undefined): number {
  if (bitrateKbps === undefined || !Number.isFinite(bitrateKbps) || bitrateKbps <= 0 || bitrateKbps > 1000) return 64 * 1024;
  return bitrateKbps < 200 ? 24 * 1024 : 48 * 1024;
}

/** Karn/Jacobson round-trip estimate and the retransmit timeout it gives. */
export class RttEstimator {
  #srtt = 0;
  #dev = 0;
  #samples = 0;
  #rto = MIN_RTO_MS;

  /** Smoothed round-trip time in ms (0 before the first sample). */
  get srtt(): number {
    return this.#srtt;
  }

  /** Retransmit timeout in ms. */
  get rto(): number {
    return this.#rto;
  }

  get samples(): number {
    return this.#samples;
  }

  sample(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.#samples++ === 0) this.#srtt = ms;
    const delta = ms - this.#srtt;
    this.#srtt += delta / 8;
    this.#dev += (Math.abs(delta) - this.#dev) / 4;
    this.#rto = Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.#srtt + 4 * this.#dev));
  }
}

/** The congestion window in bytes. */
export class CongestionWindow {
  readonly max: number;
  #cwnd: number;
  #ssthresh: number;
  #lastAdjust = -Infinity;

  constructor(windowBytes: number, slowStart: boolean) {
    this.max = Math.max(MIN_WINDOW_BYTES, windowBytes);
    this.#cwnd = slowStart ? Math.floor(this.max / 2) : this.max;
    this.#ssthresh = Math.max(MIN_WINDOW_BYTES, slowStart ? Math.floor((this.max * 3) / 4) : this.max);
  }

  get bytes(): number {
    return this.#cwnd;
  }

  get threshold(): number {
    return this.#ssthresh;
  }

  /** Bytes acknowledged: the window grows. */
  acked(bytes: number): void {
    if (bytes <= 0) return;
    this.#cwnd += this.#cwnd >= this.#ssthresh ? Math.floor((bytes * bytes) / this.#cwnd) : bytes;
    if (this.#cwnd > this.max) this.#cwnd = this.max;
  }

  /** Packets had to be sent again: the window halves (at most every 250 ms). */
  retransmitted(now: number): void {
    if (now - this.#lastAdjust > ADJUST_GAP_MS) {
      this.#ssthresh = Math.max(MIN_WINDOW_BYTES, Math.floor((this.#cwnd * 3) / 4));
      this.#cwnd = Math.floor(this.#cwnd / 2);
      this.#lastAdjust = now;
    }
    if (this.#cwnd < MIN_WINDOW_BYTES) this.#cwnd = MIN_WINDOW_BYTES;
  }
}

export interface ReliableUdpOptions extends HistoryLimits {
  /** The window for the stream's bit rate (`reliableWindowBytes`). */
  windowBytes: number;
  /** DSS's reliable_udp_slow_start. */
  slowStart: boolean;
  /** Run the resend timer (default true); tests call `tick` themselves. */
  timer?: boolean;
}

/** What one viewer's reliable UDP did. */
export interface ReliableUdpStats {
  /** `qtak`/`ack ` packets received about this track. */
  acks: number;
  /** Packets they acknowledged that were still outstanding. */
  acked: number;
  /** Packets sent again. */
  resent: number;
  resentBytes: number;
  /** Packets dropped unacknowledged: older than the history. */
  expired: number;
  /** Smoothed round-trip time (ms, rounded; 0 without a sample). */
  rttMs: number;
  /** Retransmit timeout (ms). */
  rtoMs: number;
  /** Congestion window (bytes). */
  windowBytes: number;
}

interface Outstanding extends Sent {
  /** performance.now() when last sent. */
  sentAt: number;
  /** Times sent again. */
  resends: number;
  /** Counted in the bytes in flight (sent and not yet timed out). */
  inFlight: boolean;
}

export class ReliableUdpSender {
  readonly rtt = new RttEstimator();
  readonly window: CongestionWindow;
  readonly #stats = { acks: 0, acked: 0, resent: 0, resentBytes: 0, expired: 0 };
  readonly #history: SentHistory<Outstanding>;
  readonly #send: (packet: Buffer) => void;
  readonly #useTimer: boolean;
  #flight = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `send` sends a packet again (the viewer's sink). */
  constructor(opts: ReliableUdpOptions, send: (packet: Buffer) => void) {
    this.#history = new SentHistory(opts);
    this.window = new CongestionWindow(opts.windowBytes, opts.slowStart);
    this.#send = send;
    this.#useTimer = opts.timer ?? true;
  }

  get stats(): Readonly<ReliableUdpStats> {
    return { ...this.#stats, rttMs: Math.round(this.rtt.srtt), rtoMs: Math.round(this.rtt.rto), windowBytes: this.window.bytes };
  }

  /** Bytes sent and neither acknowledged nor timed out. */
  get bytesInFlight(): number {
    return this.#flight;
  }

  /** Packets not acknowledged yet (and not expired). */
  get outstanding(): number {
    return this.#history.size;
  }

  /** The congestion window is full: a file player holds its new packets. */
  get windowFull(): boolean {
    return this.#flight >= this.window.bytes;
  }

  /** Is the resend timer running (tests: no timer when idle)? */
  get timerRunning(): boolean {
    return this.#timer !== undefined;
  }

  /** Remembers a packet just sent (whole, header included); the caller must not change it. */
  keep(packet: Buffer, now = performance.now()): void {
    if (packet.length >= RTP_HEADER_SIZE) this.#add(packet, now);
    this.#after(now);
  }

  /** `keep` for packets sent at once (a live viewer's shared packets). */
  keepAll(packets: readonly Buffer[], now = performance.now()): void {
    for (const p of packets) if (p.length >= RTP_HEADER_SIZE) this.#add(p, now);
    this.#after(now);
  }

  #add(packet: Buffer, now: number): void {
    if (this.#stopped) return;
    const old = this.#history.add({ packet, at: now, sentAt: now, resends: 0, inFlight: true });
    if (old?.inFlight) this.#flight -= old.packet.length;
    this.#flight += packet.length;
  }

  #after(now: number): void {
    this.#history.trim(now, (e) => this.#expire(e));
    this.#arm();
  }

  /** An acknowledgement: these packets arrived. Unknown numbers (never sent, already acked,
   * expired) are ignored. */
  onAck(seqs: readonly number[], now = performance.now()): void {
    this.#stats.acks++;
    let bytes = 0;
    for (const seq of seqs) {
      const e = this.#history.delete(seq);
      if (!e) continue;
      this.#stats.acked++;
      if (e.inFlight) this.#flight -= e.packet.length;
      // Karn: an ack of a packet sent more than once does not say which copy arrived.
      if (e.resends === 0) this.rtt.sample(now - e.sentAt);
      bytes += e.packet.length;
    }
    this.window.acked(bytes);
    if (this.#history.size === 0) this.#disarm();
  }

  /** Drops what is too old, then sends again every packet past its timeout that fits in the
   * window (oldest first). The timer calls it; tests call it with their own clock. */
  tick(now = performance.now()): void {
    this.#history.trim(now, (e) => this.#expire(e));
    const rto = this.rtt.rto;
    const due: Outstanding[] = [];
    for (const e of this.#history.values()) {
      if (now - e.sentAt < rto) continue;
      if (e.inFlight) {
        // Presumed lost: out of flight until it is sent again.
        e.inFlight = false;
        this.#flight -= e.packet.length;
      }
      due.push(e);
    }
    if (due.length > 0) this.window.retransmitted(now);
    for (const e of due) {
      const size = e.packet.length;
      if (this.#flight > 0 && this.#flight + size > this.window.bytes) break;
      e.sentAt = now;
      e.resends++;
      e.inFlight = true;
      this.#flight += size;
      this.#stats.resent++;
      this.#stats.resentBytes += size;
      this.#send(e.packet);
    }
    if (this.#history.size === 0) this.#disarm();
  }

  /** Forgets every packet (the viewer's stream starts again elsewhere). */
  clear(): void {
    this.#history.clear();
    this.#flight = 0;
    this.#disarm();
  }

  /** The viewer's stream is over: nothing is kept or sent again, and no timer is left. */
  stop(): void {
    this.#stopped = true;
    this.clear();
  }

  #expire(e: Outstanding): void {
    this.#stats.expired++;
    if (e.inFlight) this.#flight -= e.packet.length;
  }

  #arm(): void {
    if (!this.#useTimer || this.#timer || this.#history.size === 0) return;
    this.#timer = setInterval(() => this.tick(), TICK_MS);
    // A viewer's resends never keep the process alive on their own.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
