/** The optional native fan-out (src/native/fanout.c, built by `npm install` with node-gyp):
 * sends a frame's packets to every UDP viewer with one sendmmsg per viewer. When it is not
 * built (another OS, no compiler), live UDP viewers fall back to plain dgram sends. */
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';

/** What the sender thread reports (senderStats). */
export interface SenderStats {
  running: boolean;
  /** Bytes copied and waiting for the thread (bounded: submitBatch waits beyond 8 MiB). */
  queuedBytes: number;
  submittedSeq: number;
  completedSeq: number;
  batches: number;
  /** Datagrams the thread could not send (refused port, full buffer). */
  failed: number;
}

/** Batched sends of per-fd packet runs: fd i gets counts[i] consecutive packets of `packets`. */
export interface BatchAddon {
  /** Sends now, on the calling thread (sendmmsg per fd); returns datagrams not sent. */
  sendBatch(fds: Int32Array, counts: Int32Array, packets: Buffer[]): number;
  /** Copies the batch and queues it for the sender thread (FIFO); waits while 8 MiB are queued.
   * Returns the batch's number: it has been sent once completedSeq() reaches it. */
  submitBatch?(fds: Int32Array, counts: Int32Array, packets: Buffer[]): number;
  /** As sendBatch and submitBatch, the packets' bytes in one Buffer: packet i is
   * data[offsets[i], offsets[i] + lengths[i]), fd f gets counts[f] consecutive packets. `data`
   * may be reused as soon as the call returns. */
  sendArena?(data: Buffer, fds: Int32Array, counts: Int32Array, offsets: Int32Array, lengths: Int32Array): number;
  submitArena?(data: Buffer, fds: Int32Array, counts: Int32Array, offsets: Int32Array, lengths: Int32Array): number;
  /** A live frame for the sender thread: every fd gets all the packets (copied once). */
  submitFrame?(fds: Int32Array, packets: Buffer[]): number;
  completedSeq?(): number;
  senderStats?(): SenderStats;
}

interface FanoutAddon extends Partial<BatchAddon> {
  /** Sends `packets` on every fd; returns how many datagrams could not be sent. `failed`, when
   * given (2 entries per fd), receives per fd the datagrams not sent and their payload octets. */
  sendFrame(fds: Int32Array, packets: Buffer[], failed?: Int32Array): number;
  /** malloc_trim: hands memory free inside the C heap back to the system; true if any was. */
  releaseFreeMemory?(): boolean;
  /** Bytes a TCP socket's kernel send queue holds (TIOCOUTQ); -1 when the fd cannot say. */
  unsentBytes?(fd: number): number;
  /** Whether runs of equal-length packets to one fd (a video frame's fragments, the last one
   * shorter) go as one UDP GSO message (UDP_SEGMENT) the kernel cuts into the same datagrams.
   * Off with RIVULET_NO_GSO=1, on kernels without it, and for good once the kernel refuses a GSO
   * message (its packets then go again one by one). */
  gso?(): boolean;
  /** For tests and before/after measurements: GSO on (where the kernel has it) or off for the
   * process; 'refused': on, but the kernel refuses every GSO message (tests the fallback).
   * Returns whether it is on. */
  setGso?(on: boolean | 'refused'): boolean;
}

function load(): FanoutAddon | undefined {
  if (process.env.RIVULET_NO_NATIVE) return undefined;
  try {
    // Same relative path from src/transport (tsx) and dist/transport (built).
    return createRequire(import.meta.url)('../../build/Release/rivulet_fanout.node') as FanoutAddon;
  } catch {
    return undefined;
  }
}

export const nativeFanout: FanoutAddon | undefined = load();

/** Gives the system back what the C heap (where Buffers live) holds free; undefined when the
 * native helper is not built. */
export function releaseFreeMemory(): boolean | undefined {
  return nativeFanout?.releaseFreeMemory?.();
}

/** Whether the native sender uses UDP GSO (for the startup log); undefined without the addon. */
export function udpGso(): boolean | undefined {
  return nativeFanout?.gso?.();
}

