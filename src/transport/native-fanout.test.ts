import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
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
    try {
      const fd = Int32Array.of(socketFd(tx));
      const queue = 8 * 1024 * 1024;
      let last = addon.senderStats().submittedSeq;
      /** Submits `rounds` batches of `n` packets of 1400 bytes; the most the queue held. */
      const submit = (rounds: number, n: number): number => {
        const packets = Array.from({ length: n }, () => Buffer.alloc(1400, 1));
        const counts = Int32Array.of(n);
        let peak = 0;
        for (let i = 0; i < rounds; i++) {
          const seq = addon.submitBatch(fd, counts, packets);
          assert.equal(seq, last + 1);
          last = seq;
          peak = Math.max(peak, addon.senderStats().queuedBytes);
        }
        return peak;
      };
      // ~90 MiB of big batches (512 packets, 700 KB): more than the 8 MiB the queue holds, so
      // submitBatch must wait for room.
      const big = submit(130, 512);
      assert.ok(big <= queue + 512 * 1400 + 100_000, `big batches: queued ${big} bytes at most`);
      // Small batches (64 packets) do not wait behind a big one: up to twice the limit.
      const small = submit(1000, 64);
      assert.ok(small <= 2 * queue + 100_000, `small batches: queued ${small} bytes at most`);
      await until(() => addon.completedSeq() >= last, 10_000);
      assert.equal(addon.completedSeq(), last);
      const packets = [Buffer.alloc(100), Buffer.alloc(100)];
      assert.throws(() => addon.sendBatch(fd, Int32Array.of(2), packets.slice(0, 1)), TypeError);
      assert.throws(() => addon.submitBatch(fd, Int32Array.of(1), ['no buffer' as unknown as Buffer]), TypeError);
      assert.equal(addon.sendBatch(Int32Array.of(-1), Int32Array.of(2), packets), 2, 'a bad fd: both datagrams counted as not sent');
    } finally {
      tx.close();
      rx.close();
    }
  });
});

/** Packet i of a pattern: `len` bytes, its number at offset 12 (after a 12-byte "RTP header"),
 * the rest a fill that differs from packet to packet. */
function pkt(i: number, len: number, seed = 0): Buffer {
  const p = Buffer.alloc(len, (i * 7 + seed) & 0xff);
  if (len >= 16) p.writeUInt32BE(i, 12);
  return p;
}
function pattern(lengths: number[], seed = 0): Buffer[] {
  return lengths.map((len, i) => pkt(i, len, seed));
}
const repeat = (n: number, len: number): number[] => Array<number>(n).fill(len);

/** Packet runs GSO coalesces (or must not): each arrives as its own datagrams, or not at all. */
const patterns: [string, number[]][] = [
  ['a video frame: equal fragments, a shorter last one, then audio', [...repeat(7, 1400), 500, 300, ...repeat(3, 1400), 900, 210, 190]],
  ['mixed sizes', [100, 200, 200, 200, 50, 1400, 1400, 1300, 1300, 16, 16, 16, 900, 1000, 1200, 1200, 20]],
  ['more than 64 equal packets, and runs the 65000-byte limit cuts', [...repeat(150, 1000), 999, ...repeat(5, 20000), 19999, 60000, 70, ...repeat(70, 100)]],
  ['a run across the 256-packet chunk boundary', [...repeat(250, 40).map((l, i) => l + (i % 3)), ...repeat(20, 1200), 700]],
];

const fanoutGso = nativeFanout?.gso?.() ? (nativeFanout as Required<NonNullable<typeof nativeFanout>>) : undefined;

