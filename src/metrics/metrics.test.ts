import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configSchema } from '../config/index.js';
import { CoreEvents, type ClientRecord, type RelayStatus } from '../core/index.js';
import { missingTool } from '../../test/helpers/tools.js';
import { Metrics } from './metrics.js';
import type { MetricsClientRow, MetricsRadioStats, MetricsServer, MetricsStream } from './server-view.js';
import { sample } from './test-helpers/sample.js';

/** A server as the metrics see it, every part settable by the test. */
function fakeServer(mediaDir: string) {
  const rows: MetricsClientRow[] = [];
  const streams = new Map<string, MetricsStream>();
  const relays = new Map<string, RelayStatus>();
  const config = configSchema.parse({ media: { dir: mediaDir } });
  const radio: MetricsRadioStats = { listeners: 0, sources: 0, listenersDropped: 0 };
  const groups: { members: number }[] = [];
  const server: MetricsServer = {
    events: new CoreEvents(),
    clients: { list: () => rows, totalConnections: 7, totalBytesSent: 12345 },
    config,
    startedAt: 1_700_000_000_000,
    version: '1.2.3',
    live: { streams },
    load: { connections: 3, bandwidthKbps: 1500 },
    relays,
    radioStats: () => ({ ...radio }),
    multicastGroups: () => groups,
  };
  return { server, rows, streams, relays, config, radio, groups };
}

let nextId = 1;
function row(o: Partial<MetricsClientRow> & Pick<MetricsClientRow, 'path'>): MetricsClientRow {
  return {
    id: String(nextId++),
    kind: 'rtsp-file',
    protocol: 'rtsp',
    address: '127.0.0.1',
    url: `rtsp://127.0.0.1/${o.path}`,
    transport: 'TCP',
    startedAt: 0,
    bytesSent: 0,
    packetsSent: 0,
    bytesReceived: 0,
    packetsLost: 0,
    bitrateKbps: 0,
    lossPercent: 0,
    ...o,
  };
}

function record(o: Partial<ClientRecord> & Pick<ClientRecord, 'path'>): ClientRecord {
  const { id: _id, bitrateKbps: _b, lossPercent: _l, ...r } = row(o);
  return { status: 200, endedAt: 1, playStart: 0, fileLength: 0, fileSize: 0, reason: 'teardown', ...r, ...o };
}

