/** Playlist channel benchmark (issue 11): what a playlist broadcast as a live channel costs the
 * server next to the same media pushed live by ffmpeg, what one channel costs with no viewers,
 * and whether its media time keeps to the wall clock.
 *
 *   npm run bench:playlist -- [--runs 1000:tcp] [--rounds 3] [--window 20] [--idle-window 30]
 *                             [--drift-minutes 0]
 *
 * Media: three 20 s H.264 items (640x360, 25 fps, ~1 Mbit/s, IDR every 2 s, video only like
 * the peer kit's loop.h264), each of its own test pattern with the same encoder settings, and
 * their concatenation (the same bits) as one MP4 for ffmpeg to push; made once, cached in
 * test/.cache/bench/playlist.
 *
 * Runs (`N:transport`, comma-separated; `none` skips them): the peer kit's reader holds N
 * sessions on the channel `station` (`paths.station.playlist`, the three items looped), then N
 * on `loop` (ffmpeg pushing the concatenation, `-re -stream_loop -1 -c copy`). Each side gets a
 * fresh server holding only its own source, so each figure is what that setup costs a user (the
 * push side includes parsing ffmpeg's packets, the playlist side reading the files) and neither
 * carries the other's source or the heap and JIT state of the other's run. `--rounds R` repeats
 * the pair, alternating which goes first so a change in the machine's load over the run weighs
 * on both sides alike; each value is shown with the median, and the ratio is taken per round.
 *
 * Idle (`--idle-window S`, 0 skips): the server's CPU over S seconds with no viewer, three
 * ways: no source at all (the baseline), the playlist channel (autostart), and ffmpeg's push
 * for reference. Target: the channel under 1 % of a core.
 *
 * Drift (`--drift-minutes M`, default 0: skipped): one RTSP/TCP viewer on `station` for M
 * minutes; each video packet's media time (RTP timestamp, unwrapped, over the SDP clock rate)
 * minus its arrival time, both counted from a reference packet. A new viewer first gets the
 * cached GOP in a burst, so the reference is the first packet 5 s in (the lead the burst gave
 * is reported as `join_lead_s`, and the drift counted from the very first packet too). Relative
 * times need no RTP-Info; its presence is reported. Timestamps must only go forward (one
 * continuous timeline across items): steps back are counted. Target: |drift| ≤ 0.5 s.
 *
 * Prints one JSON line per measurement and a table per part. Every child (servers, ffmpeg, the
 * readers) is stopped on the way out, Ctrl-C and kill included. */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseSdp } from 'sdp-transform';
import { stringify } from 'yaml';
import { sessionIdOf } from '../src/rtsp/headers/session.js';
import { repoRoot } from '../test/helpers/fixtures.js';
import { run } from '../test/helpers/run.js';
import { RawRtspClient } from '../test/helpers/rtsp-client.js';
import { cpuPct, errorText, losses, median, printTable, pushLoop, readers, rssMiB, series, serverKnows, sleep, startRivulet, stop, waitLive, type Measured, type ReaderResult } from './lib.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000:tcp' },
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '20' },
    'idle-window': { type: 'string', default: '30' },
    'drift-minutes': { type: 'string', default: '0' },
  },
});


const ITEMS = [
  { name: 'a.mp4', pattern: 'testsrc=size=640x360:rate=25' },
  { name: 'b.mp4', pattern: 'testsrc2=size=640x360:rate=25' },
  { name: 'c.mp4', pattern: 'testsrc=size=640x360:rate=25,negate' },
];
const PUSH = 'push.mp4';
const ITEM_SECONDS = 20;
/** The channel's and the push's paths. */
const PATHS = { playlist: 'station', push: 'loop' } as const;

/** The items and the push file in the cache folder, made once. Each file is written under a
 * temporary name and renamed, so an interrupted run leaves no half file to be taken as made. */
async function media(): Promise<string> {
  const dir = join(repoRoot, 'test/.cache/bench/playlist');
  if ([...ITEMS.map((i) => i.name), PUSH].every((f) => existsSync(join(dir, f)))) return dir;
  mkdirSync(dir, { recursive: true });
  const ffmpeg = async (args: string[], out: string) => {
    const part = join(dir, `part-${out}`);
    const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, '-f', 'mp4', part], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`ffmpeg making ${out}: ${r.stderr}`);
    renameSync(part, join(dir, out));
  };
  // The same encoder settings for every item: the channel's first item fixes its codecs, and
  // the concatenation below may copy them into one file only if their parameter sets agree.
  for (const i of ITEMS) {
    await ffmpeg(
      ['-f', 'lavfi', '-i', i.pattern, '-t', String(ITEM_SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '1M', '-g', '50',
        '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-an'],
      i.name,
    );
  }
  const list = join(dir, 'concat.txt');
  writeFileSync(list, ITEMS.map((i) => `file '${join(dir, i.name)}'\n`).join(''));
  await ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy'], PUSH);
  return dir;
}

