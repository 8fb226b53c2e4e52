import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildApp, buildReceiverReport, compound } from './build.js';
import { parseRtcpCompound } from './parse.js';
import { buildQtAck, MAX_ACK_SEQS, parseQtAck, type QtAck } from './qtak.js';

function acks(buf: Buffer): QtAck[] {
  return parseRtcpCompound(buf).flatMap((p) => {
    const a = p.type === 'app' ? parseQtAck(p) : undefined;
    return a ? [a] : [];
  });
}

describe('QuickTime reliable UDP acks (RTCP APP qtak)', () => {
  it('reads the stream SSRC, the sequence number and the MSB-first mask after it', () => {
    // seq 65534; mask 0xa0000001: bits 0, 2 and 31 → 65535, 1 (wrapped) and 65534+32 = 30.
    const buf = Buffer.from([0x80, 204, 0, 5, 0, 0, 0, 9, 0x71, 0x74, 0x61, 0x6b, 0, 0, 0, 77, 0, 0, 0xff, 0xfe, 0xa0, 0, 0, 1]);
    assert.deepEqual(acks(buf), [{ ssrc: 9, mediaSsrc: 77, seqs: [65534, 65535, 1, 30] }]);
  });

  it('takes the old `ack ` name and a packet without a mask; zero bits acknowledge nothing', () => {
    const buf = compound(buildReceiverReport(9, []), buildQtAck({ ssrc: 9, mediaSsrc: 5, seq: 100, oldName: true }), buildQtAck({ ssrc: 9, mediaSsrc: 5, seq: 7, mask: [false, false, true] }));
    assert.deepEqual(acks(buf), [
      { ssrc: 9, mediaSsrc: 5, seqs: [100] },
      { ssrc: 9, mediaSsrc: 5, seqs: [7, 10] },
    ]);
  });

  it('ignores other APP names and too short data', () => {
    assert.deepEqual(acks(buildApp({ ssrc: 1, subtype: 0, name: 'QTSS', data: Buffer.alloc(8) })), []);
    assert.deepEqual(acks(buildApp({ ssrc: 1, subtype: 0, name: 'qtak', data: Buffer.alloc(4) })), []);
    assert.deepEqual(acks(buildApp({ ssrc: 1, subtype: 0, name: 'qtak' })), []);
  });

  it('a truncated packet is dropped by the compound parser, not read past its end', () => {
    const whole = buildQtAck({ ssrc: 1, mediaSsrc: 2, seq: 3, mask: [true] });
    for (let n = 0; n < whole.length; n++) assert.deepEqual(acks(whole.subarray(0, n)), []);
  });

  it('caps what one (huge) mask acknowledges', () => {
    const a = acks(buildQtAck({ ssrc: 1, mediaSsrc: 2, seq: 0, mask: new Array<boolean>(8000).fill(true) }));
    assert.equal(a[0].seqs.length, MAX_ACK_SEQS);
  });

  it('round-trips any ack, and never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.boolean(), { maxLength: 96 }), (seq, mask) => {
        const [a] = acks(buildQtAck({ ssrc: 3, mediaSsrc: 4, seq, mask }));
        const want = [seq, ...mask.flatMap((on, i) => (on ? [(seq + 1 + i) & 0xffff] : []))];
        assert.deepEqual(a.seqs, want);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const body = Buffer.from(bytes);
        // An APP header with a length that matches the bytes given (any data), named qtak.
        const words = Math.floor(body.length / 4);
        const buf = Buffer.concat([Buffer.from([0x80, 204, 0, words + 1, 0, 0, 0, 1, 0x71, 0x74, 0x61, 0x6b]), body.subarray(0, words * 4)]);
        acks(buf);
        acks(Buffer.from(bytes));
      }),
    );
  });
});
