import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SampleQueue } from './sample-queue.js';

describe('SampleQueue', () => {
  it('gives samples back in order across wrap-around and growth, and forgets them', () => {
    const q = new SampleQueue();
    assert.equal(q.headDue, Infinity);
    assert.equal(q.lastDue, -Infinity);
    const seen: number[] = [];
    let next = 0;
    // Interleave pushes and shifts so the ring wraps, then grows past its first capacity.
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 3; k++) {
        const d = Buffer.from([next & 0xff]);
        q.push(next % 3, next / 10, next, [{ parts: [d], length: 1, marker: next % 2 === 1 }], next % 5 === 0);
        next++;
      }
      assert.equal(q.lastDue, next - 1);
      for (let k = 0; k < 2; k++) {
        const due = q.headDue;
        assert.equal(q.headLane, due % 3);
        assert.equal(q.headPts, due / 10);
        assert.equal(q.headSync, due % 5 === 0, 'the sync flag follows its sample');
        assert.equal(q.headPayloads[0].parts[0][0], due & 0xff);
        assert.equal(q.headPayloads[0].marker, due % 2 === 1);
        seen.push(due);
        q.shift();
      }
    }
    assert.equal(q.size, 50);
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.headPayloads.length, 0, 'cleared slots hold no payloads');
  });
});
