/** Batched UDP sending for file viewers. Each viewer's sink writes its packets here instead of
 * one dgram send per packet: into one shared buffer (an RTP packet straight from its header
 * fields and payload parts, so no Buffer per packet), with the fd each goes to. The first packet
 * in an event-loop turn schedules one flush at the end of the turn (the pacer pumps every player
 * in one timer callback: one flush per tick), which groups the packets per fd and makes one
 * native call: `submitArena` to the addon's sender thread (the kernel's send work runs on
 * another core) or `sendArena` on the event loop; the addon copies what it keeps, so the buffer
 * is reused at once. Without the addon, sinks keep sending with dgram. */
import { availableParallelism } from 'node:os';
import type { RtpPayload } from '../codecs/types.js';
import type { Logger } from '../logging/index.js';
import { RTP_HEADER_SIZE, writeRtpInto, type RtpHeaderFields } from '../rtp/packet.js';
import { nativeFanout, orderFdBatchesWith, udpGso, type BatchAddon, type FdSendOrder } from './native-fanout.js';

/** `rtp.sendThread`: 'auto' = the thread when the machine has more than one core, 'on' = the
 * thread whenever the addon is built, 'off' = batches sent on the event loop. */
export type SendThreadSetting = 'auto' | 'on' | 'off';

/** How UDP packets leave: the native sender thread, native batches on the event loop, or one
 * dgram send per packet (no addon). */
export type UdpSendMode = 'thread' | 'sync' | 'dgram';

export interface UdpSendQueueOptions {
  /** The native sender; default the built addon (none: 'dgram'). */
  addon?: BatchAddon;
  /** Default 'auto'. */
  sendThread?: SendThreadSetting;
  /** Packets (default 65536) or bytes (default 1 MiB) held before a flush happens at once: a
   * caller that appends without yielding to the event loop cannot make the queue grow unbounded,
   * and a tick that sends to thousands of viewers hands the sender thread its packets in 1 MiB
   * parts as they are made (the thread sends while the rest is written; the buffer stays small)
   * instead of one batch of tens of MB at the end. */
  maxPackets?: number;
  maxBytes?: number;
  /** How often closes waiting for the thread check its progress, ms (default 2). */
  pollMs?: number;
  log?: Logger;
}

function resolveMode(addon: BatchAddon | undefined, setting: SendThreadSetting): UdpSendMode {
  if (!addon?.sendBatch) return 'dgram';
  const thread = !!addon.submitBatch && !!addon.completedSeq;
  if (setting === 'on') return thread ? 'thread' : 'sync';
  if (setting === 'auto') return thread && availableParallelism() > 1 ? 'thread' : 'sync';
  return 'sync';
}

/** Sockets to close once the batch `seq` is sent (-1: the next flush, not made yet). */
interface PendingClose {
  seq: number;
  close: () => void;
  /** performance.now() when asked. */
  since: number;
}

/** A close waits at most this long (ms): the thread sends without blocking, so only a bug would
 * hold sockets longer, and holding them forever would be worse. */
const CLOSE_WAIT_LIMIT = 10_000;

