/** Composition root: builds the listeners and subsystems from a Config and owns shutdown. */
import { realpathSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { LiveRegistry } from '../live/registry.js';
import { RtspConnection } from '../rtsp/server/connection.js';
import { RtspHandler } from '../rtsp/server/handler.js';
import type { RtspSession } from '../rtsp/server/session.js';
import { UdpPortAllocator } from '../transport/index.js';
import { WriteBatcher } from '../transport/write-batcher.js';
import { Pacer } from '../vod/pacer.js';

export interface RivuletServerOptions {
  config: Config;
  /** Application log (default: silent). */
  log?: Logger;
}

export interface ListeningAddress {
  address: string;
  port: number;
  family: string;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export class RivuletServer {
  readonly config: Config;
  readonly log: Logger;
  readonly sessions = new Map<string, RtspSession>();
  readonly connections = new Set<RtspConnection>();
  readonly #pacer: Pacer;
  readonly #batcher: WriteBatcher | undefined;
  readonly #listeners: Server[] = [];
  #handler: RtspHandler | undefined;
  #registry: LiveRegistry | undefined;
  #reaper: NodeJS.Timeout | undefined;
  #addresses: ListeningAddress[] = [];
  #stopping: Promise<void> | undefined;

  constructor(opts: RivuletServerOptions) {
    this.config = opts.config;
    this.log = opts.log ?? silentLogger();
    this.#batcher = opts.config.live.tcpBatchMs > 0 ? new WriteBatcher(opts.config.live.tcpBatchMs) : undefined;
    this.#pacer = new Pacer(20, (e) => this.log.error({ err: (e as Error).stack ?? String(e) }, 'player failed'));
  }

  /** Addresses actually listened on (ports resolved when 0 was asked). */
  get addresses(): ListeningAddress[] {
    return this.#addresses;
  }

  /** Live streams by path. */
  get live(): LiveRegistry | undefined {
    return this.#registry;
  }

  /** The first RTSP port listened on. */
  get port(): number {
    return this.#addresses[0]?.port ?? 0;
  }

  async start(): Promise<ListeningAddress[]> {
    const cfg = this.config;
    let mediaRoot: string;
    try {
      mediaRoot = realpathSync(cfg.media.dir);
    } catch {
      throw new StartupError(`media folder ${cfg.media.dir} does not exist`);
    }
    this.#registry = new LiveRegistry({
      graceTime: cfg.live.graceTime,
      publisherTimeout: cfg.live.publisherTimeout,
      log: this.log.child({ component: 'live' }),
    });
    this.#handler = new RtspHandler({
      registry: this.#registry,
      config: cfg,
      mediaRoot,
      sessions: this.sessions,
      pacer: this.#pacer,
      ports: new UdpPortAllocator({ min: cfg.rtp.portMin, max: cfg.rtp.portMax }),
      log: this.log.child({ component: 'rtsp' }),
      cname: `rivulet@${hostname()}`,
    });
    for (const wanted of cfg.rtsp.ports) {
      // With port 0 the first address picks a free port and the others reuse it.
      let port = wanted;
      for (const bind of cfg.rtsp.bind) {
        try {
          const addr = await this.#listen(bind, port);
          if (port === 0) port = addr.port;
          this.#addresses.push(addr);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (bind === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
            this.log.warn({ bind, port }, 'IPv6 is not available on this machine; listening on IPv4 only');
            continue;
          }
          await this.stop();
          const why =
            err.code === 'EADDRINUSE'
              ? 'the port is already in use'
              : err.code === 'EACCES'
                ? 'binding it needs more privileges'
                : err.code === 'EADDRNOTAVAIL'
                  ? 'the address is not on this machine'
                  : err.message;
          throw new StartupError(`cannot listen on ${bind} port ${port}: ${why}`);
        }
      }
    }
    const timeoutMs = cfg.rtsp.sessionTimeout * 1000;
    this.#reaper = setInterval(() => this.#reap(timeoutMs), Math.min(1000, timeoutMs / 4));
    this.#reaper.unref();
    return this.#addresses;
  }

  #listen(bind: string, port: number): Promise<ListeningAddress> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#accept(socket));
      server.once('error', reject);
      server.listen({ host: bind, port, ipv6Only: bind === '::' }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.error({ err: e.message }, 'listener error'));
        this.#listeners.push(server);
        const a = server.address() as AddressInfo;
        resolve({ address: a.address, port: a.port, family: a.family });
      });
    });
  }

  #accept(socket: Socket): void {
    if (!this.#handler || this.#stopping) {
      socket.destroy();
      return;
    }
    const conn = new RtspConnection({
      socket,
      handler: this.#handler,
      log: this.log.child({ component: 'rtsp' }),
      maxHeaderBytes: this.config.rtsp.maxHeaderBytes,
      maxBodyBytes: this.config.rtsp.maxBodyBytes,
      batcher: this.#batcher,
    });
    this.connections.add(conn);
    conn.onClosed = () => this.connections.delete(conn);
  }

  #reap(timeoutMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.closed) this.sessions.delete(id);
      else if (now - s.lastActivity > timeoutMs) {
        s.close('timeout');
        this.sessions.delete(id);
      }
    }
    // Connections with no session that have been silent for three session timeouts are dropped.
    for (const c of this.connections) {
      if (c.sessions.size === 0 && now - c.lastActivity > timeoutMs * 3) c.close();
    }
  }

  /** Stops listening, sends RTCP BYE to every viewer, closes every socket. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#handler) this.#handler.refusing = true;
      if (this.#reaper) clearInterval(this.#reaper);
      const closing = this.#listeners.map((l) => new Promise<void>((r) => l.close(() => r())));
      this.#registry?.close('server shutting down');
      for (const s of this.sessions.values()) s.close('server shutting down');
      this.sessions.clear();
      this.#pacer.stop();
      this.#batcher?.stop();
      for (const c of this.connections) c.close();
      await Promise.all(closing);
    })();
    return this.#stopping;
  }
}
