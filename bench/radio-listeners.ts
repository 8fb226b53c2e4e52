/** Radio benchmark (issue 15): N ICY listeners of one 128 kbit/s MP3 mount, Rivulet next to
 * Debian's icecast2 fed the same stream (ffmpeg sending the same generated MP3 as is, looped, at
 * playing speed, over icecast://), measured one after the other in the same run with the same
 * listeners (bench/radio-readers.ts: plain `GET /mount HTTP/1.0`, no metadata, 100 new per
 * second, then 5 s to settle and a window).
 *
 *   npm run bench:radio -- [--n 1000] [--window 20] [--no-peer] [--profile] [--procs 1]
 *
 * --profile  runs Rivulet under `node --cpu-prof`, prints its top functions by self time over
 *            the window and the inclusive time of src/radio/listener.ts's functions
 *
 * Per listener: request → first audio byte; dropped = closed by the server; starved = received
 * less than 95 % of 128 kbit/s over the window. Server CPU (% of one core, all threads) and RSS
 * from /proc over the window; KiB/listener is the RSS beyond the idle RSS (the source connected,
 * no listener) over N. Rivulet runs from dist/ when the build has the radio and is newer than the
 * source, else from src/ through tsx. Prints one JSON line per server and a table; everything
 * runs on 127.0.0.1. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/helpers/fixtures.js';
import { startIcecast } from '../test/helpers/icecast.js';
import { ffmpegIcecastPublish, icecastSourceUrl, type RadioProcess } from '../test/helpers/radio-clients.js';
import { makeRadioTrack } from '../test/helpers/radio-media.js';
import { errorText, printTable, sleep, startRivulet, stop, waitLive } from './lib.js';
import { profileReport, type CpuProfile } from './radio-profile.js';
import { runListeners, type ListenersRun } from './radio-readers.js';
import { treeStat } from './vod-readers.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    window: { type: 'string', default: '20' },
    'no-peer': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    procs: { type: 'string', default: '1' },
  },
});

const N = Number(values.n);
const WINDOW = Number(values.window);
const RAMP = 100;
const SETTLE = 5;
const SETUP_CAP = 30;
const BITRATE = 128_000;
const BURST = 65536;
const MOUNT = 'radio';
const PASSWORD = 'bench-source-pw';
/** Seconds the source plays before the idle RSS and the listeners: the burst buffer fills. */
const WARM_S = 6;

/** 60 s of 440 Hz at 128 kbit/s CBR, 44.1 kHz stereo, made once in test/.cache/bench. */
async function benchMp3(): Promise<string> {
  const dir = join(repoRoot, 'test/.cache/bench');
  const file = join(dir, 'radio-128k.mp3');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  return makeRadioTrack(dir, { name: 'radio-128k.mp3', seconds: 60, bitrate: '128k' });
}

