/** Playlist channels at run time, as DSS's PlaylistBroadcaster ran them: control files taken at
 * the next item change (`.insertlist`, `.replacelist`, `.stoplist`) with `.current` and
 * `.upcoming` written beside the playlist; the per-playlist log of what played; a channel killed
 * with SIGKILL mid-item resumes at that item when the server comes back; a channel scheduled to
 * start later answers 404 until then, names its start in the log, and starts on time.
 *
 * Items are solid greys of their own (told apart by the mean luma ffmpeg's showinfo reports of
 * the frames it decodes) with a tone, made with ffmpeg. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIP_FPS, makeClip } from '../helpers/media.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { run } from '../helpers/run.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

/** Four greys far apart in luma. */
const GREYS = ['0x202020', '0x606060', '0xa0a0a0', '0xe0e0e0'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `ms`) until `ok` holds, checking every 50 ms; the message says what never came. */
async function until(ok: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const readOr = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** Mean luma of a clip's first frame, as ffmpeg decodes the file. */
async function lumaOf(file: string): Promise<number> {
  const r = await run('ffmpeg', ['-hide_banner', '-i', file, '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-']);
  assert.equal(r.code, 0, r.stderr);
  return Number(/mean:\[(\d+)/.exec(r.stderr)![1]);
}

/** ffmpeg watching `url` over TCP until the stream ends, `frames` are decoded or `ms` pass: the
 * mean luma of each frame it decoded. */
function watch(url: string, opts: { frames?: number; ms?: number } = {}): Promise<{ lumas: number[]; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', [
      '-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', url, '-map', '0:v', '-vf', 'showinfo',
      ...(opts.frames ? ['-frames:v', String(opts.frames)] : []), '-f', 'null', '-',
    ]);
    const lumas: number[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGINT'), opts.ms ?? 40_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const m of stderr.matchAll(/pts_time:.*?mean:\[(\d+)/g)) lumas.push(Number(m[1]));
      resolve({ lumas, code, stderr });
    });
  });
}

/** The items a viewer saw in order (consecutive frames of one item counted once), by nearest
 * luma. */
function itemsSeen(lumas: number[], items: Record<string, number>): string[] {
  const names = Object.keys(items);
  const seen: string[] = [];
  for (const y of lumas) {
    const name = names.reduce((a, b) => (Math.abs(items[a] - y) <= Math.abs(items[b] - y) ? a : b));
    if (seen[seen.length - 1] !== name) seen.push(name);
  }
  return seen;
}