/** The OS file descriptor behind a dgram socket, or -1 (closed, or not exposed). */
export function socketFd(sock: Socket): number {
  // Node keeps the fd on the socket's internal handle; it is not public API, so every step is
  // checked and anything unexpected means "use dgram". The state symbol first: `_handle` prints
  // a deprecation warning.
  const state = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const holder = sock as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined> & { _handle?: { fd?: unknown } };
  const handle = state ? holder[state]?.handle : holder._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** Bytes a TCP connection's kernel send queue still holds for its peer, or undefined where that
 * cannot be known (addon not built, socket closed): with what Node buffers (`writableLength`),
 * how far behind a slow reader is. A peer that stopped reading fills megabytes of kernel buffer
 * on loopback before Node buffers anything. */
export function tcpUnsentBytes(sock: import('node:net').Socket): number | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0 || !nativeFanout?.unsentBytes) return undefined;
  const n = nativeFanout.unsentBytes(fd);
  return n >= 0 ? n : undefined;
}

/** Told, after a batch went out, what part of the frame never left for it. */
export interface FdOwner {
  unsent(packets: number, octets: number): void;
}

/** Packets for an fd may wait in another queue (the UDP send queue, which imports this file and
 * registers itself): a frame for such an fd goes through that queue too, so the fd's packets
 * keep their order (a live newcomer's first frames are sent with sendRtp). */
export interface FdSendOrder {
  busy(fd: number): boolean;
  append(fd: number, packet: Buffer): void;
  /** Whether frames go to the sender thread (`submitFrame`) rather than out on this thread. */
  readonly threaded: boolean;
  /** Whether `fd` has packets waiting here, not yet handed to the thread. */
  pending(fd: number): boolean;
  /** Hands a frame for `fds` to the sender thread, after everything handed to it before. */
  submitFrame(fds: Int32Array, packets: Buffer[]): void;
}
let sendOrder: FdSendOrder | undefined;
export function orderFdBatchesWith(order: FdSendOrder | undefined): void {
  sendOrder = order;
}

/** Viewer fds collected while a frame is handed out, then sent in one native call. Arrays are
 * reused from frame to frame: nothing is allocated per packet or per viewer. */
export class FdBatch {
  #fds = new Int32Array(256);
  #failed = new Int32Array(512);
  #owners: (FdOwner | undefined)[] = [];
  #n = 0;

  add(fd: number, owner?: FdOwner): void {
    if (this.#n === this.#fds.length) {
      const bigger = new Int32Array(this.#fds.length * 2);
      bigger.set(this.#fds);
      this.#fds = bigger;
      this.#failed = new Int32Array(bigger.length * 2);
    }
    this.#owners[this.#n] = owner;
    this.#fds[this.#n++] = fd;
  }

  /** Sends and resets; tells each owner what did not go out to it; returns datagrams not sent. */
  flush(packets: Buffer[]): number {
    const n = this.#n;
    this.#n = 0;
    if (n === 0 || !nativeFanout) return 0;
    if (sendOrder?.threaded) {
      // The sender thread sends batches in order: only packets still waiting here must go first.
      const order = sendOrder;
      const m = this.#divert(n, packets, order, (fd) => order.pending(fd));
      if (m > 0) order.submitFrame(this.#fds.subarray(0, m), packets);
      // What the thread cannot send is not known here: sender reports count it as sent.
      this.#owners.fill(undefined, 0, n);
      return 0;
    }
    const m = sendOrder ? this.#divert(n, packets, sendOrder, (fd) => sendOrder!.busy(fd)) : n;
    const failed = this.#failed;
    const total = m === 0 ? 0 : nativeFanout.sendFrame(this.#fds.subarray(0, m), packets, failed);
    if (total > 0) {
      for (let i = 0; i < m; i++) {
        if (failed[2 * i] > 0) this.#owners[i]?.unsent(failed[2 * i], failed[2 * i + 1]);
      }
    }
    // Owners are not kept past the frame (a stopped reader must not stay reachable from here).
    this.#owners.fill(undefined, 0, n);
    return total;
  }

  /** Hands busy fds' packets to `order`, keeps the others at the front; returns how many stay. */
  #divert(n: number, packets: Buffer[], order: FdSendOrder, busy: (fd: number) => boolean): number {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const fd = this.#fds[i];
      if (busy(fd)) {
        for (const p of packets) order.append(fd, p);
      } else {
        this.#fds[m] = fd;
        this.#owners[m++] = this.#owners[i];
      }
    }
    return m;
  }
}