export class UdpSendQueue implements FdSendOrder {
  readonly #addon: BatchAddon | undefined;
  #mode: UdpSendMode;
  readonly #maxPackets: number;
  readonly #maxBytes: number;
  readonly #pollMs: number;
  #log: Logger | undefined;
  /** The packets' bytes, back to back; reused after each flush. */
  #arena: Buffer = Buffer.allocUnsafe(256 * 1024);
  #bytes = 0;
  /** Per packet: its slot (the fd's place in this flush), offset and length in the arena. */
  #slot: Int32Array = new Int32Array(4096);
  #offset: Int32Array = new Int32Array(4096);
  #length: Int32Array = new Int32Array(4096);
  #packets = 0;
  /** The fds with packets here, by slot, and each fd's slot. */
  #slotFds: Int32Array = new Int32Array(1024);
  #nfds = 0;
  /** Each fd's slot in this flush, valid where `#slotFlush[fd]` is the flush being filled (fds are
   * small integers: arrays indexed by them, which a flush never has to clear or reallocate; a
   * Map cleared per flush made garbage that lived long enough to reach the old generation). */
  #slotOf: Int32Array = new Int32Array(1024);
  #slotFlush: Int32Array = new Int32Array(1024);
  #flushNo = 1;
  /** Per-flush scratch, reused. */
  #scratch = { counts: new Int32Array(1024), start: new Int32Array(1024), offsets: new Int32Array(4096), lengths: new Int32Array(4096) };
  #scheduled = false;
  #submitted = 0;
  #completed = 0;
  readonly #closes: PendingClose[] = [];
  #poll: NodeJS.Timeout | undefined;
  #failedBatches = 0;
  #lateCloses = 0;

  constructor(opts: UdpSendQueueOptions = {}) {
    this.#addon = 'addon' in opts ? opts.addon : nativeFanout?.sendBatch ? (nativeFanout as BatchAddon) : undefined;
    this.#mode = resolveMode(this.#addon, opts.sendThread ?? 'auto');
    this.#maxPackets = opts.maxPackets ?? 65536;
    this.#maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.#pollMs = opts.pollMs ?? 2;
    this.#log = opts.log;
  }

  get mode(): UdpSendMode {
    return this.#mode;
  }

  /** Whether sinks should append here (false: send with dgram). */
  get batching(): boolean {
    return this.#mode !== 'dgram';
  }

  /** Changes the setting; what is queued goes out first. */
  configure(setting: SendThreadSetting, log?: Logger): UdpSendMode {
    this.flush();
    this.#mode = resolveMode(this.#addon, setting);
    if (log) this.#log = log;
    return this.#mode;
  }

