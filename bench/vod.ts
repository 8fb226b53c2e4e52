/** VOD benchmark: N concurrent viewers of the 90 s bench clip, each at its own seek point, Rivulet
 * next to gst-rtsp-server's `/file` mount measured in the same run with the same reader
 * (bench/vod-readers.ts, 100 new sessions per second).
 *
 *   npm run bench:vod -- [--n 500] [--transport udp,tcp] [--window 15] [--no-peer]
 *                        [--procs auto|P] [--profile] [--mixed FILE,LIVE]
 *
 * --procs    reader processes (auto: one per 250 sessions, at most one per core)
 * --profile  runs Rivulet under `node --cpu-prof` and prints its top 15 functions by self time
 * --mixed    instead of --n: FILE viewers of the clip and LIVE viewers (npt=0) of one pushed
 *            stream (loop.mp4 looped by ffmpeg) at once, e.g. --mixed 1000,2000; Rivulet only
 *
 * A viewer is starved when it received less than 95 % of the media's bitrate over the window
 * or its media time advanced less than 95 % of it. Prints one JSON line per measurement and a
 * table; everything runs on 127.0.0.1. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../test/helpers/run.js';
import { benchClip, errorText, loopMedia, printTable, pushLoop, sleep, startPeer, startRivulet, stop, waitLive } from './lib.js';
import { runReaders, treeStat, type ReaderGroup, type ReaderRun } from './vod-readers.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '500' },
    transport: { type: 'string', default: 'udp,tcp' },
    window: { type: 'string', default: '15' },
    'no-peer': { type: 'boolean', default: false },
    procs: { type: 'string', default: 'auto' },
    profile: { type: 'boolean', default: false },
    mixed: { type: 'string' },
  },
});

const WINDOW = Number(values.window);
const SETTLE = 5;
const RAMP = 100;
const SETUP_CAP = 60;

/** Duration (s) and mean bitrate (bit/s: bytes of the media data × 8 / duration) of a file. */
async function mediaFacts(file: string): Promise<{ durationS: number; bitrate: number }> {
  const r = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:packet=size', '-of', 'json', file], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { format: { duration: string }; packets: { size: string }[] };
  const durationS = Number(j.format.duration);
  return { durationS, bitrate: (j.packets.reduce((a, p) => a + Number(p.size), 0) * 8) / durationS };
}

interface Measurement {
  server: 'rivulet' | 'gst-rtsp-server';
  transport: string;
  idleMiB: number;
  total: number;
  run: ReaderRun | string;
}

/** Reader processes for `total` sessions, unless --procs says: one per 250 sessions, at most one
 * per core. A reader process takes ~6 µs of CPU per UDP packet (one datagram per 'message'),
 * ~1 µs per TCP packet: 300 UDP viewers (~42k packets/s) cost ~30 % of a core. */
function procsFor(total: number): number {
  return values.procs === 'auto' ? Math.min(availableParallelism(), Math.max(1, Math.ceil(total / 250))) : Math.max(1, Number(values.procs));
}

async function measure(server: Measurement['server'], transport: string, pid: number, groups: ReaderGroup[], idleMiB: number): Promise<Measurement> {
  const total = groups.reduce((a, g) => a + g.n, 0);
  const limitS = Math.round(total / RAMP + SETUP_CAP + SETTLE + WINDOW + 30);
  let r: ReaderRun | string;
  try {
    r = await runReaders({ groups, transport: transport as 'udp' | 'tcp', pids: [pid], procs: procsFor(total), ramp: RAMP, settleS: SETTLE, windowS: WINDOW, setupCapS: SETUP_CAP }, limitS * 1000);
  } catch (e) {
    r = errorText(e);
  }
  const m: Measurement = { server, transport, idleMiB, total, run: r };
  const perViewer = typeof r === 'string' || r.server_rss_MiB === null ? undefined : +(((r.server_rss_MiB - idleMiB) * 1024) / total).toFixed(1);
  console.log(JSON.stringify({ server, transport, n: total, idle_rss_MiB: +idleMiB.toFixed(1), kib_per_viewer: perViewer, ...(typeof r === 'string' ? { error: r } : r) }));
  return m;
}

