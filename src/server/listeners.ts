/** Opens TCP (or TLS) listeners on every port × bind address of one config key, and turns bind
 * failures into one clear sentence naming the port, the key and why. */
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from '../logging/index.js';

export interface ListeningAddress {
  address: string;
  port: number;
  family: string;
  /** Which kind of listener: `rtsp` (rtsp.ports), `http` (rtsp.httpPorts), `tls` (tls.ports),
   * `admin` or `radio` (radio.ports). */
  kind: ListenerKind;
}

export type ListenerKind = 'rtsp' | 'http' | 'tls' | 'admin' | 'radio';

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

const KEYS: Record<ListenerKind, string> = { rtsp: 'rtsp.ports', http: 'rtsp.httpPorts', tls: 'tls.ports', admin: 'admin.port', radio: 'radio.ports' };

function why(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the port is already in use';
    case 'EACCES':
      return 'binding it needs more privileges';
    case 'EADDRNOTAVAIL':
      return 'the address is not on this machine';
    default:
      return err.message;
  }
}

function listenOne(make: () => Server, bind: string, port: number, log: Logger): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = make();
    server.once('error', reject);
    server.listen({ host: bind, port, ipv6Only: bind === '::' }, () => {
      server.off('error', reject);
      server.on('error', (e) => log.error({ err: e.message }, 'listener error'));
      resolve(server);
    });
  });
}

/** Listens on each port on every bind address; `opened` receives each listener as soon as it is
 * up (so the caller can close them all if a later one fails). With port 0 the first address
 * picks a free port and the others reuse it. */
export async function listenAll(
  kind: ListenerKind,
  ports: number[],
  binds: string[],
  make: () => Server,
  opened: (server: Server, addr: ListeningAddress) => void,
  log: Logger,
): Promise<void> {
  for (const wanted of ports) {
    let port = wanted;
    for (const bind of binds) {
      let server: Server;
      try {
        server = await listenOne(make, bind, port, log);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (bind === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
          log.warn({ bind, port }, 'IPv6 is not available on this machine; listening on IPv4 only');
          continue;
        }
        throw new ListenError(`cannot listen on ${bind} port ${port}: ${why(err)} (${KEYS[kind]})`);
      }
      const a = server.address() as AddressInfo;
      if (port === 0) port = a.port;
      opened(server, { address: a.address, port: a.port, family: a.family, kind });
    }
  }
}
