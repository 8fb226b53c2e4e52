/** The optional native fan-out (src/native/fanout.c, built by `npm install` with node-gyp):
 * sends a frame's packets to every UDP viewer with one sendmmsg per viewer. When it is not
 * built (another OS, no compiler), live UDP viewers fall back to plain dgram sends. */
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';

interface FanoutAddon {
  /** Sends `packets` on every fd; returns how many datagrams could not be sent. */
  sendFrame(fds: Int32Array, packets: Buffer[]): number;
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

/** The OS file descriptor behind a dgram socket, or -1 (closed, or not exposed). */
export function socketFd(sock: Socket): number {
  // Node keeps the fd on the socket's internal handle; it is not public API, so every step is
  // checked and anything unexpected means "use dgram".
  const handle = (sock as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** Viewer fds collected while a frame is handed out, then sent in one native call. */
export class FdBatch {
  #fds = new Int32Array(256);
  #n = 0;

  add(fd: number): void {
    if (this.#n === this.#fds.length) {
      const bigger = new Int32Array(this.#fds.length * 2);
      bigger.set(this.#fds);
      this.#fds = bigger;
    }
    this.#fds[this.#n++] = fd;
  }

  /** Sends and resets; returns datagrams not sent. */
  flush(packets: Buffer[]): number {
    if (this.#n === 0 || !nativeFanout) return 0;
    const failed = nativeFanout.sendFrame(this.#fds.subarray(0, this.#n), packets);
    this.#n = 0;
    return failed;
  }
}