describe('Metrics', () => {
  const media = mkdtempSync(join(tmpdir(), 'rivulet-metrics-'));
  writeFileSync(join(media, 'movie.mp4'), 'x');
  after(() => rmSync(media, { recursive: true, force: true }));

  it('reports server info, admission, clients by kind and per-path figures of live and ended clients', async () => {
    const f = fakeServer(media);
    f.config.limits.maxConnections = 10;
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    f.rows.push(
      row({ path: 'movie.mp4', bytesSent: 1000, packetsSent: 10, bytesReceived: 50, packetsLost: 1, jitter: 4 }),
      row({ path: 'movie.mp4', transport: 'UDP', bytesSent: 500, packetsSent: 5, jitter: 12, packetsResent: 2 }),
      row({ path: 'live/cam', kind: 'publisher', bytesReceived: 9000, packetsLost: 2 }),
    );
    f.streams.set('live/cam', { state: 'active', source: { kind: 'rtsp-record' } });
    f.server.events.emit('client.ended', record({ path: 'movie.mp4', bytesSent: 4000, packetsSent: 40, fileSize: 1, packetsResent: 3 }));

    const text = await metrics.text();
    assert.equal(sample(text, 'rivulet_build_info', { version: '1.2.3' }), 1);
    assert.equal(sample(text, 'rivulet_start_time_seconds'), 1_700_000_000);
    assert.equal(sample(text, 'rivulet_admission_connections'), 3);
    assert.equal(sample(text, 'rivulet_admission_connections_limit'), 10);
    assert.equal(sample(text, 'rivulet_admission_bandwidth_bytes_per_second'), 187_500);
    assert.equal(sample(text, 'rivulet_client_sessions_total'), 7);
    assert.equal(sample(text, 'rivulet_served_bytes_total'), 12345);
    assert.equal(sample(text, 'rivulet_clients', { kind: 'rtsp-file', transport: 'TCP' }), 1);
    assert.equal(sample(text, 'rivulet_clients', { kind: 'rtsp-file', transport: 'UDP' }), 1);
    assert.equal(sample(text, 'rivulet_clients', { kind: 'publisher' }), 1);
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'movie.mp4' }), 5500);
    assert.equal(sample(text, 'rivulet_path_sent_packets_total', { path: 'movie.mp4' }), 55);
    assert.equal(sample(text, 'rivulet_path_received_bytes_total', { path: 'live/cam' }), 9000);
    assert.equal(sample(text, 'rivulet_path_lost_packets_total', { path: 'live/cam' }), 2);
    assert.equal(sample(text, 'rivulet_path_resent_packets_total', { path: 'movie.mp4' }), 5, 'resent to a viewer playing and one gone');
    assert.equal(sample(text, 'rivulet_path_jitter_seconds', { path: 'movie.mp4' }), 0.012);
    assert.equal(sample(text, 'rivulet_path_jitter_seconds', { path: 'live/cam' }), undefined, 'no client reported jitter there');
    assert.equal(sample(text, 'rivulet_publishers', { kind: 'rtsp-record' }), 1);
    assert.equal(sample(text, 'rivulet_live_paths', { state: 'active' }), 1);
    assert.doesNotMatch(text, /^(process|nodejs)_/m, 'process metrics left out when asked');
    metrics.close();
  });

  it('keeps a path while it exists and drops its label sets when it is gone', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    writeFileSync(join(media, 'gone.mp4'), 'x');
    f.streams.set('live/cam', { state: 'active', source: { kind: 'rtsp-record' } });
    f.server.events.emit('client.ended', record({ path: 'live/cam', kind: 'rtsp-live', bytesSent: 100 }));
    f.server.events.emit('client.ended', record({ path: 'gone.mp4', bytesSent: 200 }));
    f.server.events.emit('client.ended', record({ path: 'movie.mp4', bytesSent: 300 }));
    // A refused request leaves a record with nothing in it: no label set for a path asked once.
    f.server.events.emit('client.ended', record({ path: 'no/such/path', status: 401 }));
    let text = await metrics.text();
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'live/cam' }), 100);
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'gone.mp4' }), 200);
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'movie.mp4' }), 300);
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'no/such/path' }), undefined);

    f.streams.delete('live/cam');
    rmSync(join(media, 'gone.mp4'));
    text = await metrics.text();
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'live/cam' }), undefined, 'stream ended');
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'gone.mp4' }), undefined, 'file removed');
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'movie.mp4' }), 300, 'file still there');
    assert.equal(sample(text, 'rivulet_publishers', { kind: 'rtsp-record' }), undefined);
    metrics.close();
  });

  it('a file path read by a client never reaches outside the media folder', async () => {
    const f = fakeServer(join(media, 'sub'));
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    f.server.events.emit('client.ended', record({ path: '../movie.mp4', bytesSent: 300 }));
    assert.equal(sample(await metrics.text(), 'rivulet_path_sent_bytes_total', { path: '../movie.mp4' }), undefined);
    metrics.close();
  });

  it('caps the paths with label sets of their own and sums the rest under path="other"', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false, maxPaths: 2 });
    for (const p of ['a', 'b', 'c', 'd']) f.rows.push(row({ path: p, bytesSent: 10 }));
    /** Bytes sent by path label. */
    const sent = async () => {
      const text = await metrics.text();
      const lines = [...text.matchAll(/^rivulet_path_sent_bytes_total\{path="(\w+)"\} (\d+)$/gm)];
      return Object.fromEntries(lines.map((m) => [m[1], Number(m[2])]));
    };
    assert.deepEqual(await sent(), { a: 10, b: 10, other: 20 });
    // A path gone frees its slot for the next.
    f.rows.splice(0, 1);
    assert.deepEqual(await sent(), { b: 10, c: 10, other: 10 });
    metrics.close();
  });

  it('reports relay legs: state, reconnects, bytes, and their bytes on the path', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    const leg = (o: Partial<RelayStatus> & Pick<RelayStatus, 'role' | 'target' | 'state'>): RelayStatus => ({
      path: 'relayed',
      reconnects: 0,
      bytesIn: 0,
      bytesOut: 0,
      packetsLost: 0,
      bitrateKbps: 0,
      ...o,
    });
    f.relays.set('source', leg({ role: 'source', target: 'rtsp://origin/cam', state: 'playing', reconnects: 2, bytesIn: 7000, packetsLost: 3 }));
    f.relays.set('push', leg({ role: 'push', target: 'rtsp://edge/cam', state: 'retrying', bytesOut: 900 }));
    // Listed as a client too: counted once, from its relay status.
    f.rows.push(row({ path: 'relayed', kind: 'relay', bytesReceived: 7000 }));
    const text = await metrics.text();
    const src = { path: 'relayed', role: 'source', target: 'rtsp://origin/cam' };
    assert.equal(sample(text, 'rivulet_relay_state', { ...src, state: 'playing' }), 1);
    assert.equal(sample(text, 'rivulet_relay_state', { ...src, state: 'retrying' }), 0);
    assert.equal(sample(text, 'rivulet_relay_state', { role: 'push', state: 'retrying' }), 1);
    assert.equal(sample(text, 'rivulet_relay_reconnects_total', src), 2);
    assert.equal(sample(text, 'rivulet_relay_bytes_total', { ...src, direction: 'in' }), 7000);
    assert.equal(sample(text, 'rivulet_relay_bytes_total', { role: 'push', direction: 'out' }), 900);
    assert.equal(sample(text, 'rivulet_relay_lost_packets_total', src), 3);
    assert.equal(sample(text, 'rivulet_path_received_bytes_total', { path: 'relayed' }), 7000);
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'relayed' }), 900);
    assert.equal(sample(text, 'rivulet_path_lost_packets_total', { path: 'relayed' }), 3);
    metrics.close();
  });

  it('reports internet radio as the server has it at each scrape: listeners, sources, listeners dropped', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    let text = await metrics.text();
    assert.equal(sample(text, 'rivulet_radio_listeners'), 0);
    assert.equal(sample(text, 'rivulet_radio_sources'), 0);
    assert.equal(sample(text, 'rivulet_radio_listeners_dropped_total'), 0);
    assert.match(text, /^# TYPE rivulet_radio_listeners gauge$/m);
    assert.match(text, /^# TYPE rivulet_radio_sources gauge$/m);
    assert.match(text, /^# TYPE rivulet_radio_listeners_dropped_total counter$/m);

    Object.assign(f.radio, { listeners: 12, sources: 2, listenersDropped: 3 });
    f.rows.push(row({ path: 'radio', kind: 'icy', protocol: 'icy', bytesSent: 4096 }));
    text = await metrics.text();
    assert.equal(sample(text, 'rivulet_radio_listeners'), 12);
    assert.equal(sample(text, 'rivulet_radio_sources'), 2);
    assert.equal(sample(text, 'rivulet_radio_listeners_dropped_total'), 3);
    assert.equal(sample(text, 'rivulet_clients', { kind: 'icy', protocol: 'icy', transport: 'TCP' }), 1, 'a listener is a client too');
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'radio' }), 4096);

    // Read, not accumulated: the next scrape shows the server's figures again.
    Object.assign(f.radio, { listeners: 11, sources: 1, listenersDropped: 4 });
    text = await metrics.text();
    assert.deepEqual(
      ['rivulet_radio_listeners', 'rivulet_radio_sources', 'rivulet_radio_listeners_dropped_total'].map((n) => sample(text, n)),
      [11, 1, 4],
    );
    metrics.close();
  });

  it('reports the multicast groups and their viewers as the server has them at each scrape', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    let text = await metrics.text();
    assert.deepEqual([sample(text, 'rivulet_multicast_groups'), sample(text, 'rivulet_multicast_viewers')], [0, 0]);
    f.groups.push({ members: 3 }, { members: 1 });
    text = await metrics.text();
    assert.deepEqual([sample(text, 'rivulet_multicast_groups'), sample(text, 'rivulet_multicast_viewers')], [2, 4]);
    f.groups.length = 0;
    text = await metrics.text();
    assert.deepEqual([sample(text, 'rivulet_multicast_groups'), sample(text, 'rivulet_multicast_viewers')], [0, 0]);
    metrics.close();
  });

  it('counts refusals and auth failures by bounded reasons', async () => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server, processMetrics: false });
    const refuse = (status: number, reason: string) => f.server.events.emit('session.refused', { protocol: 'rtsp', client: '10.0.0.1', path: 'x', status, reason });
    refuse(453, 'server full: 2 connections in use, limits.maxConnections is 2');
    refuse(453, 'server full: 2 connections in use, limits.maxConnections is 2');
    refuse(453, 'not enough bandwidth: 10 kbit/s being sent, this stream needs 5, limits.maxBandwidthKbps is 12');
    refuse(453, "ANNOUNCE refused: 'limits.madeUp' is a path a client chose");
    refuse(412, "'limits.maxConnections' is already being broadcast by rtsp 10.0.0.2");
    const fail = (reason: string) => f.server.events.emit('auth.failed', { protocol: 'rtsp', client: '10.0.0.1', path: 'p', reason });
    fail('authentication failed: wrong password');
    fail('/secret/movie.mp4 needs a login');
    fail('/secret/movie.mp4 needs a login and auth.scheme is none');
    fail('user bob may not play /secret/movie.mp4');
    fail('too many failed logins from the address are being held back');
    const text = await metrics.text();
    const refused = (status: string, reason: string) => sample(text, 'rivulet_refusals_total', { protocol: 'rtsp', status, reason });
    assert.equal(refused('453', 'maxConnections'), 2);
    assert.equal(refused('453', 'maxBandwidthKbps'), 1);
    assert.equal(refused('453', 'resources'), 1);
    assert.equal(refused('412', 'busy'), 1);
    assert.equal(refused('401', 'bad-credentials'), 1);
    assert.equal(refused('401', 'no-credentials'), 1);
    assert.equal(refused('401', 'throttled'), 1);
    assert.equal(refused('403', 'forbidden'), 2);
    assert.equal(sample(text, 'rivulet_auth_failures_total', { protocol: 'rtsp', reason: 'forbidden' }), 2);
    assert.equal(sample(text, 'rivulet_auth_failures_total', { protocol: 'rtsp', reason: 'bad-credentials' }), 1);
    metrics.close();
  });

  it('every metric, filled, with paths of any characters, passes promtool check metrics', async (t) => {
    const f = fakeServer(media);
    const metrics = new Metrics({ server: f.server });
    const odd = 'live/"quoted" \\back\nline/ünï';
    f.rows.push(row({ path: odd, kind: 'rtsp-live', bytesSent: 5, packetsSent: 1, jitter: 3 }), row({ path: 'movie.mp4', bytesSent: 9 }));
    f.streams.set(odd, { state: 'active', source: { kind: 'playlist' } });
    f.streams.set('waiting', { state: 'waiting', source: undefined });
    f.relays.set('k', { path: odd, role: 'forward', target: 'udp://239.1.1.1:5000', state: 'playing', reconnects: 1, bytesIn: 0, bytesOut: 10, packetsLost: 0, bitrateKbps: 1 });
    f.server.events.emit('session.refused', { protocol: 'rtsp', client: 'x', status: 453, reason: 'limits.maxConnections' });
    f.server.events.emit('auth.failed', { protocol: 'http', client: 'x', path: odd, reason: 'authentication failed: no such user' });
    Object.assign(f.radio, { listeners: 5, sources: 1, listenersDropped: 2 });
    const text = await metrics.text();
    metrics.close();
    assert.equal(sample(text, 'rivulet_path_sent_bytes_total', { path: 'live/\\"quoted\\" \\\\back\\nline/ünï' }), 15, 'the viewer and the forward leg');
    assert.equal(sample(text, 'rivulet_radio_listeners_dropped_total'), 2);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (r.error) return missingTool(t, 'promtool (Debian prometheus)', 'it checks the metrics text');
    assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  });

  it('keeps each server apart and stops listening when closed', async () => {
    const a = fakeServer(media);
    const b = fakeServer(media);
    const ma = new Metrics({ server: a.server });
    const mb = new Metrics({ server: b.server });
    a.server.events.emit('session.refused', { protocol: 'rtsp', client: 'x', status: 453, reason: 'limits.maxConnections' });
    assert.equal(sample(await ma.text(), 'rivulet_refusals_total', { reason: 'maxConnections' }), 1);
    const tb = await mb.text();
    assert.equal(sample(tb, 'rivulet_refusals_total', { reason: 'maxConnections' }), undefined);
    assert.ok(sample(tb, 'process_cpu_user_seconds_total') !== undefined, 'process metrics included');
    ma.close();
    mb.close();
    assert.equal(a.server.events.listenerCount('session.refused'), 0);
    assert.equal(a.server.events.listenerCount('client.ended'), 0);
  });
});
