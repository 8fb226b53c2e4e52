/** Batched UDP sending for file viewers. Each viewer's sink appends (fd, packet) here instead of
 * one dgram send per packet; the first append in an event-loop turn schedules one flush at the
 * end of the turn (the pacer pumps every player in one timer callback: one flush per tick), which
 * groups the packets per fd and makes one native call: `submitBatch` to the addon's sender thread
 * (the kernel's send work runs on another core) or `sendBatch` on the event loop. Without the
 * addon, sinks keep sending with dgram. */
import { availableParallelism } from 'node:os';
import type { Logger } from '../logging/index.js';
import { nativeFanout, orderFdBatchesWith, type BatchAddon, type FdSendOrder } from './native-fanout.js';

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
  /** Packets (default 65536) or bytes (default 16 MiB) held before a flush happens at once: a
   * caller that appends without yielding to the event loop cannot make the queue grow unbounded. */
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
  /** Per fd, its packets in order (Map keeps the fds in first-append order). */
  #pending = new Map<number, Buffer[]>();
  #packets = 0;
  #bytes = 0;
  #scheduled = false;
  /** Thread mode: per fd, the last batch holding it, until that batch is sent (one entry per
   * open fd at most). */
  readonly #inThread = new Map<number, number>();
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
    this.#maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
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

  append(fd: number, packet: Buffer): void {
    let list = this.#pending.get(fd);
    if (!list) this.#pending.set(fd, (list = []));
    list.push(packet);
    this.#packets++;
    this.#bytes += packet.length;
    if (this.#packets >= this.#maxPackets || this.#bytes >= this.#maxBytes) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** Whether `fd` has packets not yet handed to the kernel (queued here or in the thread). */
  busy(fd: number): boolean {
    if (this.#pending.has(fd)) return true;
    const seq = this.#inThread.get(fd);
    if (seq === undefined) return false;
    if (seq > this.#completed) this.#refreshCompleted();
    if (seq > this.#completed) return true;
    this.#inThread.delete(fd);
    return false;
  }

  /** Runs `close` (closing the sockets of `fds`) once nothing queued for them can still be
   * sent: a closed fd's number may be reused by a new socket at once, which must not receive
   * another viewer's packets. */
  closeWhenSent(fds: readonly number[], close: () => void): void {
    if (fds.some((fd) => this.#pending.has(fd))) {
      this.#closes.push({ seq: -1, close, since: performance.now() });
      return;
    }
    let seq = 0;
    for (const fd of fds) if (this.busy(fd)) seq = Math.max(seq, this.#inThread.get(fd) ?? 0);
    if (seq === 0) return close();
    this.#closes.push({ seq, close, since: performance.now() });
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
    const n = this.#pending.size;
    const fds = new Int32Array(n);
    const counts = new Int32Array(n);
    const packets: Buffer[] = [];
    let i = 0;
    for (const [fd, list] of this.#pending) {
      fds[i] = fd;
      counts[i++] = list.length;
      for (const p of list) packets.push(p);
    }
    this.#pending = new Map();
    this.#packets = 0;
    this.#bytes = 0;
    const addon = this.#addon as BatchAddon;
    try {
      if (this.#mode === 'thread') {
        const seq = (addon.submitBatch as NonNullable<BatchAddon['submitBatch']>)(fds, counts, packets);
        this.#submitted = seq;
        for (const fd of fds) this.#inThread.set(fd, seq);
      } else {
        addon.sendBatch(fds, counts, packets);
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
    if (this.#inThread.size > 0 && this.#completed >= this.#submitted) this.#inThread.clear();
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
  switch (mode) {
    case 'thread':
      return 'native sender thread (sendmmsg batches, off the event loop)';
    case 'sync':
      return 'native sendmmsg batches on the event loop';
    default:
      return 'one dgram send per packet (native addon not built)';
  }
}
