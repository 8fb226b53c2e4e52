/** Playlists as live channels (`paths.<name>.playlist`): three short H.264+AAC clips, each a plain
 * grey of its own, broadcast one after another at a path. ffmpeg watches over TCP and UDP
 * across several item changes: every frame decodes, timestamps only go forward, the frame count
 * matches the time watched, and a viewer who joins later sees the same item as the first at the
 * same moment. An item with another codec is skipped with its log line; one of another frame
 * size decodes at its own size; a DSS `.playlist` file plays too. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeErrors, ffmpegDecode, run } from '../helpers/run.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';


/** Each clip is a grey of its own, told apart by the mean luma showinfo reports. */
const CLIPS = [
  { name: 'dark.mp4', color: '0x202020', hz: 440 },
  { name: 'mid.mp4', color: '0x808080', hz: 660 },
  { name: 'light.mp4', color: '0xe0e0e0', hz: 880 },
];
const SECONDS = 2;
const FPS = 25;

async function clip(dir: string, name: string, video: string, hz: number, vcodec: string[], size = '320x240'): Promise<void> {
  const r = await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `${video}${video.includes('=') ? ':' : '='}size=${size}:rate=${FPS}:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=44100:duration=${SECONDS}`,
    ...vcodec, '-c:a', 'aac', '-b:a', '64k', '-ac', '2', '-movflags', '+faststart', join(dir, name),
  ]);
  assert.equal(r.code, 0, r.stderr);
}

/** A decoded frame: when the test saw its line, its pts, and its mean luma. */
interface Seen {
  wallMs: number;
  pts: number;
  y: number;
}

/** ffmpeg watching `url` for `frames` video frames through showinfo; each frame's line is
 * stamped with the wall clock as it arrives. */
function watch(url: string, transport: 'tcp' | 'udp', frames: number): Promise<{ seen: Seen[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', [
      '-hide_banner', '-nostats', '-rtsp_transport', transport, '-i', url,
      '-map', '0:v', '-vf', 'showinfo', '-frames:v', String(frames), '-f', 'null', '-',
    ]);
    const seen: Seen[] = [];
    let stderr = '';
    let partial = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const now = Date.now();
      stderr += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const m = /pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?).*mean:\[(\d+)/.exec(l);
        if (m) seen.push({ wallMs: now, pts: Number(m[1]), y: Number(m[2]) });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ seen, stderr, code });
    });
  });
}

/** Which clip a mean luma belongs to (the nearest of the three). */
function itemOf(y: number, lumas: number[]): number {
  let best = 0;
  for (let i = 1; i < lumas.length; i++) if (Math.abs(lumas[i] - y) < Math.abs(lumas[best] - y)) best = i;
  return best;
}

/** Item changes a viewer saw: wall time, and the items before and after. */
function changes(seen: Seen[], lumas: number[]): { wallMs: number; from: number; to: number }[] {
  const out = [];
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [itemOf(seen[i - 1].y, lumas), itemOf(seen[i].y, lumas)];
    if (a !== b) out.push({ wallMs: seen[i].wallMs, from: a, to: b });
  }
  return out;
}

function assertSmooth(seen: Seen[], what: string): void {
  for (let i = 1; i < seen.length; i++) {
    const d = seen[i].pts - seen[i - 1].pts;
    assert.ok(d > 0, `${what}: pts goes forward at frame ${i} (${seen[i - 1].pts} → ${seen[i].pts})`);
    assert.ok(d < 2.5 / FPS, `${what}: no gap beyond a frame at frame ${i} (${seen[i - 1].pts} → ${seen[i].pts})`);
  }
  const span = seen[seen.length - 1].pts - seen[0].pts;
  const expected = span * FPS + 1;
  assert.ok(Math.abs(seen.length - expected) <= expected * 0.03, `${what}: ${seen.length} frames for ${span.toFixed(2)} s (${expected.toFixed(0)} expected)`);
}

