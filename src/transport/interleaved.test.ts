import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interleavedForm, interleavedFrame, type FramePackets } from './interleaved.js';

function frame(...sizes: number[]): FramePackets {
  const packets = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  return { packets, bytes: sizes.reduce((a, b) => a + b, 0) };
}

describe('interleavedFrame', () => {
  it('lays out each packet as $, channel, 16-bit length, packet', () => {
    const f = frame(14, 300, 12);
    const buf = interleavedFrame(f, 2);
    assert.equal(buf.length, f.bytes + 4 * f.packets.length);
    let o = 0;
    for (const p of f.packets) {
      assert.equal(buf[o], 0x24);
      assert.equal(buf[o + 1], 2);
      assert.equal(buf.readUInt16BE(o + 2), p.length);
      assert.deepEqual(buf.subarray(o + 4, o + 4 + p.length), p);
      o += 4 + p.length;
    }
    assert.equal(o, buf.length);
  });

  it('writes an empty frame as no bytes', () => {
    assert.equal(interleavedFrame(frame(), 0).length, 0);
  });
});

describe('interleavedForm', () => {
  it('is one function per channel, writing that channel', () => {
    assert.equal(interleavedForm(4), interleavedForm(4));
    assert.notEqual(interleavedForm(4), interleavedForm(0));
    const f = frame(12, 13);
    assert.deepEqual(interleavedForm(4)(f), interleavedFrame(f, 4));
    assert.equal(interleavedForm(255)(f)[1], 255);
  });

  it('refuses a channel outside 0-255', () => {
    for (const c of [-1, 256, 1.5, Number.NaN]) assert.throws(() => interleavedForm(c), RangeError, String(c));
  });
});
