import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { randomUint16, randomUint32, seqAdd, seqDiff, seqNewer, tsAdd, tsDiff } from './seq.js';

describe('sequence numbers', () => {
  it('wrap at 2^16', () => {
    assert.equal(seqAdd(65535, 1), 0);
    assert.equal(seqAdd(0, -1), 65535);
    assert.equal(seqAdd(65530, 10), 4);
    assert.equal(seqDiff(0, 65535), 1);
    assert.equal(seqDiff(65535, 0), -1);
    assert.equal(seqDiff(4, 65530), 10);
    assert.equal(seqDiff(100, 100), 0);
    assert.ok(seqNewer(2, 65000));
    assert.ok(!seqNewer(65000, 2));
  });

  it('seqDiff inverts seqAdd for distances under half the space', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -0x8000, max: 0x7fff }), (s, d) => {
        assert.equal(seqDiff(seqAdd(s, d), s), d);
      }),
    );
  });
});

describe('timestamps', () => {
  it('wrap at 2^32', () => {
    assert.equal(tsAdd(0xffffffff, 1), 0);
    assert.equal(tsAdd(0, -1), 0xffffffff);
    assert.equal(tsAdd(0xfffffff0, 3600 * 90000), (0xfffffff0 + 3600 * 90000) % 2 ** 32);
    assert.equal(tsDiff(5, 0xfffffffb), 10);
    assert.equal(tsDiff(0xfffffffb, 5), -10);
  });

  it('tsDiff inverts tsAdd', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (t, d) => {
          assert.equal(tsDiff(tsAdd(t, d), t), d);
        },
      ),
    );
  });
});

describe('random initial values', () => {
  it('stay in range and vary', () => {
    const a = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const x = randomUint32();
      const y = randomUint16();
      assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
      assert.ok(Number.isInteger(y) && y >= 0 && y <= 0xffff);
      a.add(x);
    }
    assert.ok(a.size > 190);
  });
});
