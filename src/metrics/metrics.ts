/** The server's Prometheus metrics (served at /metrics on the admin port), in a registry of its
 * own so that several servers in one process keep theirs apart. Nothing is counted per packet:
 * refusals and auth failures are counted as their core events come, and everything else is read
 * from the server's state when scraped (the client directory, the ended clients' totals kept
 * by path, live streams, relay legs, admission, internet radio). Per-path label sets exist only
 * for paths that do (a client, a live stream, a relay leg or a `paths:` entry there, or the file
 * clients read still below media.dir), and at most `maxPaths` of them; the rest are summed under
 * path="other". */
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ClientFigures, ClientInfo, CoreEventMap, RelayState, RelayStatus } from '../core/index.js';
import { addCounts, PathTable, zeroCounts, type PathCounts } from './path-table.js';
import { processRegistry } from './process-metrics.js';
import { authFailure, refusalReason, statusLabel, word } from './reasons.js';
import type { MetricsClientRow, MetricsServer } from './server-view.js';

export interface MetricsOptions {
  /** The server measured (`RivuletServer` satisfies it). */
  server: MetricsServer;
  /** Most paths with label sets of their own in the per-path metrics; the others are summed
   * under path="other". Default 1000. */
  maxPaths?: number;
  /** Add the process and Node.js metrics (standard names, shared by every server in the
   * process). Default true. */
  processMetrics?: boolean;
}

const RELAY_STATES: readonly RelayState[] = ['connecting', 'playing', 'retrying', 'stopped'];
/** Label sets of `rivulet_clients` (kind × protocol × transport, all named by code). */
const MAX_CLIENT_CLASSES = 200;

type Metric<L extends string> = Gauge<L> | Counter<L>;
type Row<L extends string> = [Partial<Record<L, string>>, number];

/** What a client did, as the per-path counters add it. */
function countsOf(f: ClientFigures): PathCounts {
  return { sentBytes: f.bytesSent, sentPackets: f.packetsSent, receivedBytes: f.bytesReceived, lostPackets: f.packetsLost, resentPackets: f.packetsResent ?? 0 };
}

/** Relay legs are counted from their relay status (`server.relays`), whether or not their
 * adapter also lists them as clients. */
const isRelay = (c: ClientInfo) => c.kind === 'relay';

/** Replaces a metric's label sets with `rows` (label sets of things gone disappear). */
function fill<L extends string>(metric: Metric<L>, rows: Iterable<Row<L>>): void {
  metric.reset();
  for (const [labels, v] of rows) {
    const value = Number.isFinite(v) ? v : 0;
    if (metric instanceof Gauge) metric.set(labels, value);
    else metric.inc(labels, Math.max(0, value));
  }
}

/** Counts of each distinct key. */
function tally(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

function define(registry: Registry) {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name: `rivulet_${name}`, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: `rivulet_${name}`, help, labelNames, registers });
  const leg = ['path', 'role', 'target'] as const;
  return {
    buildInfo: gauge('build_info', 'Always 1; the running version in its label.', ['version']),
    startTime: gauge('start_time_seconds', 'When the server started, seconds since the Unix epoch.'),
    clients: gauge('clients', 'Clients connected now (sessions of viewers, publishers, tunnels, relay legs) by kind, protocol and transport.', ['kind', 'protocol', 'transport']),
    clientsTotal: counter('client_sessions_total', 'Clients connected since the server started.'),
    bytesServed: counter('served_bytes_total', 'Media bytes sent to clients since the server started, all paths.'),
    connections: gauge('admission_connections', 'Connections counted against limits.maxConnections now.'),
    connectionsLimit: gauge('admission_connections_limit', 'limits.maxConnections (0: no limit).'),
    bandwidth: gauge('admission_bandwidth_bytes_per_second', 'Media rate counted against limits.maxBandwidthKbps now.'),
    bandwidthLimit: gauge('admission_bandwidth_limit_bytes_per_second', 'limits.maxBandwidthKbps in bytes/s (0: no limit).'),
    sentBytes: counter('path_sent_bytes_total', 'Media bytes sent to the clients and relay destinations of a path (clients gone included).', ['path']),
    sentPackets: counter('path_sent_packets_total', 'RTP packets sent to the clients of a path (clients gone included).', ['path']),
    receivedBytes: counter('path_received_bytes_total', 'Bytes received on a path: media from its publisher or relay source, RTCP from its viewers.', ['path']),
    lostPackets: counter('path_lost_packets_total', 'RTP packets lost on a path: reported by its viewers (RTCP), missed from its publisher or relay source, or reported by relay destinations.', ['path']),
    resentPackets: counter('path_resent_packets_total', 'RTP packets sent again at the request of viewers of a path (RTX answering NACKs, or QuickTime reliable UDP), clients gone included.', ['path']),
    jitter: gauge('path_jitter_seconds', 'Highest RTCP interarrival jitter a client of the path reports now.', ['path']),
    livePaths: gauge('live_paths', 'Live streams now by state (active: fed by a source; waiting: its source left, within the grace time).', ['state']),
    publishers: gauge('publishers', 'Live paths fed by a source now (publisher, relay pull, playlist, SDP feed) by kind of source.', ['kind']),
    relayState: gauge('relay_state', 'Each relay leg: 1 for the state it is in, 0 for the others.', [...leg, 'state']),
    relayReconnects: counter('relay_reconnects_total', 'Attempts of a relay leg that failed or dropped since it was configured.', leg),
    relayBytes: counter('relay_bytes_total', 'Bytes a relay leg received (in: pulled) or sent on (out: pushed, forwarded).', [...leg, 'direction']),
    relayLost: counter('relay_lost_packets_total', 'RTP packets a relay leg lost (pulled: missing by sequence number; pushed: reported by the far end).', leg),
    multicastGroups: gauge('multicast_groups', 'Multicast groups live streams send to now (one per stream with viewers over multicast, and lingering ones).'),
    multicastViewers: gauge('multicast_viewers', 'Viewers receiving live streams by multicast now.'),
    radioListeners: gauge('radio_listeners', 'ICY listeners (internet radio over HTTP) connected now.'),
    radioSources: gauge('radio_sources', 'Icecast and SHOUTcast sources feeding a mount now (a playlist on a mount counts in rivulet_publishers).'),
    radioDropped: counter('radio_listeners_dropped_total', 'ICY listeners dropped since the server started for falling more than radio.maxFlowControlTime behind.'),
    refusals: counter('refusals_total', 'Requests refused by a limit, a rule or authentication, by status and reason (a limits key, busy, resources, or an auth reason).', ['protocol', 'status', 'reason']),
    authFailures: counter('auth_failures_total', 'Wrong, missing or refused credentials for a protected path, by reason.', ['protocol', 'reason']),
  };
}