describe('playlist channel at run time', () => {
  let media: { dir: string; cleanup: () => void };
  /** Luma of each clip by name (without .mp4). */
  const luma: Record<string, number> = {};

  before(async () => {
    media = tempDir('rivulet-playlist-runtime-');
    const specs = [
      ...GREYS.map((c, i) => ({ name: `g${i + 1}.mp4`, video: `color=c=${c}`, hz: 440 + 110 * i, seconds: 2 })),
      ...GREYS.slice(0, 3).map((c, i) => ({ name: `long${i + 1}.mp4`, video: `color=c=${c}`, hz: 440 + 110 * i, seconds: 5 })),
    ];
    await Promise.all(specs.map((s) => makeClip(media.dir, s)));
    for (const s of specs) luma[s.name.replace('.mp4', '')] = await lumaOf(join(media.dir, s.name));
    assert.equal(new Set(GREYS.map((_, i) => luma[`g${i + 1}`])).size, 4, `the clips look different: ${JSON.stringify(luma)}`);
  });
  after(() => media?.cleanup());

  it('takes .insertlist, .replacelist and .stoplist at the next change; .current, .upcoming and the play log are right', async () => {
    const dir = media.dir;
    writeFileSync(join(dir, 'ctl.playlist'), '*PLAY-LIST*\ng1.mp4\ng2.mp4\n');
    writeFileSync(join(dir, 'ctl.config'), 'play_mode sequential_looped\nlogging enabled\nmax_upcoming_list_size 4\n');
    const config = join(dir, 'ctl.yaml');
    writeFileSync(config, 'paths:\n  ctl:\n    playlist: ctl.playlist\n');
    const logs = join(dir, 'logs');
    const srv: TestServer = await startServer({ mediaDir: dir, configFile: config, sets: [`state.folder=${join(dir, 'state')}`, `logs.folder=${logs}`] });
    try {
      const file = (suffix: string) => join(dir, `ctl.${suffix}`);
      const current = (name: string) => readOr(file('current')) === `u=${join(dir, name)}\n`;
      const upcoming = () => readOr(file('upcoming')).split('\n').filter((l) => l.startsWith('"')).map((l) => l.slice(1, -1).replace(`${dir}/`, ''));
      await until(() => current('g1.mp4') || current('g2.mp4'), 'the channel to play');
      const viewer = watch(srv.url('ctl'));

      // Written as an item starts, so it is in place well before the next change.
      const playing = current('g1.mp4') ? 'g2.mp4' : 'g1.mp4';
      await until(() => current(playing), `${playing} to start`);
      assert.deepEqual(upcoming(), playing === 'g1.mp4' ? ['g2.mp4', 'g1.mp4', 'g2.mp4', 'g1.mp4'] : ['g1.mp4', 'g2.mp4', 'g1.mp4', 'g2.mp4']);
      writeFileSync(file('insertlist'), '*PLAY-LIST*\ng3.mp4\n');
      await until(() => current('g3.mp4'), 'the inserted item to play next', 4000);
      assert.equal(existsSync(file('insertlist')), false, '.insertlist deleted once taken');
      const resumeWith = playing === 'g1.mp4' ? 'g2.mp4' : 'g1.mp4';
      assert.equal(upcoming()[0], resumeWith, 'then the list resumes');

      writeFileSync(file('replacelist'), '*PLAY-LIST*\ng4.mp4\n');
      await until(() => current('g4.mp4'), 'the replacement list to play next', 4000);
      assert.deepEqual(upcoming(), ['g4.mp4', 'g4.mp4', 'g4.mp4', 'g4.mp4']);

      writeFileSync(file('stoplist'), '');
      const seen = await viewer;
      const items = itemsSeen(seen.lumas, { g1: luma.g1, g2: luma.g2, g3: luma.g3, g4: luma.g4 });
      assert.deepEqual(items.slice(-3), [playing.replace('.mp4', ''), 'g3', 'g4'], `the viewer saw the insert, then the replacement, then the end: ${items.join(' ')}`);
      // g4 played once, in full: the stop came after it.
      const g4 = seen.lumas.filter((y) => Math.abs(y - luma.g4) < Math.abs(y - luma.g3)).length;
      assert.ok(Math.abs(g4 - 2 * CLIP_FPS) <= 3, `the last item played through before the stop: ${g4} frames`);
      await until(() => srv.logs.some((l) => l.includes('playlist broadcast stopped') && l.includes('stopped by')), 'the stop in the log', 3000);

      const log = readOr(join(logs, 'ctl.log')).split('\n');
      const plays = log.filter((l) => / PLAY$/.test(l)).map((l) => l.replace(/^.* (\S+) PLAY$/, '$1').replace(`${dir}/`, ''));
      assert.deepEqual(plays.slice(-3), [playing, 'g3.mp4', 'g4.mp4'], log.join('\n'));
      for (const l of log.filter((x) => x !== '')) assert.match(l, /^(# )?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, 'each line starts with the local date and time');
      const took = log.filter((l) => l.includes(' took '));
      assert.deepEqual(
        took.map((l) => l.replace(/^.* took \S+\.(\w+): /, '$1: ')),
        ['insertlist: 1 item inserted to play next', 'replacelist: the list replaced by 1 item', 'stoplist: the broadcast stops after the current item'],
      );
      assert.ok(log.some((l) => /^# .* broadcast stopped: stopped by .*ctl\.stoplist$/.test(l)), log.join('\n'));
    } finally {
      await srv.close();
    }
  });

  it('resumes at the item it was playing after the server is killed (SIGKILL) and started again', async () => {
    const dir = media.dir;
    const state = join(dir, 'kill-state');
    const logs = join(dir, 'kill-logs');
    const config = join(dir, 'kill.yaml');
    writeFileSync(config, 'paths:\n  tv:\n    playlist:\n      items: [long1.mp4, long2.mp4, long3.mp4]\n      mode: sequential_looped\n');
    const args = ['--config', config, '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', dir, '--set', `state.folder=${state}`, '--set', `logs.folder=${logs}`];
    const currentFile = join(state, 'playlists', 'tv.current');

    const first = serveCli(args);
    await first.port;
    await until(() => readOr(currentFile) === `u=${join(dir, 'long2.mp4')}\n`, 'the second item to start', 20_000);
    await sleep(1500);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = serveCli(args);
    try {
      const port = await second.port;
      const seen = await watch(`rtsp://127.0.0.1:${port}/tv`, { frames: 10 });
      assert.equal(seen.code, 0, seen.stderr.slice(-1500));
      const items = itemsSeen(seen.lumas, { long1: luma.long1, long2: luma.long2, long3: luma.long3 });
      assert.equal(items[0], 'long2', `the viewer sees the item that was playing: ${items.join(' ')}\n${first.out()}\n----\n${second.out()}`);
      assert.match(second.out(), /playlist resumed at the item it was playing .*file=\S*long2\.mp4/);
      const log = readOr(join(logs, 'tv.log'));
      assert.match(log, /^# .* resumed at \S*long2\.mp4 from \d+\.\d{3} s$/m);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => (second.child.exitCode === null ? second.child.once('exit', r) : r(undefined)));
    }
  });

  it('answers 404 before a scheduled start, names the start in the log, and starts then', async () => {
    const dir = media.dir;
    const config = join(dir, 'later.yaml');
    writeFileSync(config, "paths:\n  later:\n    playlist:\n      items: [g1.mp4, g2.mp4]\n      start: '*3'\n");
    const t0 = Date.now();
    const srv = await startServer({ mediaDir: dir, configFile: config });
    const client = await RawRtspClient.connect(srv.port);
    try {
      const url = srv.url('later');
      for (let i = 0; i < 2; i++) {
        const r = await client.request('DESCRIBE', url, { Accept: 'application/sdp' });
        assert.equal(r.status, 404, 'not active yet');
      }
      const named = srv.logs.filter((l) => /INFO\s+(\[\w+\] )?broadcast not active: starts at /.test(l));
      assert.equal(named.length, 1, `the start is logged once: ${named.join('')}`);
      const at = Date.parse(/starts at (\S+)/.exec(named[0])![1]);
      assert.ok(at >= t0 + 3000 && at < Date.now() + 3000, `the start named is 3 s after the configuration: ${new Date(at).toISOString()}`);

      let status = 0;
      while (status !== 200 && Date.now() < at + 6000) {
        status = (await client.request('DESCRIBE', url, { Accept: 'application/sdp' })).status;
        if (status !== 200) await sleep(200);
      }
      assert.equal(status, 200, 'active once its start has come');
      assert.ok(Date.now() >= at, 'not before its start');
      const seen = await watch(url, { frames: 10 });
      assert.equal(seen.code, 0, seen.stderr.slice(-1500));
      assert.ok(seen.lumas.length >= 10, `frames decoded: ${seen.lumas.length}`);
    } finally {
      client.socket.destroy();
      await srv.close();
    }
  });
});
