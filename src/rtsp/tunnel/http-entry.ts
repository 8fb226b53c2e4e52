/** The HTTP routes the RTSP side adds to the shared ports' router: the two halves of an
 * RTSP-over-HTTP tunnel (a GET or POST naming an `x-sessioncookie`) and QuickTime reference movies
 * for a GET (or HEAD) of anything else. */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpExchange, HttpRoute } from '../../http/index.js';
import type { RtspRequest } from '../message/types.js';
import type { TunnelBroker } from './broker.js';
import { referenceMovie, type RefMovieDeps } from './ref-movie.js';

export interface HttpEntryDeps extends RefMovieDeps {
  broker: TunnelBroker;
  /** The RTSP port a reference movie names for a client that reached us on `localPort` in the
   * clear (over TLS it names the TLS port it came to, with rtsps://). */
  rtspPortFor(localPort: number): number;
}

/** The cookie alone marks a tunnel half, as it always has: QuickTime, ffmpeg and GStreamer also
 * send `Accept: application/x-rtsp-tunnelled` on the GET, but a half without it is still paired. */
const tunnelled = (req: RtspRequest): boolean => req.headers.has('x-sessioncookie');

/** In matching order; the composition root adds them to its `HttpRouter`. */
export function rtspHttpRoutes(deps: HttpEntryDeps): HttpRoute<RtspRequest>[] {
  const tunnelHalf = ({ socket, req, rest }: HttpExchange<RtspRequest>) =>
    deps.broker.accept(socket, req, rest);
  return [
    { name: 'RTSP tunnel GET', methods: ['GET'], matches: tunnelled, handle: tunnelHalf },
    { name: 'RTSP tunnel POST', methods: ['POST'], matches: tunnelled, handle: tunnelHalf },
    // Any target: the reference movie itself tells a path that is not a movie (404) from one out
    // of the media folder (403), as DESCRIBE does. Last, so other protocols' GETs come first.
    {
      name: 'reference movie',
      methods: ['GET', 'HEAD'],
      matches: () => true,
      last: true,
      handle: (ex) => serveReferenceMovie(ex, deps),
    },
  ];
}

async function serveReferenceMovie(ex: HttpExchange<RtspRequest>, deps: HttpEntryDeps): Promise<void> {
  const { socket, req, log } = ex;
  // Read on while the answer is worked out, so a client that gives up is noticed.
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
  const a = await referenceMovie(req, client, deps);
  if (a.status === 200) log.info({ uri, method: req.method }, 'reference movie served');
  else if (a.status === 401)
    log.debug({ uri, status: a.status }, `HTTP ${req.method} refused: ${a.reason ?? ''}`);
  else
    log[a.status === 403 ? 'warn' : 'info'](
      { uri, status: a.status },
      `HTTP ${req.method} refused: ${a.reason ?? ''}`,
    );
  // Repeated failed logins from this address are slowed down as over RTSP.
  if (a.delayMs) await sleep(a.delayMs);
  const headers = (a.challenges ?? []).map((c): [string, string] => ['WWW-Authenticate', c]);
  ex.reply(a.status, { body: a.body, type: a.type, headers });
}