describe('playlist broadcast (paths.<name>.playlist)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  /** Mean luma of each clip, as ffmpeg decodes it from the file. */
  const lumas: number[] = [];

  before(async () => {
    media = tempDir('rivulet-playlist-');
    const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', String(FPS)];
    await Promise.all([
      ...CLIPS.map((c) => clip(media.dir, c.name, `color=c=${c.color}`, c.hz, x264)),
      clip(media.dir, 'other-codec.mp4', 'testsrc', 550, ['-c:v', 'mpeg4', '-g', String(FPS)]),
      clip(media.dir, 'large.mp4', 'color=c=0x808080', 660, x264, '640x360'),
    ]);
    for (const c of CLIPS) {
      const r = await run('ffmpeg', ['-hide_banner', '-i', join(media.dir, c.name), '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-']);
      assert.equal(r.code, 0, r.stderr);
      lumas.push(Number(/mean:\[(\d+)/.exec(r.stderr)![1]));
    }
    assert.equal(new Set(lumas).size, 3, `the clips look different: ${lumas.join(', ')}`);
    writeFileSync(join(media.dir, 'radio.playlist'), ['*PLAY-LIST*', '# as the DSS admin wrote it', '"light.mp4"', 'dark.mp4 5', ''].join('\n'));
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      [
        'paths:',
        '  station:',
        '    playlist:',
        '      items: [dark.mp4, other-codec.mp4, mid.mp4, { file: light.mp4, weight: 10 }]',
        '      mode: sequential_looped',
        '  radio:',
        '    playlist: radio.playlist',
        '  sizes:',
        '    playlist:',
        '      items: [dark.mp4, large.mp4]',
        '      mode: sequential_looped',
      ].join('\n'),
    );
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  it('plays across item changes over TCP and UDP, and a late viewer sees the same moment', async () => {
    const first = watch(srv.url('station'), 'tcp', 9 * FPS);
    await new Promise((r) => setTimeout(r, 3000));
    const late = watch(srv.url('station'), 'udp', 5 * FPS);
    const [a, b] = await Promise.all([first, late]);
    for (const [v, what] of [[a, 'tcp viewer'], [b, 'udp viewer']] as const) {
      assert.equal(v.code, 0, `${what}: ffmpeg succeeded: ${v.stderr.slice(-1500)}`);
      assert.deepEqual(decodeErrors(v.stderr), [], `${what}: no decode errors`);
      assertSmooth(v.seen, what);
    }
    const ca = changes(a.seen, lumas);

    const cb = changes(b.seen, lumas);
    assert.ok(ca.length >= 3, `the first viewer crossed at least three item changes: ${JSON.stringify(ca)}`);
    // The mpeg4 item is skipped: dark → mid → light → dark.
    for (const c of ca) assert.equal(c.to, (c.from + 1) % 3, `items in list order: ${JSON.stringify(ca)}`);
    assert.ok(cb.length >= 1, `the late viewer crossed an item change: ${JSON.stringify(cb)}`);
    for (const c of cb) {
      const same = ca.find((x) => x.from === c.from && x.to === c.to && Math.abs(x.wallMs - c.wallMs) < 800);
      assert.ok(same, `both viewers saw the change ${c.from} → ${c.to} at the same moment: ${JSON.stringify({ ca, cb })}`);
    }
    const skipped = srv.logs.filter((l) => l.includes('playlist item skipped') && l.includes('other-codec.mp4'));
    assert.equal(skipped.length, 1, `one log line for the skipped item: ${skipped.join('')}`);
  });

  it('plays items of another frame size: each decodes at its own size', async () => {
    // 2 s items: 5 s watched crosses at least two switches (320x240 → 640x360 → 320x240).
    const v = await watch(srv.url('sizes'), 'tcp', 5 * FPS);
    assert.equal(v.code, 0, `ffmpeg succeeded: ${v.stderr.slice(-1500)}`);
    assert.deepEqual(decodeErrors(v.stderr), [], 'no decode errors');
    const sizes = [...v.stderr.matchAll(/pts_time:.*? s:(\d+x\d+)/g)].map((m) => m[1]);
    // showinfo restarts with the filter graph at each size change, so a frame or so more may show.
    assert.ok(sizes.length >= 5 * FPS, `every frame reported (${sizes.length}): ${v.stderr.slice(-1500)}`);
    const switches = sizes.filter((s, i) => i > 0 && s !== sizes[i - 1]).length;
    assert.ok(switches >= 2, `at least two size changes: ${switches}`);
    assert.deepEqual([...new Set(sizes)].sort(), ['320x240', '640x360'], 'frames at both sizes');
  });

  it('plays a DSS .playlist file', async () => {
    const { r, frames } = await ffmpegDecode(srv.url('radio'), { frames: 3 * FPS, transport: 'tcp' });
    assert.equal(frames, 3 * FPS, r.stderr.slice(-1500));
    assert.deepEqual(decodeErrors(r.stderr), []);
  });
});