export class Metrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #registry = new Registry();
  readonly #server: MetricsServer;
  readonly #paths: PathTable;
  readonly #withProcess: boolean;
  readonly #m: ReturnType<typeof define>;
  readonly #off: (() => void)[] = [];
  /** The scrape under way: scrapes run one after another, so none fills the registry while
   * another is reading it. */
  #scraping: Promise<unknown> = Promise.resolve();

  constructor(opts: MetricsOptions) {
    this.#server = opts.server;
    this.#paths = new PathTable(opts.maxPaths ?? 1000);
    this.#withProcess = opts.processMetrics ?? true;
    this.#m = define(this.#registry);
    this.#on('client.ended', (r) => {
      if (!isRelay(r)) this.#paths.ended(r.path, countsOf(r), r.kind === 'rtsp-file' || r.fileSize > 0);
    });
    this.#on('session.refused', (e) => {
      const limits = new Set(Object.keys(this.#server.config.limits));
      this.#m.refusals.inc({ protocol: word(e.protocol), status: statusLabel(e.status), reason: refusalReason(e.status, e.reason, limits) });
    });
    this.#on('auth.failed', (e) => {
      const f = authFailure(e);
      this.#m.refusals.inc({ protocol: word(e.protocol), status: statusLabel(f.status), reason: f.reason });
      this.#m.authFailures.inc({ protocol: word(e.protocol), reason: f.reason });
    });
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    const next = this.#scraping.then(async () => {
      await this.#refresh();
      const own = await this.#registry.metrics();
      return this.#withProcess ? own + (await processRegistry().metrics()) : own;
    });
    this.#scraping = next.catch(() => undefined);
    return next;
  }

  close(): void {
    for (const off of this.#off.splice(0)) off();
  }

  /** Listens to a core event; a listener's failure is swallowed, never thrown into the emitter
   * (which may be on the hot path of a session). */
  #on<K extends keyof CoreEventMap>(event: K, fn: (...args: CoreEventMap[K]) => void): void {
    const events = this.#server.events;
    const listener = (...args: CoreEventMap[K]) => {
      try {
        fn(...args);
      } catch {
        // A metric left uncounted is better than a session broken.
      }
    };
    // The emitter's overloads cannot follow a generic event name.
    (events.on as (e: K, l: typeof listener) => void).call(events, event, listener);
    this.#off.push(() => (events.off as (e: K, l: typeof listener) => void).call(events, event, listener));
  }

  async #refresh(): Promise<void> {
    const s = this.#server;
    const m = this.#m;
    const rows = s.clients.list();
    const streams = s.live ? [...s.live.streams] : [];
    const relays = [...s.relays.values()];

    m.buildInfo.reset();
    m.buildInfo.set({ version: s.version }, 1);
    m.startTime.set(s.startedAt / 1000);
    fill(m.clientsTotal, [[{}, s.clients.totalConnections]]);
    fill(m.bytesServed, [[{}, s.clients.totalBytesSent]]);
    m.connections.set(s.load.connections);
    m.connectionsLimit.set(s.config.limits.maxConnections);
    // kbit/s → bytes/s, the base unit.
    m.bandwidth.set(s.load.bandwidthKbps * 125);
    m.bandwidthLimit.set(s.config.limits.maxBandwidthKbps * 125);

    // Kinds, protocols and transports are named by code; the cap only guards against a bug.
    const classes = tally(rows.map((r) => JSON.stringify([word(r.kind), word(r.protocol), word(r.transport)])));
    fill(
      m.clients,
      [...classes].slice(0, MAX_CLIENT_CLASSES).map(([k, n]): Row<'kind' | 'protocol' | 'transport'> => {
        const [kind, protocol, transport] = JSON.parse(k) as string[];
        return [{ kind, protocol, transport }, n];
      }),
    );

    const live = streams.filter(([, st]) => st.state !== 'ended');
    fill(m.livePaths, [...tally(live.map(([, st]) => (st.state === 'active' ? 'active' : 'waiting')))].map(([state, n]) => [{ state }, n]));
    fill(m.publishers, [...tally(live.flatMap(([, st]) => (st.source ? [word(st.source.kind)] : [])))].map(([kind, n]) => [{ kind }, n]));

    fill(m.relayState, relays.flatMap((r) => RELAY_STATES.map((state): Row<string> => [{ ...legLabels(r), state }, r.state === state ? 1 : 0])));
    fill(m.relayReconnects, relays.map((r) => [legLabels(r), r.reconnects]));
    fill(m.relayBytes, relays.flatMap((r): Row<string>[] => [[{ ...legLabels(r), direction: 'in' }, r.bytesIn], [{ ...legLabels(r), direction: 'out' }, r.bytesOut]]));
    fill(m.relayLost, relays.map((r) => [legLabels(r), r.packetsLost]));

    const groups = s.multicastGroups();
    m.multicastGroups.set(groups.length);
    m.multicastViewers.set(groups.reduce((n, g) => n + g.members, 0));

    const radio = s.radioStats();
    m.radioListeners.set(radio.listeners);
    m.radioSources.set(radio.sources);
    fill(m.radioDropped, [[{}, radio.listenersDropped]]);

    await this.#perPath(rows, live.map(([k]) => k), relays);
  }

  async #perPath(rows: MetricsClientRow[], streams: string[], relays: RelayStatus[]): Promise<void> {
    const s = this.#server;
    const m = this.#m;
    const configured = Object.keys(s.config.paths).filter((k) => !k.startsWith('~'));
    const exists = new Set([...rows.map((r) => r.path), ...streams, ...relays.map((r) => r.path), ...configured]);
    const files = this.#paths.fileLabels().filter((p) => !exists.has(p));
    const found = await Promise.all(files.map((p) => fileBelow(s.config.media.dir, p)));
    files.forEach((p, i) => found[i] && exists.add(p));
    this.#paths.retain((p) => exists.has(p));

    const byPath = this.#paths.endedCounts();
    const at = (path: string): [string, PathCounts] => {
      const label = this.#paths.label(path);
      let c = byPath.get(label);
      if (!c) byPath.set(label, (c = zeroCounts()));
      return [label, c];
    };
    const jitter = new Map<string, number>();
    for (const r of rows) {
      if (isRelay(r)) continue;
      const [label, c] = at(r.path);
      addCounts(c, countsOf(r));
      if (r.jitter !== undefined && Number.isFinite(r.jitter)) jitter.set(label, Math.max(jitter.get(label) ?? 0, r.jitter / 1000));
    }
    for (const r of relays) {
      const [, c] = at(r.path);
      addCounts(c, { sentBytes: r.bytesOut, sentPackets: 0, receivedBytes: r.bytesIn, lostPackets: r.packetsLost, resentPackets: 0 });
    }
    const per = (key: keyof PathCounts): Row<'path'>[] => [...byPath].map(([path, c]) => [{ path }, c[key]]);
    fill(m.sentBytes, per('sentBytes'));
    fill(m.sentPackets, per('sentPackets'));
    fill(m.receivedBytes, per('receivedBytes'));
    fill(m.lostPackets, per('lostPackets'));
    fill(m.resentPackets, per('resentPackets'));
    fill(m.jitter, [...jitter].map(([path, v]) => [{ path }, v]));
  }
}

function legLabels(r: { path: string; role: string; target: string }): Record<'path' | 'role' | 'target', string> {
  return { path: r.path, role: r.role, target: r.target };
}

/** Whether `path` is a file below `root` (a path from a client record, so checked to stay inside). */
async function fileBelow(root: string, path: string): Promise<boolean> {
  const base = resolve(root);
  const file = resolve(base, path);
  if (!file.startsWith(base + sep)) return false;
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
