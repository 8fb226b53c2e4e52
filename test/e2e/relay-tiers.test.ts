/** Relays in tiers, as DSS set them up: three `rivulet serve` processes, an origin that an ffmpeg
 * encoder publishes to, a relay tier pulling from the origin and an edge pulling from the relay
 * tier; an ffmpeg viewer at the edge decodes throughout.
 *
 * - The encoder is killed and started again within the origin's grace time: the origin continues
 *   the same stream, the tiers above never notice more than a pause, and the edge viewer (the
 *   same ffmpeg, never reconnecting) decodes on.
 * - The relay tier is killed and started again (on its port): the edge's session drops, its
 *   stream waits its grace time (15 s, longer than the tier takes to come back) while it retries,
 *   and re-attaches when the tier serves again, so the same viewer resumes. This is what the test
 *   asserts; past the edge's grace its viewers would get BYE and a new viewer would play. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { ffmpegPublish, ffmpegViewer, type Publisher } from '../helpers/publish.js';
import { until } from '../helpers/rtsp-client.js';
import { serveCli, tempDir } from '../helpers/server.js';

const CLIP = 'h264-aac-faststart.mp4';

interface Tier {
  child: ChildProcess;
  out: () => string;
  port: number;
}

/** `rivulet serve` with `paths` (YAML lines) on `port` (0: any). */
async function tier(dir: string, name: string, paths: string[], port = 0): Promise<Tier> {
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(cfg, ['paths:', ...paths.map((p) => `  ${p}`), ''].join('\n'));
  const s = serveCli([
    '--config',
    cfg,
    '--rtsp-port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--media-dir',
    dir,
    '--set',
    `relays.serverId=${name}`,
    '--set',
    'live.publishAllow=127.0.0.1/32',
    '--set',
    `state.folder=${join(dir, name)}`,
    '--set',
    `logs.folder=${join(dir, name)}`,
  ]);
  return { child: s.child, out: s.out, port: await s.port };
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('relay tiers: origin ← encoder, relay tier ← origin, edge ← relay tier', () => {
  let dir: { dir: string; cleanup: () => void };
  let origin: Tier;
  let relay: Tier;
  let edge: Tier;
  let encoder: Publisher | undefined;
  let watcher: ReturnType<typeof ffmpegViewer>;
  let clip: string;

  before(async () => {
    dir = tempDir('rivulet-tiers-');
    clip = await fixture(CLIP);
    origin = await tier(dir.dir, 'origin', ['live/cam: { graceTime: 20 }']);
    relay = await tier(dir.dir, 'relay', [
      `tier/cam: { source: "rtsp://127.0.0.1:${origin.port}/live/cam", sourceRetry: { min: 0.5, max: 2 }, graceTime: 20 }`,
    ]);
    edge = await tier(dir.dir, 'edge', [
      `edge/cam: { source: "rtsp://127.0.0.1:${relay.port}/tier/cam", sourceRetry: { min: 0.5, max: 2 }, graceTime: 15 }`,
    ]);
    encoder = ffmpegPublish(clip, `rtsp://127.0.0.1:${origin.port}/live/cam`, 'tcp');
    assert.ok(
      await until(() => /relay source playing path=edge\/cam/.test(edge.out()), 30_000, 100),
      edge.out().slice(-3000),
    );
    watcher = ffmpegViewer(`rtsp://127.0.0.1:${edge.port}/edge/cam`);
    assert.ok(
      await until(() => watcher.frames() >= 50, 20_000, 100),
      `the edge viewer decoded ${watcher.frames()} frames: ${watcher.log().slice(-2000)}`,
    );
  });
  after(async () => {
    await watcher?.stop();
    await encoder?.stop();
    for (const t of [edge, relay, origin]) await kill(t?.child);
    dir?.cleanup();
  });

  it('the encoder restarts within the grace time: the edge viewer decodes on without reconnecting', async (t) => {
    const since = { relay: relay.out().length, edge: edge.out().length };
    await encoder!.stop();
    const atKill = watcher.frames();
    await new Promise((r) => setTimeout(r, 3000));
    // Nothing came through the tiers meanwhile (a frame or two in flight at most).
    assert.ok(
      watcher.frames() - atKill < 10,
      `frames while the encoder was gone: ${watcher.frames() - atKill}`,
    );
    encoder = ffmpegPublish(clip, `rtsp://127.0.0.1:${origin.port}/live/cam`, 'tcp');
    const restarted = Date.now();
    await until(() => watcher.frames() > atKill + 5, 20_000, 20);
    t.diagnostic(`edge viewer decoding again ${Date.now() - restarted} ms after the encoder restarted`);
    assert.ok(
      await until(() => watcher.frames() >= atKill + 75, 20_000, 100),
      `the edge viewer decoded ${watcher.frames() - atKill} frames after the restart: ${watcher.log().slice(-2000)}`,
    );
    assert.equal(watcher.child.exitCode, null, 'the viewer is the same ffmpeg, still playing');
    assert.match(origin.out(), /broadcast resumed path=live\/cam/);
    // The tiers above the origin kept their sessions: no reconnect was needed.
    assert.doesNotMatch(relay.out().slice(since.relay), /relay source retrying/);
    assert.doesNotMatch(edge.out().slice(since.edge), /relay source retrying/);
  });

  it('the relay tier is killed and restarted: the edge reconnects by itself and its viewer resumes', async (t) => {
    const since = edge.out().length;
    await kill(relay.child);
    const killed = Date.now();
    const atKill = watcher.frames();
    assert.ok(
      await until(() => /relay source retrying in .* path=edge\/cam/.test(edge.out().slice(since)), 10_000, 100),
      edge.out().slice(-3000),
    );
    relay = await tier(
      dir.dir,
      'relay',
      [
        `tier/cam: { source: "rtsp://127.0.0.1:${origin.port}/live/cam", sourceRetry: { min: 0.5, max: 2 }, graceTime: 20 }`,
      ],
      relay.port,
    );
    const back = Date.now();
    await until(() => watcher.frames() > atKill + 5, 30_000, 20);
    t.diagnostic(`relay tier listening again ${back - killed} ms after it was killed; edge viewer decoding again ${Date.now() - back} ms later`);
    assert.ok(
      await until(() => watcher.frames() >= atKill + 75, 30_000, 100),
      `the edge viewer decoded ${watcher.frames() - atKill} frames after the tier came back: ${edge.out().slice(-3000)}`,
    );
    assert.equal(watcher.child.exitCode, null, 'the viewer is the same ffmpeg, still playing');
    const edgeLog = edge.out().slice(since);
    assert.match(
      edgeLog,
      /broadcast resumed path=edge\/cam/,
      'the edge re-attached to the stream its viewer holds',
    );
    assert.match(edgeLog, /relay source playing path=edge\/cam .*resumed=true/);
    assert.doesNotMatch(edgeLog, /broadcast ended path=edge\/cam/);
  });
});
