import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtpLoss } from './rtp-loss.js';

const rtp = (seq: number, ssrc = 0x1234) => {
  const p = Buffer.alloc(12);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ssrc, 8);
  return p;
};

describe('RtpLoss', () => {
  it('counts the packets dropped from a run, across the sequence wrap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(fc.boolean(), { minLength: 2, maxLength: 400 }),
        (start, keep) => {
          const loss = new RtpLoss();
          // The first and last are kept, so every drop lies between two packets received.
          keep[0] = keep[keep.length - 1] = true;
          keep.forEach((k, i) => k && loss.packet(rtp(start + i)));
          assert.equal(loss.lost, keep.filter((k) => !k).length);
        },
      ),
    );
  });

  it('counts nothing for late or repeated packets, a new SSRC, a restart far away, or what is not RTP', () => {
    const loss = new RtpLoss();
    for (const seq of [10, 11, 11, 9, 12]) loss.packet(rtp(seq));
    assert.equal(loss.lost, 0);
    loss.packet(rtp(500, 0x9999));
    loss.packet(rtp(20000, 0x9999));
    loss.packet(Buffer.from('not rtp at all'));
    assert.equal(loss.lost, 0);
    assert.equal(loss.packet(rtp(20003, 0x9999)), 2);
  });
});
