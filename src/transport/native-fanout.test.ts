import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { FdBatch, nativeFanout, socketFd } from './native-fanout.js';

function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}
function connected(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.connect(port, '127.0.0.1', () => r(s)));
}
const port = (s: Socket) => s.address().port;

describe('native UDP fan-out', () => {
  it('is built on Linux (npm install runs node-gyp)', { skip: process.platform !== 'linux' }, () => {
    assert.ok(nativeFanout, 'build/Release/rivulet_fanout.node is missing: run `npm install`');
  });

  it('sends every packet of a frame, in order, to every viewer socket, and survives a vanished viewer', { skip: !nativeFanout }, async () => {
    const rx = await Promise.all([bound(), bound()]);
    const got: Buffer[][] = [[], []];
    rx.forEach((s, i) => s.on('message', (m) => got[i].push(m)));
    const gone = await bound();
    const gonePort = port(gone);
    gone.close();
    const tx = [await connected(port(rx[0])), await connected(gonePort), await connected(port(rx[1]))];
    tx.forEach((s) => s.on('error', () => undefined));
    const packets = [Buffer.from('one'), Buffer.from('two'), Buffer.alloc(1400, 7)];
    const batch = new FdBatch();
    for (let round = 0; round < 3; round++) {
      for (const s of tx) batch.add(socketFd(s));
      batch.flush(packets);
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const g of got) {
      assert.equal(g.length, 9);
      assert.deepEqual(g.slice(0, 3), packets);
    }
    for (const s of [...tx, ...rx]) s.close();
  });

  it('gives -1 for a closed socket', async () => {
    const s = await bound();
    assert.ok(socketFd(s) >= 0 || !nativeFanout);
    s.close();
    assert.equal(socketFd(s), -1);
  });
});
