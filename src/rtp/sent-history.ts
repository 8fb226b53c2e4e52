/** The packets recently sent to one viewer's track, by sequence number and in the order sent,
 * bounded by age and bytes: what both ways of sending a packet again read from (RFC 4588 RTX on
 * a NACK, `retransmit.ts`; QuickTime's reliable UDP on a missing ack, `reliable-udp.ts`). Each
 * keeps its own entries (an entry type extending `Sent` with what it needs per packet). */

/** One packet as sent. */
export interface Sent {
  /** The whole RTP packet (shared live packets are kept by reference, not copied). */
  readonly packet: Buffer;
  /** performance.now() when it was first sent. */
  readonly at: number;
}

export interface HistoryLimits {
  /** Packets older than this (ms since first sent) are dropped. */
  historyMs: number;
  /** Bytes of packets kept at most (the oldest go first). */
  historyBytes: number;
}

export class SentHistory<E extends Sent> {
  readonly #limits: HistoryLimits;
  /** By sequence number, oldest first (a Map keeps insertion order). */
  readonly #kept = new Map<number, E>();
  #bytes = 0;

  constructor(limits: HistoryLimits) {
    this.#limits = limits;
  }

  /** Bytes of packets kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Packets kept now. */
  get size(): number {
    return this.#kept.size;
  }

  /** Keeps an entry under its packet's sequence number (the caller checked the packet is at least
   * an RTP header long). An entry kept under the same number (65536 packets ago) is replaced and
   * returned. Not trimmed here: `trim` after a batch. */
  add(e: E): E | undefined {
    const seq = e.packet.readUInt16BE(2);
    const old = this.delete(seq);
    this.#kept.set(seq, e);
    this.#bytes += e.packet.length;
    return old;
  }

  get(seq: number): E | undefined {
    return this.#kept.get(seq);
  }

  /** Removes the entry of a sequence number and returns it, if kept. */
  delete(seq: number): E | undefined {
    const e = this.#kept.get(seq);
    if (!e) return undefined;
    this.#kept.delete(seq);
    this.#bytes -= e.packet.length;
    return e;
  }

  /** Drops the packets older than the history's time, then the oldest while over its bytes;
   * `dropped` hears each. */
  trim(now: number, dropped?: (e: E) => void): void {
    const oldest = now - this.#limits.historyMs;
    for (const [seq, e] of this.#kept) {
      if (e.at >= oldest && this.#bytes <= this.#limits.historyBytes) break;
      this.#kept.delete(seq);
      this.#bytes -= e.packet.length;
      dropped?.(e);
    }
  }

  /** The entries, oldest first. */
  values(): IterableIterator<E> {
    return this.#kept.values();
  }

  /** Forgets every packet. */
  clear(): void {
    this.#kept.clear();
    this.#bytes = 0;
  }
}
