/** Starts the web admin, REST API and metrics on admin.port (off when it is 0), on every
 * admin.bind address, over HTTPS when admin.tls names a certificate and key. A port that cannot
 * be listened on, or a certificate that cannot be used, fails the server's start with one
 * sentence naming the key (ListenError). */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { resolve } from 'node:path';
import { buildAdminApp } from '../admin/index.js';
import type { Metrics } from '../metrics/index.js';
import { listenAll, ListenError } from './listeners.js';
import { readTlsPair, TlsFilesError } from './tls-files.js';
import type { LogFiles } from './log-files.js';
import type { ManagedServer } from './running.js';

export interface AdminHandle {
  /** The port listened on. */
  readonly port: number;
  close(): Promise<void>;
}

/** Browsers and scripts at once on the admin port. */
const MAX_CONNECTIONS = 256;
/** Node's own limits on a request: headers within 15 s, the whole request within 30 s. */
const HTTP_LIMITS = { headersTimeout: 15_000, requestTimeout: 30_000, maxHeaderSize: 16 * 1024, keepAliveTimeout: 5000 };

/** admin.tls's files, checked as a pair (none: plain HTTP). */
function readTls(tls: { cert?: string; key?: string }): { cert: Buffer; key: Buffer } | undefined {
  if (!tls.cert || !tls.key) return undefined;
  try {
    return readTlsPair({ cert: resolve(tls.cert), key: resolve(tls.key) }, 'admin.tls');
  } catch (e) {
    throw e instanceof TlsFilesError ? new ListenError(e.message) : e;
  }
}

export async function startAdmin(server: ManagedServer, parts: { metrics: Metrics; logFiles: LogFiles }): Promise<AdminHandle | undefined> {
  const cfg = server.config.admin;
  if (cfg.port === 0) return undefined;
  const log = server.log.child({ component: 'admin' });
  const tls = readTls(cfg.tls);
  let port = 0;
  const app = await buildAdminApp({ server, metrics: parts.metrics, logs: parts.logFiles, secure: tls !== undefined, port: () => port, log });
  const listeners: Server[] = [];
  const make = (): Server => {
    const s = tls
      ? createHttpsServer({ ...tls, ...HTTP_LIMITS, handshakeTimeout: 10_000 }, app.handler).on('tlsClientError', (_e, socket) => socket.destroy())
      : createServer(HTTP_LIMITS, app.handler);
    s.maxConnections = MAX_CONNECTIONS;
    s.keepAliveTimeout = HTTP_LIMITS.keepAliveTimeout;
    return s;
  };
  const close = async () => {
    await Promise.all(
      listeners.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
    await app.close();
  };
  try {
    await listenAll('admin', [cfg.port], cfg.bind, make, (s, a) => {
      listeners.push(s as Server);
      port = a.port;
    }, log);
  } catch (e) {
    await close();
    throw e;
  }
  log.info({ port, bind: cfg.bind.join(', '), tls: tls !== undefined }, `admin listening on ${tls ? 'https' : 'http'} port ${port} (web admin, /api/v1, /metrics)`);
  return { port, close };
}
