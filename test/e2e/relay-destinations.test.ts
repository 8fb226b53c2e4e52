/** Relay destinations with real programs: a Rivulet with an ffmpeg broadcast on `live/a`, given
 * destinations by a reloaded `paths:`, sends it on by UDP to ffmpeg reading an SDP file, pushes
 * it to gst-rtsp-server's record mount, and pushes it to another Rivulet that ffprobe and ffmpeg
 * decode; that Rivulet is killed and started again on the same port, and the push comes back by
 * itself. A push to the server itself is refused as a loop, and so is a chain of pushes that
 * comes back: A pushes to B, B pushes the same path back to A. The other kinds of path have
 * destinations too: a playlist channel forwarded by UDP is decoded across its item changes, and
 * a stream one Rivulet pulls from another is pushed on to a third, where ffmpeg decodes it. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathsSchema } from '../../src/config/index.js';
import type { RelayStatus } from '../../src/core/index.js';
import { buildSdp } from '../../src/sdp/index.js';
import { fixture } from '../helpers/fixtures.js';
import { peerAvailable, startGstPeer, type GstPeer } from '../helpers/gst-peer.js';
import { waitActive } from '../helpers/live.js';
import { assertInOrder, clipSet, FrameCatalog, itemRuns, makeClip, watchSdp } from '../helpers/media.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffmpegDecode, ffprobe, run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

/** A port for a forward's receiver: track N at port + 2N, its RTCP one above. */
const forwardPort = () => 40000 + 4 * Math.floor(Math.random() * 2500);

/** Writes in `dir` what a receiver of `path`'s forward to `port` needs, and returns its name: the
 * stream's own description, track N at port + 2N. */
function forwardSdp(srv: TestServer, path: string, port: number, dir: string): string {
  let track = 0;
  const sdp = buildSdp(srv.server.live!.get(path)!.description(), { serverAddress: '127.0.0.1' })
    .replace(/^c=IN IP4 .*$/gm, 'c=IN IP4 127.0.0.1')
    .replace(/^m=(\w+) 0 /gm, (_, media: string) => `m=${media} ${port + 2 * track++} `);
  const file = join(dir, `${path.replace(/\W/g, '-')}.sdp`);
  writeFileSync(file, sdp);
  return file;
}

