import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCSeq } from './cseq.js';
import { HeaderError } from '../../net/index.js';

describe('CSeq', () => {
  it('parses sequence numbers', () => {
    assert.equal(parseCSeq('1'), 1);
    assert.equal(parseCSeq(' 42 '), 42);
    assert.equal(parseCSeq('0'), 0);
  });

  it('throws HeaderError on anything else', () => {
    for (const v of ['', 'a', '-1', '1.0', '1 2', '9'.repeat(16)])
      assert.throws(() => parseCSeq(v), HeaderError, v);
  });

  it('round-trips and throws nothing but HeaderError', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat().filter((n) => n < 1e15),
        (n) => assert.equal(parseCSeq(String(n)), n),
      ),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseCSeq(s);
        } catch (e) {
          assert.ok(e instanceof HeaderError);
        }
      }),
    );
  });
});