describe('native sends with UDP GSO (runs of equal packets as one message)', { skip: skipUnlessCI(!fanoutGso, 'the native UDP fan-out is not built, or this kernel has no UDP GSO') }, () => {
  const addon = fanoutGso!;

  async function receivers(n: number): Promise<{ rx: Socket[]; got: Buffer[][] }> {
    const rx = await Promise.all(Array.from({ length: n }, bound));
    const got = rx.map(() => [] as Buffer[]);
    rx.forEach((s, i) => {
      s.setRecvBufferSize(4 * 1024 * 1024);
      s.on('message', (m) => got[i].push(m));
    });
    return { rx, got };
  }
  async function senders(rx: Socket[]): Promise<{ tx: Socket[]; fds: Int32Array }> {
    const tx = await Promise.all(rx.map((r) => connected(port(r))));
    return { tx, fds: Int32Array.from(tx.map(socketFd)) };
  }
  /** Each receiver got exactly its packets: separate datagrams, in order, byte for byte. */
  async function expectArrived(got: Buffer[][], want: Buffer[][], what: string): Promise<void> {
    await until(() => got.every((g, i) => g.length >= want[i].length), 3000);
    await new Promise((r) => setTimeout(r, 20));
    got.forEach((g, i) => {
      assert.equal(g.length, want[i].length, `${what}: receiver ${i} got every datagram, no more`);
      assert.deepEqual(g.map((m) => m.length), want[i].map((m) => m.length), `${what}: receiver ${i}: each datagram its own length`);
      assert.ok(g.every((m, j) => m.equals(want[i][j])), `${what}: receiver ${i}: byte-identical, in order`);
      g.length = 0;
    });
  }
  function arena(lists: Buffer[][]): [Buffer, Int32Array, Int32Array, Int32Array] {
    const all = lists.flat();
    const data = Buffer.concat(all);
    const counts = Int32Array.from(lists.map((l) => l.length));
    const offsets = new Int32Array(all.length);
    const lengths = Int32Array.from(all.map((p) => p.length));
    for (let i = 1; i < all.length; i++) offsets[i] = offsets[i - 1] + lengths[i - 1];
    return [data, counts, offsets, lengths];
  }
  async function untilSent(seq: number): Promise<void> {
    await until(() => addon.completedSeq() >= seq, 5000);
    assert.ok(addon.completedSeq() >= seq, 'the sender thread sent the batch');
  }

  for (const mode of ['gso', 'no gso (RIVULET_NO_GSO)', 'gso refused by the kernel (falls back to single datagrams)'] as const) {
    const set = () => addon.setGso(mode === 'gso' ? true : mode === 'no gso (RIVULET_NO_GSO)' ? false : 'refused');
    for (const [name, lengths] of patterns) {
      it(`${mode}: ${name}: every datagram arrives intact, in order, with its own length, by every kind of send`, async () => {
        const { rx, got } = await receivers(2);
        const { tx, fds } = await senders(rx);
        try {
          const same = pattern(lengths);
          const own = [pattern(lengths, 1), pattern([...lengths].reverse(), 2)];
          const counts = Int32Array.from(own.map((l) => l.length));

          set();
          assert.equal(addon.sendFrame(fds, same, new Int32Array(4)), 0, 'sendFrame: nothing lost');
          await expectArrived(got, [same, same], 'sendFrame');
          set();
          await untilSent(addon.submitFrame(fds, same));
          await expectArrived(got, [same, same], 'submitFrame');
          set();
          assert.equal(addon.sendBatch(fds, counts, own.flat()), 0, 'sendBatch: nothing lost');
          await expectArrived(got, own, 'sendBatch');
          set();
          await untilSent(addon.submitBatch(fds, counts, own.flat()));
          await expectArrived(got, own, 'submitBatch');
          const [data, , offsets, lengthsOf] = arena(own);
          set();
          assert.equal(addon.sendArena(data, fds, counts, offsets, lengthsOf), 0, 'sendArena: nothing lost');
          await expectArrived(got, own, 'sendArena');
          set();
          await untilSent(addon.submitArena(data, fds, counts, offsets, lengthsOf));
          await expectArrived(got, own, 'submitArena');
          if (mode === 'gso refused by the kernel (falls back to single datagrams)') assert.equal(addon.gso(), false, 'a refused GSO message turns GSO off');
          if (mode === 'gso') assert.equal(addon.gso(), true);
        } finally {
          addon.setGso(true);
          for (const s of [...tx, ...rx]) s.close();
        }
      });
    }

    it(`${mode}: a refused port (the viewer went away): datagrams not sent are counted one by one, with their octets`, async () => {
      const { rx, got } = await receivers(1);
      const gone = await bound();
      const gonePort = port(gone);
      gone.close();
      const { tx, fds: liveFd } = await senders(rx);
      const dead = await connected(gonePort);
      dead.on('error', () => undefined);
      const fds = Int32Array.of(socketFd(dead), liveFd[0]);
      // 7 fragments of 1000 bytes and a last one of 500: one GSO message of 8 datagrams.
      const frame = pattern([...repeat(7, 1000), 500]);
      const frameOctets = 7 * 988 + 488;
      try {
        set();
        const failed = new Int32Array(4);
        let lost = 0;
        let frameLost = 0;
        let octets = 0;
        // The port's refusal (ICMP) fails the next send on the socket: two calls of each kind.
        for (let round = 0; round < 10; round++) {
          for (let twice = 0; twice < 2; twice++) {
            lost += addon.sendFrame(fds, frame, failed);
            assert.equal(failed[2], 0, 'the live viewer lost nothing');
            frameLost += failed[0];
            octets += failed[1];
          }
          for (let twice = 0; twice < 2; twice++) lost += addon.sendBatch(fds, Int32Array.of(8, 8), [...frame, ...frame]);
          await new Promise((r) => setImmediate(r));
        }
        const before = addon.senderStats().failed;
        let seq = 0;
        for (let round = 0; round < 10; round++) seq = addon.submitBatch(fds.subarray(0, 1), Int32Array.of(8), frame);
        await untilSent(seq);
        const threadLost = addon.senderStats().failed - before;
        assert.ok(frameLost > 0 && lost > frameLost && threadLost > 0, `the refused port lost datagrams (${frameLost} by sendFrame, ${lost} in all, ${threadLost} on the thread)`);
        if (mode === 'gso') {
          // A refused message is its 8 datagrams, never 1; the octets are each one's length - 12.
          for (const n of [lost, frameLost, threadLost]) assert.equal(n % 8, 0, `${n} datagrams lost: whole frames`);
          assert.equal(octets, (frameLost / 8) * frameOctets);
        } else {
          assert.ok(octets >= frameLost * 488 && octets <= frameLost * 988, `${octets} octets for ${frameLost} datagrams`);
        }
        await expectArrived(got, [Array.from({ length: 40 }, () => frame).flat()], 'the live viewer');
      } finally {
        addon.setGso(true);
        for (const s of [...tx, ...rx, dead]) s.close();
      }
    });
  }

  it('is on unless RIVULET_NO_GSO=1 (read when the addon loads)', () => {
    const file = createRequire(import.meta.url).resolve('../../build/Release/rivulet_fanout.node');
    const gsoIn = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(file)}).gso()))`], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout;
    assert.equal(gsoIn({ RIVULET_NO_GSO: '1' }), 'false');
    assert.equal(gsoIn({ RIVULET_NO_GSO: '0' }), 'true');
    assert.equal(gsoIn({}), 'true');
  });
});
