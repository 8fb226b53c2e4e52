/** The radio ports' entry: an HTTP request (an Icecast source, a listener, a metadata update)
 * goes to the radio routes; any other first line is a SHOUTcast v1 password or a DSS
 * x-audiocast `SOURCE password /mount` line. */
import type { Socket } from 'node:net';
import { readHttpHead, type HeadReaderOptions, type HttpRouter } from '../http/index.js';
import type { Logger } from '../logging/index.js';
import type { RadioService } from './radio-service.js';

export interface RadioPortOptions {
  router: HttpRouter;
  service: RadioService;
  /** Read at each connection (reloads apply). */
  head: () => HeadReaderOptions;
  log: Logger;
}

/** Serves one connection accepted on a radio port. */
export function serveRadioConnection(socket: Socket, o: RadioPortOptions): void {
  socket.on('error', (e) => o.log.debug({ client: socket.remoteAddress, err: e.message }, 'radio connection error'));
  readHttpHead(socket, o.head(), (r) => {
    if (r.kind === 'http') {
      o.router.serve(socket, r.head, r.rest.length > 0 ? [r.rest] : []);
      return;
    }
    if (r.kind === 'line') {
      if (r.line.trim() === '') {
        socket.end('invalid password\r\n');
        return;
      }
      o.service.sourceLine(socket, r.line, r.rest);
      return;
    }
    o.log.info({ client: socket.remoteAddress, reason: r.reason }, `radio request refused (${r.status})`);
    socket.end(`HTTP/1.0 ${r.status} Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}
