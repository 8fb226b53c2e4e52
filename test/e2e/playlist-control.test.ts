/** A playlist channel controlled while `rivulet serve --config` runs, as an operator does it:
 * `rivulet playlist status|stop|start NAME --config` (the real command line, through the
 * server's control socket) and SIGHUP after editing the config. A stopped channel ends its
 * viewers and answers 404 until started again; a reloaded list reaches viewers at the next item
 * change without dropping them. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeStatus, rivulet, stopServe, waitDescribe } from '../helpers/cli.js';
import { clipSet, FrameCatalog, itemRuns, makeClip, watchChannel } from '../helpers/media.js';
import { ffprobe, run } from '../helpers/run.js';
import { serveCli, tempDir } from '../helpers/server.js';

/** Two-second clips: the first list plays a1, a2; the reload replaces it with b1. */
const SECONDS = 2;
const FIRST = clipSet('a', 2, SECONDS);
const SECOND = clipSet('b', 1, SECONDS, 'negate');

const configText = (dir: string, items: string[]) =>
  [
    'media:',
    `  dir: ${join(dir, 'media')}`,
    'state:',
    `  folder: ${join(dir, 'state')}`,
    'logs:',
    `  folder: ${join(dir, 'logs')}`,
    'paths:',
    '  station:',
    '    playlist:',
    `      items: [${items.join(', ')}]`,
    '      mode: sequential_looped',
    '',
  ].join('\n');