const idleRss = (pid: number) => treeStat([pid]).rssKiB / 1024;
const fmt = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '-' : x.toFixed(digits));

/** The Rivulet half of a row (or the whole row's reason when it gave no result). */
function cells(m: Measurement, g: string, withReader: boolean): string[] {
  const r = m.run;
  const blank = withReader ? 10 : 4;
  if (typeof r === 'string') return [r, ...Array<string>(blank - 1).fill('-')];
  const s = r.groups[g];
  const starved = `${s.starved}${s.starved_at_end ? ` (${s.starved_at_end} at end)` : ''}`;
  // Loss before the window (during the ramp) is shown too: the targets want none at all.
  const loss = `${s.lost} / ${s.sessions_with_loss} / ${s.failed}${s.lost_all > s.lost ? ` (+${s.lost_all - s.lost} before)` : ''}`;
  const rss = `${fmt(r.server_rss_MiB)}`;
  if (!withReader) return [fmt(r.server_cpu_pct, 1), rss, starved, loss];
  const perViewer = r.server_rss_MiB === null ? '-' : (((r.server_rss_MiB - m.idleMiB) * 1024) / m.total).toFixed(0);
  return [
    `${fmt(s.setup_ms.p50)} / ${fmt(s.setup_ms.p95)}`,
    fmt(s.first_packet_ms.p95),
    starved,
    loss,
    fmt(r.server_cpu_pct, 1),
    `${rss} (idle ${m.idleMiB.toFixed(0)})`,
    perViewer,
    `${r.reader_cpu_pct.toFixed(0)} (elu ${r.reader_elu_max.toFixed(2)}, ${r.procs}p)`,
  ];
}

function ratio(a: Measurement, b: Measurement | undefined): string {
  if (!b || typeof a.run === 'string' || typeof b.run === 'string' || !a.run.server_cpu_pct || !b.run.server_cpu_pct) return '-';
  return (a.run.server_cpu_pct / b.run.server_cpu_pct).toFixed(2);
}

/** Top `n` functions by self time of each V8 CPU profile in `dir`. */
function printProfiles(dir: string, n = 15): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
    };
    const key = new Map<number, string>();
    for (const node of p.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      key.set(node.id, url ? `${functionName || '(anonymous)'} ${basename(url)}:${lineNumber + 1}` : functionName);
    }
    const self = new Map<string, number>();
    for (const id of p.samples) self.set(key.get(id)!, (self.get(key.get(id)!) ?? 0) + 1);
    const idle = self.get('(idle)') ?? 0;
    const busy = p.samples.length - idle;
    console.log(`\nprofile ${f}: ${p.samples.length} samples, ${((100 * idle) / p.samples.length).toFixed(1)} % idle; top ${n} by self time, % of busy samples:`);
    const top = [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, n);
    for (const [k, c] of top) console.log(`  ${((100 * c) / busy).toFixed(1).padStart(5)} %  ${k}`);
  }
}

/** Rivulet, optionally under --cpu-prof; `done` stops it so the profile gets written. */
async function rivulet(dir: string): Promise<{ pid: number; port: number; done: () => Promise<void> }> {
  const profDir = values.profile ? mkdtempSync(join(tmpdir(), 'rivulet-bench-prof-')) : undefined;
  const riv = await startRivulet(dir, [], undefined, undefined, profDir ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {});
  return {
    pid: riv.child.pid!,
    port: riv.port,
    done: async () => {
      await stop(riv.child, 'SIGINT');
      if (profDir) {
        printProfiles(profDir);
        rmSync(profDir, { recursive: true, force: true });
      }
    },
  };
}

