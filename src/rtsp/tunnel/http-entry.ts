/** What an RTSP port does with a connection that opened with HTTP: a GET or POST naming an
 * `x-sessioncookie` is half of a tunnel; any other GET asks for a reference movie. */
import type { Socket } from 'node:net';
import type { Logger } from '../../logging/index.js';
import type { RtspRequest } from '../message/types.js';
import type { TunnelBroker } from './broker.js';
import { sendHttp } from './http-reply.js';
import { referenceMovie, type RefMovieDeps } from './ref-movie.js';

export interface HttpEntryDeps extends RefMovieDeps {
  broker: TunnelBroker;
  log: Logger;
  serverHeader: string;
  /** The RTSP port a reference movie names for a client that reached us on `localPort`. */
  rtspPortFor(localPort: number): number;
}

export function serveHttpOpening(socket: Socket, req: RtspRequest, rest: Buffer[], deps: HttpEntryDeps): void {
  if (req.headers.has('x-sessioncookie')) {
    deps.broker.accept(socket, req, rest);
    return;
  }
  const log = deps.log.child({ client: socket.remoteAddress });
  if (req.method !== 'GET') {
    log.warn({ method: req.method, uri: req.uri.slice(0, 200) }, 'HTTP request without x-sessioncookie refused');
    sendHttp(socket, 400, deps.serverHeader);
    return;
  }
  socket.on('error', () => undefined);
  socket.resume();
  const port = deps.rtspPortFor(socket.localPort ?? 0);
  referenceMovie(req, socket.localAddress ?? '', port, deps).then(
    (a) => {
      if (a.status === 200) log.info({ uri: req.uri.slice(0, 200) }, 'reference movie served');
      else log.info({ uri: req.uri.slice(0, 200), status: a.status }, `HTTP GET refused: ${a.reason ?? ''}`);
      sendHttp(socket, a.status, deps.serverHeader, a.body, a.type);
    },
    (e: unknown) => {
      log.error({ err: (e as Error).stack ?? String(e) }, 'reference movie failed');
      sendHttp(socket, 500, deps.serverHeader);
    },
  );
}
