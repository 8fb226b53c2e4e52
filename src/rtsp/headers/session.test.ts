import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeaderError } from '../../net/index.js';
import { formatSession, parseSession, type SessionHeader } from './session.js';

describe('Session', () => {
  it('parses an id with and without timeout', () => {
    assert.deepEqual(parseSession('12345678;timeout=60'), { id: '12345678', timeout: 60 });
    assert.deepEqual(parseSession(' 5F3A29C1 '), { id: '5F3A29C1' });
    assert.deepEqual(parseSession('abc$-_.+ ; Timeout = 30 ; other=1'), { id: 'abc$-_.+', timeout: 30 });
  });

  it('throws HeaderError on an empty id or a bad timeout', () => {
    for (const v of [
      '',
      ' ',
      ';timeout=60',
      'a b',
      'abc;timeout=',
      'abc;timeout=x',
      'abc;timeout=-1',
      'abc;timeout',
    ])
      assert.throws(() => parseSession(v), HeaderError, v);
  });

  it('formats', () => {
    assert.equal(formatSession({ id: 'ABC', timeout: 60 }), 'ABC;timeout=60');
    assert.equal(formatSession({ id: 'ABC' }), 'ABC');
    assert.throws(() => formatSession({ id: 'a;b' }), RangeError);
    assert.throws(() => formatSession({ id: 'a', timeout: 1.5 }), RangeError);
  });

  it('format → parse round-trips', () => {
    const arb: fc.Arbitrary<SessionHeader> = fc.record(
      { id: fc.stringMatching(/^[A-Za-z0-9$\-_.+]{1,32}$/), timeout: fc.integer({ min: 0, max: 86400 }) },
      { requiredKeys: ['id'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(arb, (s) => assert.deepEqual(parseSession(formatSession(s)), s)),
      { numRuns: 300 },
    );
  });

  it('random strings throw nothing but HeaderError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: fc.constantFrom(...'ab1;=timeout '.split('')) }),
        ),
        (s) => {
          try {
            parseSession(s);
          } catch (e) {
            assert.ok(e instanceof HeaderError, String(e));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
