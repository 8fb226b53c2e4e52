import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { skipUnlessCI } from '../../test/helpers/tools.js';
import { FdBatch, nativeFanout, socketFd, type FdOwner } from './native-fanout.js';

function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}
function connected(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.connect(port, '127.0.0.1', () => r(s)));
}
const port = (s: Socket) => s.address().port;
async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('native UDP fan-out', () => {
  it('is built on Linux (npm install runs node-gyp)', { skip: process.platform !== 'linux' }, () => {
    assert.ok(nativeFanout, 'build/Release/rivulet_fanout.node is missing: run `npm install`');
  });

  it('sends every packet of a frame, in order, to every viewer socket, and survives a vanished viewer', { skip: skipUnlessCI(!nativeFanout, 'the native UDP fan-out is not built') }, async () => {
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

  it('sends frames of more than 512 packets whole, and tells each viewer what it did not get', { skip: skipUnlessCI(!nativeFanout, 'the native UDP fan-out is not built') }, async () => {
    const rx = await Promise.all([bound(), bound(), bound()]);
    const got = rx.map(() => [] as Buffer[]);
    rx.forEach((s, i) => {
      // The whole frame is queued before Node reads any of it.
      s.setRecvBufferSize(4 * 1024 * 1024);
      s.on('message', (m) => got[i].push(m));
    });
    const gone = await bound();
    const gonePort = port(gone);
    gone.close();
    const tx = [await connected(port(rx[0])), await connected(gonePort), await connected(port(rx[1])), await connected(port(rx[2]))];
    tx.forEach((s) => s.on('error', () => undefined));
    const packets = Array.from({ length: 1100 }, (_, i) => {
      const p = Buffer.alloc(112, 0);
      p.writeUInt32BE(i, 12);
      return p;
    });
    const owners = tx.map(() => {
      const o = { packets: 0, octets: 0, unsent(p: number, b: number) { o.packets += p; o.octets += b; } };
      return o satisfies FdOwner;
    });
    const batch = new FdBatch();
    let failed = 0;
    for (let round = 0; round < 2; round++) {
      tx.forEach((s, i) => batch.add(socketFd(s), owners[i]));
      failed += batch.flush(packets);
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => got.every((g) => g.length >= 2200), 2000);
    for (const g of got) {
      assert.equal(g.length, 2200, 'every packet of both frames arrived');
      assert.deepEqual(g.map((m) => m.readUInt32BE(12)).slice(0, 1100), packets.map((_, i) => i), 'in order');
    }
    // The vanished viewer's port refuses (ICMP): those datagrams are failures, counted against
    // that viewer only, with their payload octets.
    assert.ok(owners[1].packets > 0, 'the vanished viewer was told what it did not get');
    assert.equal(owners[1].octets, owners[1].packets * 100);
    assert.equal(failed, owners[1].packets);
    for (const i of [0, 2, 3]) assert.equal(owners[i].packets, 0, `viewer ${i} got everything`);
    for (const s of [...tx, ...rx]) s.close();
  });

  it('gives -1 for a closed socket', async () => {
    const s = await bound();
    assert.ok(socketFd(s) >= 0 || !nativeFanout);
    s.close();
    assert.equal(socketFd(s), -1);
  });
});

describe('native batches', { skip: skipUnlessCI(!nativeFanout?.submitBatch, 'the native UDP fan-out is not built') }, () => {
  const addon = nativeFanout as Required<NonNullable<typeof nativeFanout>>;

  it('numbers submitted batches one after another, bounds what is queued, and refuses bad input', async () => {
    const rx = await bound();
    rx.on('message', () => undefined);
    const tx = await connected(port(rx));
    const fd = Int32Array.of(socketFd(tx));
    const one = Int32Array.of(64);
    const packets = Array.from({ length: 64 }, () => Buffer.alloc(1400, 1));
    let last = addon.senderStats().submittedSeq;
    let peak = 0;
    // ~90 MiB in all: more than the 8 MiB the queue holds, so submitBatch must wait for room.
    for (let i = 0; i < 1000; i++) {
      const seq = addon.submitBatch(fd, one, packets);
      assert.equal(seq, last + 1);
      last = seq;
      peak = Math.max(peak, addon.senderStats().queuedBytes);
    }
    assert.ok(peak <= 8 * 1024 * 1024 + 100_000, `queued ${peak} bytes at most`);
    await until(() => addon.completedSeq() >= last, 10_000);
    assert.equal(addon.completedSeq(), last);
    assert.throws(() => addon.sendBatch(fd, Int32Array.of(2), packets.slice(0, 1)), TypeError);
    assert.throws(() => addon.submitBatch(fd, Int32Array.of(1), ['no buffer' as unknown as Buffer]), TypeError);
    assert.equal(addon.sendBatch(Int32Array.of(-1), Int32Array.of(2), packets.slice(0, 2)), 2, 'a bad fd: both datagrams counted as not sent');
    tx.close();
    rx.close();
  });
});
