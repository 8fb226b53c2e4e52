/** The control surface on a Unix socket (`control.socket`): HTTP/1.1 with JSON, the `/api/v1`
 * routes `rivulet playlist start|stop|status` talk to. Only users who may open the socket file
 * may use it: it is made mode 0600 in its folder (made if missing).
 *
 * Opening never fails the server: a socket file left by a server that died (nothing answers on
 * it) is removed and listened on again; one a live server answers on (another Rivulet with the
 * same state folder) leaves this server without a control surface, with one warning; any other
 * failure (a file there that is no socket, a path too long for a socket, a folder that cannot
 * be made) likewise. */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { apiHandler, type ApiRoute } from '../http/index.js';
import type { Logger } from '../logging/index.js';

/** Clients at once: the operator's commands, and later a script or two. */
const MAX_CONNECTIONS = 32;
/** Seconds a client may take to send its request. */
const REQUEST_TIMEOUT_S = 10;
/** Largest request body: the control routes take small JSON at most. */
const MAX_BODY_BYTES = 64 * 1024;
/** Longest socket path Linux takes (sun_path less its NUL); libuv silently cuts a longer one,
 * which would listen somewhere no client looks. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Whether a server answers on the socket at `path` (a connection is accepted). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (yes: boolean) => {
      s.destroy();
      resolve(yes);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(2000, () => done(true));
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export class ControlSocket {
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Serves `routes` on the socket at `path`; undefined (after one log line) when it cannot. */
  static async open(path: string, routes: readonly ApiRoute[], log: Logger): Promise<ControlSocket | undefined> {
    const server = createServer({ requestTimeout: REQUEST_TIMEOUT_S * 1000, headersTimeout: REQUEST_TIMEOUT_S * 1000, maxHeaderSize: 16 * 1024 }, apiHandler(routes, { log, maxBodyBytes: MAX_BODY_BYTES }));
    server.maxConnections = MAX_CONNECTIONS;
    server.keepAliveTimeout = 5000;
    const off = (why: string) => {
      log.warn({ socket: path }, `no control surface (rivulet playlist start|stop|status will not reach this server): ${why}`);
      return undefined;
    };
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_SOCKET_PATH_BYTES) return off(`${path} is ${bytes} bytes long; a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES} (set control.socket to a shorter one)`);
    try {
      mkdirSync(dirname(path), { recursive: true });
      try {
        await listen(server, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        if (await answers(path)) return off(`another server answers on ${path}`);
        // Only a socket is ours to take (left by a server that is gone: nothing answers on it);
        // any other file there is someone's, and stays.
        if (!lstatSync(path).isSocket()) {
          server.close();
          return off(`${path} exists and is not a socket`);
        }
        unlinkSync(path);
        log.info({ socket: path }, 'removed a stale control socket');
        await listen(server, path);
      }
      chmodSync(path, 0o600);
    } catch (e) {
      server.close();
      return off(`cannot listen on ${path}: ${(e as Error).message}`);
    }
    server.on('error', (e) => log.error({ socket: path, err: e.message }, 'control socket error'));
    log.info({ socket: path }, `control socket listening on ${path}`);
    return new ControlSocket(server);
  }

  /** Stops listening and ends open connections; Node removes the socket file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
