import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildApp,
  buildBye,
  buildReceiverReport,
  buildSdes,
  buildSdesCname,
  buildSenderReport,
  compound,
} from './build.js';
import { msToNtp, ntpMiddle32, ntpToMs } from './ntp.js';
import { parseRtcpCompound } from './parse.js';
import { newReceptionStats, updateReception } from './reception.js';
import type { ReportBlockInit, RtcpPacket } from './types.js';

const block: ReportBlockInit = {
  ssrc: 0x11223344,
  fractionLost: 0.25,
  cumulativeLost: -3,
  highestSeq: 0x0001fffe,
  jitter: 120,
  lsr: 0xaabbccdd,
  dlsr: 65536,
};

describe('NTP time', () => {
  it('converts a known date', () => {
    // 2024-01-01T00:00:00Z is Unix 1704067200 = NTP 3913056000.
    assert.deepEqual(msToNtp(Date.UTC(2024, 0, 1)), { sec: 3913056000, frac: 0 });
    assert.deepEqual(msToNtp(0), { sec: 2208988800, frac: 0 });
    assert.deepEqual(msToNtp(Date.UTC(2024, 0, 1) + 500), { sec: 3913056000, frac: 0x80000000 });
    assert.deepEqual(msToNtp(Date.UTC(2024, 0, 1) + 250.5), {
      sec: 3913056000,
      frac: Math.floor(0.2505 * 2 ** 32),
    });
  });

  it('wraps into era 1 after 2036-02-07T06:28:16Z and converts back', () => {
    const wrap = Date.UTC(2036, 1, 7, 6, 28, 16);
    assert.deepEqual(msToNtp(wrap), { sec: 0, frac: 0 });
    assert.equal(ntpToMs(msToNtp(wrap + 1000)), wrap + 1000);
    assert.equal(ntpToMs(msToNtp(Date.UTC(2024, 0, 1))), Date.UTC(2024, 0, 1));
  });

  it('round-trips within a microsecond', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), (ms) => {
        assert.ok(Math.abs(ntpToMs(msToNtp(ms)) - ms) < 1e-3);
      }),
    );
  });

  it('takes the middle 32 bits for LSR', () => {
    assert.equal(ntpMiddle32({ sec: 0x12345678, frac: 0x9abcdef0 }), 0x56789abc);
  });
});

describe('sender report', () => {
  it('has the RFC 3550 §6.4.1 byte layout', () => {
    const sr = buildSenderReport({
      ssrc: 0x01020304,
      ntpTime: { sec: 0xe8f1a2b3, frac: 0x80000000 },
      rtpTimestamp: 0x0a0b0c0d,
      packetCount: 1000,
      octetCount: 2 ** 32 + 7, // wraps
      reports: [block],
    });
    assert.equal(sr.length, 52);
    assert.equal(sr[0], 0x81); // V=2, P=0, RC=1
    assert.equal(sr[1], 200);
    assert.equal(sr.readUInt16BE(2), 52 / 4 - 1); // length in words minus one
    assert.deepEqual(
      [...sr.subarray(4, 28)],
      [
        1, 2, 3, 4, 0xe8, 0xf1, 0xa2, 0xb3, 0x80, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0x03, 0xe8, 0, 0, 0,
        7,
      ],
    );
    assert.deepEqual(
      [...sr.subarray(28)],
      [
        0x11, 0x22, 0x33, 0x44, 64, 0xff, 0xff, 0xfd, 0, 1, 0xff, 0xfe, 0, 0, 0, 120, 0xaa, 0xbb, 0xcc, 0xdd,
        0, 1, 0, 0,
      ],
    );
  });

  it('accepts wallclock milliseconds', () => {
    const sr = buildSenderReport({
      ssrc: 1,
      wallclockMs: Date.UTC(2024, 0, 1) + 500,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
    });
    assert.equal(sr.length, 28);
    assert.equal(sr[0], 0x80);
    assert.equal(sr.readUInt16BE(2), 6);
    assert.equal(sr.readUInt32BE(8), 3913056000);
    assert.equal(sr.readUInt32BE(12), 0x80000000);
  });
});

