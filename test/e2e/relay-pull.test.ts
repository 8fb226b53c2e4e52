/** Relay pull (`paths.<name>.source: rtsp://…`) and `udp://` sources against real peers: Rivulet
 * pulls gst-rtsp-server's live mount over TCP and UDP, and a Digest-protected live path of another
 * Rivulet fed by ffmpeg; ffmpeg and GStreamer decode what it relays. On demand it opens nothing at
 * the origin until a viewer asks and lets go after sourceIdleTimeout. A source that cannot be
 * reached, refuses the credentials or answers garbage is retried with growing delays, and memory
 * and sockets stay flat. Two servers pulling from each other refuse the loop at both ends. A DSS
 * relayconfig.xml plays unchanged. RTP sent by ffmpeg to a `udp://` source plays. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RelayStatus } from '../../src/core/index.js';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { freePort, peerAvailable, startGstPeer, type GstPeer } from '../helpers/gst-peer.js';
import { ffmpegPublish, ffmpegViewer, spawnPublisher, type Publisher } from '../helpers/publish.js';
import { ffmpegDecode, ffprobe, gstDecode, GST_H264 } from '../helpers/run.js';
import { rtpSenderArgs, writtenSdp } from '../helpers/rtp-sender.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

const CLIP = 'h264-aac-faststart.mp4';
const MAIN = join(repoRoot, 'src/cli/main.ts');

/** A YAML config file in `dir` holding `lines`. */
function configFile(dir: string, name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The server's log lines that match `re`. */
const lines = (srv: TestServer, re: RegExp) => srv.logs.filter((l) => re.test(l));

/** Waits until the server has logged a line matching `re`. */
async function logged(srv: TestServer, re: RegExp, ms = 20_000): Promise<void> {
  assert.ok(
    await until(() => srv.logs.some((l) => re.test(l)), ms, 50),
    `no log line matches ${re}:\n${srv.logs.slice(-30).join('')}`,
  );
}

/** The delays (seconds) of a path's "relay source retrying in N s" lines, in order. */
function retryDelays(srv: TestServer, path: string): number[] {
  return lines(srv, new RegExp(`relay source retrying in .* path=${path} `)).map((l) =>
    Number(/retrying in ([\d.]+) s/.exec(l)![1]),
  );
}

/** Waits until the relay at `path` is playing (its stream active, packets in). */
async function relaying(srv: TestServer, path: string, ms = 20_000): Promise<void> {
  const ok = await until(
    () =>
      srv.server.live?.get(path)?.state === 'active' &&
      (srv.server.live.get(path)?.tracks[0].packetsIn ?? 0) > 20,
    ms,
    50,
  );
  assert.ok(ok, `relay ${path} is not playing:\n${srv.logs.slice(-30).join('')}`);
}

/** ffmpeg and GStreamer both decode H.264 from `url` over `transport`; ffprobe sees `codecs`. */
async function decodesEverywhere(url: string, transport: 'tcp' | 'udp', codecs: string[]): Promise<void> {
  const probe = await ffprobe(url, ['-rtsp_transport', transport]);
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), [...codecs].sort());
  const { r, frames } = await ffmpegDecode(url, { frames: 50, transport, timeoutMs: 30_000 });
  assert.equal(frames, 50, r.stderr.slice(-2000));
  const gst = await gstDecode(url, GST_H264, 30, { props: [`protocols=${transport}`], timeoutMs: 30_000 });
  assert.ok(
    gst.decoded >= 30,
    `GStreamer decoded ${gst.decoded} buffers: ${(gst.r.stdout + gst.r.stderr).slice(-2000)}`,
  );
}

/** An even UDP port whose pair (it and the one above) is free now. */
async function freeUdpPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 40000 + 2 * Math.floor(Math.random() * 5000);
    const socks = [createSocket('udp4'), createSocket('udp4')];
    const ok = await Promise.all(
      socks.map(
        (s, j) =>
          new Promise<boolean>((resolve) => {
            s.once('error', () => resolve(false));
            s.bind(port + j, '127.0.0.1', () => resolve(true));
          }),
      ),
    );
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r())).catch(() => undefined)));
    if (ok.every(Boolean)) return port;
  }
  throw new Error('no free UDP port pair');
}

