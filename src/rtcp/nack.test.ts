import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildGenericNack, buildReceiverReport, compound } from './build.js';
import { MAX_NACK_SEQS, parseRtcpCompound } from './parse.js';

describe('generic NACK (RFC 4585 §6.2.1)', () => {
  it('reads a PID and its bitmask of the 16 packets after it', () => {
    // PID 65534, BLP 0b101: 65534, then 65535 (bit 0) and 1 (bit 2: wrapped past 0).
    const buf = Buffer.from([0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfe, 0, 5]);
    assert.deepEqual(parseRtcpCompound(buf), [{ type: 'nack', ssrc: 1, mediaSsrc: 2, lost: [65534, 65535, 1] }]);
  });

  it('is found inside a compound packet after the receiver report', () => {
    const buf = compound(buildReceiverReport(9, []), buildGenericNack(9, 77, [10, 12, 40]));
    const nack = parseRtcpCompound(buf).find((p) => p.type === 'nack');
    assert.deepEqual(nack, { type: 'nack', ssrc: 9, mediaSsrc: 77, lost: [10, 12, 40] });
  });

  it('round-trips any list of sequence numbers (as a set, in order of first mention)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 }), fc.nat(), fc.nat(), (seqs, a, b) => {
        const sorted = [...new Set(seqs)];
        const parsed = parseRtcpCompound(buildGenericNack(a >>> 0, b >>> 0, sorted));
        assert.equal(parsed.length, 1);
        const p = parsed[0];
        assert.ok(p.type === 'nack');
        assert.deepEqual(new Set(p.lost), new Set(sorted));
      }),
      { numRuns: 500 },
    );
  });

  it('asks for no more than MAX_NACK_SEQS however many entries a packet carries', () => {
    const entries = 2000;
    const buf = Buffer.alloc(12 + entries * 4);
    buf[0] = 0x81;
    buf[1] = 205;
    buf.writeUInt16BE(buf.length / 4 - 1, 2);
    for (let i = 0; i < entries; i++) buf.writeUInt32BE((((i * 17) & 0xffff) * 0x10000 + 0xffff) >>> 0, 12 + i * 4);
    const [p] = parseRtcpCompound(buf);
    assert.ok(p.type === 'nack');
    assert.equal(p.lost.length, MAX_NACK_SEQS);
  });

  it('keeps other feedback formats and a NACK too short for its SSRCs as unknown', () => {
    const pli = Buffer.from([0x84, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]); // RTPFB format 4 (TMMBR)
    assert.equal(parseRtcpCompound(pli)[0].type, 'unknown');
    const short = Buffer.from([0x81, 205, 0, 1, 0, 0, 0, 1]);
    assert.equal(parseRtcpCompound(short)[0].type, 'unknown');
  });
});
