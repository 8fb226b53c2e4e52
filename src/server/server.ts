/** Composition root: builds the listeners and subsystems from a Config and owns shutdown. */
import { readFileSync, realpathSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { applyToTree, ConfigError, configKeyPath, editConfigText, loadConfig, writeFileAtomic, type Config } from '../config/index.js';
import { Admission, ClientDirectory, CoreEvents, PathManager, StreamRegistry, type CountedReader, type RelayStatus, type SourceStarters } from '../core/index.js';
import { HttpRouter, playlistApiRoutes } from '../http/index.js';
import { pinoLevelFor, setTeeLevel, silentLogger, type Logger } from '../logging/index.js';
import { ReadCache, type ReadCacheStats } from '../media/mp4/index.js';
import { scanPlaylistFolder, type FolderPlaylist } from '../playlists/index.js';
import { formatIssue } from '../playlists/index.js';
import { mergeDssPaths, readDssRelayConfig, RelayDestinations, relayStarters, resolveServerId, type DssRelayIssue, type DssRelayPath } from '../relays/index.js';
import { isSourceLine, RadioService, serveRadioConnection } from '../radio/index.js';
import { SOURCE_STARTERS } from '../sources/index.js';
import type { RtspRequest } from '../rtsp/message/types.js';
import { AdmissionGate, rtspReaders } from '../rtsp/server/admission-gate.js';
import { RtspConnection, type ConnectionSocket } from '../rtsp/server/connection.js';
import { RtspHandler } from '../rtsp/server/handler.js';
import type { MulticastGroupInfo } from '../readers/multicast-group.js';
import { SessionMap, type RtspSession } from '../rtsp/server/session.js';
import { rtspHttpRoutes, sniffOpening, TunnelBroker } from '../rtsp/tunnel/index.js';
import { UdpPortAllocator } from '../transport/index.js';
import { configureUdpSending, describeUdpSending } from '../transport/udp-send-queue.js';
import { WriteBatcher } from '../transport/write-batcher.js';
import { Pacer } from '../vod/pacer.js';
import { PacketCache, type PacketCacheStats } from '../vod/packet-cache.js';
import { Metrics } from '../metrics/index.js';
import { startAdmin, type AdminHandle } from './admin-wiring.js';
import { ControlSocket } from './control-socket.js';
import { LogFiles } from './log-files.js';
import { ConfigWatcher } from './config-watcher.js';
import { planReload, valueAt } from './reload.js';
import type { ConfigUpdateResult, ManagedServer, ReloadResult } from './running.js';
import { readTlsPair, TlsFilesError } from './tls-files.js';
import { rivuletVersion } from './version.js';
import { ConnectionsPerIp } from './ip-limit.js';
import { MemoryRelease } from './memory-release.js';
import { listenAll, ListenError, type ListeningAddress, type ListenerKind } from './listeners.js';

export type { ListeningAddress, ListenerKind };

/** What a file player lets a TCP viewer's socket hold before it waits (FilePlayer's maxBacklog
 * default); a connection carrying media may hold that beyond limits.maxUnsentBytes. */
const VOD_BACKLOG_BYTES = 2 * 1024 * 1024;
/** How often memory the C heap holds free is given back (src/server/memory-release.ts). */
const MEMORY_RELEASE_MS = 5000;

export interface RivuletServerOptions {
  config: Config;
  /** Application log (default: silent). */
  log?: Logger;
  /** The config file `config` was read from, if any: the admin's Settings save there, and the
   * server reloads when it changes. */
  configFile?: string;
  /** Reads the configuration again as it was read at start (the file under the command line's
   * --set and flags, which must keep winning); with `fileText`, that text stands for the file's
   * content (an edit checked before it is saved). Throws ConfigError. Default: the file alone
   * (`loadConfig({ configFile })`), or the running config when there is no file. */
  reloadConfig?: (fileText?: string) => Config;
  /** Quiet time after the config file changes before it is reloaded, ms (default 300). */
  watchDebounceMs?: number;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Methods that open an HTTP request on the shared ports besides HTTP's own (Icecast's SOURCE). */
const RADIO_METHODS = ['SOURCE'];

/** How often each client's bit rate is sampled for Connected Users and the metrics. */
const CLIENT_SAMPLE_MS = 2000;

export class RivuletServer implements ManagedServer {
  readonly config: Config;
  readonly configFile: string | undefined;
  readonly log: Logger;
  readonly startedAt = Date.now();
  readonly version = rivuletVersion();
  readonly sessions: Map<string, RtspSession> = new SessionMap();
  readonly connections = new Set<RtspConnection>();
  /** What lives at each path and the settings there, read from the running config at each use
   * (see setPaths); made by start(), which knows the media folder and the registry. */
  #paths: PathManager | undefined;
  /** The core's events (publishing, readers, refusals, auth failures) for logs, metrics and the admin. */
  readonly events = new CoreEvents();
  /** Every connected client, whatever protocol: Connected Users, metrics, the access log. */
  readonly clients = new ClientDirectory({ ended: (r) => this.events.emit('client.ended', r) });
  /** The latest state of each relay leg (bounded by the legs configured). */
  readonly #relays = new Map<string, RelayStatus>();
  #clientSampler: NodeJS.Timeout | undefined;
  #logFiles: LogFiles | undefined;
  #metrics: Metrics | undefined;
  #admin: AdminHandle | undefined;
  /** limits.maxConnections and limits.maxBandwidthKbps over every protocol's clients and readers. */
  readonly #admission = new Admission({
    limits: () => this.config.limits,
    readers: () => this.#allReaders(),
  });
  readonly #pacer: Pacer;
  /** Movie data shared by every file viewer (vod.readCacheBytes, resized by a reload). */
  readonly #readCache: ReadCache;
  /** RTP payloads of file samples shared by their viewers; it pins read-cache blocks, so it has
   * the same bound. */
  readonly #packets: PacketCache;
  readonly #batcher: WriteBatcher | undefined;
  readonly #listeners: Server[] = [];
  #handler: RtspHandler | undefined;
  /** The handler behind admission control: what connections talk to. */
  #gate: AdmissionGate | undefined;
  #broker: TunnelBroker | undefined;
  /** Plain HTTP requests on the shared ports (RTSP tunnel halves, reference movies, radio). */
  #http: HttpRouter<RtspRequest> | undefined;
  /** Internet radio: Icecast/SHOUTcast sources and ICY listeners (after start()). */
  #radio: RadioService | undefined;
  /** The radio ports' own routes (the radio ones only). */
  #radioHttp: HttpRouter | undefined;
  /** Sockets whose first bytes have not yet told RTSP from HTTP. */
  readonly #sniffing = new Set<Socket>();
  readonly #perIp: ConnectionsPerIp;
  #registry: StreamRegistry | undefined;
  /** Real path of media.dir, known after start(). */
  #mediaRoot = '';
  #reaper: NodeJS.Timeout | undefined;
  #memory: MemoryRelease | undefined;
  #addresses: ListeningAddress[] = [];
  #stopping: Promise<void> | undefined;
  /** The control socket (`rivulet playlist start|stop|status`), when control.socket names one
   * and it could be opened. */
  #control: ControlSocket | undefined;
  /** Reloads of the configured sources, one after another (each scans playlists.folder). */
  #reloading: Promise<unknown> = Promise.resolve();
  /** This server's name in the Via of its relay requests (relays.serverId, or the host name and
   * a random suffix chosen at construction). */
  readonly serverId: string;
  /** The relays of relays.dssConfig as last read, as paths entries. */
  #dssPaths: DssRelayPath[] = [];
  /** `paths:` with the DSS relays merged in (the YAML's entries win): what the PathManager and
   * the relay destinations see. Recomputed when either changes, so its identity is stable. */
  #merged: Config['paths'] = {};
  /** The push and forward destinations of every path. */
  #destinations: RelayDestinations | undefined;
  readonly #reloadConfig: ((fileText?: string) => Config) | undefined;
  readonly #watchDebounceMs: number | undefined;
  /** Watches configFile (after start()). */
  #watcher: ConfigWatcher | undefined;
  /** The config file's text as last read or written: a change event for the same text (the
   * server's own save, a touch) reloads nothing, and a broken file is reported once. */
  #fileText: string | undefined;
  /** Reloads apply one after another, in the order they were asked for. */
  #applying: Promise<unknown> = Promise.resolve();
  /** A reread waiting for its turn (rereadConfig): at most one. */
  #rereading: Promise<ReloadResult | undefined> | undefined;
  /** Config updates (read, edit, save, reload) one at a time, so none saves over another's. */
  #updating: Promise<unknown> = Promise.resolve();

  constructor(opts: RivuletServerOptions) {
    this.config = opts.config;
    this.configFile = opts.configFile;
    this.#reloadConfig = opts.reloadConfig;
    this.#watchDebounceMs = opts.watchDebounceMs;
    // What the config was read from, as near that moment as can be: a change after it reloads.
    this.#fileText = this.#readConfigFile();
    this.log = opts.log ?? silentLogger();
    this.events.on('relay.state', (r) => {
      const key = `${r.role} ${r.path} ${r.target}`;
      // A leg that stopped because its path left the config goes; others are kept with their state.
      if (r.state === 'stopped' && !(r.path in this.#merged)) this.#relays.delete(key);
      else this.#relays.set(key, r);
    });
    this.serverId = resolveServerId(opts.config.relays.serverId);
    this.#batcher = opts.config.live.tcpBatchMs > 0 ? new WriteBatcher(opts.config.live.tcpBatchMs) : undefined;
    // File viewers are sent to every 20 ms, every 50 ms under load (fewer, larger send calls).
    this.#pacer = new Pacer(20, (e) => this.log.error({ err: (e as Error).stack ?? String(e) }, 'player failed'), 50);
    // Made even at size 0, so that a reload giving it a size reaches the next viewers.
    this.#readCache = new ReadCache({ maxBytes: opts.config.vod.readCacheBytes });
    this.#packets = new PacketCache({ maxBytes: opts.config.vod.readCacheBytes });
    this.#perIp = new ConnectionsPerIp(() => this.config.limits.maxConnectionsPerIp, this.log.child({ component: 'rtsp' }));
  }

  /** Addresses actually listened on (ports resolved when 0 was asked). */
  get addresses(): ListeningAddress[] {
    return this.#addresses;
  }

  /** The latest state of each relay leg, keyed `role path target`. */
  get relays(): ReadonlyMap<string, RelayStatus> {
    return this.#relays;
  }

  /** The log files (after start()). */
  get logFiles(): LogFiles | undefined {
    return this.#logFiles;
  }

  /** The metrics (after start()). */
  get metrics(): Metrics | undefined {
    return this.#metrics;
  }

  /** The admin's port, when it runs. */
  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** The shared read cache's figures now (bytes kept, hits, misses, files open). */
  readCacheStats(): ReadCacheStats {
    return this.#readCache.stats();
  }

  /** The shared RTP payloads' figures now (samples kept, bytes they pin, hits, misses). */
  packetCacheStats(): PacketCacheStats {
    return this.#packets.stats();
  }

  /** Applies a configuration read again: every key that can change while the server runs
   * does now (src/server/reload.ts says which and why), viewers of anything unchanged carry on;
   * the rest is named in `later` and keeps its running value until a restart. One log line says
   * both. `trigger` names what asked (SIGHUP, the file changed, the admin) in that line. */
  reload(next: Config, trigger = 'reload'): Promise<ReloadResult> {
    const run = () => this.#apply(next, trigger);
    const done = this.#applying.then(run, run);
    this.#applying = done.catch(() => undefined);
    return done;
  }

  async #apply(next: Config, trigger: string): Promise<ReloadResult> {
    const { live, later } = planReload(this.config, next);
    const groups = new Set(live.map((k) => k.slice(0, k.indexOf('.'))));
    this.setLimits(next.limits);
    for (const key of live) {
      const [group, name] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)] as [keyof Config, string];
      // Sources have their own way in; limits went through setLimits.
      if (['paths', 'playlists', 'relays', 'limits'].includes(group)) continue;
      // In place: handlers hold the group objects (the Authorizer holds config.auth).
      (this.config[group] as Record<string, unknown>)[name] = structuredClone((next[group] as Record<string, unknown>)[name]);
    }
    // Shrinking evicts at once; viewers playing keep their readers either way.
    if (live.includes('vod.readCacheBytes')) this.#readCache.maxBytes = this.#packets.maxBytes = next.vod.readCacheBytes;
    if (groups.has('logs')) {
      // Error.log may now want lower levels than the logger runs at (or no longer need them).
      setTeeLevel(this.log, next.logs.error ? pinoLevelFor(next.logs.errorVerbosity) : undefined);
      this.#logFiles?.apply();
    }
    try {
      await this.reloadSources(next);
    } catch (e) {
      this.log.error({ err: (e as Error).stack ?? String(e) }, 'config reload failed while applying paths');
    }
    const what = `${live.length ? `applied ${live.join(', ')}` : 'nothing changed that applies now'}${later.length ? `; after a restart: ${later.join(', ')}` : ''}`;
    this.log.info({ trigger, applied: live.join(', ') || 'none', later: later.join(', ') || 'none' }, `config reloaded (${trigger}): ${what}`);
    // Last, so that the line above is written whatever the new level.
    if (groups.has('log')) this.log.level = next.log.level;
    return { applied: live, later };
  }

  /** Reads the configuration again as at start (the file, under the command line's --set and
   * flags) and applies it: SIGHUP, and the config file changing. A config that does not read or
   * validate is logged with the key at fault and changes nothing (undefined then). Asked again
   * while one waits for its turn, the answer is that one's: it reads the file when it runs, so
   * a burst of signals costs one reload. */
  rereadConfig(trigger: string): Promise<ReloadResult | undefined> {
    if (this.#rereading) return this.#rereading;
    const run = () => {
      this.#rereading = undefined;
      return this.#reread(trigger);
    };
    const queued = this.#applying.then(run, run);
    this.#rereading = queued;
    return queued;
  }

  #reread(trigger: string): Promise<ReloadResult | undefined> {
    const text = this.#readConfigFile();
    if (text !== undefined) this.#fileText = text;
    let next: Config;
    try {
      next = this.#load(text);
    } catch (e) {
      const why = e instanceof ConfigError ? e.message : ((e as Error).stack ?? String(e));
      this.log.error({ trigger, key: e instanceof ConfigError ? e.key : undefined }, `config reload failed, nothing changed: ${why.replace(/\n/g, '; ')}`);
      return Promise.resolve(undefined);
    }
    return this.reload(next, trigger);
  }

  /** The config file's text, undefined without a file or when it cannot be read (loading then
   * says why). */
  #readConfigFile(): string | undefined {
    if (this.configFile === undefined) return undefined;
    try {
      return readFileSync(this.configFile, 'utf8');
    } catch {
      return undefined;
    }
  }

  #load(fileText?: string): Config {
    if (this.#reloadConfig) return this.#reloadConfig(fileText);
    if (this.configFile !== undefined) return loadConfig({ configFile: this.configFile, text: fileText });
    return structuredClone(this.config);
  }

  /** The config file changed on disk: reload it unless its text is what was read last. */
  async #fileChanged(): Promise<void> {
    const text = this.#readConfigFile();
    // Gone for now (an editor between its delete and its rename): its return is another change.
    if (text === undefined || text === this.#fileText) return;
    await this.rereadConfig('config file changed');
  }

  /** Changes dotted keys (`limits.maxConnections`, `paths.tv.playlist`; `null` removes one) as
   * the admin's Settings and the config API do. With a config file: the file is edited (comments
   * kept), checked with the command line's --set and flags over it, saved whole, and reloaded,
   * so what runs is what a restart would run. Without one: the running config only, until the
   * server restarts. A wrong value throws ConfigError naming its key, and nothing changes. */
  updateConfig(changes: Record<string, unknown>): Promise<ConfigUpdateResult> {
    const run = () => (this.configFile === undefined ? this.#updateRunning(changes) : this.#updateFile(this.configFile, changes));
    const done = this.#updating.then(run, run);
    this.#updating = done.catch(() => undefined);
    return done;
  }

  async #updateFile(configFile: string, changes: Record<string, unknown>): Promise<ConfigUpdateResult> {
    // Through a symbolic link to the file it names, which stays a link.
    let file: string;
    let text: string;
    try {
      file = realpathSync(configFile);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the config file ${configFile}: ${(e as Error).message}`, { cause: e });
    }
    const edited = editConfigText(text, changes, configFile);
    const next = this.#load(edited);
    try {
      writeFileAtomic(file, edited);
    } catch (e) {
      throw new Error(`cannot save the config file ${file}: ${(e as Error).message}`, { cause: e });
    }
    this.#fileText = edited;
    const result = await this.reload(next, 'config update');
    return { ...result, saved: true, file, ...this.#overridden(configFile, edited, next, changes) };
  }

  /** A note naming the changed keys that the command line sets (it wins over the file: they are
   * saved, but not what runs), if any. */
  #overridden(configFile: string, text: string, running: Config, changes: Record<string, unknown>): { note?: string } {
    let fileOnly: Config;
    try {
      fileOnly = loadConfig({ configFile, text });
    } catch {
      // The file alone does not load (the command line completes it): nothing to compare with.
      return {};
    }
    const overridden = Object.keys(changes).filter((k) => {
      const path = configKeyPath(k);
      return JSON.stringify(valueAt(fileOnly, path)) !== JSON.stringify(valueAt(running, path));
    });
    if (overridden.length === 0) return {};
    return { note: `saved, but the command line (--set or a flag) sets ${overridden.join(', ')} and wins over the file: the running value stays as it says` };
  }

  async #updateRunning(changes: Record<string, unknown>): Promise<ConfigUpdateResult> {
    // loadConfig makes of it what it makes of flags: defaults under it, the schema over it.
    const next = loadConfig({ flags: applyToTree(this.config, changes) });
    const result = await this.reload(next, 'config update');
    const lost = result.later.length ? `; ${result.later.join(', ')} can only change with a restart, so ${result.later.length === 1 ? 'it does' : 'they do'} not apply` : '';
    return { ...result, saved: false, note: `the server was started without --config: nothing was saved, and the change lasts until it restarts${lost}` };
  }

  /** Reopens the log files (SIGUSR1, after logrotate moved them). */
  reopenLogs(): void {
    this.#logFiles?.reopen();
  }

  /** What lives at each path (after start()). */
  get paths(): PathManager | undefined {
    return this.#paths;
  }

  /** Live streams by path. */
  get live(): StreamRegistry | undefined {
    return this.#registry;
  }

  /** The first RTSP port listened on. */
  get port(): number {
    return this.#ports('rtsp')[0] ?? 0;
  }

  /** The extra HTTP-tunnelling ports listened on (rtsp.httpPorts, resolved when 0 was asked). */
  get httpPorts(): number[] {
    return this.#ports('http');
  }

  /** The RTSPS ports listened on (tls.ports, resolved when 0 was asked). */
  get tlsPorts(): number[] {
    return this.#ports('tls');
  }

  #ports(kind: ListenerKind): number[] {
    return [...new Set(this.#addresses.filter((a) => a.kind === kind).map((a) => a.port))];
  }

  /** Starts everything; a StartupError (a missing media folder, a port in use, unusable TLS
   * files) is logged as FATAL first, so that Error.log says why the server did not start, and
   * whatever had started is stopped again. */
  async start(): Promise<ListeningAddress[]> {
    const logFiles = (this.#logFiles ??= LogFiles.open(this));
    try {
      return await this.#start(logFiles);
    } catch (e) {
      if (e instanceof StartupError) this.log.fatal(e.message);
      await this.stop();
      throw e;
    }
  }

  async #start(logFiles: LogFiles): Promise<ListeningAddress[]> {
    const cfg = this.config;
    let mediaRoot: string;
    try {
      mediaRoot = realpathSync(cfg.media.dir);
    } catch {
      throw new StartupError(`media folder ${cfg.media.dir} does not exist`);
    }
    this.#mediaRoot = mediaRoot;
    const tls = cfg.tls.ports.length > 0 ? this.#readTlsFiles() : undefined;
    this.#metrics = new Metrics({ server: this });
    this.#clientSampler = setInterval(() => this.clients.sample(), CLIENT_SAMPLE_MS);
    this.#clientSampler.unref();
    const liveSettings = () => this.config.live;
    this.#registry = new StreamRegistry({
      // Read at each check, so a reload reaches it.
      get publisherTimeout() {
        return liveSettings().publisherTimeout;
      },
      log: this.log.child({ component: 'live' }),
      events: this.events,
    });
    this.#merged = this.config.paths;
    const ports = new UdpPortAllocator({ min: cfg.rtp.portMin, max: cfg.rtp.portMax });
    // Every kind of configured source has its starter: the type refuses a table with one missing.
    const starters: SourceStarters = { ...SOURCE_STARTERS, ...relayStarters({ events: this.events, serverId: this.serverId, udpPorts: ports, clients: this.clients }) };
    // The running config, with relays.dssConfig's paths merged into `paths`.
    const running = () => this.config;
    const merged = () => this.#merged;
    const view: Pick<Config, 'live' | 'paths' | 'vod' | 'state' | 'logs'> = {
      get live() {
        return running().live;
      },
      get paths() {
        return merged();
      },
      get vod() {
        return running().vod;
      },
      get state() {
        return running().state;
      },
      get logs() {
        return running().logs;
      },
    };
    this.#paths = new PathManager({
      config: () => view,
      mediaRoot,
      registry: this.#registry,
      events: this.events,
      log: this.log.child({ component: 'live' }),
      starters,
    });
    this.#handler = new RtspHandler({
      registry: this.#registry,
      paths: this.#paths,
      config: cfg,
      mediaRoot,
      sessions: this.sessions,
      pacer: this.#pacer,
      ports,
      log: this.log.child({ component: 'rtsp' }),
      cname: `rivulet@${hostname()}`,
      events: this.events,
      serverId: this.serverId,
      clients: this.clients,
      readCache: this.#readCache,
      packets: this.#packets,
    });
    this.#gate = new AdmissionGate({ inner: this.#handler, admission: this.#admission, sessions: this.sessions, events: this.events });
    const tunnelLog = this.log.child({ component: 'http' });
    this.#broker = new TunnelBroker({
      connect: (tunnel) => this.#connect(tunnel),
      log: tunnelLog,
      serverHeader: cfg.rtsp.serverHeader,
    });
    const radioLog = this.log.child({ component: 'radio' });
    this.#radio = new RadioService({
      config: () => this.config,
      registry: this.#registry,
      paths: this.#paths,
      authorizer: this.#handler.authorizer,
      admission: this.#admission,
      clients: this.clients,
      events: this.events,
      log: radioLog,
    });
    this.#radioHttp = new HttpRouter({ log: radioLog, serverHeader: cfg.rtsp.serverHeader }).add(...this.#radio.routes({ catchAll: true }));
    // RTSP's first: its tunnel halves are GETs and POSTs of any path, told by their cookie; its
    // reference movie is a last-resort route, so the radio routes still come before it.
    this.#http = new HttpRouter<RtspRequest>({ log: tunnelLog, serverHeader: cfg.rtsp.serverHeader }).add(
      ...rtspHttpRoutes({
        broker: this.#broker,
        paths: this.#paths,
        authorizer: this.#handler.authorizer,
        auth: () => this.config.auth,
        events: this.events,
        rtspPortFor: (local) => (this.#ports('rtsp').includes(local) ? local : this.port),
      }),
      ...this.#radio.routes(),
    );
    const opened = (server: Server, addr: ListeningAddress) => {
      this.#listeners.push(server);
      this.#addresses.push(addr);
    };
    try {
      const plain = () => createServer((socket) => this.#accept(socket));
      await listenAll('rtsp', cfg.rtsp.ports, cfg.rtsp.bind, plain, opened, this.log);
      await listenAll('http', cfg.rtsp.httpPorts, cfg.rtsp.bind, plain, opened, this.log);
      if (tls) {
        const secure = () =>
          createTlsServer({ ...tls, handshakeTimeout: cfg.limits.requestTimeout * 1000 }, (socket) => this.#accept(socket)).on('tlsClientError', (e, socket) => {
            // Node reports a handshake that timed out (or failed) here but leaves the socket open
            // once a listener exists: a client stalling mid-handshake would hold it forever.
            this.log.debug({ err: e.message }, 'TLS handshake failed');
            socket.destroy();
          });
        await listenAll('tls', cfg.tls.ports, cfg.rtsp.bind, secure, opened, this.log);
      }
      await this.#listenRadio(opened);
    } catch (e) {
      if (e instanceof ListenError) throw new StartupError(e.message);
      throw e;
    }
    const timeoutMs = cfg.rtsp.sessionTimeout * 1000;
    this.#reaper = setInterval(() => this.#reap(timeoutMs), Math.min(1000, timeoutMs / 4));
    this.#reaper.unref();
    this.#memory = new MemoryRelease({ intervalMs: MEMORY_RELEASE_MS, log: this.log });
    // Process-wide: every UDP viewer's packets leave through the one send queue.
    const udpMode = configureUdpSending(cfg.rtp.sendThread, this.log);
    this.log.info({ mode: udpMode }, `UDP RTP: ${describeUdpSending(udpMode)}`);
    if (cfg.control.socket !== '') {
      const control = await ControlSocket.open(cfg.control.socket, playlistApiRoutes(this.#paths), this.log.child({ component: 'control' }));
      // stop() may have run meanwhile: it could not close what was not there yet.
      if (this.#stopping) await control?.close();
      else this.#control = control;
    }
    this.#destinations = new RelayDestinations({
      registry: this.#registry,
      events: this.events,
      config: () => this.config,
      log: this.log.child({ component: 'relay' }),
      serverId: this.serverId,
      ports,
      paths: () => this.#merged,
      clients: this.clients,
    });
    // Always-on configured sources start once the server is up (the DSS relays' need its ports),
    // then the destinations of the paths they and publishers feed.
    await this.#readDssRelays();
    this.#paths.applySources(await this.#scanPlaylists(mediaRoot));
    this.#destinations.apply();
    this.log.info({ serverId: this.serverId }, 'relay requests name this server in their Via');
    if (this.configFile !== undefined && !this.#stopping) {
      this.#watcher = new ConfigWatcher({ file: this.configFile, changed: () => this.#fileChanged(), log: this.log, debounceMs: this.#watchDebounceMs });
    }
    try {
      const admin = await startAdmin(this, { metrics: this.#metrics, logFiles });
      if (this.#stopping) await admin?.close();
      else this.#admin = admin;
    } catch (e) {
      if (e instanceof ListenError) throw new StartupError(e.message);
      throw e;
    }
    return this.#addresses;
  }

  /** Reads relays.dssConfig (none when it is ""), logs each of its issues once, and merges its
   * relays into the paths. A file that cannot be read is logged; the relays last read from it
   * run on. */
  async #readDssRelays(): Promise<void> {
    const file = this.config.relays.dssConfig;
    const log = this.log.child({ component: 'relay' });
    const logIssue = (i: DssRelayIssue) =>
      log[i.level]({ file, line: i.line, relay: i.relay || undefined, element: i.element }, `relays.dssConfig: ${i.reason}`);
    if (file === '') this.#dssPaths = [];
    else {
      try {
        const dss = await readDssRelayConfig(file, { rtspPorts: this.#ports('rtsp') });
        dss.issues.forEach(logIssue);
        this.#dssPaths = dss.paths;
        log.info({ file, relays: dss.paths.map((p) => p.name).join(', ') || 'none' }, 'relays.dssConfig read');
      } catch (e) {
        log.error({ file, err: (e as Error).message }, `relays.dssConfig cannot be used: ${(e as Error).message}${this.#dssPaths.length ? '; the relays last read from it run on' : ''}`);
      }
    }
    this.#mergePaths(logIssue);
  }

  /** `paths:` with the DSS relays merged in; a merge issue (a YAML entry of the same name) is
   * logged by `logIssue` when given. */
  #mergePaths(logIssue?: (i: DssRelayIssue) => void): void {
    if (this.#dssPaths.length === 0) {
      this.#merged = this.config.paths;
      return;
    }
    const merged = mergeDssPaths(this.config.paths, this.#dssPaths);
    if (logIssue) merged.issues.forEach(logIssue);
    this.#merged = merged.paths;
  }

  /** The playlists of playlists.folder (none when it is ""), its problems logged. */
  async #scanPlaylists(mediaRoot: string): Promise<FolderPlaylist[]> {
    const folder = this.config.playlists.folder;
    if (folder === '') return [];
    const scan = await scanPlaylistFolder(folder, { mediaRoot });
    for (const p of scan.problems) this.log.warn({ folder }, `playlists.folder: ${formatIssue(p)}`);
    return scan.playlists;
  }

  #readTlsFiles(): { cert: Buffer; key: Buffer } {
    const { cert, key } = this.config.tls;
    if (!cert || !key) throw new StartupError(`RTSPS needs tls.cert and tls.key`);
    try {
      return readTlsPair({ cert, key }, 'tls');
    } catch (e) {
      throw e instanceof TlsFilesError ? new StartupError(e.message) : e;
    }
  }

  /** The radio ports (radio.ports): a port that cannot be bound is logged and skipped, so a
   * machine where 8000 is taken still serves RTSP (and radio on the RTSP ports). */
  async #listenRadio(opened: (server: Server, addr: ListeningAddress) => void): Promise<void> {
    const { ports, bind } = this.config.radio;
    const radio = () => createServer((socket) => this.#acceptRadio(socket));
    for (const port of ports) {
      try {
        await listenAll('radio', [port], bind, radio, opened, this.log);
      } catch (e) {
        if (!(e instanceof ListenError)) throw e;
        this.log.error(`${e.message}; internet radio is still taken on the RTSP ports`);
      }
    }
    const radioPorts = this.#ports('radio');
    if (radioPorts.length > 0) this.log.info({ ports: radioPorts }, `internet radio (Icecast/SHOUTcast sources, ICY listeners) on port ${radioPorts.join(', ')}`);
  }

  /** Internet radio now: ICY listeners, radio sources, and listeners dropped for falling behind. */
  radioStats(): { listeners: number; sources: number; listenersDropped: number } {
    const r = this.#radio;
    return { listeners: r?.listeners.size ?? 0, sources: r?.sourceCount ?? 0, listenersDropped: r?.listenersDropped ?? 0 };
  }

  /** The multicast groups live streams send to now (multicast viewers). */
  multicastGroups(): MulticastGroupInfo[] {
    return this.#handler?.multicastGroups() ?? [];
  }

  /** The radio ports listened on (radio.ports, resolved when 0 was asked). */
  get radioPorts(): number[] {
    return this.#ports('radio');
  }

  /** Every reader of every protocol, as admission counts them. */
  *#allReaders(): Iterable<CountedReader> {
    yield* rtspReaders(this.sessions);
    if (this.#radio) yield* this.#radio.listeners;
  }

  /** A connection on a radio port. */
  #acceptRadio(socket: Socket): void {
    if (!this.#radio || !this.#radioHttp || this.#stopping) {
      socket.destroy();
      return;
    }
    if (!this.#perIp.admit(socket)) return;
    const cfg = () => this.config;
    serveRadioConnection(socket, {
      router: this.#radioHttp,
      service: this.#radio,
      log: this.log.child({ component: 'radio' }),
      head: () => ({ maxHeaderBytes: cfg().rtsp.maxHeaderBytes, maxHeaderCount: cfg().rtsp.maxHeaderCount, timeoutMs: cfg().limits.requestTimeout * 1000 }),
    });
  }

  /** A new TCP (or TLS) connection: RTSP, or HTTP for the router (a tunnel half, a reference
   * movie), as its first bytes tell. */
  #accept(socket: Socket): void {
    if (!this.#handler || this.#stopping) {
      socket.destroy();
      return;
    }
    if (!this.#perIp.admit(socket)) return;
    const cfg = this.config;
    this.#sniffing.add(socket);
    socket.once('close', () => this.#sniffing.delete(socket));
    const sniff = {
      maxHeaderBytes: cfg.rtsp.maxHeaderBytes,
      maxBodyBytes: cfg.rtsp.maxBodyBytes,
      timeoutMs: cfg.rtsp.sessionTimeout * 1000,
      requestTimeoutMs: cfg.limits.requestTimeout * 1000,
      extraMethods: RADIO_METHODS,
      lineOpening: isSourceLine,
    };
    sniffOpening(socket, sniff, (o) => {
      this.#sniffing.delete(socket);
      if (this.#stopping) {
        socket.destroy();
        return;
      }
      if (o.kind === 'rtsp') {
        this.#connect(socket);
        socket.resume();
        return;
      }
      if (o.kind === 'line') {
        this.#radio?.sourceLine(socket, o.line, o.rest);
        return;
      }
      this.#http!.serve(socket, o.request, o.rest);
    });
  }

  /** Runs an RTSP connection over a socket or a paired HTTP tunnel. */
  #connect(socket: ConnectionSocket): void {
    if (!this.#handler || this.#stopping) {
      socket.destroy();
      return;
    }
    const conn = new RtspConnection({
      socket,
      handler: this.#gate ?? this.#handler,
      log: this.log.child({ component: 'rtsp' }),
      maxHeaderBytes: this.config.rtsp.maxHeaderBytes,
      maxBodyBytes: this.config.rtsp.maxBodyBytes,
      batcher: this.#batcher,
      // Read at each use, so a SIGHUP reload reaches connections already open.
      limits: () => {
        const l = this.config.limits;
        return {
          maxLineBytes: this.config.rtsp.maxLineBytes,
          maxHeaderCount: this.config.rtsp.maxHeaderCount,
          maxPendingRequests: l.maxPendingRequests,
          requestTimeoutMs: l.requestTimeout * 1000,
          maxUnsentBytes: l.maxUnsentBytes,
          mediaUnsentBytes: this.config.live.viewerQueueBytes + VOD_BACKLOG_BYTES,
          sendStallTimeoutMs: l.sendStallTimeout * 1000,
        };
      },
    });
    this.connections.add(conn);
    conn.onClosed = () => {
      this.connections.delete(conn);
      this.#admission.leave(conn);
    };
  }

  #reap(timeoutMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.closed) this.sessions.delete(id);
      else if (now - s.lastHeard > timeoutMs) {
        s.close('timeout');
        this.sessions.delete(id);
      } else if (!s.started && now - s.createdAt >= timeoutMs) {
        // Keep-alives (requests, RTCP) must not let a client hoard sessions it never uses.
        s.close('never played or recorded within rtsp.sessionTimeout of its SETUP');
        this.sessions.delete(id);
      }
    }
    // Connections holding no session that have been silent for three session timeouts are
    // dropped. One that set up a UDP session still holds it: ffmpeg publishing over UDP sends
    // nothing on its RTSP connection, and stops publishing when that connection closes.
    for (const c of this.connections) {
      if (c.sessions.size === 0 && now - c.lastActivity > timeoutMs * 3 && this.#handler?.sessionsSetUpOn(c) === 0) c.close();
    }
  }

  /** Admission figures now: what counts against limits.maxConnections and maxBandwidthKbps. */
  get load(): { connections: number; bandwidthKbps: number } {
    return { connections: this.#admission.clientsInUse(), bandwidthKbps: this.#admission.bandwidthInUse() };
  }

  /** Applies new limits at once (config reload): every `limits.*` key is copied into the running
   * config, which everything reads at use time, so new connections and requests obey them while
   * those already admitted carry on. Returns the keys that changed. */
  setLimits(limits: Partial<Config['limits']>): string[] {
    const running = this.config.limits as Record<string, unknown>;
    const changes: string[] = [];
    for (const [key, value] of Object.entries(limits)) {
      if (value === undefined || JSON.stringify(running[key]) === JSON.stringify(value)) continue;
      changes.push(`limits.${key} ${JSON.stringify(running[key])} → ${JSON.stringify(value)}`);
      running[key] = value;
    }
    if (changes.length > 0) this.log.info({ changed: changes.join(', ') }, `admission limits changed: ${changes.join(', ')}`);
    return changes.map((c) => c.split(' ')[0]);
  }

  /** Applies a new `paths:` section at once (config reload): publishers arriving from now on get
   * its settings; streams already live keep the grace time they were published with until their
   * next publisher. Configured sources follow it: one removed or changed is stopped (its viewers
   * get BYE), a new always-on one starts now, a new on-demand one at its first viewer. Returns
   * whether it changed. */
  setPaths(paths: Config['paths']): boolean {
    if (!this.#takePaths(paths)) return false;
    this.#mergePaths();
    this.#paths?.applySources();
    this.#destinations?.apply();
    return true;
  }

  /** Puts `paths` in the running config; false when it is what runs already. */
  #takePaths(paths: Config['paths']): boolean {
    if (JSON.stringify(paths) === JSON.stringify(this.config.paths)) return false;
    this.config.paths = paths;
    this.log.info({ paths: Object.keys(paths).join(', ') || 'none' }, 'per-path settings changed');
    return true;
  }

  /** Applies a reloaded config's `paths:` and `playlists.folder` (SIGHUP): the folder is scanned
   * again and every configured source brought in line, also when nothing in the config changed,
   * since a playlist's files may have (a running playlist takes the change at its next item).
   * Reloads run one after another. Returns the keys that changed. */
  reloadSources(next: Pick<Config, 'paths' | 'playlists' | 'relays'>): Promise<string[]> {
    const run = async (): Promise<string[]> => {
      const changed = this.#takePaths(next.paths) ? ['paths'] : [];
      if (next.playlists.folder !== this.config.playlists.folder) {
        this.config.playlists.folder = next.playlists.folder;
        changed.push('playlists.folder');
      }
      if (next.relays.dssConfig !== this.config.relays.dssConfig) {
        this.config.relays.dssConfig = next.relays.dssConfig;
        changed.push('relays.dssConfig');
      }
      const paths = this.#paths;
      if (!paths || this.#stopping) return changed;
      // The DSS file is read again whether or not its name changed: its relays may have.
      await this.#readDssRelays();
      paths.applySources(await this.#scanPlaylists(this.#mediaRoot));
      this.#destinations?.apply();
      return changed;
    };
    const done = this.#reloading.then(run, run);
    this.#reloading = done.catch(() => undefined);
    return done;
  }

  /** Stops listening, sends RTCP BYE to every viewer, closes every socket. With `drainMs`, open
   * RTSP connections stay that long after the BYEs, answering 503 to whatever they still ask
   * (players send TEARDOWN on BYE), before they are closed. */
  stop(opts: { drainMs?: number } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#handler) this.#handler.refusing = true;
      this.#watcher?.close();
      if (this.#reaper) clearInterval(this.#reaper);
      if (this.#clientSampler) clearInterval(this.#clientSampler);
      this.#memory?.stop();
      const admin = this.#admin?.close();
      this.#metrics?.close();
      this.#broker?.close();
      const control = this.#control?.close();
      for (const s of this.#sniffing) s.destroy();
      this.#sniffing.clear();
      const closing = this.#listeners.map((l) => new Promise<void>((r) => l.close(() => r())));
      // Before the registry ends their streams, so always-on sources are not started again and
      // destinations do not wait for them.
      this.#paths?.close();
      this.#destinations?.close();
      this.#radio?.close();
      this.#registry?.close('server shutting down');
      for (const s of this.sessions.values()) s.close('server shutting down');
      this.sessions.clear();
      this.#pacer.stop();
      this.#batcher?.stop();
      if (opts.drainMs && this.connections.size > 0) await new Promise((r) => setTimeout(r, opts.drainMs));
      for (const c of this.connections) c.close();
      await Promise.all([...closing, control, admin]);
      await this.#logFiles?.close();
    })();
    return this.#stopping;
  }
}