/** The newest modification time of the .ts files under `dir` (tests excluded), ms. */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Node flags that run Rivulet from src/ when dist/ lacks the radio or is older than
 * src/radio/ (lib.ts's serverCommand then takes RIVULET_BENCH_SERVER); [] for dist/. */
function rivuletFlags(): { flags: string[]; from: string } {
  if (process.env.RIVULET_BENCH_SERVER) return { flags: [], from: process.env.RIVULET_BENCH_SERVER };
  const main = join(repoRoot, 'dist/cli/main.js');
  const builtAt = existsSync(join(repoRoot, 'dist/radio/radio-service.js')) ? statSync(main).mtimeMs : 0;
  if (builtAt >= newestSource(join(repoRoot, 'src/radio'))) {
    const stale =
      builtAt < newestSource(join(repoRoot, 'src'))
        ? ' (other src/ files are newer than the build: npm run build)'
        : '';
    return { flags: [], from: `dist/${stale}` };
  }
  process.env.RIVULET_BENCH_SERVER = join(repoRoot, 'src/cli/main.ts');
  return {
    flags: ['--import', 'tsx'],
    from: 'src/ through tsx (dist/ lacks the radio or is older than src/radio/: npm run build)',
  };
}

interface Measurement {
  server: 'rivulet' | 'icecast2';
  idleMiB: number;
  run: ListenersRun | string;
}

async function measure(
  server: Measurement['server'],
  pid: number,
  url: string,
  onWindow?: (a: number, b: number) => void,
): Promise<Measurement> {
  const idleMiB = treeStat([pid]).rssKiB / 1024;
  let r: ListenersRun | string;
  try {
    const limitS = N / RAMP + SETUP_CAP + SETTLE + WINDOW + 90;
    r = await runListeners(
      {
        url,
        n: N,
        pids: [pid],
        procs: Number(values.procs),
        ramp: RAMP,
        settleS: SETTLE,
        windowS: WINDOW,
        setupCapS: SETUP_CAP,
        onWindow,
      },
      BITRATE,
      limitS * 1000,
    );
  } catch (e) {
    r = errorText(e);
  }
  const perListener =
    typeof r === 'string' ? undefined : +(((r.server_rss_MiB - idleMiB) * 1024) / N).toFixed(1);
  console.log(
    JSON.stringify({
      server,
      n: N,
      idle_rss_MiB: +idleMiB.toFixed(1),
      kib_per_listener: perListener,
      ...(typeof r === 'string' ? { error: r } : r),
    }),
  );
  return { server, idleMiB, run: r };
}

/** Waits for the source's mount, with the source's log when it does not come. */
async function fed(source: RadioProcess, ready: Promise<unknown>): Promise<void> {
  try {
    await ready;
  } catch (e) {
    throw new Error(`${errorText(e)}\nffmpeg: ${source.stderr().slice(-1500)}`, { cause: e });
  }
  await sleep(WARM_S * 1000);
  if (source.child.exitCode !== null) throw new Error(`ffmpeg stopped: ${source.stderr().slice(-1500)}`);
}

function printProfile(dir: string, window: [number, number] | undefined, fromSrc: boolean): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const r = profileReport(p, {
      fromUs: window?.[0],
      toUs: window?.[1],
      top: 20,
      files: ['radio/listener.ts', 'radio/listener.js', 'radio/icy-metadata.ts', 'radio/icy-metadata.js'],
    });
    // A thread that ran no JavaScript in the window (tsx's loader thread writes a profile too).
    if (r.idlePct > 99) continue;
    const span = r.windowed ? 'the window' : 'the whole run (no sample fell in the window)';
    console.log(
      `\nRivulet profile ${f} over ${span}: ${r.samples} samples, ${r.idlePct} % idle; top by self time, % of busy samples:`,
    );
    for (const [k, v] of r.self) console.log(`  ${v.toFixed(1).padStart(5)} %  ${k}`);
    console.log('src/radio listener functions, including what they call, % of busy samples:');
    for (const [k, v] of r.inclusive) console.log(`  ${v.toFixed(1).padStart(5)} %  ${k}`);
    if (fromSrc) console.log('(run from src/ through tsx: line numbers are lost; npm run build gives them)');
  }
}

async function rivulet(mp3: string): Promise<Measurement> {
  const { flags, from } = rivuletFlags();
  console.log(`rivulet: from ${from}`);
  const profDir = values.profile ? mkdtempSync(join(tmpdir(), 'rivulet-bench-prof-')) : undefined;
  let radioPort = 0;
  const media = mkdtempSync(join(tmpdir(), 'rivulet-bench-radio-'));
  const riv = await startRivulet(
    media,
    [
      'radio.ports=0',
      'radio.bind=127.0.0.1',
      `radio.sourcePassword=${PASSWORD}`,
      `radio.burstBytes=${BURST}`,
    ],
    undefined,
    (line) => {
      const m = /internet radio .* on port (\d+)/.exec(line);
      if (m) radioPort = Number(m[1]);
    },
    { nodeFlags: [...flags, ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])] },
  );
  let window: [number, number] | undefined;
  let source: RadioProcess | undefined;
  try {
    if (!radioPort) throw new Error('Rivulet did not log its radio port');
    source = ffmpegIcecastPublish(icecastSourceUrl('127.0.0.1', radioPort, `/${MOUNT}`, PASSWORD), {
      file: mp3,
      copy: true,
    });
    await fed(source, waitLive(riv.port, MOUNT));
    return await measure(
      'rivulet',
      riv.child.pid!,
      `http://127.0.0.1:${radioPort}/${MOUNT}`,
      (a, b) => (window = [a, b]),
    );
  } finally {
    await source?.stop();
    await stop(riv.child, 'SIGINT');
    rmSync(media, { recursive: true, force: true });
    if (profDir) {
      printProfile(profDir, window, flags.length > 0);
      rmSync(profDir, { recursive: true, force: true });
    }
  }
}

