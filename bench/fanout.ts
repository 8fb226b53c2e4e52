/** Live fan-out benchmark: ffmpeg publishes the peer kit's loop.h264 into Rivulet, N readers
 * watch; gst-rtsp-server's `/loop` (the same file, looped, shared) is measured with the same
 * reader in the same run (../shared/bench/README.md).
 *
 *   npm run bench:fanout -- [--runs 1000:tcp,1000:udp,3000:tcp] [--window 20] [--no-peer]
 *
 * A run `N:transport` measures both servers; `N:transport:solo` only Rivulet. Prints one JSON
 * line per measurement and a table with CPU, RSS, memory per viewer, loss and the CPU ratio. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cols, loopMedia, printTable, pushLoop, ratio, readers, rssMiB, sleep, startPeer, startRivulet, stop, waitLive, type ReaderResult } from './lib.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000:tcp,1000:udp,3000:tcp:solo' },
    window: { type: 'string', default: '20' },
    'no-peer': { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const dir = await loopMedia();
  const window = Number(values.window);
  const rows: string[][] = [];
  for (const spec of values.runs.split(',')) {
    const [ns, transport, solo] = spec.split(':');
    const n = Number(ns);
    const riv = await startRivulet(dir);
    const pub = pushLoop(join(dir, 'loop.mp4'), riv.port, 'loop');
    await waitLive(riv.port, 'loop');
    await sleep(3000);
    const idle = rssMiB(riv.child.pid!);
    const mine = await readers(`rtsp://127.0.0.1:${riv.port}/loop`, n, transport, riv.child.pid!, window);
    await stop(pub);
    await stop(riv.child);
    const perViewer = typeof mine === 'string' ? undefined : ((mine.server_rss_MiB - idle) * 1024) / n;
    console.log(JSON.stringify({ server: 'rivulet', n, transport, idle_rss_MiB: +idle.toFixed(1), kib_per_viewer: perViewer && +perViewer.toFixed(1), ...(typeof mine === 'string' ? { error: mine } : mine) }));
    let peer: ReaderResult | string | undefined;
    if (!values['no-peer'] && solo !== 'solo') {
      const p = await startPeer(dir, ['--h264', 'loop.h264', '--file', 'loop.h264']);
      peer = await readers(`rtsp://127.0.0.1:${p.port}/loop`, n, transport, p.child.pid!, window);
      await stop(p.child);
      console.log(JSON.stringify({ server: 'gst-rtsp-server', n, transport, ...(typeof peer === 'string' ? { error: peer } : peer) }));
    }
    rows.push([String(n), transport, ...cols(mine, ` (idle ${idle.toFixed(1)})`), perViewer === undefined ? '-' : perViewer.toFixed(1), ...cols(peer), ratio(mine, peer)]);
  }
  printTable(['N', 'transport', 'rivulet CPU %', 'rivulet RSS MiB', 'rivulet loss', 'KiB/viewer', 'peer CPU %', 'peer RSS MiB', 'peer loss', 'CPU ratio'], rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
