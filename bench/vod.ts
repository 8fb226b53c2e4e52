/** VOD benchmark: N concurrent viewers of one movie, Rivulet next to gst-rtsp-server's `/file`
 * mount measured in the same run with the same reader (../shared/bench/rtsp_readers.mjs).
 *
 *   npm run bench:vod -- [--n 100,500] [--transport udp,tcp] [--window 15] [--no-peer]
 *
 * Prints one JSON line per measurement and a table. Everything runs on 127.0.0.1. */
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchClip, cols, printTable, ratio, readers, rssMiB, sleep, startPeer, startRivulet, stop, type ReaderResult } from './lib.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100,500' },
    transport: { type: 'string', default: 'udp,tcp' },
    window: { type: 'string', default: '15' },
    'no-peer': { type: 'boolean', default: false },
  },
});

/** The folder holding the benchmark clip (bench/lib.ts benchClip). */
async function media(): Promise<string> {
  return dirname(await benchClip());
}

async function main(): Promise<void> {
  const dir = await media();
  const window = Number(values.window);
  const rows: string[][] = [];
  for (const transport of values.transport.split(',')) {
    for (const n of values.n.split(',').map(Number)) {
      const riv = await startRivulet(dir);
      await sleep(1000);
      const idle = rssMiB(riv.child.pid!);
      const mine = await readers(`rtsp://127.0.0.1:${riv.port}/clip.mp4`, n, transport, riv.child.pid!, window);
      await stop(riv.child);
      console.log(JSON.stringify({ server: 'rivulet', n, transport, idle_rss_MiB: +idle.toFixed(1), ...(typeof mine === 'string' ? { error: mine } : mine) }));
      let peer: ReaderResult | string | undefined;
      if (!values['no-peer']) {
        const p = await startPeer(dir, ['--file', 'clip.mp4']);
        peer = await readers(`rtsp://127.0.0.1:${p.port}/file`, n, transport, p.child.pid!, window);
        await stop(p.child);
        console.log(JSON.stringify({ server: 'gst-rtsp-server', n, transport, ...(typeof peer === 'string' ? { error: peer } : peer) }));
      }
      rows.push([String(n), transport, ...cols(mine, ` (idle ${idle.toFixed(1)})`), ...cols(peer), ratio(mine, peer)]);
    }
  }
  printTable(['N', 'transport', 'rivulet CPU %', 'rivulet RSS MiB', 'rivulet loss', 'peer CPU %', 'peer RSS MiB', 'peer loss', 'CPU ratio'], rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
