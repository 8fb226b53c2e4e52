import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readRtpCsrcs, readRtpHeader, rewriteRtpHeader, writeRtpPacket } from './packet.js';
import { seqAdd } from './seq.js';
import type { RtpPayload } from '../codecs/types.js';

function payloadOf(...parts: Buffer[]): RtpPayload {
  return { parts, length: parts.reduce((n, p) => n + p.length, 0), marker: false };
}

describe('writeRtpPacket', () => {
  it('writes the RFC 3550 fixed header followed by the parts', () => {
    const p = payloadOf(Buffer.from([1, 2]), Buffer.from([3]));
    p.marker = true;
    const buf = writeRtpPacket(p, {
      payloadType: 96,
      sequence: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
    });
    assert.deepEqual(
      [...buf],
      [0x80, 0x80 | 96, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 1, 2, 3],
    );
  });

  it('clears the marker bit when the payload has none and wraps out-of-range counters', () => {
    const buf = writeRtpPacket(payloadOf(Buffer.from([9])), {
      payloadType: 0,
      sequence: 0x10001,
      timestamp: 2 ** 32 + 5,
      ssrc: -1,
    });
    assert.equal(buf[1], 0);
    assert.equal(buf.readUInt16BE(2), 1);
    assert.equal(buf.readUInt32BE(4), 5);
    assert.equal(buf.readUInt32BE(8), 0xffffffff);
  });

  it('rejects a length that does not match the parts and an invalid payload type', () => {
    const bad: RtpPayload = { parts: [Buffer.from([1])], length: 2, marker: false };
    assert.throws(
      () => writeRtpPacket(bad, { payloadType: 96, sequence: 0, timestamp: 0, ssrc: 0 }),
      RangeError,
    );
    const ok = payloadOf(Buffer.from([1]));
    assert.throws(
      () => writeRtpPacket(ok, { payloadType: 128, sequence: 0, timestamp: 0, ssrc: 0 }),
      RangeError,
    );
  });
});

describe('readRtpHeader', () => {
  it('round-trips writeRtpPacket', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 64 }),
        (payloadType, sequence, timestamp, ssrc, marker, bytes) => {
          const body = Buffer.from(bytes);
          const buf = writeRtpPacket(
            { parts: [body], length: body.length, marker },
            {
              payloadType,
              sequence,
              timestamp,
              ssrc,
            },
          );
          const h = readRtpHeader(buf);
          assert.ok(h);
          assert.deepEqual(
            {
              payloadType: h.payloadType,
              sequence: h.sequence,
              timestamp: h.timestamp,
              ssrc: h.ssrc,
              marker: h.marker,
            },
            { payloadType, sequence, timestamp, ssrc, marker },
          );
          assert.equal(h.version, 2);
          assert.equal(h.payloadOffset, 12);
          assert.deepEqual(buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), body);
        },
      ),
    );
  });

  it('skips the CSRC list and header extension and strips padding', () => {
    const buf = Buffer.from([
      0x80 | 0x20 | 0x10 | 2, // V=2 P X CC=2
      0x60,
      0x00,
      0x07,
      0,
      0,
      0,
      9,
      0xaa,
      0xbb,
      0xcc,
      0xdd,
      0,
      0,
      0,
      1, // CSRC 1
      0,
      0,
      0,
      2, // CSRC 2
      0xbe,
      0xde,
      0x00,
      0x01, // extension profile 0xBEDE, 1 word
      0x11,
      0x22,
      0x33,
      0x44,
      0xf0,
      0xf1, // payload
      0,
      0,
      3, // padding of 3
    ]);
    const h = readRtpHeader(buf);
    assert.ok(h);
    assert.equal(h.csrcCount, 2);
    assert.deepEqual(readRtpCsrcs(buf), [1, 2]);
    assert.equal(h.extension, true);
    assert.equal(h.extensionProfile, 0xbede);
    assert.equal(h.extensionOffset, 24);
    assert.equal(h.extensionLength, 4);
    assert.equal(h.payloadOffset, 28);
    assert.equal(h.payloadLength, 2);
    assert.equal(h.padding, true);
    assert.equal(h.sequence, 7);
    assert.equal(h.payloadType, 0x60);
  });

  it('returns null for invalid packets', () => {
    assert.equal(readRtpHeader(Buffer.alloc(11, 0x80)), null); // too short
    const v1 = Buffer.alloc(12);
    v1[0] = 0x40;
    assert.equal(readRtpHeader(v1), null); // version 1
    const csrc = Buffer.alloc(12);
    csrc[0] = 0x81; // CC=1 but no room
    assert.equal(readRtpHeader(csrc), null);
    const ext = Buffer.alloc(16);
    ext[0] = 0x90;
    ext.writeUInt16BE(2, 14); // 2 words of extension missing
    assert.equal(readRtpHeader(ext), null);
    const pad0 = Buffer.alloc(13);
    pad0[0] = 0xa0; // padding count 0
    assert.equal(readRtpHeader(pad0), null);
    const padBig = Buffer.alloc(13);
    padBig[0] = 0xa0;
    padBig[12] = 2; // padding would eat into the header
    assert.equal(readRtpHeader(padBig), null);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const h = readRtpHeader(Buffer.from(bytes));
        if (h) assert.ok(h.payloadOffset + h.payloadLength <= bytes.length);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rewriteRtpHeader', () => {
  it('rewrites selected fields in place and keeps the rest', () => {
    const p = payloadOf(Buffer.from([7, 7]));
    p.marker = true;
    const buf = writeRtpPacket(p, { payloadType: 97, sequence: 65535, timestamp: 1, ssrc: 2 });
    const same = rewriteRtpHeader(buf, { sequence: seqAdd(65535, 1), ssrc: 0xcafebabe });
    assert.equal(same, buf);
    const h = readRtpHeader(buf);
    assert.ok(h);
    assert.equal(h.sequence, 0);
    assert.equal(h.ssrc, 0xcafebabe);
    assert.equal(h.timestamp, 1);
    assert.equal(h.marker, true);
    assert.equal(h.payloadType, 97);
    rewriteRtpHeader(buf, { timestamp: 0xffffffff + 3, marker: false, payloadType: 8 });
    const h2 = readRtpHeader(buf);
    assert.ok(h2);
    assert.equal(h2.timestamp, 2);
    assert.equal(h2.marker, false);
    assert.equal(h2.payloadType, 8);
    assert.deepEqual([...buf.subarray(12)], [7, 7]);
  });
});