describe('playlist control (rivulet playlist start|stop|status, SIGHUP)', () => {
  let scratch: { dir: string; cleanup: () => void };
  let config: string;
  let server: ReturnType<typeof serveCli>;
  let port: number;
  let catalog: FrameCatalog;
  const url = () => `rtsp://127.0.0.1:${port}/station`;
  const ctl = (...args: string[]) => rivulet('playlist', ...args, '--config', config);

  before(async () => {
    scratch = tempDir('rivulet-plctl-');
    const media = join(scratch.dir, 'media');
    mkdirSync(media);
    const files: Record<string, string> = {};
    for (const c of [...FIRST, ...SECOND]) files[c.name] = await makeClip(media, c);
    catalog = await FrameCatalog.of('ffmpeg', files);
    config = join(scratch.dir, 'rivulet.yaml');
    writeFileSync(config, configText(scratch.dir, FIRST.map((c) => c.name)));
    server = serveCli(['--config', config, '--rtsp-port', '0', '--bind', '127.0.0.1']);
    port = await server.port;
    await waitDescribe(port, 'station');
  });
  after(async () => {
    if (server) await stopServe(server.child);
    scratch?.cleanup();
  });

  it('status shows the channel running with the item it plays', async () => {
    const r = await ctl('status');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^station: running, 0 viewers, since \d{4}-\d\d-\d\dT/m);
    assert.match(r.stdout, /^ {2}paths\.station\.playlist: \{"items":\["a1\.mp4","a2\.mp4"\]/m);
    assert.match(r.stdout, /^ {2}current: .*\/media\/a[12]\.mp4$/m, r.stdout);
    const json = await ctl('status', 'station', '--json');
    assert.equal(json.code, 0, json.stderr);
    const info = JSON.parse(json.stdout) as { path: string; state: string; status: { current: string } };
    assert.deepEqual([info.path, info.state], ['station', 'running']);
    assert.match(info.status.current, /a[12]\.mp4$/);
  });

  it('a SIGHUP with a new list keeps the viewer playing and plays the new list from the next item change', async () => {
    const watching = watchChannel(url(), 'ffmpeg', 'tcp', 4 * SECONDS + 3);
    await sleep(2500);
    writeFileSync(config, configText(scratch.dir, SECOND.map((c) => c.name)));
    const reloadedAt = Date.now();
    server.child.kill('SIGHUP');
    const w = await watching;
    assert.deepEqual(w.errors, [], `the viewer ran to its end without errors: ${w.log.slice(-1500)}`);
    const { located, unknown } = catalog.locate(w.video);
    assert.deepEqual(unknown.map((f) => f.pts), [], 'every picture is one of the items');
    const span = w.video[w.video.length - 1].pts - w.video[0].pts;
    assert.ok(span >= 4 * SECONDS + 2.5, `the viewer watched through the reload, not dropped: ${span.toFixed(2)} s of pictures`);
    const runs = itemRuns(located);
    const firstB = runs.findIndex((r) => r.item === 'b1.mp4');
    assert.ok(firstB > 0, `the new list played: ${runs.map((r) => r.item).join(' → ')}`);
    assert.ok(runs.slice(0, firstB).every((r) => r.item !== 'b1.mp4' && r.wallFrom < reloadedAt + 2 * SECONDS * 1000), `the old list until the reload: ${JSON.stringify(runs)}`);
    assert.ok(runs.slice(firstB).every((r) => r.item === 'b1.mp4'), `then only the new one: ${runs.map((r) => r.item).join(' → ')}`);
    // At the first change after the new list was read (an item is got ready a moment before it
    // is due, so a reload just before a change shows at the one after).
    assert.ok(runs[firstB].wallFrom - reloadedAt < 2 * SECONDS * 1000 + 1500, `the new item came at the next change: ${runs[firstB].wallFrom - reloadedAt} ms after the reload`);
    const log = server.out();
    assert.match(log, /configured playlist changed; it plays the change from its next item/);
    assert.doesNotMatch(log, /configured source changed|playlist broadcast stopped/);
    assert.match(log, /playlist item playing .*b1\.mp4/);
  });

  it('stop ends the viewers and answers 404 until start; start brings the channel back', async () => {
    const viewer = run('ffmpeg', ['-hide_banner', '-rtsp_transport', 'tcp', '-i', url(), '-map', '0:v', '-f', 'null', '-'], { timeoutMs: 60_000 });
    await sleep(3000);
    const stoppedAt = Date.now();
    const stop = await ctl('stop', 'station');
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^stopped station\nstation: stopped by the operator/);
    const v = await viewer;
    assert.ok(Date.now() - stoppedAt < 15_000 && !v.timedOut, 'the viewer ended when the channel stopped');
    assert.ok(Number([...v.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0) > 0, `it had been watching: ${v.stderr.slice(-800)}`);

    assert.equal(await describeStatus(port, 'station'), 404);
    const probe = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', url()], { timeoutMs: 30_000 });
    assert.notEqual(probe.code, 0);
    assert.match(probe.stderr, /404 Not Found/);
    assert.match(server.out(), /broadcast 'station' is not active \(stopped\)/);
    const again = await ctl('stop', 'station');
    assert.deepEqual([again.code, again.stderr], [1, "rivulet: 'station' is already stopped\n"]);
    await sleep(1500);
    assert.equal(await describeStatus(port, 'station'), 404, 'not restarted');

    const start = await ctl('start', 'station');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /^started station\nstation: running/);
    const seen = await ffprobe(url(), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(seen.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const twice = await ctl('start', 'station');
    assert.deepEqual([twice.code, twice.stderr], [1, "rivulet: 'station' is already running\n"]);
  });

  it('says so when no server answers on the socket of the config, and exits 2 for a usage error', async () => {
    const other = join(scratch.dir, 'other.yaml');
    writeFileSync(other, `state:\n  folder: ${join(scratch.dir, 'nowhere')}\n`);
    const r = await rivulet('playlist', 'status', '--config', other);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `rivulet: no Rivulet server answers on ${join(scratch.dir, 'nowhere', 'control.sock')} (is it running with this config?)\n`);
    const usage = await rivulet('playlist', 'stop');
    assert.equal(usage.code, 2);
    assert.match(usage.stdout, /rivulet playlist stop NAME \[--config FILE\]/);
  });
});