const HEAD = ['N', 'transport', 'setup p50/p95 ms', '1st pkt p95 ms', 'starved', 'loss lost/sess/failed', 'CPU %', 'RSS MiB max', 'KiB/viewer', 'reader CPU %'];
const PEER_HEAD = ['peer CPU %', 'peer RSS MiB', 'peer starved', 'peer loss', 'CPU ratio'];

function failures(label: string, m: Measurement): void {
  if (typeof m.run === 'string') return;
  for (const [g, s] of Object.entries(m.run.groups)) if (s.failed) console.log(`failed sessions, ${m.server} ${label} ${g}: ${JSON.stringify(s.failures)}`);
}

async function files(dir: string, clip: ReaderGroup): Promise<string[][]> {
  const rows: string[][] = [];
  for (const transport of values.transport.split(',')) {
    for (const n of values.n.split(',').map(Number)) {
      const riv = await rivulet(dir);
      await sleep(1000);
      const idle = idleRss(riv.pid);
      const mine = await measure('rivulet', transport, riv.pid, [{ ...clip, n, url: `rtsp://127.0.0.1:${riv.port}/clip.mp4` }], idle);
      await riv.done();
      let peer: Measurement | undefined;
      if (!values['no-peer']) {
        const p = await startPeer(dir, ['--file', 'clip.mp4']);
        peer = await measure('gst-rtsp-server', transport, p.child.pid!, [{ ...clip, n, url: `rtsp://127.0.0.1:${p.port}/file` }], idleRss(p.child.pid!));
        await stop(p.child);
      }
      failures(`${transport} N=${n}`, mine);
      if (peer) failures(`${transport} N=${n}`, peer);
      rows.push([String(n), transport, ...cells(mine, 'file', true), ...(values['no-peer'] ? [] : [...cells(peer!, 'file', false), ratio(mine, peer)])]);
    }
  }
  return rows;
}

async function mixed(dir: string, clip: ReaderGroup, spec: string): Promise<string[][]> {
  const [nFile, nLive] = spec.split(',').map(Number);
  const loopDir = await loopMedia();
  const loop = await mediaFacts(join(loopDir, 'loop.mp4'));
  const rows: string[][] = [];
  for (const transport of values.transport.split(',')) {
    const riv = await rivulet(dir);
    const pub = pushLoop(join(loopDir, 'loop.mp4'), riv.port, 'live');
    await waitLive(riv.port, 'live');
    await sleep(3000);
    const idle = idleRss(riv.pid);
    const groups: ReaderGroup[] = [
      { ...clip, n: nFile, url: `rtsp://127.0.0.1:${riv.port}/clip.mp4` },
      { name: 'live', n: nLive, bitrate: loop.bitrate, url: `rtsp://127.0.0.1:${riv.port}/live` },
    ];
    const m = await measure('rivulet', transport, riv.pid, groups, idle);
    await stop(pub);
    await riv.done();
    failures(`${transport} mixed`, m);
    rows.push([`${nFile} file`, transport, ...cells(m, 'file', true)]);
    rows.push([`${nLive} live`, transport, ...cells(m, 'live', true)]);
  }
  return rows;
}

async function main(): Promise<void> {
  const file = await benchClip();
  const dir = dirname(file);
  const facts = await mediaFacts(file);
  console.log(`clip: ${facts.durationS.toFixed(1)} s, ${(facts.bitrate / 1000).toFixed(0)} kbit/s of media data; ramp ${RAMP}/s, settle ${SETTLE} s, window ${WINDOW} s`);
  const clip: ReaderGroup = { name: 'file', url: '', n: 0, bitrate: facts.bitrate, durationS: facts.durationS };
  const rows = values.mixed ? await mixed(dir, clip, values.mixed) : await files(dir, clip);
  printTable(values.mixed || values['no-peer'] ? HEAD : [...HEAD, ...PEER_HEAD], rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
