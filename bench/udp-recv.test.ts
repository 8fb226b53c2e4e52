/** The VOD bench reader's native UDP receiver (bench/native/udp-recv.c) counts what it is sent:
 * packets, bytes, sequence gaps per SSRC across the 16-bit wrap, reordered packets, timestamps
 * and the first packet's arrival; RTCP and non-RTP datagrams are not counted.
 *
 *   node --import tsx --test bench/udp-recv.test.ts */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { nativeFanout, socketFd } from '../src/transport/native-fanout.js';
import { loadUdpRecv, NativeUdp, S } from './vod-readers.js';

const addon = loadUdpRecv();

function rtp(seq: number, ts: number, ssrc: number, size = 100): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

test(
  'native UDP receiver counts gaps, reorders and bytes per SSRC',
  { skip: !addon && process.env.CI !== 'true' && 'bench addon not built' },
  async () => {
    assert.ok(addon, 'build/Release/rivulet_bench_recv.node is built (node-gyp)');
    const rx = new NativeUdp(addon);
    const a = rx.slot();
    const b = rx.slot();
    // Random even ports from a wide range, skipping those in use (no fixed port).
    const next = () => 30000 + 2 * Math.floor(Math.random() * 15000);
    const [pa, ...fdsA] = rx.bindPair(next, 262144, a);
    const [pb, ...fdsB] = rx.bindPair(next, 262144, b);
    const tx = dgram.createSocket('udp4');
    const send = (buf: Buffer, port: number) =>
      new Promise<void>((res, rej) => tx.send(buf, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    try {
      const before = rx.addon.now();
      // Slot a, SSRC 1: 10 11 12 [13 14 lost] 15 16, 14 late (reordered), 16 again (duplicate);
      // then SSRC 2 from 65534 across the wrap: 65534 65535 [0 lost] 1.
      const seqA: [number, number, number][] = [
        [10, 1000, 1],
        [11, 1000, 1],
        [12, 4000, 1],
        [15, 7000, 1],
        [16, 7000, 1],
        [14, 4000, 1],
        [16, 7000, 1],
        [65534, 9000, 2],
        [65535, 9000, 2],
        [1, 12000, 2],
      ];
      for (const [seq, ts, ssrc] of seqA) await send(rtp(seq, ts, ssrc), pa);
      // Not counted: a short datagram, a non-RTP one, RTCP on the odd port.
      await send(Buffer.alloc(8, 0x80), pa);
      await send(Buffer.alloc(40, 0x00), pa);
      await send(rtp(20, 0, 1), pa + 1);
      // Slot b: no gap, 3 packets of 1200 bytes.
      for (const seq of [65535, 0, 1]) await send(rtp(seq, 500, 7, 1200), pb);
      const sa = () => rx.statsOf(a);
      const sb = () => rx.statsOf(b);
      for (let i = 0; i < 200 && (sa()[S.pkts] < seqA.length || sb()[S.pkts] < 3); i++) {
        rx.drain();
        await new Promise((r) => setTimeout(r, 10));
      }
      rx.drain(); // anything that came after the counts were reached would show here
      const after = rx.addon.now();
      assert.equal(sa()[S.pkts], seqA.length);
      assert.equal(sa()[S.bytes], 100 * seqA.length);
      assert.equal(sa()[S.lost], 3, 'two lost on SSRC 1, one across the wrap on SSRC 2');
      assert.equal(sa()[S.reordered], 1);
      assert.equal(sa()[S.ssrc], 2);
      assert.equal(sa()[S.lastSeq], 1);
      assert.equal(sa()[S.firstTs], 1000);
      assert.equal(sa()[S.lastTs], 12000);
      assert.ok(
        sa()[S.firstAt] >= before - 1 && sa()[S.firstAt] <= after + 1,
        `first arrival ${sa()[S.firstAt]} within [${before}, ${after}]`,
      );
      assert.deepEqual([sb()[S.pkts], sb()[S.bytes], sb()[S.lost], sb()[S.reordered]], [3, 3600, 0, 0]);
    } finally {
      tx.close();
      rx.addon.close(Int32Array.from([...fdsA, ...fdsB]));
    }
  },
);

test(
  'native UDP receiver counts each segment of a GSO message as the datagram it was sent as (UDP GRO)',
  {
    skip:
      (!addon || !nativeFanout?.gso?.()) &&
      process.env.CI !== 'true' &&
      "bench addon or the server's GSO sender not built",
  },
  async () => {
    assert.ok(addon, 'build/Release/rivulet_bench_recv.node is built (node-gyp)');
    const fanout = nativeFanout;
    assert.ok(fanout?.gso?.() && fanout.sendArena, "the server's native sender sends GSO messages");
    const rx = new NativeUdp(addon);
    const a = rx.slot();
    const next = () => 30000 + 2 * Math.floor(Math.random() * 15000);
    const [pa, ...fds] = rx.bindPair(next, 4 * 1024 * 1024, a);
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((res) => tx.connect(pa, '127.0.0.1', () => res()));
    try {
      // A frame of 6 fragments of 1200 bytes and a last one of 700 (one GSO message of 7), then
      // two audio packets; seq 100..108 with 103 left out (a gap inside the run: 1 lost).
      const sizes = [1200, 1200, 1200, 1200, 1200, 1200, 700, 300, 250];
      const seqs = [100, 101, 102, 104, 105, 106, 107, 108, 109];
      const packets = sizes.map((n, i) => rtp(seqs[i], i < 7 ? 9000 : 9000 + 1024 * (i - 6), 5, n));
      const data = Buffer.concat(packets);
      const offsets = new Int32Array(packets.length);
      for (let i = 1; i < packets.length; i++) offsets[i] = offsets[i - 1] + sizes[i - 1];
      fanout!.sendArena(
        data,
        Int32Array.of(socketFd(tx)),
        Int32Array.of(packets.length),
        offsets,
        Int32Array.from(sizes),
      );
      const sa = () => rx.statsOf(a);
      for (let i = 0; i < 200 && sa()[S.pkts] < packets.length; i++) {
        rx.drain();
        await new Promise((r) => setTimeout(r, 10));
      }
      rx.drain();
      assert.equal(sa()[S.pkts], packets.length, 'every segment counted as a packet');
      assert.equal(sa()[S.bytes], data.length);
      assert.equal(sa()[S.lost], 1, 'the seq left out inside the GSO run is a loss');
      assert.equal(sa()[S.lastSeq], 109);
      assert.equal(sa()[S.lastTs], 9000 + 2048, "the last packet's own timestamp");
    } finally {
      tx.close();
      rx.addon.close(Int32Array.from(fds));
    }
  },
);
