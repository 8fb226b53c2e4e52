import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRtpHeader, writeRtpPacket } from './packet.js';
import { Retransmitter, type RetransmitOptions } from './retransmit.js';

const OPTS: RetransmitOptions = { payloadType: 97, historyMs: 1000, historyBytes: 1_000_000, maxPercent: 100 };

function packet(seq: number, size = 100, ts = 1000, marker = false): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  return writeRtpPacket({ parts: [b], length: b.length, marker }, { payloadType: 96, sequence: seq, timestamp: ts, ssrc: 0x1234 });
}

function resend(r: Retransmitter, lost: number[], now?: number): Buffer[] {
  const out: Buffer[] = [];
  r.onNack(lost, (p) => out.push(p), now);
  return out;
}

describe('Retransmitter', () => {
  it('answers a NACK with RFC 4588 packets: own SSRC, PT and sequence, OSN then the payload', () => {
    const r = new Retransmitter(OPTS, 0xabcd);
    for (let s = 65530; s < 65540; s++) r.keep(packet(s & 0xffff, 50, 7777, (s & 0xffff) === 2), 0);
    const out = resend(r, [65534, 2], 1);
    assert.equal(out.length, 2);
    const [a, b] = out.map((p) => readRtpHeader(p)!);
    assert.deepEqual([a.payloadType, a.ssrc, a.timestamp, a.marker], [97, 0xabcd, 7777, false]);
    assert.equal(b.marker, true);
    assert.equal(b.sequence, (a.sequence + 1) & 0xffff, 'RTX has its own consecutive sequence');
    assert.equal(out[0].readUInt16BE(12), 65534, 'OSN');
    assert.deepEqual(out[0].subarray(14), packet(65534, 50).subarray(12));
    assert.deepEqual(r.stats, { nacks: 1, resent: 2, resentBytes: 2 * (12 + 2 + 50), refused: 0, tooOld: 0 });
  });

  it('forgets packets older than historyMs and beyond historyBytes', () => {
    const r = new Retransmitter({ ...OPTS, historyMs: 100, historyBytes: 10 * 112 });
    for (let s = 0; s < 20; s++) r.keep(packet(s), s * 10);
    assert.ok(r.keptBytes <= 10 * 112 && r.keptPackets === 10);
    const out = resend(r, [5, 12, 19], 250);
    // At 250 ms, 19 (sent at 190) is kept; 12 (at 120) is older than 100 ms; 5 is beyond the bytes.
    assert.deepEqual(out.map((p) => p.readUInt16BE(12)), [19]);
    assert.equal(r.stats.tooOld, 2);
  });

  it('keepAll (a frame at once) keeps what keep would, one by one', () => {
    const opts = { ...OPTS, historyMs: 100, historyBytes: 10 * 112 };
    const one = new Retransmitter(opts);
    const all = new Retransmitter(opts);
    const frame = Array.from({ length: 20 }, (_, s) => packet(s));
    for (const p of frame) one.keep(p, 0);
    all.keepAll([...frame, Buffer.alloc(4)], 0);
    assert.deepEqual([all.keptPackets, all.keptBytes], [one.keptPackets, one.keptBytes]);
    assert.deepEqual(resend(all, [9, 10, 19], 1).map((p) => p.readUInt16BE(12)), [10, 19], 'the newest ten');
  });

  it('sends at most maxPercent of what the track sent again, counting refusals', () => {
    const r = new Retransmitter({ ...OPTS, maxPercent: 10, historyBytes: 2_000_000 });
    for (let s = 0; s < 1000; s++) r.keep(packet(s, 1000), 0);
    // 1000 packets of 1012 bytes at 10 %: about 101 kB of budget (and the 16 KiB it starts with).
    const asked = Array.from({ length: 1000 }, (_, i) => i);
    const out = resend(r, asked, 1);
    const sent = out.reduce((n, p) => n + p.length, 0);
    assert.ok(sent <= 101_200 + 16 * 1024, `sent ${sent} bytes`);
    assert.ok(out.length > 10, 'the budget allows some');
    assert.equal(r.stats.refused, 1000 - out.length);
    // A flood of repeated NACKs gains nothing without new media.
    resend(r, asked, 100);
    assert.equal(r.stats.resent, out.length);
  });

  it('does not send the same packet twice in a row for repeated NACKs', () => {
    const r = new Retransmitter(OPTS);
    r.keep(packet(1), 0);
    assert.equal(resend(r, [1, 1, 1], 5).length, 1);
    assert.equal(resend(r, [1], 30).length, 1, 'again once the first copy had time to arrive');
  });

  it('with inFlightMs, leaves unanswered a NACK for a packet sent just before (still on its way), answers it later', () => {
    const r = new Retransmitter({ ...OPTS, inFlightMs: 50 });
    r.keep(packet(1), 0);
    assert.equal(resend(r, [1], 20).length, 0, 'sent 20 ms ago: on its way');
    assert.equal(resend(r, [1], 60).length, 1, 'asked again after 60 ms: resent');
  });

  it('ignores sequence numbers it never sent and keeps only the newest packet of a number', () => {
    const r = new Retransmitter(OPTS);
    r.keep(packet(9, 10), 0);
    r.keep(packet(9, 20), 1);
    assert.equal(r.keptPackets, 1);
    assert.equal(r.keptBytes, 32);
    const out = resend(r, [8, 9], 2);
    assert.equal(out.length, 1);
    assert.equal(out[0].length, 12 + 2 + 20);
    r.keep(Buffer.alloc(4), 3); // not an RTP packet: ignored
    assert.equal(r.keptPackets, 1);
  });
});
