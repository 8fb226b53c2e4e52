/** VOD benchmark: N concurrent viewers of one movie, Rivulet next to gst-rtsp-server's `/file`
 * mount measured in the same run with the same reader (../shared/bench/rtsp_readers.mjs).
 *
 *   npm run bench:vod -- [--n 100,500] [--transport udp,tcp] [--window 15] [--no-peer]
 *
 * Prints one JSON line per measurement and a table: N, transport, server CPU %, RSS, loss, and
 * the peer's CPU % with the ratio. Everything runs on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../test/helpers/run.js';
import { repoRoot } from '../test/helpers/fixtures.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100,500' },
    transport: { type: 'string', default: 'udp,tcp' },
    window: { type: 'string', default: '15' },
    'no-peer': { type: 'boolean', default: false },
    shared: { type: 'string', default: resolve(repoRoot, '../shared/bench') },
  },
});
const NS = values.n.split(',').map(Number);
const TRANSPORTS = values.transport.split(',');
const WINDOW = Number(values.window);
const SHARED = values.shared;
const READERS = join(SHARED, 'rtsp_readers.mjs');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** 90 s of the peer kit's clip recipe (640x360@25 H.264 baseline ~1 Mbit/s + AAC 48 kHz), long
 * enough that no viewer reaches the end inside the measurement window. */
async function media(): Promise<string> {
  const dir = join(repoRoot, 'test/.cache/bench');
  const file = join(dir, 'clip.mp4');
  if (existsSync(file)) return dir;
  mkdirSync(dir, { recursive: true });
  const r = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '90',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '2M', '-g', '50', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline',
      '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-shortest', file],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
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
        res(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

async function startRivulet(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const built = join(repoRoot, 'dist/cli/main.js');
  const args = existsSync(built) ? [built] : ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...args, 'serve', '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', dir, '--set', 'log.level=info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = await waitFor(child, /listening for RTSP on port (\d+)/, 20_000);
  child.stdout?.resume();
  return { child, port: Number(m[1]) };
}

async function startPeer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn('/usr/bin/python3', [join(SHARED, 'gst_rtsp_peer.py'), '--file', 'clip.mp4', '--port', String(port), '--bind', '127.0.0.1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await sleep(2500);
  if (child.exitCode !== null) throw new Error('gst-rtsp-server peer did not start (needs python3-gi gir1.2-gst-rtsp-server-1.0)');
  return { child, port };
}

interface ReaderResult {
  server_cpu_pct: number;
  server_rss_MiB: number;
  lost: number;
  sessions_with_loss: number;
  sessions_starved?: number;
  [k: string]: unknown;
}

async function readers(url: string, n: number, transport: string, pid: number): Promise<ReaderResult | string> {
  const limitS = n / 100 + 5 + WINDOW + 120;
  const r = await run(process.execPath, [READERS, '--url', url, '--n', String(n), '--transport', transport, '--ramp', '100', '--settle', '5', '--window', String(WINDOW), '--pid', String(pid), '--json'], {
    timeoutMs: limitS * 1000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ReaderResult;
  } catch {
    return r.timedOut ? `reader gave no result within ${limitS} s` : `reader failed: ${(r.stderr + r.stdout).trim().slice(-300)}`;
  }
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode === null) {
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await new Promise((r) => c.once('exit', r));
    clearTimeout(t);
  }
  live.delete(c);
}

function rssMiB(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}


async function main(): Promise<void> {
  const dir = await media();
  const rows: string[][] = [];
  for (const transport of TRANSPORTS) {
    for (const n of NS) {
      const riv = await startRivulet(dir);
      live.add(riv.child);
      await sleep(1000);
      const idle = rssMiB(riv.child.pid!);
      const mine = await readers(`rtsp://127.0.0.1:${riv.port}/clip.mp4`, n, transport, riv.child.pid!);
      await stop(riv.child);
      console.log(JSON.stringify({ server: 'rivulet', n, transport, idle_rss_MiB: +idle.toFixed(1), ...(typeof mine === 'string' ? { error: mine } : mine) }));
      let peer: ReaderResult | string | undefined;
      if (!values['no-peer']) {
        const p = await startPeer(dir);
        live.add(p.child);
        peer = await readers(`rtsp://127.0.0.1:${p.port}/file`, n, transport, p.child.pid!);
        await stop(p.child);
        console.log(JSON.stringify({ server: 'gst-rtsp-server', n, transport, ...(typeof peer === 'string' ? { error: peer } : peer) }));
      }
      const cols = (r: ReaderResult | string | undefined, extra = ''): string[] =>
        r === undefined
          ? ['-', '-', '-']
          : typeof r === 'string'
            ? ['failed', '-', r.slice(0, 40)]
            : [
                r.server_cpu_pct.toFixed(1),
                `${r.server_rss_MiB.toFixed(1)}${extra}`,
                `${r.lost} lost, ${r.sessions_with_loss} sess, ${Number(r.failed ?? 0)} failed`,
              ];
      const ratio =
        typeof mine !== 'string' && peer && typeof peer !== 'string' && peer.server_cpu_pct > 0
          ? (mine.server_cpu_pct / peer.server_cpu_pct).toFixed(2)
          : '-';
      rows.push([String(n), transport, ...cols(mine, ` (idle ${idle.toFixed(1)})`), ...cols(peer), ratio]);
    }
  }
  const head = ['N', 'transport', 'rivulet CPU %', 'rivulet RSS MiB', 'rivulet loss', 'peer CPU %', 'peer RSS MiB', 'peer loss', 'CPU ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log('\n' + line(head) + '\n|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