describe('receiver report parsing', () => {
  it('decodes a hand-built RR', () => {
    const rr = Buffer.from([
      0x82,
      201,
      0x00,
      0x0d, // V=2 RC=2, length 13 words
      0xde,
      0xad,
      0xbe,
      0xef, // reporter SSRC
      // block 1
      0x00,
      0x00,
      0x00,
      0x01,
      0x80,
      0x00,
      0x00,
      0x05, // fraction 128/256, cumulative 5
      0x00,
      0x02,
      0x10,
      0x00, // extended highest seq: 2 cycles, 0x1000
      0x00,
      0x00,
      0x01,
      0x00, // jitter 256
      0x12,
      0x34,
      0x56,
      0x78, // LSR
      0x00,
      0x00,
      0x80,
      0x00, // DLSR 0.5 s
      // block 2: negative cumulative loss (duplicates)
      0x00,
      0x00,
      0x00,
      0x02,
      0xff,
      0xff,
      0xff,
      0xfe, // fraction 255, cumulative -2
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
    ]);
    const [p, ...rest] = parseRtcpCompound(rr);
    assert.equal(rest.length, 0);
    assert.ok(p.type === 'rr');
    assert.equal(p.ssrc, 0xdeadbeef);
    assert.deepEqual(p.reports[0], {
      ssrc: 1,
      fractionLost: 0.5,
      fractionLostRaw: 128,
      cumulativeLost: 5,
      highestSeq: 0x21000,
      jitter: 256,
      lsr: 0x12345678,
      dlsr: 0x8000,
    });
    assert.equal(p.reports[1].fractionLostRaw, 255);
    assert.equal(p.reports[1].fractionLost, 255 / 256);
    assert.equal(p.reports[1].cumulativeLost, -2);
    assert.equal(p.extension, undefined);
  });

  it('clamps cumulative loss to 24 signed bits when building', () => {
    const rr = buildReceiverReport(5, [
      { ...block, cumulativeLost: 1e9 },
      { ...block, cumulativeLost: -1e9 },
    ]);
    const [p] = parseRtcpCompound(rr);
    assert.ok(p.type === 'rr');
    assert.equal(p.reports[0].cumulativeLost, 0x7fffff);
    assert.equal(p.reports[1].cumulativeLost, -0x800000);
  });

  it('builds the empty RR', () => {
    assert.deepEqual([...buildReceiverReport(0x01020304)], [0x80, 201, 0, 1, 1, 2, 3, 4]);
  });

  it('keeps the latest report about an SSRC as reception statistics, its highest sequence number included', () => {
    const stats = newReceptionStats();
    updateReception(stats, buildReceiverReport(5, [{ ...block, ssrc: 7 }]), block.ssrc);
    assert.deepEqual(stats, { fractionLost: 0, cumulativeLost: 0, jitter: 0, highestSeq: 0, reports: 0 });
    updateReception(stats, buildReceiverReport(5, [block]), block.ssrc);
    updateReception(stats, buildReceiverReport(5, [{ ...block, ssrc: 7, highestSeq: 9 }, { ...block, highestSeq: 0x00020005 }]), block.ssrc);
    assert.deepEqual(stats, { fractionLost: 0.25, cumulativeLost: -3, jitter: 120, highestSeq: 0x00020005, reports: 2 });
  });
});

