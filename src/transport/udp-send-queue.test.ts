import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { repoRoot } from '../../test/helpers/fixtures.js';
import { skipUnlessCI } from '../../test/helpers/tools.js';
import { silentLogger } from '../logging/index.js';
import { FdBatch, nativeFanout, socketFd, type BatchAddon } from './native-fanout.js';
import { closeQuietly, UdpSink } from './udp.js';
import { writeRtpPacket } from '../rtp/packet.js';
import { udpSendQueue, UdpSendQueue } from './udp-send-queue.js';

const noAddon = skipUnlessCI(!nativeFanout?.submitBatch, 'the native UDP fan-out is not built');
const realAddon = nativeFanout as BatchAddon;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(10);
}

/** Every socket a test opens, closed after it even when it fails (an open socket would keep
 * this file's process from ending). */
const opened: Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) closeQuietly(s);
});
function socket(): Socket {
  const s = createSocket('udp4');
  opened.push(s);
  return s;
}

function bound(): Promise<Socket> {
  const s = socket();
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

/** A bound receiver that keeps what it gets. */
async function receiver(): Promise<{ sock: Socket; got: Buffer[]; port: number }> {
  const sock = await bound();
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  return { sock, got, port: sock.address().port };
}

async function sinkTo(rtpPort: number, rtcpPort: number, queue: UdpSendQueue): Promise<UdpSink> {
  const [rtp, rtcp] = await Promise.all([bound(), bound()]);
  const pair = { rtp, rtcp, rtpPort: rtp.address().port, rtcpPort: rtcp.address().port };
  return UdpSink.open({ pair, clientAddress: '127.0.0.1', clientRtpPort: rtpPort, clientRtcpPort: rtcpPort, onRtcp: () => undefined, log: silentLogger(), queue });
}

/** Packet `seq` of viewer `viewer`: both numbers, then bytes of varying length and value. */
function packet(viewer: number, seq: number, size?: number): Buffer {
  const b = Buffer.alloc(size ?? 20 + ((viewer * 7 + seq * 131) % 1300), (viewer + seq) & 0xff);
  b.writeUInt32BE(viewer, 0);
  b.writeUInt32BE(seq, 4);
  return b;
}

/** An addon whose "thread" sends only when the test says so. */
function gatedAddon() {
  const held: [Int32Array, Int32Array, Buffer[]][] = [];
  let submitted = 0;
  let completed = 0;
  return {
    sendBatch: (fds: Int32Array, counts: Int32Array, packets: Buffer[]) => realAddon.sendBatch(fds, counts, packets),
    submitBatch(fds: Int32Array, counts: Int32Array, packets: Buffer[]) {
      held.push([fds.slice(), counts.slice(), [...packets]]);
      return ++submitted;
    },
    completedSeq: () => completed,
    release() {
      for (const [f, c, p] of held.splice(0)) realAddon.sendBatch(f, c, p);
      completed = submitted;
    },
  };
}

function recordingAddon() {
  const calls: { fds: number[]; counts: number[]; packets: string[] }[] = [];
  const addon: BatchAddon = {
    sendBatch(fds, counts, packets) {
      calls.push({ fds: [...fds], counts: [...counts], packets: packets.map((p) => p.toString()) });
      return 0;
    },
  };
  return { addon, calls };
}

describe('UDP send queue', () => {
  it('groups each turn\'s packets per fd in their order, in one call, and flushes at once past its bound', async () => {
    const { addon, calls } = recordingAddon();
    const q = new UdpSendQueue({ addon, sendThread: 'off', maxPackets: 5 });
    assert.equal(q.mode, 'sync');
    for (const [fd, p] of [[7, 'a1'], [9, 'b1'], [7, 'a2'], [9, 'b2']] as const) q.append(fd, Buffer.from(p));
    assert.equal(calls.length, 0, 'nothing is sent before the end of the turn');
    await sleep(0);
    assert.deepEqual(calls, [{ fds: [7, 9], counts: [2, 2], packets: ['a1', 'a2', 'b1', 'b2'] }]);
    // A caller that never yields: the queue sends every 5 packets, it does not grow.
    for (let i = 0; i < 12; i++) q.append(3, Buffer.from(`p${i}`));
    assert.equal(calls.length, 3);
    assert.equal(q.stats().queuedPackets, 2);
    await sleep(0);
    assert.deepEqual(calls.slice(1).flatMap((c) => c.packets), Array.from({ length: 12 }, (_, i) => `p${i}`));
  });

  it('groups by fd across flushes and fd numbers in the thousands, with pending() right after each flush', async () => {
    const { addon, calls } = recordingAddon();
    const q = new UdpSendQueue({ addon, sendThread: 'off' });
    const fds = [4000, 3, 70000, 3, 4000, 1500];
    fds.forEach((fd, i) => q.append(fd, Buffer.from(`x${i}`)));
    assert.ok(q.pending(70000) && q.pending(3) && !q.pending(5) && !q.pending(70001));
    await sleep(0);
    assert.deepEqual(calls[0], { fds: [4000, 3, 70000, 1500], counts: [2, 2, 1, 1], packets: ['x0', 'x4', 'x1', 'x3', 'x2', 'x5'] });
    assert.ok(!q.pending(4000) && !q.pending(70000), 'a flush empties every fd\'s slot');
    // The next flush: other fds, one of them from the last; slots are not left over from it.
    for (const fd of [1500, 9, 1500]) q.append(fd, Buffer.from(`y${fd}`));
    await sleep(0);
    assert.deepEqual(calls[1], { fds: [1500, 9], counts: [2, 1], packets: ['y1500', 'y1500', 'y9'] });
  });

  it('picks the mode from rtp.sendThread and what the addon offers', () => {
    const { addon } = recordingAddon();
    assert.equal(new UdpSendQueue({ addon: undefined }).mode, 'dgram');
    assert.equal(new UdpSendQueue({ addon, sendThread: 'on' }).mode, 'sync', 'no thread in this addon');
    assert.equal(new UdpSendQueue({ addon: gatedAddon(), sendThread: 'on' }).mode, 'thread');
    assert.equal(new UdpSendQueue({ addon: gatedAddon(), sendThread: 'off' }).mode, 'sync');
  });

  for (const mode of ['thread', 'sync', 'dgram'] as const) {
    it(`${mode}: 200 viewers each get their packets in order, with the right bytes`, { skip: mode !== 'dgram' && noAddon }, async () => {
      const q = mode === 'dgram' ? new UdpSendQueue({ addon: undefined }) : new UdpSendQueue({ sendThread: mode === 'thread' ? 'on' : 'off' });
      assert.equal(q.mode, mode);
      const rx = await Promise.all(Array.from({ length: 200 }, receiver));
      const rtcpRx = await receiver();
      const sinks = await Promise.all(rx.map((r) => sinkTo(r.port, rtcpRx.port, q)));
      const rounds = 30;
      for (let round = 0; round < rounds; round++) {
        // Several packets per viewer per turn, viewers interleaved as the pacer does.
        for (let k = 0; k < 3; k++) sinks.forEach((s, i) => s.sendRtp(packet(i, round * 3 + k)));
        if (round === 0) sinks.forEach((s, i) => s.sendRtcp(packet(i, 0, 60)));
        await sleep(1);
      }
      const total = rounds * 3;
      await until(() => rx.every((r) => r.got.length >= total) && rtcpRx.got.length >= 200, 10_000);
      rx.forEach((r, i) => {
        assert.equal(r.got.length, total, `viewer ${i} got every packet`);
        r.got.forEach((m, seq) => assert.ok(m.equals(packet(i, seq)), `viewer ${i} packet ${seq} in order and intact`));
      });
      assert.equal(rtcpRx.got.length, 200);
      for (const s of sinks) s.close();
      await until(() => q.stats().waitingCloses === 0, 5000);
      assert.equal(q.stats().waitingCloses, 0, 'every closed sink\'s sockets are closed');
      for (const r of [...rx, rtcpRx]) r.sock.close();
    });
  }

  for (const mode of ['thread', 'sync', 'dgram'] as const) {
    it(`${mode}: RTP packets written from their parts arrive as built packets would, in order with the rest`, { skip: mode !== 'dgram' && noAddon }, async () => {
      const q = mode === 'dgram' ? new UdpSendQueue({ addon: undefined }) : new UdpSendQueue({ sendThread: mode === 'thread' ? 'on' : 'off' });
      const rx = await Promise.all(Array.from({ length: 20 }, receiver));
      const rtcpRx = await receiver();
      const sinks = await Promise.all(rx.map((r) => sinkTo(r.port, rtcpRx.port, q)));
      const expected: Buffer[][] = rx.map(() => []);
      for (let seq = 0; seq < 40; seq++) {
        sinks.forEach((s, i) => {
          const body = packet(i, seq);
          if (seq % 2) {
            s.sendRtp(body);
            expected[i].push(body);
          } else {
            const payload = { parts: [body.subarray(0, 2), body.subarray(2)], length: body.length, marker: seq % 4 === 0 };
            const header = { payloadType: 96, sequence: 65530 + seq, timestamp: 0xfffffff0 + seq * 3000, ssrc: 0x1234 + i };
            s.writeRtp(payload, header);
            expected[i].push(writeRtpPacket(payload, header));
          }
        });
        if (seq % 10 === 9) await sleep(1);
      }
      await until(() => rx.every((r) => r.got.length >= 40), 10_000);
      rx.forEach((r, i) => assert.deepEqual(r.got, expected[i], `viewer ${i}`));
      for (const sk of sinks) sk.close();
      await until(() => q.stats().waitingCloses === 0, 5000);
      for (const r of [...rx, rtcpRx]) r.sock.close();
    });
  }

  it('closing sinks with packets queued or in the thread never sends to a socket opened afterwards', { skip: noAddon }, async () => {
    const gate = gatedAddon();
    const q = new UdpSendQueue({ addon: gate, sendThread: 'on' });
    const rx = await Promise.all(Array.from({ length: 20 }, receiver));
    const sinks = await Promise.all(rx.map((r) => sinkTo(r.port, r.port, q)));
    const rtpOf = (s: UdpSink) => (s as unknown as { nativeFd: number }).nativeFd;
    const fds = sinks.map(rtpOf);
    sinks.forEach((s, i) => s.sendRtp(packet(i, 0)));
    await sleep(0); // flushed: now "in the thread", held by the gate
    sinks.forEach((s, i) => s.sendRtp(packet(i, 1)));
    for (const s of sinks) s.close(); // half in the thread, half still queued here
    await sleep(20);
    // Sockets opened now, connected to a canary: had the old ones closed, they would take their fds.
    const canary = await receiver();
    const late = await Promise.all(Array.from({ length: 60 }, async () => {
      const s = socket();
      await new Promise<void>((r) => s.connect(canary.port, '127.0.0.1', () => r()));
      return s;
    }));
    const lateFds = new Set(late.map(socketFd));
    assert.ok(fds.every((fd) => !lateFds.has(fd)), 'no fd of a closing sink was reused');
    gate.release();
    await until(() => q.stats().waitingCloses === 0, 5000);
    assert.equal(q.stats().waitingCloses, 0, 'the sockets closed once their batches were sent');
    await until(() => rx.every((r) => r.got.length >= 2), 2000);
    rx.forEach((r, i) => assert.deepEqual(r.got, [packet(i, 0), packet(i, 1)], 'what was queued before close still went out, in order'));
    await sleep(50);
    assert.equal(canary.got.length, 0);
    for (const s of [...late, canary.sock, ...rx.map((r) => r.sock)]) s.close();
  });

  // The gated test above is the exact one; this one runs the real thread (whether its sends are
  // still going when the new sockets connect depends on timing).
  it('real thread: sinks closed while their packets are being sent all close, and newer sockets get none of them', { skip: noAddon }, async () => {
    const q = new UdpSendQueue({ sendThread: 'on' });
    const rx = await Promise.all(Array.from({ length: 200 }, receiver));
    const canary = await receiver();
    const late: Socket[] = [];
    for (let round = 0; round < 3; round++) {
      const sinks = await Promise.all(rx.map((r) => sinkTo(r.port, r.port, q)));
      for (let k = 0; k < 60; k++) sinks.forEach((s, i) => s.sendRtp(packet(i, k, 1400)));
      await new Promise((r) => setImmediate(r)); // flushed; the thread is sending
      for (const s of sinks) s.close();
      for (let i = 0; i < 200; i++) {
        const s = socket();
        s.on('error', () => undefined);
        s.connect(canary.port, '127.0.0.1');
        late.push(s);
      }
      await sleep(30);
    }
    await until(() => q.stats().waitingCloses === 0, 5000);
    await sleep(50);
    assert.equal(canary.got.length, 0, 'no packet of a closed sink reached a newer socket');
    for (const s of [...late, canary.sock, ...rx.map((r) => r.sock)]) s.close();
  });

  for (const setting of ['on', 'off'] as const) {
    it(`${setting === 'on' ? 'thread' : 'sync'}: a live frame for an fd with packets still queued goes after them; frames reach every viewer in order`, { skip: noAddon }, async () => {
      udpSendQueue.configure(setting);
      try {
        const r = await receiver();
        const sink = await sinkTo(r.port, r.port, udpSendQueue);
        sink.sendRtp(packet(0, 0));
        sink.sendRtp(packet(0, 1));
        const batch = new FdBatch();
        batch.add(sink.nativeFd);
        batch.flush([packet(0, 2), packet(0, 3)]);
        await until(() => r.got.length >= 4, 2000);
        assert.deepEqual(r.got, [0, 1, 2, 3].map((i) => packet(0, i)));
        // Many viewers, many frames: the same packets to all, in order.
        const rx = await Promise.all(Array.from({ length: 50 }, receiver));
        const sinks = await Promise.all(rx.map((x) => sinkTo(x.port, x.port, udpSendQueue)));
        for (let f = 0; f < 20; f++) {
          for (const k of sinks) batch.add(k.nativeFd);
          batch.flush([packet(9, 2 * f), packet(9, 2 * f + 1)]);
          if (f % 5 === 4) await sleep(1);
        }
        await until(() => rx.every((x) => x.got.length >= 40), 5000);
        rx.forEach((x, i) => assert.deepEqual(x.got, Array.from({ length: 40 }, (_, k) => packet(9, k)), `viewer ${i}`));
        for (const k of [sink, ...sinks]) k.close();
        await until(() => udpSendQueue.stats().waitingCloses === 0, 5000);
        for (const x of [r, ...rx]) x.sock.close();
      } finally {
        udpSendQueue.configure('auto');
      }
    });
  }

  it('the sender thread stops at exit: a process using it ends promptly, also with process.exit', { skip: noAddon }, async () => {
    const script = (exit: string) => `
      import { createSocket } from 'node:dgram';
      import { UdpSendQueue } from './src/transport/udp-send-queue.ts';
      import { UdpSink } from './src/transport/udp.ts';
      const q = new UdpSendQueue({ sendThread: 'on' });
      const bound = () => new Promise((r) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
      const rx = await bound();
      let got = 0;
      rx.on('message', () => got++);
      const [rtp, rtcp] = [await bound(), await bound()];
      const pair = { rtp, rtcp, rtpPort: 0, rtcpPort: 0 };
      const sink = await UdpSink.open({ pair, clientAddress: '127.0.0.1', clientRtpPort: rx.address().port, clientRtcpPort: rx.address().port, onRtcp() {}, log: { debug() {} }, queue: q });
      for (let i = 0; i < 40; i++) sink.sendRtp(Buffer.alloc(200, i));
      await new Promise((r) => setTimeout(r, 100));
      console.log(q.mode, got);
      for (let i = 0; i < 40; i++) sink.sendRtp(Buffer.alloc(200, i));
      ${exit}
    `;
    const natural = 'sink.close(); rx.close();';
    const run = (code: string, env: NodeJS.ProcessEnv = process.env) =>
      new Promise<{ status: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        // A thread left running would keep it from ending: generous, it is not a speed test.
        const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (status) => {
          clearTimeout(t);
          resolve({ status, out });
        });
      });
    for (const exit of [natural, 'await new Promise((r) => setImmediate(r)); process.exit(0);']) {
      const r = await run(script(exit));
      assert.equal(r.status, 0, `exits by itself (${exit})`);
      assert.equal(r.out.trim(), 'thread 40');
    }
    // Without the addon: one dgram send per packet, as before.
    const r = await run(`import { udpSendQueue } from './src/transport/udp-send-queue.ts'; console.log(udpSendQueue.mode);`, { ...process.env, RIVULET_NO_NATIVE: '1' });
    assert.equal(r.out.trim(), 'dgram');
  });
});
