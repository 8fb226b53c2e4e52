/** Video on demand at scale, for correctness (issue 14), not timed: 300 viewers of three files at
 * their own seek points, half over UDP and half over TCP, each receiving a gap-free sequence at
 * real-time rate; then half of them pause, half of those seek, the rest resume where they paused,
 * and the viewers left playing see no difference. A real client (ffmpeg) plays a file from a seek
 * point meanwhile. The server runs as its own process, so this one's load cannot starve it. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIP_FPS, clipChecksums, clipSet } from '../helpers/media.js';
import { cachedClips, ScaleViewer, sdpTracks, type Mark, type MovieTrack } from '../helpers/rtp-viewers.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { decodeErrors, run } from '../helpers/run.js';
import { openUdpSockets } from '../helpers/open-sockets.js';
import { serveCli, tempDir } from '../helpers/server.js';

const VIEWERS = 300;
/** New viewers a second while the audience builds up. */
const RAMP_PER_S = 50;
const CLIP_S = 60;
/** Pictures the real client decodes from 20 s on. */
const FFMPEG_FRAMES = 150;
/** The server's vod.sendAhead (its default): media sent ahead of real time. */
const SEND_AHEAD_S = 0.25;
/** Real-time rate, generously: the suite runs on two loaded cores and this test is not timed. */
const RATE_MIN = 0.8;
const RATE_MAX = 1.2;
/** After a PAUSE's answer, packets already on their way may still arrive for this long. */
const PAUSE_GRACE_MS = 500;
/** Clips with a keyframe every second, small pictures: many viewers, little CPU. */
const CLIPS = clipSet('lecture', 3, CLIP_S).map((c) => ({ ...c, size: '160x120' }));

/** Viewer i: its file, transport, where it starts, what it does while the others play. Six
 * consecutive viewers cover every file × transport, and each role takes whole sixes. */
const fileOf = (i: number) => CLIPS[i % 3].name;
const transportOf = (i: number): 'udp' | 'tcp' => (i % 2 === 0 ? 'udp' : 'tcp');
const startOf = (i: number) => (i * 7.3) % 20;
const seekOf = (i: number) => 5 + ((i * 3.7) % 30);
const ROLES = ['seek', 'pause', 'steady', 'steady'] as const;
const roleOf = (i: number) => ROLES[Math.floor(i / 6) % ROLES.length];

/** `f()`, or undefined if it throws (a file of /proc gone while listing). */
function maybe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Sockets a process holds (Linux), by kind: those /proc/PID/net/{udp,tcp}{,6} list, and others
 * (Unix sockets). */
function socketsOf(pid: number): { udp: number; tcp: number; other: number; total: number } {
  const kinds = new Map<string, 'udp' | 'tcp'>();
  for (const kind of ['udp', 'tcp'] as const) {
    for (const f of [kind, `${kind}6`]) {
      const text = maybe(() => readFileSync(`/proc/${pid}/net/${f}`, 'utf8')) ?? '';
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 9) kinds.set(cols[9], kind);
      }
    }
  }
  const n = { udp: 0, tcp: 0, other: 0, total: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const inode = /^socket:\[(\d+)\]$/.exec(maybe(() => readlinkSync(`/proc/${pid}/fd/${fd}`)) ?? '')?.[1];
    if (inode === undefined) continue;
    n[kinds.get(inode) ?? 'other']++;
    n.total++;
  }
  return n;
}

/** What is wrong with a viewer's media advance between two marks: each track must move at
 * real-time rate, within the tolerance (plus the send-ahead, which a PLAY sends at once). */
function rateProblems(v: ScaleViewer, a: Mark, b: Mark, what: string): string[] {
  const wall = (b.wallMs - a.wallMs) / 1000;
  return v.tracks.flatMap((t, k) => {
    const advance = b.npt[k] - a.npt[k];
    return advance >= RATE_MIN * wall && advance <= RATE_MAX * wall + SEND_AHEAD_S
      ? []
      : [`${t.name} ${what}: media advanced ${advance.toFixed(2)} s in ${wall.toFixed(2)} s of wall clock (${b.packets[k] - a.packets[k]} packets)`];
  });
}