describe('relay pull from gst-rtsp-server', () => {
  let peer: GstPeer | undefined;
  let relay: TestServer | undefined;
  let dir: { dir: string; cleanup: () => void } | undefined;
  const states: RelayStatus[] = [];

  before(async () => {
    if (!peerAvailable()) return;
    dir = tempDir('rivulet-relay-peer-');
    copyFileSync(await fixture(CLIP), join(dir.dir, CLIP));
    peer = await startGstPeer(dir.dir, ['--file', CLIP]);
    const cfg = configFile(dir.dir, 'relay.yaml', [
      'paths:',
      `  peer/tcp: { source: "${peer.url('live')}" }`,
      `  peer/udp: { source: "${peer.url('live')}", sourceTransport: udp }`,
    ]);
    relay = await startServer({ mediaDir: dir.dir, configFile: cfg });
    relay.server.events.on('relay.state', (s) => states.push(s));
  });
  after(async () => {
    await relay?.close();
    await peer?.stop();
    dir?.cleanup();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pulls /live over ${transport}; ffmpeg and GStreamer decode the relayed H.264`, async (t) => {
      if (peer === undefined || relay === undefined)
        return missingTool(t, 'python3-gi gir1.2-gst-rtsp-server-1.0', 'the gst-rtsp-server peer');
      assert.equal(peer.child.exitCode, null, `the peer exited: ${peer.log().slice(-2000)}`);
      const path = `peer/${transport}`;
      await relaying(relay, path);
      // The viewer's transport is the other one: the relay's leg and the viewer's are separate.
      await decodesEverywhere(relay.url(path), transport === 'tcp' ? 'udp' : 'tcp', ['aac', 'h264']);
      const info = relay.server.paths!.sources().find((s) => s.path === path)!;
      const status = info.status as unknown as RelayStatus;
      t.diagnostic(
        `relay ${path}: ${status.bitrateKbps} kbit/s, ${status.bytesIn} bytes in, ${status.packetsLost} lost`,
      );
      assert.equal(status.state, 'playing');
      assert.ok(status.bytesIn > 50_000, `bytes in: ${status.bytesIn}`);
      // Loopback loses nothing, but gst-rtsp-server drops a packet now and then for a client
      // whose queue backs up while a loaded machine (CI runs every test file at once) holds the
      // peer's threads off: a handful is the peer's, a relay losing packets shows far more.
      assert.ok(status.packetsLost <= 5, `hardly anything lost on loopback: ${status.packetsLost}`);
      assert.ok(status.bitrateKbps > 100, `bitrate: ${status.bitrateKbps}`);
      // Each change is an event and a log line (the first came before the test listened).
      assert.ok(states.some((s) => s.path === path && s.state === 'playing'));
      assert.ok(states.every((s) => s.role === 'source' && !s.target.includes('@')));
      const changes = lines(relay, new RegExp(`relay source \\w+ path=${path} `)).map(
        (l) => /relay source (\w+)/.exec(l)![1],
      );
      assert.deepEqual(changes.slice(0, 2), ['connecting', 'playing']);
    });
  }
});

describe('relay pull from another Rivulet', () => {
  let origin: TestServer;
  let relay: TestServer;
  let dir: { dir: string; cleanup: () => void };
  let garbage: Server;
  let silent: Server;
  const held = new Set<Socket>();
  const pubs: Publisher[] = [];

  before(async () => {
    dir = tempDir('rivulet-relay-origin-');
    const media = join(dir.dir, 'origin');
    mkdirSync(join(media, 'digest'), { recursive: true });
    writeFileSync(join(media, 'digest', 'qtaccess'), 'AuthName "Digest area"\nrequire valid-user\n');
    const users = join(dir.dir, 'qtusers');
    const groups = join(dir.dir, 'qtgroups');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'passwd', '-c', '-f', users, '-g', groups, '-p', 'wonder land', 'alice'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    origin = await startServer({
      mediaDir: media,
      sets: [
        `auth.usersFile=${users}`,
        `auth.groupsFile=${groups}`,
        'live.publishAllow=127.0.0.1/32',
        'auth.failuresBeforeDelay=1000',
        'relays.serverId=origin',
      ],
    });
    pubs.push(ffmpegPublish(await fixture(CLIP), origin.url('digest/cam'), 'tcp'));
    // A far end that answers every request with bytes that are not RTSP.
    garbage = createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', () =>
        s.write(Buffer.from('\x00\xffNOT RTSP AT ALL\r\n\r\n$\x07\x00\x10garbagegarbage', 'latin1')),
      );
    });
    await new Promise<void>((res) => garbage.listen(0, '127.0.0.1', res));
    const garbagePort = (garbage.address() as { port: number }).port;
    // A far end that takes the connection and never answers.
    silent = createServer((s) => {
      held.add(s.on('error', () => undefined));
    });
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const silentPort = (silent.address() as { port: number }).port;
    const closed = await freePort();
    const o = `127.0.0.1:${origin.port}`;
    const retry = 'sourceRetry: { min: 0.2, max: 1 }';
    const cfg = configFile(dir.dir, 'relay.yaml', [
      'paths:',
      `  cam: { source: "rtsp://alice:wonder%20land@${o}/digest/cam" }`,
      `  ondemand: { source: "rtsp://alice:wonder%20land@${o}/digest/cam", sourceOnDemand: true, sourceIdleTimeout: 2, sourceDescribeTimeout: 5 }`,
      `  badauth: { source: "rtsp://alice:not-it@${o}/digest/cam", ${retry} }`,
      `  unreachable: { source: "rtsp://127.0.0.1:${closed}/live", ${retry} }`,
      `  garbage: { source: "rtsp://127.0.0.1:${garbagePort}/live", ${retry} }`,
      `  silent: { source: "rtsp://127.0.0.1:${silentPort}/live", sourceOnDemand: true, sourceDescribeTimeout: 1 }`,
      `  switch: { source: "rtsp://${o}/live/switch", ${retry}, graceTime: 10 }`,
    ]);
    relay = await startServer({ mediaDir: dir.dir, configFile: cfg, sets: ['relays.serverId=relay'] });
  });
  after(async () => {
    for (const p of pubs) await p.stop();
    await relay?.close();
    await origin?.close();
    await new Promise((r) => garbage?.close(r));
    for (const s of held) s.destroy();
    await new Promise((r) => silent?.close(r));
    dir?.cleanup();
  });

  it('pulls a Digest-protected live path; ffmpeg and GStreamer decode it, and the origin saw the hop', async () => {
    await relaying(relay, 'cam');
    await decodesEverywhere(relay.url('cam'), 'tcp', ['aac', 'h264']);
    await decodesEverywhere(relay.url('cam'), 'udp', ['aac', 'h264']);
    assert.ok(lines(relay, /relay source playing path=cam /).length >= 1);
    assert.ok(!relay.logs.some((l) => l.includes('wonder')), 'the password is never logged');
  });

  it('on demand: nothing at the origin until the first viewer; it lets go sourceIdleTimeout after the last', async () => {
    await relaying(relay, 'cam');
    const readers = () => origin.server.live?.get('digest/cam')?.readers.size ?? 0;
    // Only the always-on relay reads the origin's stream.
    await sleep(1000);
    assert.equal(readers(), 1);
    assert.equal(
      lines(relay, /relay source connecting path=ondemand /).length,
      0,
      'not started before a viewer',
    );
    const { r, frames } = await ffmpegDecode(relay.url('ondemand'), {
      frames: 25,
      transport: 'tcp',
      timeoutMs: 30_000,
    });
    assert.equal(frames, 25, r.stderr.slice(-2000));
    assert.equal(readers(), 2, 'the on-demand relay reads the origin while it is watched');
    // The viewer left: the source stops after its idle time (2 s, checked each second).
    const left = Date.now();
    assert.ok(await until(() => readers() === 1, 8000, 50), 'the on-demand relay let go of the origin');
    const after = (Date.now() - left) / 1000;
    assert.ok(
      after >= 1.9 && after < 6,
      `let go after ${after} s ${relay.logs.filter((l) => /ondemand|session/.test(l)).join('')}`,
    );
    await logged(relay, /relay source stopped path=ondemand /);
  });

  it('a source back with another codec: its viewers get BYE, newcomers the new stream (the same codecs: relay-tiers)', async () => {
    const h264 = ffmpegPublish(await fixture(CLIP), origin.url('live/switch'), 'tcp');
    pubs.push(h264);
    await relaying(relay, 'switch');
    const watch = ffmpegViewer(relay.url('switch'));
    pubs.push(watch);
    const exited = new Promise<number | null>((r) => watch.child.once('exit', (code) => r(code)));
    await sleep(1500);
    assert.equal(watch.child.exitCode, null, watch.log());
    // The encoder comes back at once with another codec: the origin replaces its stream, the
    // relay's session ends, and the relay finds MPEG-4 video where H.264 was.
    await h264.stop();
    const mp4v = spawnPublisher('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'warning',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-c:v',
      'mpeg4',
      '-g',
      '25',
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      origin.url('live/switch'),
    ]);
    pubs.push(mp4v);
    await logged(
      relay,
      /relay source came back with another description path=switch .*was=H264\+MPEG4-GENERIC now=MP4V-ES/,
    );
    const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
    assert.notEqual(code, 'still running', 'the viewer of the old stream got BYE and stopped');
    await relaying(relay, 'switch');
    const probe = await ffprobe(relay.url('switch'), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(
      probe.streams.map((s) => s.codec_name),
      ['mpeg4'],
    );
    await mp4v.stop();
  });

  it('on demand: a source that does not describe in sourceDescribeTimeout is answered 504 with the reason', async () => {
    const c = await RawRtspClient.connect(relay.port);
    try {
      const t0 = Date.now();
      const d = await c.request('DESCRIBE', relay.url('silent'));
      const waited = (Date.now() - t0) / 1000;
      assert.equal(d.status, 504);
      assert.equal(d.reason, 'Gateway Time-out');
      assert.ok(waited >= 0.9 && waited < 3, `answered after ${waited} s`);
      await logged(relay, /did not describe the stream within 1 s \(paths\.silent\.sourceDescribeTimeout\)/);
    } finally {
      c.close();
    }
  });

  it('retries an unreachable source, wrong credentials and garbage with growing delays; no crash, flat memory', async (t) => {
    const failing = ['unreachable', 'badauth', 'garbage'];
    // At least 8 attempts each, and 5 more (5 s at the longest back-off) while memory is watched.
    await until(() => failing.every((p) => retryDelays(relay, p).length >= 8), 20_000, 100);
    const heapBefore = process.memoryUsage().heapUsed;
    const socketsBefore = process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;
    const counts = failing.map((p) => retryDelays(relay, p).length);
    await until(() => failing.every((p, i) => retryDelays(relay, p).length >= counts[i] + 5), 20_000, 100);
    for (const [path, why] of [
      ['unreachable', /cannot connect to rtsp:\/\/127\.0\.0\.1:\d+\/live/],
      ['badauth', /wrong credentials for user \\"alice\\"/],
      ['garbage', /RTSP|response|protocol|closed/i],
    ] as const) {
      const delays = retryDelays(relay, path);
      assert.ok(delays.length >= 8, `${path}: ${delays.length} retries`);
      // 0.2, 0.4, 0.8, then capped at 1.
      assert.deepEqual(delays.slice(0, 4), [0.2, 0.4, 0.8, 1], `${path}: ${delays.join(', ')}`);
      assert.ok(
        delays.slice(3).every((d) => d === 1),
        `${path}: capped at max: ${delays.join(', ')}`,
      );
      const err = lines(relay, new RegExp(`relay source retrying in .* path=${path} `)).pop()!;
      assert.match(err, why, err);
      assert.equal(relay.server.live?.get(path), undefined, `${path} publishes nothing`);
    }
    assert.ok(!relay.logs.some((l) => l.includes('not-it')), 'the wrong password is never logged either');
    // Every attempt let its socket go: none pile up, nor does memory.
    const sockets = process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;
    assert.ok(sockets <= socketsBefore + 3, `TCP sockets: ${socketsBefore} → ${sockets}`);
    const grown = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    t.diagnostic(`over 5 more attempts each: heap ${grown.toFixed(1)} MiB, TCP sockets ${socketsBefore} → ${sockets}`);
    assert.ok(grown < 40, `heap grew ${grown.toFixed(1)} MiB`);
    // The server still serves.
    await relaying(relay, 'cam');
  });

  it('plays a DSS relayconfig.xml with an rtsp_source announced to this server unchanged', async () => {
    const xml = join(dir.dir, 'relayconfig.xml');
    writeFileSync(
      xml,
      [
        '<?xml version="1.0"?>',
        '<RELAY_CONFIG>',
        '<OBJECT TYPE="relay" NAME="Lobby camera">',
        '    <OBJECT CLASS="source" TYPE="rtsp_source">',
        '        <PREF NAME="source_addr">127.0.0.1</PREF>',
        `        <PREF NAME="rtsp_port">${origin.port}</PREF>`,
        '        <PREF NAME="url">/digest/cam</PREF>',
        '        <PREF NAME="name">alice</PREF>',
        '        <PREF NAME="password">wonder land</PREF>',
        '    </OBJECT>',
        '    <OBJECT CLASS="destination" TYPE="announced_destination">',
        '        <PREF NAME="dest_addr">127.0.0.1</PREF>',
        `        <PREF NAME="rtsp_port">${relay.port}</PREF>`,
        '        <PREF NAME="url">/lobby.sdp</PREF>',
        '    </OBJECT>',
        '</OBJECT>',
        '</RELAY_CONFIG>',
      ].join('\n'),
    );
    const cfg = relay.server.config;
    const changed = await relay.server.reloadSources({
      paths: cfg.paths,
      playlists: cfg.playlists,
      relays: { ...cfg.relays, dssConfig: xml },
    });
    assert.deepEqual(changed, ['relays.dssConfig']);
    await relaying(relay, 'lobby');
    // The URL DSS viewers used, .sdp and all.
    const { r, frames } = await ffmpegDecode(relay.url('lobby.sdp'), {
      frames: 25,
      transport: 'tcp',
      timeoutMs: 30_000,
    });
    assert.equal(frames, 25, r.stderr.slice(-2000));
    assert.ok(
      relay.logs.some((l) => /relays\.dssConfig read .*relays=lobby/.test(l)),
      relay.logs.slice(-20).join(''),
    );
    assert.ok(!relay.logs.some((l) => l.includes('wonder')), 'the DSS password is never logged');
  });
});

describe('relay loop', () => {
  let a: TestServer;
  let b: TestServer;
  let dir: { dir: string; cleanup: () => void };

  before(async () => {
    dir = tempDir('rivulet-relay-loop-');
    b = await startServer({ mediaDir: dir.dir, sets: ['relays.serverId=server-b'] });
    const cfgA = configFile(dir.dir, 'a.yaml', [
      'paths:',
      `  p: { source: "rtsp://127.0.0.1:${b.port}/q", sourceRetry: { min: 0.5, max: 2 } }`,
    ]);
    a = await startServer({ mediaDir: dir.dir, configFile: cfgA, sets: ['relays.serverId=server-a'] });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    dir?.cleanup();
  });

  it('A pulls from B and B from A: refused, with a log line on both ends, and retried at the longest back-off', async () => {
    // A's source finds nothing at B yet; then B is told to pull from A.
    await logged(a, /relay source retrying in .* path=p /);
    assert.ok(
      b.server.setPaths({ q: { source: `rtsp://127.0.0.1:${a.port}/p`, sourceRetry: { min: 0.5, max: 2 } } }),
    );
    await logged(a, new RegExp(`relay loop: rtsp://127\\.0\\.0\\.1:${b.port}/q leads back to this server`));
    await logged(b, new RegExp(`relay loop: rtsp://127\\.0\\.0\\.1:${a.port}/p leads back to this server`));
    // The refusing end says why, once per request.
    const refused = /relay loop refused: the request came through .*server-(a|b) is this server/;
    assert.ok(
      lines(a, refused).length + lines(b, refused).length >= 1,
      [...a.logs, ...b.logs].slice(-20).join(''),
    );
    // After a loop the next attempt waits the longest back-off.
    const loopRetry = lines(a, /relay source retrying in .* path=p .*Loop Detected/);
    assert.ok(loopRetry.length >= 1 && loopRetry.every((l) => /retrying in 2 s/.test(l)), loopRetry.join(''));
    assert.equal(a.server.live?.get('p'), undefined);
    assert.equal(b.server.live?.get('q'), undefined);
  });
});