describe('relay destinations with real programs', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let pub: Publisher;
  const stops: (() => unknown)[] = [];
  /** Every relay.state the origin reported, in order. */
  const states: RelayStatus[] = [];

  /** Gives `live/a` these destinations, as a reloaded `paths:` would. */
  function destinations(entry: unknown): void {
    srv.server.setPaths(pathsSchema.parse(entry === undefined ? {} : { 'live/a': entry }));
  }

  /** The last state reported for the leg whose target is `target`. */
  const last = (target: string): RelayStatus | undefined => states.findLast((s) => s.target === target);
  const state = (target: string) => last(target)?.state;

  before(async () => {
    media = tempDir('rivulet-relay-dest-');
    srv = await startServer({ mediaDir: media.dir, sets: ['live.graceTime=3', 'rtp.rtcpInterval=1', 'relays.serverId=origin-e2e'] });
    srv.server.events.on('relay.state', (s) => states.push(s));
    pub = ffmpegPublish(await fixture('h264-aac-faststart.mp4'), srv.url('live/a'), 'tcp');
    await waitActive(srv, 'live/a');
  });

  after(async () => {
    for (const s of stops.reverse()) await s();
    await pub?.stop();
    await srv?.close();
    media?.cleanup();
  });

  it('forwards live/a by UDP: ffmpeg reading an SDP file decodes it', async (t) => {
    const port = forwardPort();
    const file = forwardSdp(srv, 'live/a', port, media.dir);
    const reading = run('ffmpeg', ['-hide_banner', '-nostats', '-protocol_whitelist', 'file,udp,rtp', '-i', file, '-map', '0:v', '-frames:v', '50', '-f', 'null', '-'], { timeoutMs: 40_000 });
    // ffmpeg binds its ports before the forward starts, so it gets the keyframe the forward starts on.
    await sleep(1500);
    const target = `udp://127.0.0.1:${port}?ttl=4`;
    destinations({ forward: [target] });
    const res = await reading;
    const frames = Number([...res.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0);
    assert.equal(res.code, 0, res.stderr.slice(-2000));
    assert.equal(frames, 50, res.stderr.slice(-2000));
    assert.deepEqual(decodeErrors(res.stderr), []);
    assert.equal(state(target), 'playing');
    // A few seconds of the live pace after the start's burst, for the bitrate.
    await sleep(2500);
    destinations(undefined);
    // The last figures come with the stop.
    const st = last(target)!;
    assert.equal(st.state, 'stopped');
    assert.ok(st.bytesOut > 20_000, `bytes out ${st.bytesOut}`);
    assert.ok(st.bitrateKbps > 50, `bitrate ${st.bitrateKbps} kbit/s`);
    t.diagnostic(`forward: ${frames} frames decoded, ${st.bytesOut} bytes out, ${st.bitrateKbps} kbit/s`);
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pushes live/a over ${transport} to gst-rtsp-server's record mount, which parses its frames`, async (t) => {
      if (!peerAvailable()) return missingTool(t, 'python3-gi gir1.2-gst-rtsp-server-1.0', 'the gst-rtsp-server peer');
      const dir = tempDir('rivulet-relay-peer-');
      stops.push(() => dir.cleanup());
      const peer: GstPeer = await startGstPeer(dir.dir, ['--verbose']);
      stops.push(() => peer.stop());
      const target = peer.url('record');
      destinations({ push: [{ url: target, transport }] });
      assert.ok(await until(() => state(target) === 'playing', 15_000), `push state ${state(target)}: ${last(target)?.lastError ?? ''}`);
      await sleep(4000);
      destinations(undefined);
      assert.equal(state(target), 'stopped');
      // The mount logs what its parsers took when the media is torn down (TEARDOWN).
      const counted = /\/record state \w+ stream0: (\d+) buffers \d+ bytes stream1: (\d+) buffers/g;
      assert.ok(await until(() => [...peer.log().matchAll(counted)].some((m) => Number(m[1]) > 0), 10_000), peer.log().slice(-2000));
      const [video, audio] = [...peer.log().matchAll(counted)].reduce((best, m) => (Number(m[1]) > best[0] ? [Number(m[1]), Number(m[2])] : best), [0, 0]);
      // 4 s of 25 fps video and 44.1 kHz AAC (43 frames a second).
      assert.ok(video >= 75, `video frames parsed at the far end: ${video}`);
      assert.ok(audio >= 100, `audio frames parsed at the far end: ${audio}`);
      t.diagnostic(`push ${transport} to gst-rtsp-server: ${video} video and ${audio} audio frames parsed there in about 4 s`);
    });
  }

  it('pushes live/a to another Rivulet, decoded there; killed and restarted, the far end gets it back by itself', async (t) => {
    const far = tempDir('rivulet-relay-far-');
    stops.push(() => far.cleanup());
    const args = (port: number) => ['--rtsp-port', String(port), '--bind', '127.0.0.1', '--media-dir', far.dir];
    let cli = serveCli(args(0));
    stops.push(() => cli.child.kill('SIGKILL'));
    const port = await cli.port;
    const farUrl = `rtsp://127.0.0.1:${port}/edge/a`;
    destinations({ push: [{ url: farUrl, retry: { min: 0.5, max: 2 } }] });
    assert.ok(await until(() => state(farUrl) === 'playing', 15_000), `push state ${state(farUrl)}: ${last(farUrl)?.lastError ?? ''}`);
    const probe = await ffprobe(farUrl, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const first = await ffmpegDecode(farUrl, { frames: 30, transport: 'tcp', timeoutMs: 20_000 });
    assert.equal(first.frames, 30, first.r.stderr.slice(-2000));

    const logsBefore = srv.logs.length;
    cli.child.kill('SIGKILL');
    assert.ok(await until(() => state(farUrl) === 'retrying', 10_000), `after the kill: ${state(farUrl)}`);
    cli = serveCli(args(port));
    assert.equal(await cli.port, port);
    const listening = Date.now();
    assert.ok(await until(() => state(farUrl) === 'playing', 20_000), `after the restart: ${state(farUrl)} ${last(farUrl)?.lastError ?? ''}`);
    t.diagnostic(`push back ${Date.now() - listening} ms after the far end listened again, ${last(farUrl)!.reconnects} failed attempts`);
    const lines = srv.logs.slice(logsBefore).filter((l) => l.includes(`relay push live/a → ${farUrl}`));
    const retrying = lines.findIndex((l) => /: retrying in [\d.]+ s \(dropped: /.test(l));
    const playing = lines.findIndex((l) => /: playing path=/.test(l));
    assert.ok(retrying >= 0 && playing > retrying, `log lines:\n${lines.join('')}`);
    assert.ok(last(farUrl)!.reconnects >= 1);

    const again = await ffmpegDecode(farUrl, { frames: 30, transport: 'udp', timeoutMs: 20_000 });
    assert.equal(again.frames, 30, again.r.stderr.slice(-2000));
    destinations(undefined);
  });

  it('a push to this server itself is refused as a loop, and said so at both ends', async () => {
    const target = srv.url('loop/a');
    const logsBefore = srv.logs.length;
    destinations({ push: [{ url: target, retry: { min: 0.5, max: 30 } }] });
    assert.ok(await until(() => state(target) === 'retrying', 10_000), `push state ${state(target)}`);
    const st = last(target)!;
    assert.match(st.lastError ?? '', /403 Loop Detected/);
    assert.ok(st.nextAttemptAt! - Date.now() > 25_000, 'a loop waits the longest');
    const lines = srv.logs.slice(logsBefore).join('');
    assert.match(lines, /relay loop: the push of live\/a to .*loop\/a leads back to this server/);
    assert.match(lines, /relay loop refused: the request came through origin-e2e/);
    destinations(undefined);
  });
});

describe('push loop between two Rivulets', () => {
  let a: TestServer;
  let b: TestServer;
  let media: { dir: string; cleanup: () => void };
  let pub: Publisher | undefined;
  const bStates: RelayStatus[] = [];

  before(async () => {
    media = tempDir('rivulet-push-loop-');
    a = await startServer({ mediaDir: media.dir, sets: ['relays.serverId=server-a'] });
    b = await startServer({ mediaDir: media.dir, sets: ['relays.serverId=server-b'] });
    b.server.events.on('relay.state', (s) => bStates.push(s));
  });

  after(async () => {
    await pub?.stop();
    await a?.close();
    await b?.close();
    media?.cleanup();
  });

  it("A pushes live/x to B, B pushes it back to A: refused at A as a loop, said at both ends, retried at retry.max", async () => {
    pub = ffmpegPublish(await fixture('h264-aac-faststart.mp4'), a.url('live/x'), 'tcp');
    await waitActive(a, 'live/x');
    const toB = b.url('live/x');
    const toA = a.url('live/x');
    a.server.setPaths(pathsSchema.parse({ 'live/x': { push: [toB] } }));
    // B's push of what A pushed it: the Via of A's push is kept with B's stream and named again.
    b.server.setPaths(pathsSchema.parse({ 'live/x': { push: [{ url: toA, retry: { min: 0.2, max: 3 } }] } }));
    await waitActive(b, 'live/x');
    const refusedAtA = () => a.logs.filter((l) => /relay loop refused: the request came through server-a → server-b, and server-a is this server/.test(l));
    assert.ok(await until(() => refusedAtA().length >= 1, 15_000), a.logs.slice(-20).join(''));
    const atB = b.logs.filter((l) => l.includes(`relay loop: the push of live/x to ${toA} leads back to this server`));
    assert.ok(atB.length >= 1, b.logs.slice(-20).join(''));
    const leg = bStates.findLast((s) => s.target === toA)!;
    assert.equal(leg.state, 'retrying');
    assert.match(leg.lastError ?? '', /403 Loop Detected/);
    assert.ok(leg.nextAttemptAt! - Date.now() > 2000, 'the next attempt waits retry.max (3 s), not min');
    // No busy loop: over 4 s at most one attempt more, and both servers still serve.
    const refusals = refusedAtA().length;
    await sleep(4000);
    assert.ok(refusedAtA().length - refusals <= 2, `${refusedAtA().length - refusals} refusals in 4 s`);
    assert.equal(a.server.live?.get('live/x')?.source?.kind, 'rtsp-record', 'A keeps its own publisher');
    assert.equal(pub.child.exitCode, null, 'the encoder was not taken over');
    const far = await ffmpegDecode(toB, { frames: 25, transport: 'tcp', timeoutMs: 20_000 });
    assert.equal(far.frames, 25, far.r.stderr.slice(-2000));
    a.server.setPaths({});
    b.server.setPaths({});
  });
});

describe('a playlist channel with a forward', () => {
  /** Two 2 s items, each a moving pattern of its own, so that every picture names its item. */
  const ITEMS = clipSet('item', 2, 2);
  const port = forwardPort();
  const target = `udp://127.0.0.1:${port}`;
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let catalog: FrameCatalog;

  before(async () => {
    media = tempDir('rivulet-playlist-forward-');
    await Promise.all(ITEMS.map((c) => makeClip(media.dir, c)));
    catalog = await FrameCatalog.of('ffmpeg', Object.fromEntries(ITEMS.map((c) => [c.name, join(media.dir, c.name)])));
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(config, ['paths:', `  tv: { playlist: { items: [${ITEMS.map((c) => c.name).join(', ')}] }, forward: ["${target}"] }`, ''].join('\n'));
    srv = await startServer({ mediaDir: media.dir, configFile: config, sets: ['relays.serverId=channel-e2e'] });
    await waitActive(srv, 'tv');
  });

  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  it('ffmpeg reading the forwarded RTP with an SDP file decodes every picture of both items, across item changes', async (t) => {
    const file = forwardSdp(srv, 'tv', port, media.dir);
    // The forward has been sending since the channel started: ffmpeg joins it wherever it is
    // and decodes from the next keyframe (one a second). 150 pictures: 6 s, two changes or more.
    const w = await watchSdp(file, 150);
    assert.deepEqual(w.errors, [], w.log.slice(-2000));
    // showinfo sees the picture the frame limit stops at too.
    assert.ok(w.video.length >= 150, `${w.video.length} pictures: ${w.log.slice(-2000)}`);
    const { located, unknown } = catalog.locate(w.video);
    assert.deepEqual(unknown.map((f) => f.pts), [], 'every picture is one of the items\' own, bit for bit (pts of the others)');
    const runs = itemRuns(located);
    assert.ok(runs.length >= 2, `item changes seen: ${JSON.stringify(runs)}`);
    assertInOrder(runs, ITEMS.map((c) => c.name), 'forwarded channel');
    assert.ok(
      srv.logs.some((l) => l.includes(`relay forward tv → ${target}: playing`)),
      srv.logs.filter((l) => l.includes('relay ')).join(''),
    );
    t.diagnostic(`forwarded channel: ${w.video.length} pictures, ${runs.map((r) => `${r.item} ${r.first}..${r.last}`).join(' → ')}`);
  });
});

describe('a pulled stream with a push', () => {
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;
  let media: { dir: string; cleanup: () => void };
  let pub: Publisher | undefined;

  before(async () => {
    media = tempDir('rivulet-pull-push-');
    // C first and A next: B's config names both.
    c = await startServer({ mediaDir: media.dir, sets: ['relays.serverId=far-e2e'] });
    a = await startServer({ mediaDir: media.dir, sets: ['relays.serverId=origin-e2e'] });
    pub = ffmpegPublish(await fixture('h264-aac-faststart.mp4'), a.url('live/src'), 'tcp');
    await waitActive(a, 'live/src');
    const config = join(media.dir, 'relay.yaml');
    writeFileSync(config, ['paths:', `  relay: { source: "${a.url('live/src')}", push: ["${c.url('live/copy')}"] }`, ''].join('\n'));
    b = await startServer({ mediaDir: media.dir, configFile: config, sets: ['relays.serverId=relay-e2e'] });
  });

  after(async () => {
    await pub?.stop();
    await b?.close();
    await a?.close();
    await c?.close();
    media?.cleanup();
  });

  it('B pulls live/src from A and pushes it to C as live/copy, where ffprobe and ffmpeg decode it', async (t) => {
    await waitActive(c, 'live/copy', 20_000);
    assert.equal(c.server.live?.get('live/copy')?.source?.kind, 'rtsp-record', 'C takes it as a publish');
    const pushed = b.logs.find((l) => l.includes(`relay push relay → ${c.url('live/copy')}: playing`));
    assert.ok(pushed, b.logs.filter((l) => l.includes('relay ')).join(''));
    const url = c.url('live/copy');
    const probe = await ffprobe(url, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const { r, frames } = await ffmpegDecode(url, { frames: 50, transport: 'tcp', timeoutMs: 30_000 });
    assert.equal(frames, 50, r.stderr.slice(-2000));
    assert.deepEqual(decodeErrors(r.stderr), []);
    t.diagnostic(`A → pull B → push C: ${frames} frames decoded at C, codecs ${probe.streams.map((s) => s.codec_name).join(', ')}`);
  });
});