/** Fails listing the first problems and how many there were. */
function assertNone(problems: string[], what: string): void {
  assert.equal(problems.length, 0, `${what}: ${problems.length} problems, first:\n${problems.slice(0, 15).join('\n')}`);
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;

describe('video on demand at scale (correctness, not timed)', () => {
  let media: { dir: string; cleanup: () => void };
  const state = tempDir('rivulet-state-');
  let server: ChildProcess | undefined;
  let port = 0;
  const viewers: ScaleViewer[] = [];

  before(async () => {
    media = await cachedClips(CLIPS);
    const s = serveCli([
      '--set', 'rtsp.ports=0',
      '--set', 'rtsp.bind=127.0.0.1',
      '--set', `media.dir=${media.dir}`,
      '--set', `state.folder=${state.dir}`,
      // Every viewer comes from 127.0.0.1.
      '--set', 'limits.maxConnectionsPerIp=0',
      '--set', 'limits.maxSessionsPerIp=0',
      '--set', `vod.sendAhead=${SEND_AHEAD_S}`,
    ]);
    server = s.child;
    port = await s.port;
  }, { timeout: 120_000 });

  after(async () => {
    // A viewer that failed to connect left a hole.
    for (const v of viewers) v?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) server.kill('SIGKILL');
    }
    media?.cleanup();
    state.cleanup();
  });

  it(`${VIEWERS} viewers of three files over UDP and TCP play gap-free at real-time rate; pausing and seeking half of them disturbs no one`, { timeout: 150_000 }, async (t) => {
    const url = (name: string) => `rtsp://127.0.0.1:${port}/${name}`;
    const pid = server!.pid!;
    const ffmpegFrames = clipChecksums(join(media.dir, CLIPS[0].name), 'ffmpeg');
    // Awaited later; a failure before then must not also be an unhandled rejection.
    ffmpegFrames.catch(() => undefined);
    const idleSockets = socketsOf(pid);
    const ownUdp = openUdpSockets();

    const movies = new Map<string, MovieTrack[]>();
    for (const c of CLIPS) {
      const d = await RawRtspClient.connect(port);
      const r = await d.request('DESCRIBE', url(c.name), { Accept: 'application/sdp' });
      d.close();
      assert.equal(r.status, 200, `DESCRIBE ${c.name}`);
      const tracks = sdpTracks(r.body);
      assert.deepEqual(tracks.map((x) => x.kind), ['video', 'audio'], `${c.name} has a video and an audio track`);
      movies.set(c.name, tracks);
    }

    // The audience builds up, RAMP_PER_S new viewers a second, each at its own seek point.
    const rampFrom = performance.now();
    const setupToPlay: number[] = [];
    const starts: number[] = [];
    const joined = await Promise.allSettled(
      Array.from({ length: VIEWERS }, async (_, i) => {
        await sleep(rampFrom + (i * 1000) / RAMP_PER_S - performance.now());
        const file = fileOf(i);
        const v = await ScaleViewer.open({ port, url: url(file), movie: movies.get(file)!, transport: transportOf(i), name: `viewer ${i} (${file} ${transportOf(i)})` });
        viewers[i] = v;
        const t0 = performance.now();
        await v.setup();
        starts[i] = await v.play('start', startOf(i));
        setupToPlay.push(performance.now() - t0);
      }),
    );
    const rampS = (performance.now() - rampFrom) / 1000;
    assertNone(joined.flatMap((r, i) => (r.status === 'rejected' ? [`viewer ${i}: ${(r.reason as Error).message}`] : [])), 'every viewer sets up and plays');
    assertNone(
      starts.flatMap((s, i) => (s > startOf(i) - 1.05 && s <= startOf(i) + 0.001 ? [] : [`viewer ${i} asked for ${startOf(i).toFixed(3)} s, plays from ${s}`])),
      'each plays from the keyframe at or before its seek point',
    );

    // All of them play: a window of 12 s.
    await sleep(1000);
    const m1 = viewers.map((v) => v.mark());
    await sleep(12_000);
    const m2 = viewers.map((v) => v.mark());
    assertNone(
      viewers.flatMap((v, i) => [...v.allProblems(), ...rateProblems(v, m1[i], m2[i], 'while all play')]),
      `${VIEWERS} viewers playing`,
    );

    // Half of them pause; half of those then seek, the other half resume later. The rest play on.
    const idx = (role: string) => viewers.flatMap((_, i) => (roleOf(i) === role ? [i] : []));
    const seekers = idx('seek');
    const pausers = idx('pause');
    const steady = idx('steady');
    const pauseFrom = performance.now();
    // A real client from 20.5 s: the server starts it on the keyframe at 20 s. (Not -ss 20: ffmpeg
    // asks for a hair before it when its clock starts a hair below 0, and gets the one at 19 s.)
    // -noaccurate_seek: ffmpeg keeps every picture rather than dropping those before 20.5 s.
    const ffmpeg = run(
      'ffmpeg',
      ['-hide_banner', '-nostats', '-ss', '20.5', '-noaccurate_seek', '-rtsp_transport', 'udp', '-i', url(CLIPS[0].name), '-map', '0:v', '-vf', 'showinfo', '-frames:v', String(FFMPEG_FRAMES), '-f', 'null', '-'],
      { timeoutMs: 60_000 },
    );
    const pausedAt: number[] = [];
    await Promise.all([...seekers, ...pausers].map(async (i) => (pausedAt[i] = await viewers[i].pause())));
    await sleep(PAUSE_GRACE_MS);
    const grace = viewers.map((v) => v.mark());
    const stillPaused = (ids: number[]) =>
      ids.flatMap((i) => {
        const now = viewers[i].mark();
        return now.packets.some((n, k) => n !== grace[i].packets[k]) ? [`viewer ${i}: ${now.packets.map((n, k) => n - grace[i].packets[k]).join('+')} packets while paused`] : [];
      });

    await sleep(pauseFrom + 1500 - performance.now());
    const paused1 = stillPaused(seekers);
    const seekStarts: number[] = [];
    await Promise.all(seekers.map(async (i) => (seekStarts[i] = await viewers[i].play('seek', seekOf(i)))));
    await sleep(1000);
    const afterSeek = viewers.map((v) => v.mark());

    await sleep(pauseFrom + 4500 - performance.now());
    const paused2 = stillPaused(pausers);
    const resumedAt: number[] = [];
    await Promise.all(pausers.map(async (i) => (resumedAt[i] = await viewers[i].play('resume'))));
    await sleep(1000);
    const afterResume = viewers.map((v) => v.mark());

    await sleep(pauseFrom + 11_000 - performance.now());
    const m3 = viewers.map((v) => v.mark());
    assertNone([...paused1, ...paused2], `paused viewers receive nothing ${PAUSE_GRACE_MS} ms after the PAUSE's answer`);
    assertNone(
      seekers.flatMap((i) => (seekStarts[i] > seekOf(i) - 1.05 && seekStarts[i] <= seekOf(i) + 0.001 ? [] : [`viewer ${i} sought ${seekOf(i).toFixed(3)} s, plays from ${seekStarts[i]}`])),
      'seeking viewers play from the keyframe at or before the new point',
    );
    assertNone(
      pausers.flatMap((i) => (Math.abs(resumedAt[i] - pausedAt[i]) < 0.002 ? [] : [`viewer ${i} paused at ${pausedAt[i]}, resumed at ${resumedAt[i]}`])),
      'resumed viewers go on from where they paused',
    );
    assertNone(
      [
        ...steady.flatMap((i) => rateProblems(viewers[i], m2[i], m3[i], 'while others pause and seek')),
        ...seekers.flatMap((i) => rateProblems(viewers[i], afterSeek[i], m3[i], 'after its seek')),
        ...pausers.flatMap((i) => rateProblems(viewers[i], afterResume[i], m3[i], 'after resuming')),
        ...viewers.flatMap((v) => v.allProblems()),
      ],
      'while half of the viewers pause and seek',
    );

    const f = await ffmpeg;
    assert.equal(f.code, 0, `ffmpeg playing from 20.5 s beside the others:\n${f.stderr.slice(-3000)}`);
    assert.deepEqual(decodeErrors(f.stderr), [], 'ffmpeg decodes cleanly');
    // The file's own pictures from the keyframe at 20 s on, bit for bit: none missing or damaged.
    const seen = [...f.stderr.matchAll(/\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*\d+ .*?checksum:([0-9A-F]+)/g)].map((m) => m[1]);
    const first = 20 * CLIP_FPS;
    assert.deepEqual(seen.slice(0, FFMPEG_FRAMES), (await ffmpegFrames).slice(first, first + FFMPEG_FRAMES), 'ffmpeg decodes the file’s pictures from 20 s on');

    // Everyone leaves; the server lets go of every socket.
    const left = await Promise.allSettled(viewers.map((v) => v.teardown()));
    assertNone(left.flatMap((r, i) => (r.status === 'rejected' ? [`viewer ${i}: ${(r.reason as Error).message}`] : [])), 'TEARDOWN');
    for (const v of viewers) v.close();
    await Promise.all(viewers.map((v) => v.closed));
    assert.equal(openUdpSockets(), ownUdp, 'every viewer’s UDP sockets are closed');
    assertNone(viewers.flatMap((v) => v.allProblems()), 'after TEARDOWN');
    assert.ok(
      await until(() => socketsOf(pid).total <= idleSockets.total, 10_000, 100),
      `the server holds sockets after every viewer left: ${JSON.stringify(socketsOf(pid))}, before they came: ${JSON.stringify(idleSockets)}`,
    );

    const packets = viewers.reduce((n, v) => n + v.tracks.reduce((m, x) => m + x.packets, 0), 0);
    t.diagnostic(
      `ramp ${rampS.toFixed(1)} s; SETUP→PLAY p50 ${quantile(setupToPlay, 0.5).toFixed(0)} ms, p95 ${quantile(setupToPlay, 0.95).toFixed(0)} ms, max ${Math.max(...setupToPlay).toFixed(0)} ms; ${packets} RTP packets checked`,
    );
  });
});
