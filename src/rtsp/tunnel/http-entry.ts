/** What an RTSP port does with a connection that opened with HTTP: a GET or POST naming an
 * `x-sessioncookie` is half of a tunnel; any other GET asks for a reference movie. */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../logging/index.js';
import type { RtspRequest } from '../message/types.js';
import type { TunnelBroker } from './broker.js';
import { sendHttp } from './http-reply.js';
import { referenceMovie, type RefMovieDeps } from './ref-movie.js';

export interface HttpEntryDeps extends RefMovieDeps {
  broker: TunnelBroker;
  log: Logger;
  serverHeader: string;
  /** The RTSP port a reference movie names for a client that reached us on `localPort` in the
   * clear (over TLS it names the TLS port it came to, with rtsps://). */
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
  const tls = (socket as Socket & { encrypted?: boolean }).encrypted === true;
  const localPort = socket.localPort ?? 0;
  const client = {
    localAddress: socket.localAddress ?? '',
    remoteAddress: socket.remoteAddress ?? '',
    scheme: tls ? ('rtsps' as const) : ('rtsp' as const),
    port: tls ? localPort : deps.rtspPortFor(localPort),
  };
  const uri = req.uri.slice(0, 200);
  const answer = async () => {
    const a = await referenceMovie(req, client, deps);
    if (a.status === 200) log.info({ uri }, 'reference movie served');
    else if (a.status === 401) log.debug({ uri, status: a.status }, `HTTP GET refused: ${a.reason ?? ''}`);
    else log[a.status === 403 ? 'warn' : 'info']({ uri, status: a.status }, `HTTP GET refused: ${a.reason ?? ''}`);
    // Repeated failed logins from this address are slowed down as over RTSP.
    if (a.delayMs) await sleep(a.delayMs);
    const extra = (a.challenges ?? []).map((c): [string, string] => ['WWW-Authenticate', c]);
    sendHttp(socket, a.status, deps.serverHeader, a.body, a.type, extra);
  };
  answer().catch((e: unknown) => {
    log.error({ err: (e as Error).stack ?? String(e) }, 'reference movie failed');
    sendHttp(socket, 500, deps.serverHeader);
  });
}
