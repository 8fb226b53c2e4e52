import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CongestionWindow, MAX_RTO_MS, MIN_RTO_MS, MIN_WINDOW_BYTES, ReliableUdpSender, reliableWindowBytes, RttEstimator } from './reliable-udp.js';

function pkt(seq: number, size = 1000): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(0xabcdef, 8);
  b.writeUInt16BE(seq & 0xffff, 12);
  return b;
}

function sender(opts: Partial<ConstructorParameters<typeof ReliableUdpSender>[0]> = {}) {
  const sent: Buffer[] = [];
  const s = new ReliableUdpSender({ historyMs: 1500, historyBytes: 1 << 20, windowBytes: 64 * 1024, slowStart: true, timer: false, ...opts }, (p) => sent.push(p));
  return { s, sent };
}

describe('reliable UDP: RTT and timeout (Karn, Jacobson)', () => {
  it('starts at 600 ms, follows the samples with gain 1/8 and clamps to 600 ms – 24 s', () => {
    const r = new RttEstimator();
    assert.equal(r.rto, MIN_RTO_MS);
    r.sample(100);
    assert.equal(r.srtt, 100);
    assert.equal(r.rto, MIN_RTO_MS); // 100 + 4 × 0, clamped up
    r.sample(180);
    assert.equal(r.srtt, 110); // 100 + 80/8
    assert.equal(r.rto, MIN_RTO_MS); // 110 + 4 × 20 = 190, clamped
    for (let i = 0; i < 200; i++) r.sample(i % 2 ? 900 : 1500);
    assert.ok(r.rto > 1500 && r.rto <= MAX_RTO_MS, `rto ${r.rto}`);
    for (let i = 0; i < 50; i++) r.sample(60_000);
    assert.equal(r.rto, MAX_RTO_MS);
    r.sample(Number.NaN);
    r.sample(-5);
    assert.equal(r.rto, MAX_RTO_MS);
  });
});

describe('reliable UDP: congestion window (DSS RTPBandwidthTracker)', () => {
  it('picks the window from the bit rate', () => {
    assert.equal(reliableWindowBytes(100), 24 * 1024);
    assert.equal(reliableWindowBytes(500), 48 * 1024);
    assert.equal(reliableWindowBytes(1500), 64 * 1024);
    assert.equal(reliableWindowBytes(undefined), 64 * 1024);
  });

  it('slow start: half the window, threshold ¾; grows by acked bytes, then by bytes²/window, never past the window', () => {
    const w = new CongestionWindow(48_000, true);
    assert.equal(w.bytes, 24_000);
    assert.equal(w.threshold, 36_000);
    w.acked(10_000);
    assert.equal(w.bytes, 34_000);
    w.acked(4_000);
    assert.equal(w.bytes, 38_000);
    w.acked(3_800); // above the threshold: 3800² / 38000 = 380
    assert.equal(w.bytes, 38_380);
    for (let i = 0; i < 1000; i++) w.acked(40_000);
    assert.equal(w.bytes, 48_000);
    assert.equal(new CongestionWindow(48_000, false).bytes, 48_000);
  });

  it('halves on retransmit at most every 250 ms, never below one segment', () => {
    const w = new CongestionWindow(64_000, false);
    w.retransmitted(1000);
    assert.equal(w.bytes, 32_000);
    assert.equal(w.threshold, 48_000);
    w.retransmitted(1100);
    assert.equal(w.bytes, 32_000);
    w.retransmitted(1300);
    assert.equal(w.bytes, 16_000);
    for (let t = 2000; t < 10_000; t += 300) w.retransmitted(t);
    assert.equal(w.bytes, MIN_WINDOW_BYTES);
  });
});

