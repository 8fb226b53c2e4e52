/** Live fan-out benchmark: ffmpeg publishes the peer kit's loop.h264 into Rivulet, N readers
 * watch; gst-rtsp-server's `/loop` (the same file, looped, shared) is measured with the same
 * reader in the same run (../shared/bench/README.md). While the readers watch, a monitoring job
 * scrapes Rivulet's /metrics and lists its sessions through the API every 2 s (a build with an
 * admin): how long an operator waits for those with N viewers connected.
 *
 *   npm run bench:fanout -- [--runs 1000:tcp,1000:udp,3000:tcp] [--window 20] [--no-peer] [--no-monitor]
 *
 * A run `N:transport` measures both servers; `N:transport:solo` only Rivulet. Prints one JSON
 * line per measurement and a table with CPU, RSS, memory per viewer, loss and the CPU ratio. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cols, freePort, loopMedia, median, printTable, pushLoop, ratio, readers, rssMiB, serverKnows, sleep, startPeer, startRivulet, stop, waitLive, type ReaderResult } from './lib.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000:tcp,1000:udp,3000:tcp:solo' },
    window: { type: 'string', default: '20' },
    'no-peer': { type: 'boolean', default: false },
    /** No monitoring scrapes (to compare the streaming cost alone with a build without admin). */
    'no-monitor': { type: 'boolean', default: false },
  },
});

const TOKEN = 'bench-monitoring-token-0123456789';

/** Requests `paths` of the admin on `port` every 2 s until stopped; each one's time in ms (NaN
 * for one that failed). */
function monitor(port: number, paths: string[]): { stop(): Promise<Map<string, number[]>> } {
  const times = new Map<string, number[]>(paths.map((p) => [p, []]));
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const p of paths) {
        const t0 = performance.now();
        const ok = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
          async (r) => (await r.arrayBuffer(), r.ok),
          () => false,
        );
        times.get(p)!.push(ok ? performance.now() - t0 : NaN);
      }
      await sleep(2000);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return times;
    },
  };
}

/** `p50 / max ms (N)` of a monitor's times, or how many failed. */
function timing(ms: number[] | undefined): string {
  if (!ms?.length) return '-';
  const ok = ms.filter((x) => !Number.isNaN(x));
  const failed = ms.length - ok.length;
  if (!ok.length) return `${failed} failed`;
  return `${median(ok).toFixed(0)} / ${Math.max(...ok).toFixed(0)}${failed ? `, ${failed} failed` : ''}`;
}

async function main(): Promise<void> {
  const dir = await loopMedia();
  const window = Number(values.window);
  const rows: string[][] = [];
  for (const spec of values.runs.split(',')) {
    const [ns, transport, solo] = spec.split(':');
    const n = Number(ns);
    const adminPort = serverKnows('errorVerbosity') && !values['no-monitor'] ? await freePort() : undefined;
    const riv = await startRivulet(dir, adminPort ? [`admin.port=${adminPort}`, 'admin.bind=127.0.0.1', `admin.tokens=${TOKEN}`] : []);
    const pub = pushLoop(join(dir, 'loop.mp4'), riv.port, 'loop');
    await waitLive(riv.port, 'loop');
    await sleep(3000);
    const idle = rssMiB(riv.child.pid!);
    const watch = adminPort ? monitor(adminPort, ['/metrics', '/api/v1/sessions?limit=100']) : undefined;
    const mine = await readers(`rtsp://127.0.0.1:${riv.port}/loop`, n, transport, riv.child.pid!, window);
    const scrapes = await watch?.stop();
    await stop(pub);
    await stop(riv.child);
    const perViewer = typeof mine === 'string' ? undefined : ((mine.server_rss_MiB - idle) * 1024) / n;
    const metricsMs = timing(scrapes?.get('/metrics'));
    const sessionsMs = timing(scrapes?.get('/api/v1/sessions?limit=100'));
    console.log(JSON.stringify({ server: 'rivulet', n, transport, idle_rss_MiB: +idle.toFixed(1), kib_per_viewer: perViewer && +perViewer.toFixed(1), metrics_ms: metricsMs, sessions_ms: sessionsMs, ...(typeof mine === 'string' ? { error: mine } : mine) }));
    let peer: ReaderResult | string | undefined;
    if (!values['no-peer'] && solo !== 'solo') {
      const p = await startPeer(dir, ['--h264', 'loop.h264', '--file', 'loop.h264']);
      peer = await readers(`rtsp://127.0.0.1:${p.port}/loop`, n, transport, p.child.pid!, window);
      await stop(p.child);
      console.log(JSON.stringify({ server: 'gst-rtsp-server', n, transport, ...(typeof peer === 'string' ? { error: peer } : peer) }));
    }
    rows.push([String(n), transport, ...cols(mine, ` (idle ${idle.toFixed(1)})`), perViewer === undefined ? '-' : perViewer.toFixed(1), metricsMs, sessionsMs, ...cols(peer), ratio(mine, peer)]);
  }
  printTable(['N', 'transport', 'rivulet CPU %', 'rivulet RSS MiB', 'rivulet loss', 'KiB/viewer', '/metrics ms p50/max', '/sessions ms p50/max', 'peer CPU %', 'peer RSS MiB', 'peer loss', 'CPU ratio'], rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
