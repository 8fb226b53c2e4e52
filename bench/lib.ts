/** Shared plumbing for the benchmarks: start Rivulet and the gst-rtsp-server peer, run the
 * peer kit's many-session reader against either, and print a table. Everything on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { repoRoot } from '../test/helpers/fixtures.js';
import { run } from '../test/helpers/run.js';

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
});
// Ctrl-C or a kill would skip 'exit' handlers; exiting through them takes the children along.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

export function track(c: ChildProcess): ChildProcess {
  live.add(c);
  return c;
}

export async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGTERM');
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
export async function startRivulet(mediaDir: string, sets: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const built = join(repoRoot, 'dist/cli/main.js');
  const args = existsSync(built) ? [built] : ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
  const child = track(
    spawn(process.execPath, [...args, 'serve', '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', mediaDir, '--set', 'log.level=info', '--set', 'limits.maxConnectionsPerIp=0', '--set', 'limits.maxSessionsPerIp=0', ...sets.flatMap((s) => ['--set', s])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const m = await waitFor(child, /listening for RTSP on port (\d+)/, 20_000);
  return { child, port: Number(m[1]) };
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
  return [r.server_cpu_pct.toFixed(1), `${r.server_rss_MiB.toFixed(1)}${extra}`, `${r.lost} lost, ${r.sessions_with_loss} sess, ${Number(r.failed ?? 0)} failed`];
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