async function icecast(mp3: string): Promise<Measurement> {
  // The listener limit above N; burst as Rivulet's; icecast's own 512 KiB listener queue.
  const ic = await startIcecast({ sourcePassword: PASSWORD, clients: N + 100, sources: 2, burstSize: BURST });
  let source: RadioProcess | undefined;
  try {
    source = ffmpegIcecastPublish(ic.sourceUrl(`/${MOUNT}`), { file: mp3, copy: true });
    await fed(source, ic.waitForMount(`/${MOUNT}`));
    return await measure('icecast2', ic.child.pid!, ic.mountUrl(`/${MOUNT}`));
  } finally {
    await source?.stop();
    await ic.stop();
  }
}

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined ? '-' : x.toFixed(digits);

function row(m: Measurement, ratio: string): string[] {
  const r = m.run;
  if (typeof r === 'string')
    return [m.server, String(N), r.slice(0, 60), ...Array<string>(10).fill('-'), ratio];
  return [
    m.server,
    String(N),
    `${fmt(r.connect_ms_p50)} / ${fmt(r.connect_ms_p95)}`,
    String(r.failed),
    String(r.dropped),
    String(r.starved),
    `${fmt(r.kbps_median, 1)} (min ${fmt(r.kbps_min, 1)})`,
    fmt(r.reads_per_s_median, 1),
    fmt(r.server_cpu_pct, 1),
    `${fmt(r.server_rss_MiB)} (idle ${m.idleMiB.toFixed(0)})`,
    (((r.server_rss_MiB - m.idleMiB) * 1024) / N).toFixed(1),
    `${fmt(r.reader_cpu_pct)} (elu ${fmt(r.reader_elu_max, 2)})`,
    ratio,
  ];
}

const HEAD = [
  'server',
  'N',
  'connect p50/p95 ms',
  'failed',
  'dropped',
  'starved',
  'recv kbit/s median',
  'reads/s',
  'server CPU %',
  'RSS MiB',
  'KiB/listener',
  'reader CPU %',
  'CPU riv/ice',
];

async function main(): Promise<void> {
  // The server and readers load tsx by name: resolve it from the repository.
  process.chdir(repoRoot);
  const mp3 = await benchMp3();
  console.log(
    `radio: ${N} listeners of a ${BITRATE / 1000} kbit/s MP3 mount; ramp ${RAMP}/s, settle ${SETTLE} s, window ${WINDOW} s; burst ${BURST} B`,
  );
  const mine = await rivulet(mp3);
  const peer = values['no-peer'] ? undefined : await icecast(mp3);
  for (const m of [mine, peer]) {
    if (m && typeof m.run !== 'string' && m.run.failed)
      console.log(`failed listeners, ${m.server}: ${JSON.stringify(m.run.failures)}`);
  }
  const ratio =
    peer && typeof mine.run !== 'string' && typeof peer.run !== 'string' && peer.run.server_cpu_pct > 0
      ? (mine.run.server_cpu_pct / peer.run.server_cpu_pct).toFixed(2)
      : '-';
  printTable(HEAD, [row(mine, ratio), ...(peer ? [row(peer, '')] : [])]);
  if (values.profile) console.log('(--profile: Rivulet ran under the CPU profiler, which adds to its CPU)');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
