/** Shared plumbing for the benchmarks: start Rivulet and the gst-rtsp-server peer, run the
 * peer kit's many-session reader against either, and print a table. Everything on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../test/helpers/fixtures.js';
import { run } from '../test/helpers/run.js';
import { RawRtspClient } from '../test/helpers/rtsp-client.js';

export const SHARED = resolve(repoRoot, '../shared/bench');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
  killChildren();
});
// Ctrl-C or a kill would skip 'exit' handlers; exiting through them takes the children along.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

/** Ends every child process still running, by its pid (ours only, read from /proc): the readers
 * run through test/helpers/run, which `track` does not see. */
function killChildren(): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${process.pid}/task`);
  } catch {
    return;
  }
  for (const task of tasks) {
    let kids: string[];
    try {
      kids = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      continue;
    }
    for (const pid of kids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

export function track(c: ChildProcess): ChildProcess {
  live.add(c);
  return c;
}

/** Ends `c` with `signal` (SIGINT lets a server under `--cpu-prof` write its profile), SIGKILL
 * after 5 s. */
export async function stop(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.exitCode === null && c.signalCode === null) {
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await new Promise((r) => c.once('exit', r));
    clearTimeout(t);
  }
  live.delete(c);
}

function waitFor(child: ChildProcess, re: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`timed out waiting for ${re}: ${out}`)), ms);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(t);
        // Stop keeping the log: a long run under load would grow it and rescan it per chunk.
        child.stdout?.off('data', on);
        child.stderr?.off('data', on);
        out = '';
        res(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

/** Rivulet from the build (dist/) when present, else from source. */
/** The server a benchmark runs: `RIVULET_BENCH_SERVER` (another build's dist/cli/main.js, to
 * measure an older build against this one in the same session), else this build's dist/, else
 * the source through tsx. */
function serverCommand(): { args: string[]; root: string } {
  const other = process.env.RIVULET_BENCH_SERVER;
  if (other) return { args: [resolve(other)], root: resolve(dirname(other), '../..') };
  const built = join(repoRoot, 'dist/cli/main.js');
  return { args: existsSync(built) ? [built] : ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')], root: repoRoot };
}

/** Config keys a build knows (an older build refuses keys it has never heard of). */
function knowsKey(root: string, key: string): boolean {
  for (const f of ['dist/config/schema.js', 'src/config/schema.ts']) {
    const p = join(root, f);
    if (existsSync(p)) return readFileSync(p, 'utf8').includes(`${key}:`);
  }
  return false;
}

/** Whether the server a benchmark runs (see serverCommand) knows a config key, so a benchmark
 * needing a newer feature can say so instead of timing out on a refused config. */
export function serverKnows(key: string): boolean {
  return knowsKey(serverCommand().root, key);
}

/** Whether the server a benchmark runs has a module (`relays/pull-source`: in the build it runs,
 * else in the source it runs), for a feature whose config keys an older build already knew. */
export function serverHas(module: string): boolean {
  const { args, root } = serverCommand();
  return args[args.length - 1].endsWith('.ts') ? existsSync(join(root, 'src', `${module}.ts`)) : existsSync(join(root, 'dist', `${module}.js`));
}

/** `config` as YAML in a temporary folder removed on the way out; the file's path, for
 * startRivulet's `configFile`. */
export function writeConfig(config: unknown): string {
  const tmp = mkdtempSync(join(tmpdir(), 'rivulet-bench-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const file = join(tmp, 'rivulet.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** `configFile`: a YAML file for `--config` (for settings `--set` cannot write, such as lists).
 * `onLine`: each line the server writes (stdout and stderr), from its first on: with
 * `log.format=json` in `sets`, its log records. `opts.nodeFlags`: node options before the
 * server's script (default none), such as `--cpu-prof`. */
export async function startRivulet(
  mediaDir: string,
  sets: string[] = [],
  configFile?: string,
  onLine?: (line: string) => void,
  opts: { nodeFlags?: string[] } = {},
): Promise<{ child: ChildProcess; port: number }> {
  const { args: script, root } = serverCommand();
  const args = [...(opts.nodeFlags ?? []), ...script];
  // One reader process holds every session from 127.0.0.1: lift the per-address caps.
  const lift = ['limits.maxConnectionsPerIp=0', ...(knowsKey(root, 'maxSessionsPerIp') ? ['limits.maxSessionsPerIp=0'] : [])];
  // The admin's fixed port would collide between runs; log files go to a scratch folder.
  if (knowsKey(root, 'errorVerbosity')) {
    const logs = mkdtempSync(join(tmpdir(), 'rivulet-bench-logs-'));
    process.on('exit', () => rmSync(logs, { recursive: true, force: true }));
    lift.push('admin.port=0', `logs.folder=${logs}`);
  }
  const child = track(
    spawn(process.execPath, [...args, 'serve', ...(configFile ? ['--config', configFile] : []), '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', mediaDir, '--set', 'log.level=info', ...[...lift, ...sets].flatMap((s) => ['--set', s])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  if (onLine) for (const s of [child.stdout, child.stderr]) if (s) eachLine(s, onLine);
  const m = await waitFor(child, /listening for RTSP on port (\d+)/, 20_000);
  return { child, port: Number(m[1]) };
}

/** Calls `fn` with each complete line of `s`; a line longer than 64 KiB is cut there. */
function eachLine(s: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let rest = '';
  s.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!.slice(0, 65536);
    for (const l of lines) fn(l);
  });
  s.on('end', () => {
    if (rest) fn(rest);
  });
}

/** The reference peer (Debian's gst-rtsp-server), mounts /file, /loop, /live. */
export async function startPeer(mediaDir: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = track(
    spawn('/usr/bin/python3', [join(SHARED, 'gst_rtsp_peer.py'), ...args, '--port', String(port), '--bind', '127.0.0.1'], { cwd: mediaDir, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  await sleep(2500);
  if (child.exitCode !== null) throw new Error('gst-rtsp-server peer did not start (needs python3-gi gir1.2-gst-rtsp-server-1.0)');
  return { child, port };
}

export interface ReaderResult {
  server_cpu_pct: number;
  server_rss_MiB: number;
  lost: number;
  sessions_with_loss: number;
  failed?: number;
  playing?: number;
  [k: string]: unknown;
}

/** ../shared/bench/rtsp_readers.mjs with N sessions; a string says why it gave no result. */
export async function readers(url: string, n: number, transport: string, pid: number, windowS: number): Promise<ReaderResult | string> {
  const limitS = n / 100 + 5 + windowS + 120;
  const r = await run(
    process.execPath,
    [join(SHARED, 'rtsp_readers.mjs'), '--url', url, '--n', String(n), '--transport', transport, '--ramp', '100', '--settle', '5', '--window', String(windowS), '--pid', String(pid), '--json'],
    { timeoutMs: limitS * 1000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ReaderResult;
  } catch {
    return r.timedOut ? `reader gave no result within ${limitS} s` : `reader failed: ${(r.stderr + r.stdout).trim().slice(-300)}`;
  }
}

export function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export function cols(r: ReaderResult | string | undefined, extra = ''): string[] {
  if (r === undefined) return ['-', '-', '-'];
  if (typeof r === 'string') return ['failed', '-', r.slice(0, 40)];
  const setup = typeof r.setup_ms_p50 === 'number' ? `; setup p50/p95 ${r.setup_ms_p50}/${String(r.setup_ms_p95)} ms` : '';
  return [r.server_cpu_pct.toFixed(1), `${r.server_rss_MiB.toFixed(1)}${extra}`, `${r.lost} lost, ${r.sessions_with_loss} sess, ${Number(r.sessions_starved ?? 0)} starved, ${Number(r.failed ?? 0)} failed${setup}`];
}

export function ratio(a: ReaderResult | string, b: ReaderResult | string | undefined): string {
  return typeof a !== 'string' && b && typeof b !== 'string' && b.server_cpu_pct > 0 ? (a.server_cpu_pct / b.server_cpu_pct).toFixed(2) : '-';
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log('\n' + line(head) + '\n|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

/** 90 s of the peer kit's clip recipe (640x360@25 H.264 baseline ~1 Mbit/s + AAC 48 kHz), long
 * enough that no viewer reaches the end inside the measurement window. Made once, cached in
 * test/.cache/bench. */
export async function benchClip(): Promise<string> {
  const dir = join(repoRoot, 'test/.cache/bench');
  const file = join(dir, 'clip.mp4');
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const r = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '90',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M', '-g', '50', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline',
      '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-shortest', file],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return file;
}

/** Waits until `path` answers DESCRIBE with 200: a publisher's push or a configured source is live. */
export async function waitLive(port: number, path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const c = await RawRtspClient.connect(port);
    const r = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/${path}`).catch(() => undefined);
    c.close();
    if (r?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`rtsp://127.0.0.1:${port}/${path} never became active`);
}