  /** Queues a built packet (RTCP, a live frame's packet) for `fd`. */
  append(fd: number, packet: Buffer): void {
    const at = this.#reserve(fd, packet.length);
    packet.copy(this.#arena, at);
    this.#added();
  }

  /** Queues an RTP packet for `fd`, written from its header fields and payload parts. */
  appendRtp(fd: number, payload: RtpPayload, header: RtpHeaderFields): void {
    const at = this.#reserve(fd, RTP_HEADER_SIZE + payload.length);
    writeRtpInto(this.#arena, at, payload, header);
    this.#added();
  }

  /** Room for one packet of `len` bytes for `fd`; returns where its bytes go. */
  #reserve(fd: number, len: number): number {
    if (this.#bytes + len > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.#arena.length, this.#bytes + len));
      this.#arena.copy(bigger, 0, 0, this.#bytes);
      this.#arena = bigger;
    }
    const n = this.#packets;
    if (n === this.#slot.length) {
      this.#slot = grow(this.#slot);
      this.#offset = grow(this.#offset);
      this.#length = grow(this.#length);
    }
    if (fd >= this.#slotOf.length) {
      const size = Math.max(2 * this.#slotOf.length, fd + 1);
      this.#slotOf = grow(this.#slotOf, size);
      this.#slotFlush = grow(this.#slotFlush, size);
    }
    let slot: number;
    if (this.#slotFlush[fd] === this.#flushNo) slot = this.#slotOf[fd];
    else {
      slot = this.#nfds++;
      if (slot === this.#slotFds.length) this.#slotFds = grow(this.#slotFds);
      this.#slotFds[slot] = fd;
      this.#slotOf[fd] = slot;
      this.#slotFlush[fd] = this.#flushNo;
    }
    const at = this.#bytes;
    this.#slot[n] = slot;
    this.#offset[n] = at;
    this.#length[n] = len;
    this.#bytes += len;
    return at;
  }

  #added(): void {
    this.#packets++;
    if (this.#packets >= this.#maxPackets || this.#bytes >= this.#maxBytes) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  get threaded(): boolean {
    return this.#mode === 'thread' && !!this.#addon?.submitFrame;
  }

  pending(fd: number): boolean {
    return fd >= 0 && fd < this.#slotFlush.length && this.#slotFlush[fd] === this.#flushNo;
  }

  submitFrame(fds: Int32Array, packets: Buffer[]): void {
    try {
      const seq = this.#addon!.submitFrame!(fds, packets);
      this.#submitted = seq;
    } catch (e) {
      if (this.#failedBatches++ === 0) this.#log?.warn({ err: (e as Error).message, mode: this.#mode }, 'native UDP frame send failed');
    }
  }

  /** Whether `fd` may have packets not yet handed to the kernel: queued here, or in a batch the
   * thread has not sent yet (any batch may hold any fd: the thread's progress is all that is
   * tracked, so nothing is kept per fd per batch). */
  busy(fd: number): boolean {
    return this.pending(fd) || this.#threadBehind();
  }

  #threadBehind(): boolean {
    if (this.#submitted > this.#completed) this.#refreshCompleted();
    return this.#submitted > this.#completed;
  }

  /** Runs `close` (closing the sockets of `fds`) once nothing queued for them can still be
   * sent: a closed fd's number may be reused by a new socket at once, which must not receive
   * another viewer's packets. */
  closeWhenSent(fds: readonly number[], close: () => void): void {
    if (fds.some((fd) => this.pending(fd))) {
      this.#closes.push({ seq: -1, close, since: performance.now() });
      return;
    }
    if (!this.#threadBehind()) return close();
    this.#closes.push({ seq: this.#submitted, close, since: performance.now() });
    this.#startPoll();
  }

  /** Sends everything queued: one native call. */
  flush(): void {
    this.#scheduled = false;
    if (this.#packets > 0) this.#send();
    if (this.#closes.length > 0) this.#settleCloses();
  }

  stats(): { mode: UdpSendMode; queuedPackets: number; threadQueuedBytes: number; threadFailed: number; waitingCloses: number } {
    const s = this.#mode === 'thread' ? this.#addon?.senderStats?.() : undefined;
    return {
      mode: this.#mode,
      queuedPackets: this.#packets,
      threadQueuedBytes: s?.queuedBytes ?? 0,
      threadFailed: s?.failed ?? 0,
      waitingCloses: this.#closes.length,
    };
  }

  #send(): void {
    // Grouped per fd, each fd's packets in the order they came (a counting sort by slot). The
    // arrays are views of reused scratch: the addon copies what it keeps.
    const nfds = this.#nfds;
    const n = this.#packets;
    const sc = this.#scratch;
    if (sc.counts.length < nfds) {
      sc.counts = new Int32Array(2 * nfds);
      sc.start = new Int32Array(2 * nfds);
    }
    if (sc.offsets.length < n) {
      sc.offsets = new Int32Array(2 * n);
      sc.lengths = new Int32Array(2 * n);
    }
    const fds = this.#slotFds.subarray(0, nfds);
    const counts = sc.counts.subarray(0, nfds);
    const start = sc.start;
    const offsets = sc.offsets.subarray(0, n);
    const lengths = sc.lengths.subarray(0, n);
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[this.#slot[i]]++;
    start[0] = 0;
    for (let f = 1; f < nfds; f++) start[f] = start[f - 1] + counts[f - 1];
    for (let i = 0; i < n; i++) {
      const at = start[this.#slot[i]]++;
      offsets[at] = this.#offset[i];
      lengths[at] = this.#length[i];
    }
    const arena = this.#arena;
    // A new flush number empties every fd's slot at once (wrapping, the stamps are cleared).
    if (++this.#flushNo > 0x3fffffff) {
      this.#flushNo = 1;
      this.#slotFlush.fill(0);
    }
    this.#nfds = 0;
    this.#packets = 0;
    this.#bytes = 0;
    const addon = this.#addon as BatchAddon;
    try {
      if (this.#mode === 'thread') {
        const seq = addon.submitArena
          ? addon.submitArena(arena, fds, counts, offsets, lengths)
          : (addon.submitBatch as NonNullable<BatchAddon['submitBatch']>)(fds, counts, views(arena, offsets, lengths));
        this.#submitted = seq;
      } else if (addon.sendArena) {
        addon.sendArena(arena, fds, counts, offsets, lengths);
      } else {
        addon.sendBatch(fds, counts, views(arena, offsets, lengths));
      }
    } catch (e) {
      // Never thrown for well-formed input; a batch lost this way is like lost UDP packets. The
      // thread refusing to start: batches go out on the event loop from now on.
      if (this.#failedBatches++ === 0) this.#log?.warn({ err: (e as Error).message, mode: this.#mode }, 'native UDP batch send failed');
      if (this.#mode === 'thread' && this.#submitted === 0) this.#mode = 'sync';
    }
  }

  #refreshCompleted(): void {
    this.#completed = this.#addon?.completedSeq?.() ?? this.#submitted;
  }

  /** Runs the closes whose batch has been sent; closes waiting for "the next flush" now wait for
   * the batch just made. */
  #settleCloses(): void {
    const sync = this.#mode !== 'thread';
    if (!sync) this.#refreshCompleted();
    const now = performance.now();
    let kept = 0;
    for (const c of this.#closes) {
      if (c.seq === -1 && !this.#scheduled) c.seq = this.#submitted;
      if (sync || (c.seq !== -1 && c.seq <= this.#completed)) {
        c.close();
      } else if (now - c.since > CLOSE_WAIT_LIMIT) {
        if (this.#lateCloses++ === 0) this.#log?.warn({ seq: c.seq, completed: this.#completed }, 'UDP sender thread behind: closing sockets without waiting');
        c.close();
      } else {
        this.#closes[kept++] = c;
      }
    }
    this.#closes.length = kept;
    if (kept > 0) this.#startPoll();
    else this.#stopPoll();
  }

  /** Only while closes wait; unref'd, the sockets themselves keep the process alive. */
  #startPoll(): void {
    if (this.#poll) return;
    this.#poll = setInterval(() => this.#settleCloses(), this.#pollMs);
    this.#poll.unref();
  }

  #stopPoll(): void {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = undefined;
  }
}

function grow(a: Int32Array, size = a.length * 2): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** The packets as Buffers of their own (copies: the arena is reused), for an addon that takes
 * Buffer lists only. */
function views(arena: Buffer, offsets: Int32Array, lengths: Int32Array): Buffer[] {
  return Array.from(offsets, (o, i) => Buffer.from(arena.subarray(o, o + lengths[i])));
}

/** The process-wide queue every UdpSink uses by default. */
export const udpSendQueue = new UdpSendQueue();
// Live fan-out frames for an fd with packets still queued here go through here too (order).
orderFdBatchesWith(udpSendQueue);

/** Applies `rtp.sendThread` (the server calls it at start); returns the mode now in use. */
export function configureUdpSending(setting: SendThreadSetting, log?: Logger): UdpSendMode {
  return udpSendQueue.configure(setting, log);
}

/** For a log line: how UDP RTP leaves this process. */
export function describeUdpSending(mode: UdpSendMode = udpSendQueue.mode): string {
  // A frame's equal-size fragments to one viewer go as one UDP GSO message where the kernel can.
  const gso = udpGso() ? ', a frame\'s fragments as one UDP GSO send' : '';
  switch (mode) {
    case 'thread':
      return `native sender thread (sendmmsg batches, off the event loop${gso})`;
    case 'sync':
      return `native sendmmsg batches on the event loop${gso}`;
    default:
      return 'one dgram send per packet (native addon not built)';
  }
}