describe('SDES, BYE, APP', () => {
  it('lays out an SDES CNAME chunk with null termination and padding', () => {
    const sdes = buildSdesCname(0x01020304, 'ab');
    // header (3 words follow), SSRC, CNAME(1) len 2 "ab", then a whole null word: the item list
    // ended on a boundary, and it still needs its terminating null octet
    assert.deepEqual([...sdes], [0x81, 202, 0, 3, 1, 2, 3, 4, 1, 2, 0x61, 0x62, 0, 0, 0, 0]);
    const four = buildSdesCname(1, 'abcd');
    // 4 + 2 + 4 = 10, + 1 null = 11 → padded to 12
    assert.equal(four.length, 4 + 12);
  });

  it('lays out BYE with a reason', () => {
    const bye = buildBye(0x0a0b0c0d, 'end');
    assert.deepEqual([...bye], [0x81, 203, 0, 2, 0x0a, 0x0b, 0x0c, 0x0d, 3, 0x65, 0x6e, 0x64]);
    assert.deepEqual([...buildBye([1, 2])], [0x82, 203, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('round-trips a compound packet', () => {
    const packets = compound(
      buildSenderReport({
        ssrc: 7,
        ntpTime: { sec: 1, frac: 2 },
        rtpTimestamp: 3,
        packetCount: 4,
        octetCount: 5,
        reports: [block],
      }),
      buildSdes([
        {
          ssrc: 7,
          items: [
            { type: 1, value: 'rivulet@host' },
            { type: 6, value: 'Rivulet ✓' },
          ],
        },
        { ssrc: 8, items: [{ type: 8, prefix: 'x', value: 'y' }] },
      ]),
      buildApp({ ssrc: 7, subtype: 3, name: 'RIVU', data: Buffer.from([1, 2, 3, 4]) }),
      buildBye([7, 8], 'bye'),
      Buffer.from([0x81, 205, 0, 2, 0, 0, 0, 7, 0, 0, 0, 8]), // RTPFB generic NACK without entries
    );
    const parsed = parseRtcpCompound(packets);
    assert.equal(parsed.length, 5);
    const [sr, sdes, app, bye, fb] = parsed;
    assert.ok(sr.type === 'sr');
    assert.deepEqual(sr.ntpTime, { sec: 1, frac: 2 });
    assert.deepEqual(
      [sr.ssrc, sr.rtpTimestamp, sr.packetCount, sr.octetCount, sr.reports.length],
      [7, 3, 4, 5, 1],
    );
    assert.deepEqual(sr.reports[0], { ...block, fractionLostRaw: 64 });
    assert.deepEqual(sdes, {
      type: 'sdes',
      chunks: [
        {
          ssrc: 7,
          items: [
            { type: 1, value: 'rivulet@host' },
            { type: 6, value: 'Rivulet ✓' },
          ],
        },
        { ssrc: 8, items: [{ type: 8, prefix: 'x', value: 'y' }] },
      ],
    });
    assert.ok(app.type === 'app');
    assert.deepEqual([app.ssrc, app.subtype, app.name, [...app.data]], [7, 3, 'RIVU', [1, 2, 3, 4]]);
    assert.deepEqual(bye, { type: 'bye', ssrcs: [7, 8], reason: 'bye' });
    assert.deepEqual(fb, { type: 'nack', ssrc: 7, mediaSsrc: 8, lost: [] });
  });

  it('rejects what cannot be encoded', () => {
    assert.throws(() => buildSdesCname(1, 'x'.repeat(256)), RangeError);
    assert.throws(() => buildBye(1, 'x'.repeat(256)), RangeError);
    assert.throws(() => buildApp({ ssrc: 1, subtype: 0, name: 'TOOLONG' }), RangeError);
    assert.throws(() => buildApp({ ssrc: 1, subtype: 0, name: 'ABCD', data: Buffer.alloc(3) }), RangeError);
    assert.throws(() => buildReceiverReport(1, new Array<ReportBlockInit>(32).fill(block)), RangeError);
  });
});

describe('parser robustness', () => {
  it('stops at the first inconsistent packet and keeps the ones before', () => {
    const good = buildReceiverReport(1);
    const truncated = buildSenderReport({
      ssrc: 2,
      ntpTime: { sec: 0, frac: 0 },
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
    }).subarray(0, 20);
    assert.equal(parseRtcpCompound(Buffer.concat([good, truncated])).length, 1);
    // RC claims a report block the length does not hold.
    const lying = Buffer.from(good);
    lying[0] = 0x81;
    assert.deepEqual(parseRtcpCompound(Buffer.concat([good, lying, good])).length, 1);
    // Wrong version.
    const v1 = Buffer.from(good);
    v1[0] = 0x40;
    assert.equal(parseRtcpCompound(v1).length, 0);
    assert.equal(parseRtcpCompound(Buffer.alloc(0)).length, 0);
  });

  it('honours padding on the last packet', () => {
    const bye = Buffer.from([0xa1, 203, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4]); // P=1, 4 padding octets
    assert.deepEqual(parseRtcpCompound(bye), [{ type: 'bye', ssrcs: [9] }]);
    const badPad = Buffer.from(bye);
    badPad[11] = 0;
    assert.equal(parseRtcpCompound(badPad).length, 0);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        parseRtcpCompound(Buffer.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on random bodies behind plausible headers', () => {
    const header = fc.record({
      count: fc.integer({ min: 0, max: 31 }),
      type: fc.constantFrom(200, 201, 202, 203, 204, 205),
      padding: fc.boolean(),
      body: fc.uint8Array({ maxLength: 120 }),
    });
    fc.assert(
      fc.property(fc.array(header, { maxLength: 4 }), (packets) => {
        const buf = Buffer.concat(
          packets.map(({ count, type, padding, body }) => {
            const words = Math.ceil(body.length / 4);
            const b = Buffer.alloc(4 + words * 4);
            b[0] = 0x80 | (padding ? 0x20 : 0) | count;
            b[1] = type;
            b.writeUInt16BE(words, 2);
            Buffer.from(body).copy(b, 4);
            return b;
          }),
        );
        const parsed = parseRtcpCompound(buf);
        assert.ok(parsed.length <= packets.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips random report packets', () => {
    const blockArb = fc.record({
      ssrc: fc.integer({ min: 0, max: 0xffffffff }),
      fractionLost: fc.constant(0),
      fractionLostRaw: fc.integer({ min: 0, max: 255 }),
      cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
      highestSeq: fc.integer({ min: 0, max: 0xffffffff }),
      jitter: fc.integer({ min: 0, max: 0xffffffff }),
      lsr: fc.integer({ min: 0, max: 0xffffffff }),
      dlsr: fc.integer({ min: 0, max: 0xffffffff }),
    });
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        u32,
        u32,
        u32,
        u32,
        u32,
        u32,
        fc.array(blockArb, { maxLength: 31 }),
        fc.array(blockArb, { maxLength: 31 }),
        fc.string({ maxLength: 60 }),
        fc.option(fc.string({ maxLength: 60 }), { nil: undefined }),
        (ssrc, sec, frac, rtpTimestamp, packetCount, octetCount, srBlocks, rrBlocks, cname, reason) => {
          const buf = compound(
            buildSenderReport({
              ssrc,
              ntpTime: { sec, frac },
              rtpTimestamp,
              packetCount,
              octetCount,
              reports: srBlocks,
            }),
            buildReceiverReport(ssrc, rrBlocks),
            buildSdesCname(ssrc, cname),
            buildBye(ssrc, reason),
          );
          const expected = (b: typeof srBlocks) =>
            b.map((x) => ({ ...x, fractionLost: x.fractionLostRaw / 256 }));
          const want: RtcpPacket[] = [
            {
              type: 'sr',
              ssrc,
              ntpTime: { sec, frac },
              rtpTimestamp,
              packetCount,
              octetCount,
              reports: expected(srBlocks),
            },
            { type: 'rr', ssrc, reports: expected(rrBlocks) },
            { type: 'sdes', chunks: [{ ssrc, items: [{ type: 1, value: cname }] }] },
            reason ? { type: 'bye', ssrcs: [ssrc], reason } : { type: 'bye', ssrcs: [ssrc] },
          ];
          assert.deepEqual(parseRtcpCompound(buf), want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
