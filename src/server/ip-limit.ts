/** limits.maxConnectionsPerIp: one address cannot hold more than so many TCP connections at once
 * (each HTTP tunnel half counts), so a single host cannot exhaust sockets and memory. Checked when
 * a connection is accepted, before a byte is read. */
import type { Socket } from 'node:net';
import type { Logger } from '../logging/index.js';

const key = (address: string) => (address.startsWith('::ffff:') ? address.slice(7) : address);

export class ConnectionsPerIp {
  readonly #limit: () => number;
  readonly #log: Logger;
  readonly #open = new Map<string, number>();
  /** When each refused address was last logged, so a flood makes one line a minute. */
  readonly #logged = new Map<string, number>();

  constructor(limit: () => number, log: Logger) {
    this.#limit = limit;
    this.#log = log;
  }

  /** Open connections from `address` now. */
  count(address: string): number {
    return this.#open.get(key(address)) ?? 0;
  }

  /** Counts the socket (until it closes), or destroys it when its address is at the limit. */
  admit(socket: Socket): boolean {
    const addr = key(socket.remoteAddress ?? '');
    const limit = this.#limit();
    const n = this.#open.get(addr) ?? 0;
    if (limit > 0 && n >= limit) {
      const now = Date.now();
      if ((this.#logged.get(addr) ?? 0) < now - 60_000) {
        if (this.#logged.size > 10_000) this.#logged.clear();
        this.#logged.set(addr, now);
        this.#log.warn(
          { client: addr, open: n },
          'connection refused: too many from this address (limits.maxConnectionsPerIp)',
        );
      }
      socket.destroy();
      return false;
    }
    this.#open.set(addr, n + 1);
    socket.once('close', () => {
      const left = (this.#open.get(addr) ?? 1) - 1;
      if (left <= 0) this.#open.delete(addr);
      else this.#open.set(addr, left);
    });
    return true;
  }
}
