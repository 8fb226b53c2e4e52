/** The optional native fan-out (src/native/fanout.c, built by `npm install` with node-gyp):
 * sends a frame's packets to every UDP viewer with one sendmmsg per viewer. When it is not
 * built (another OS, no compiler), live UDP viewers fall back to plain dgram sends. */
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';

interface FanoutAddon {
  /** Sends `packets` on every fd; returns how many datagrams could not be sent. `failed`, when
   * given (2 entries per fd), receives per fd the datagrams not sent and their payload octets. */
  sendFrame(fds: Int32Array, packets: Buffer[], failed?: Int32Array): number;
  /** malloc_trim: hands memory free inside the C heap back to the system; true if any was. */
  releaseFreeMemory?(): boolean;
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

/** The OS file descriptor behind a dgram socket, or -1 (closed, or not exposed). */
export function socketFd(sock: Socket): number {
  // Node keeps the fd on the socket's internal handle; it is not public API, so every step is
  // checked and anything unexpected means "use dgram".
  const handle = (sock as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** Told, after a batch went out, what part of the frame never left for it. */
export interface FdOwner {
  unsent(packets: number, octets: number): void;
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
    const failed = this.#failed;
    const total = nativeFanout.sendFrame(this.#fds.subarray(0, n), packets, failed);
    if (total > 0) {
      for (let i = 0; i < n; i++) {
        if (failed[2 * i] > 0) this.#owners[i]?.unsent(failed[2 * i], failed[2 * i + 1]);
      }
    }
    // Owners are not kept past the frame (a stopped reader must not stay reachable from here).
    this.#owners.fill(undefined, 0, n);
    return total;
  }
}