/** The channel's config, written to a temporary folder removed on the way out. */
function channelConfig(dir: string): string {
  const tmp = mkdtempSync(join(tmpdir(), 'rivulet-bench-playlist-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const file = join(tmp, 'rivulet.yaml');
  writeFileSync(
    file,
    stringify({
      media: { dir },
      limits: { maxConnectionsPerIp: 0 },
      paths: { [PATHS.playlist]: { playlist: { items: ITEMS.map((i) => i.name), mode: 'sequential_looped', autostart: true } } },
    }),
  );
  return file;
}

type Kind = 'playlist' | 'push' | 'none';

interface Setup {
  dir: string;
  config: string;
}

/** A fresh server with only `kind`'s source (none: no source at all), live before `fn` runs;
 * server and ffmpeg are stopped after, whatever happens. */
async function withServer<T>(s: Setup, kind: Kind, fn: (pid: number, port: number) => Promise<T>): Promise<T> {
  const riv = await startRivulet(s.dir, [], kind === 'playlist' ? s.config : undefined);
  const pub = kind === 'push' ? pushLoop(join(s.dir, PUSH), riv.port, PATHS.push) : undefined;
  try {
    if (kind !== 'none') await waitLive(riv.port, PATHS[kind]);
    return await fn(riv.child.pid!, riv.port);
  } finally {
    if (pub) await stop(pub);
    await stop(riv.child);
  }
}


// ---- runs: N viewers on the channel and on the push ----


async function measure(s: Setup, kind: 'playlist' | 'push', n: number, transport: string, window: number): Promise<Measured> {
  try {
    return await withServer(s, kind, async (pid, port) => {
      // As fanout.ts: a few seconds for the source to settle before the readers come.
      await sleep(3000);
      return readers(`rtsp://127.0.0.1:${port}/${PATHS[kind]}`, n, transport, pid, window);
    });
  } catch (e) {
    return errorText(e);
  }
}

async function runs(s: Setup): Promise<void> {
  const specs = values.runs === 'none' ? [] : values.runs.split(',').filter(Boolean);
  const rounds = Number(values.rounds);
  const window = Number(values.window);
  const rows: string[][] = [];
  const medians: number[] = [];
  for (const spec of specs) {
    const [ns, transport] = spec.split(':');
    const n = Number(ns);
    const got = { playlist: [] as Measured[], push: [] as Measured[] };
    const ratios: (number | undefined)[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['playlist', 'push'] as const) : (['push', 'playlist'] as const);
      for (const kind of order) {
        const m = await measure(s, kind, n, transport, window);
        got[kind].push(m);
        console.log(JSON.stringify({ bench: 'playlist', kind, path: PATHS[kind], n, transport, round: round + 1, ...(typeof m === 'string' ? { error: m } : m) }));
      }
      const [p, q] = [got.playlist[round], got.push[round]];
      ratios.push(typeof p !== 'string' && typeof q !== 'string' && q.server_cpu_pct > 0 ? p.server_cpu_pct / q.server_cpu_pct : undefined);
    }
    const okRatios = ratios.filter((r): r is number => r !== undefined);
    if (okRatios.length) medians.push(median(okRatios));
    const ratioText = ratios.map((r) => (r === undefined ? '-' : r.toFixed(2))).join(', ') + (okRatios.length > 1 ? ` (med ${median(okRatios).toFixed(2)})` : '');
    const cpu = (r: ReaderResult) => r.server_cpu_pct;
    const rss = (r: ReaderResult) => r.server_rss_MiB;
    rows.push([String(n), transport, series(got.playlist, cpu), series(got.push, cpu), ratioText, series(got.playlist, rss), series(got.push, rss), losses(got.playlist), losses(got.push)]);
  }
  if (!rows.length) return;
  printTable(['N', 'transport', 'playlist CPU %', 'push CPU %', 'ratio playlist/push', 'playlist RSS MiB', 'push RSS MiB', 'playlist loss', 'push loss'], rows);
  console.log(`target: ratio ≤ 1.10 at 1,000 viewers; median ratio per run: ${medians.map((m) => m.toFixed(2)).join(', ') || '-'}`);
}

// ---- idle: no viewers ----

/** Seconds a fresh server is left alone before its idle CPU is measured: in its first seconds
 * it compiles and collects its start-up garbage (a server with no source at all shows 0.7 % of
 * a core 5 s in, under 0.05 % 10 s in). */
const IDLE_SETTLE_S = 10;

async function idle(s: Setup): Promise<void> {
  const seconds = Number(values['idle-window']);
  if (!(seconds > 0)) return;
  const rows: string[][] = [];
  const what: Record<Kind, string> = { none: 'no source (baseline)', playlist: 'playlist channel, autostart', push: 'ffmpeg push (server side only)' };
  for (const kind of ['none', 'playlist', 'push'] as const) {
    let m: { cpu_pct: number; rss_MiB: number } | string;
    try {
      m = await withServer(s, kind, async (pid) => {
        await sleep(IDLE_SETTLE_S * 1000);
        const cpu = await cpuPct(pid, seconds);
        return { cpu_pct: +cpu.toFixed(2), rss_MiB: +rssMiB(pid).toFixed(1) };
      });
    } catch (e) {
      m = errorText(e);
    }
    console.log(JSON.stringify({ bench: 'playlist-idle', kind, window_s: seconds, ...(typeof m === 'string' ? { error: m } : m) }));
    rows.push([what[kind], typeof m === 'string' ? `failed: ${m.slice(0, 60)}` : m.cpu_pct.toFixed(2), typeof m === 'string' ? '-' : m.rss_MiB.toFixed(1)]);
  }
  printTable(['server with no viewers', `CPU % of a core over ${seconds} s`, 'RSS MiB'], rows);
  console.log('target: the playlist channel under 1 % of a core');
}

// ---- drift: one viewer, media time against the wall clock ----

/** Seconds after the first packet at which the reference is taken: past the cached GOP the
 * server sends a new viewer at once (2 s here), when packets come at the pace of the clock. */
const DRIFT_SETTLE_S = 5;

/** One video track's RTP timestamps against their arrival times; constant memory. */
class DriftMeter {
  packets = 0;
  lost = 0;
  /** Timestamp steps backwards, and the largest (s). */
  backward = 0;
  maxBackS = 0;
  /** The largest step forward between consecutive timestamps (s): a gap in the timeline. */
  maxStepS = 0;
  /** Media time minus arrival time at the reference packet, counted from the first (s). */
  joinLead: number | undefined;
  maxAbs = 0;
  final = 0;
  maxAbsFromFirst = 0;
  finalFromFirst = 0;
  #first: number | undefined;
  #lastTs = 0;
  #ext = 0;
  #lastSeq = 0;

  constructor(readonly clockRate: number) {}

  /** Seconds since the first packet. */
  wall(now: number): number {
    return this.#first === undefined ? 0 : (now - this.#first) / 1000;
  }

  packet(p: Buffer, now: number): void {
    if (p.length < 12 || p[0] >> 6 !== 2) return;
    const seq = p.readUInt16BE(2);
    const ts = p.readUInt32BE(4);
    this.packets++;
    if (this.#first === undefined) {
      this.#first = now;
    } else {
      const gap = (seq - this.#lastSeq) & 0xffff;
      if (gap > 0 && gap < 0x8000) this.lost += gap - 1;
      // The signed 32-bit step unwraps the timestamp.
      const step = (ts - this.#lastTs) | 0;
      this.#ext += step;
      if (step < 0) {
        this.backward++;
        this.maxBackS = Math.max(this.maxBackS, -step / this.clockRate);
      } else {
        this.maxStepS = Math.max(this.maxStepS, step / this.clockRate);
      }
    }
    this.#lastSeq = seq;
    this.#lastTs = ts;
    const wall = this.wall(now);
    const fromFirst = this.#ext / this.clockRate - wall;
    this.finalFromFirst = fromFirst;
    this.maxAbsFromFirst = Math.max(this.maxAbsFromFirst, Math.abs(fromFirst));
    if (this.joinLead === undefined && wall >= DRIFT_SETTLE_S) this.joinLead = fromFirst;
    if (this.joinLead !== undefined) {
      this.final = fromFirst - this.joinLead;
      this.maxAbs = Math.max(this.maxAbs, Math.abs(this.final));
    }
  }
}

async function drift(s: Setup): Promise<void> {
  const minutes = Number(values['drift-minutes']);
  if (!(minutes > 0)) return;
  let out: Record<string, unknown>;
  try {
    out = await withServer(s, 'playlist', (_pid, port) => watch(port, minutes));
  } catch (e) {
    out = { error: errorText(e) };
  }
  console.log(JSON.stringify({ bench: 'playlist-drift', minutes, ...out }));
  const f = (k: string, digits = 3) => {
    const v = out[k];
    return typeof v === 'number' ? v.toFixed(digits) : typeof v === 'boolean' || typeof v === 'string' ? String(v) : '-';
  };
  printTable(
    ['minutes', 'max abs drift s', 'final drift s', 'join lead s', 'max abs drift from 1st pkt s', 'steps back', 'max step s', 'lost', 'RTP-Info rtptime'],
    [[String(minutes), f('max_abs_drift_s'), f('final_drift_s'), f('join_lead_s'), f('max_abs_drift_from_first_s'), f('backward_steps', 0), f('max_step_s'), f('lost', 0), f('rtp_info_rtptime')]],
  );
  console.log('target: |drift| ≤ 0.5 s, no step back');
}

/** One RTSP/TCP viewer of the channel's video track for `minutes`. */
async function watch(port: number, minutes: number): Promise<Record<string, unknown>> {
  const url = `rtsp://127.0.0.1:${port}/${PATHS.playlist}`;
  const c = await RawRtspClient.connect(port);
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
    if (d.status !== 200) throw new Error(`DESCRIBE ${d.status} ${d.reason}`);
    const base = d.headers.get('content-base') ?? url;
    const video = parseSdp(d.body).media.find((m) => m.type === 'video');
    if (!video) throw new Error('the channel has no video track');
    const control = video.control ?? '';
    const trackUrl = /^rtsp:/i.test(control) ? control : `${base.replace(/\/$/, '')}/${control}`;
    const setup = await c.request('SETUP', trackUrl, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    const session = sessionIdOf(setup.headers);
    if (setup.status !== 200 || !session) throw new Error(`SETUP ${setup.status} ${setup.reason}`);
    const meter = new DriftMeter(video.rtp[0]?.rate ?? 90_000);
    // Runs after the client's own listener has parsed the chunk into `frames`: each packet is
    // stamped with its arrival and dropped, so memory stays flat however long the watch.
    c.socket.on('data', () => {
      const now = performance.now();
      for (const f of c.frames) if (f.channel === 0) meter.packet(f.payload, now);
      c.frames.length = 0;
    });
    const play = await c.request('PLAY', base, { Session: session, Range: 'npt=0.000-' });
    if (play.status !== 200) throw new Error(`PLAY ${play.status} ${play.reason}`);
    const rtpInfo = play.headers.get('rtp-info');
    keepAlive = setInterval(() => void c.request('GET_PARAMETER', base, { Session: session }).catch(() => undefined), 20_000);
    for (let m = 1; m <= minutes; m++) {
      await sleep(60_000);
      console.error(`drift after ${m} min: ${meter.final.toFixed(3)} s (max |drift| ${meter.maxAbs.toFixed(3)} s, ${meter.backward} steps back)`);
    }
    clearInterval(keepAlive);
    await Promise.race([c.request('TEARDOWN', base, { Session: session }).catch(() => undefined), sleep(2000)]);
    return {
      watched_s: +meter.wall(performance.now()).toFixed(1),
      packets: meter.packets,
      lost: meter.lost,
      clock_rate: meter.clockRate,
      max_abs_drift_s: +meter.maxAbs.toFixed(4),
      final_drift_s: +meter.final.toFixed(4),
      join_lead_s: meter.joinLead === undefined ? null : +meter.joinLead.toFixed(4),
      max_abs_drift_from_first_s: +meter.maxAbsFromFirst.toFixed(4),
      final_drift_from_first_s: +meter.finalFromFirst.toFixed(4),
      backward_steps: meter.backward,
      max_backward_s: +meter.maxBackS.toFixed(4),
      max_step_s: +meter.maxStepS.toFixed(4),
      rtp_info: rtpInfo ?? null,
      rtp_info_rtptime: rtpInfo !== undefined && /rtptime=/.test(rtpInfo),
    };
  } finally {
    clearInterval(keepAlive);
    c.close();
  }
}

async function main(): Promise<void> {
  if (!serverKnows('playlist')) throw new Error('the server under test (RIVULET_BENCH_SERVER or dist/) has no paths.<name>.playlist');
  const dir = await media();
  const s: Setup = { dir, config: channelConfig(dir) };
  await runs(s);
  await idle(s);
  await drift(s);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