describe('reliable UDP: sender', () => {
  it('an ack clears the packets it names and gives an RTT sample; nothing is sent again', () => {
    const { s, sent } = sender();
    for (let q = 0; q < 10; q++) s.keep(pkt(q), 0);
    assert.equal(s.bytesInFlight, 10_000);
    s.onAck([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 40);
    assert.equal(s.outstanding, 0);
    assert.equal(s.bytesInFlight, 0);
    s.tick(5000);
    assert.equal(sent.length, 0);
    assert.equal(s.stats.acked, 10);
    assert.equal(s.stats.rttMs, 40);
    assert.equal(s.rtt.samples, 10);
  });

  it('sends an unacknowledged packet again, the same Buffer, once its timeout has passed', () => {
    const { s, sent } = sender();
    const p = [pkt(65535), pkt(0), pkt(1)];
    s.keepAll(p, 0);
    s.onAck([65535, 1], 20);
    s.tick(MIN_RTO_MS - 1);
    assert.equal(sent.length, 0);
    s.tick(MIN_RTO_MS);
    assert.deepEqual(sent, [p[1]]);
    assert.equal(sent[0], p[1]);
    // Not again before another timeout; an ack of the copy is no RTT sample (Karn).
    s.tick(MIN_RTO_MS + 100);
    assert.equal(sent.length, 1);
    s.onAck([0], MIN_RTO_MS + 5000);
    assert.equal(s.rtt.samples, 2);
    assert.equal(s.stats.resent, 1);
  });

  it('drops packets older than the history unacknowledged (counted), and their bytes leave the flight', () => {
    const { s, sent } = sender({ historyMs: 1000 });
    s.keep(pkt(1), 0);
    s.keep(pkt(2), 0);
    s.tick(1001);
    assert.equal(s.outstanding, 0);
    assert.equal(s.bytesInFlight, 0);
    assert.equal(s.stats.expired, 2);
    assert.equal(sent.length, 0);
  });

  it('the window limits resends and says when it is full; a retransmission halves it', () => {
    const { s, sent } = sender({ windowBytes: 8000, slowStart: false });
    for (let q = 0; q < 7; q++) s.keep(pkt(q), 0);
    assert.equal(s.windowFull, false);
    s.keep(pkt(7), 0);
    assert.equal(s.windowFull, true);
    s.tick(MIN_RTO_MS); // all 8 time out; the window halves to 4000: 4 go again
    assert.equal(s.window.bytes, 4000);
    assert.deepEqual(
      sent.map((p) => p.readUInt16BE(2)),
      [0, 1, 2, 3],
    );
    assert.equal(s.windowFull, true);
    s.onAck([0, 1, 2, 3, 4, 5, 6, 7], MIN_RTO_MS + 10);
    assert.equal(s.windowFull, false);
  });

  it('a bound: packets over the history bytes go, the oldest first', () => {
    const { s } = sender({ historyBytes: 5000 });
    for (let q = 0; q < 20; q++) s.keep(pkt(q), 0);
    assert.equal(s.outstanding, 5);
    assert.equal(s.stats.expired, 15);
    assert.ok(s.bytesInFlight <= 5000);
  });

  it('hostile acks (unknown numbers, repeats, empty) change nothing', () => {
    const { s } = sender();
    s.keep(pkt(5), 0);
    s.onAck([], 1);
    s.onAck([6, 7, 65535, 5, 5], 1);
    s.onAck([5], 2);
    assert.equal(s.stats.acked, 1);
    assert.equal(s.bytesInFlight, 0);
  });

  it('runs a timer only while packets are outstanding, and none after stop', async () => {
    const sent: Buffer[] = [];
    const s = new ReliableUdpSender({ historyMs: 2000, historyBytes: 1 << 20, windowBytes: 64 * 1024, slowStart: true }, (p) => sent.push(p));
    assert.equal(s.timerRunning, false);
    s.keep(pkt(1));
    assert.equal(s.timerRunning, true);
    s.onAck([1]);
    assert.equal(s.timerRunning, false);
    s.keep(pkt(2));
    // Resent from ~600 ms on, expired at 2 s: then the timer stops by itself.
    for (let i = 0; i < 400 && s.timerRunning; i++) await sleep(50);
    assert.equal(s.timerRunning, false);
    assert.ok(sent.length >= 1 && sent.every((p) => p.readUInt16BE(2) === 2));
    assert.equal(s.stats.expired, 1);
    s.keep(pkt(3));
    s.stop();
    assert.equal(s.timerRunning, false);
    s.keep(pkt(4));
    assert.equal(s.timerRunning, false);
    assert.equal(s.outstanding, 0);
  });
});