/** ffmpeg publishing `file` looped forever at its own pace, as is (`-c copy`), to `path` over
 * RTSP/TCP (ANNOUNCE/RECORD). The file must be an MP4: ffmpeg cannot loop a raw `.h264`. */
export function pushLoop(file: string, port: number, path: string): ChildProcess {
  return track(
    spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${port}/${path}`], {
      stdio: 'ignore',
    }),
  );
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

/** utime + stime of a process and all its threads, in clock ticks. */
function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The share of one core (%) a process used over the next `seconds`, from /proc like the peer
 * kit's reader measures it. */
export async function cpuPct(pid: number, seconds: number): Promise<number> {
  const t0 = performance.now();
  const c0 = cpuTicks(pid);
  await sleep(seconds * 1000);
  const c1 = cpuTicks(pid);
  return (100 * (c1 - c0)) / CLK_TCK / ((performance.now() - t0) / 1000);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The peer kit's loop.h264 recipe (20 s Annex-B H.264, ~0.85 Mbit/s, IDR every 2 s) and the
 * same bits as loop.mp4 for ffmpeg to loop; made once in test/.cache/bench, whose path it returns. */
export async function loopMedia(): Promise<string> {
  const dir = join(repoRoot, 'test/.cache/bench');
  const file = join(dir, 'loop.h264');
  const looped = join(dir, 'loop.mp4');
  if (existsSync(file) && existsSync(looped)) return dir;
  mkdirSync(dir, { recursive: true });
  const r = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '1M', '-maxrate', '1M',
      '-bufsize', '1M', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-f', 'h264', file],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  // ffmpeg cannot seek in a raw .h264 file, so `-stream_loop` stops after one pass; the same
  // bits in an MP4 loop forever.
  const m = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-r', '25', '-i', file, '-c', 'copy', looped], { timeoutMs: 60_000 });
  if (m.code !== 0) throw new Error(m.stderr);
  return dir;
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A reader run's result, or why it gave none. */
export type Measured = ReaderResult | string;

/** Each round's value and their median: `48.1, 50.2, 47.9 (med 48.1)`; failed rounds say so. */
export function series(ms: Measured[], get: (r: ReaderResult) => number | null): string {
  const ok = ms.map((m) => (typeof m === 'string' ? undefined : (get(m) ?? undefined)));
  const shown = ok.map((v) => (v === undefined ? 'failed' : v.toFixed(1))).join(', ');
  const nums = ok.filter((v): v is number => v !== undefined);
  return ms.length > 1 && nums.length ? `${shown} (med ${median(nums).toFixed(1)})` : shown;
}

/** Loss and failures summed over the rounds; a round with no result is counted and its reason shown. */
export function losses(ms: Measured[]): string {
  const ok = ms.filter((m): m is ReaderResult => typeof m !== 'string');
  const sum = (get: (r: ReaderResult) => unknown) => ok.reduce((a, r) => a + Number(get(r) ?? 0), 0);
  const broken = ms.filter((m): m is string => typeof m === 'string');
  const text = `${sum((r) => r.lost)} lost, ${sum((r) => r.sessions_with_loss)} sess, ${sum((r) => r.sessions_starved)} starved, ${sum((r) => r.failed)} failed`;
  return broken.length ? `${text}; ${broken.length} run(s) gave no result: ${broken[0].slice(0, 60)}` : text;
}

/** Per-round ratios a/b of the server's CPU and their median: `1.02, 0.97 (med 1.00)`, `-` for a
 * round where either side failed; the median alone (undefined when none) for a summary line. */
export function cpuRatios(a: Measured[], b: Measured[]): { text: string; median: number | undefined } {
  const rs = a.map((x, i) => {
    const y = b[i];
    return typeof x !== 'string' && y !== undefined && typeof y !== 'string' && y.server_cpu_pct > 0 ? x.server_cpu_pct / y.server_cpu_pct : undefined;
  });
  const ok = rs.filter((r): r is number => r !== undefined);
  const med = ok.length ? median(ok) : undefined;
  return { text: rs.map((r) => (r === undefined ? '-' : r.toFixed(2))).join(', ') + (ok.length > 1 ? ` (med ${med!.toFixed(2)})` : ''), median: med };
}