describe('udp:// source', () => {
  let srv: TestServer;
  let dir: { dir: string; cleanup: () => void };
  let encoder: Publisher | undefined;

  before(async () => {
    dir = tempDir('rivulet-udp-source-');
    srv = await startServer({ mediaDir: dir.dir });
  });
  after(async () => {
    await encoder?.stop();
    await srv?.close();
    dir?.cleanup();
  });

  it('plays RTP ffmpeg sends to the port, described by inline SDP; ?source= keeps other senders out', async () => {
    const port = await freeUdpPair();
    const sdpFile = join(dir.dir, 'encoder.sdp');
    const clip = await fixture(CLIP);
    // Video to port, audio to port + 2, as the source expects track N at port + 2N.
    encoder = spawnPublisher(
      'ffmpeg',
      rtpSenderArgs(
        clip,
        `rtp://127.0.0.1:${port}?rtcpport=${port + 1}`,
        `rtp://127.0.0.1:${port + 2}?rtcpport=${port + 3}`,
        sdpFile,
      ),
    );
    const sdp = await writtenSdp(sdpFile, encoder.log, 10_000);
    assert.ok(
      srv.server.setPaths({
        cam: { source: `udp://127.0.0.1:${port}`, sdp },
        other: { source: `udp://:${port + 4}?source=127.0.0.9`, sdp },
      }),
    );
    await relaying(srv, 'cam');
    const { r, frames } = await ffmpegDecode(srv.url('cam'), {
      frames: 50,
      transport: 'tcp',
      timeoutMs: 30_000,
    });
    assert.equal(frames, 50, r.stderr.slice(-2000));
    const probe = await ffprobe(srv.url('cam'), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    // A second source taking one sender only: what 127.0.0.1 sends there is refused and counted.
    const s = createSocket('udp4');
    const rtp = Buffer.alloc(20);
    rtp[0] = 0x80;
    rtp[1] = 96;
    for (let i = 0; i < 5; i++)
      await new Promise<void>((res) => s.send(rtp, port + 4, '127.0.0.1', () => res()));
    s.close();
    assert.ok(await until(() => (srv.server.live?.get('other')?.strangerPackets ?? 0) >= 5, 5000, 50));
    assert.equal(srv.server.live?.get('other')?.tracks[0].packetsIn, 0);
    await encoder.stop();
    encoder = undefined;
    assert.ok(srv.server.setPaths({}));
    assert.ok(
      await until(() => srv.server.live?.get('cam') === undefined, 5000, 50),
      'removed with its path',
    );
  });
});
