import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeaderError } from '../../net/index.js';
import { formatPrebuffer, formatRate, parsePrebufferMaxTime, parseScale, parseSpeed } from './scale.js';

describe('Scale and Speed headers', () => {
  it('parse decimal rates, reverse scales included', () => {
    assert.equal(parseScale('2'), 2);
    assert.equal(parseScale(' -4 '), -4);
    assert.equal(parseScale('1.0'), 1);
    assert.equal(parseScale('0.5'), 0.5);
    assert.equal(parseScale('.5'), 0.5);
    assert.equal(parseScale('+2'), 2);
    assert.equal(parseSpeed('2.5'), 2.5);
    assert.equal(parseSpeed('1.'), 1);
  });

  it('refuse bad syntax, scale 0 and speeds not above 0 with HeaderError 400', () => {
    for (const v of ['', 'fast', '2x', '1e3', '--2', '0', '0.000', 'Infinity', 'NaN', '1 2']) {
      assert.throws(() => parseScale(v), (e: unknown) => e instanceof HeaderError && e.status === 400, v);
    }
    for (const v of ['0', '-1', '-0.5', '', 'x']) {
      assert.throws(() => parseSpeed(v), (e: unknown) => e instanceof HeaderError && e.status === 400, v);
    }
  });

  it('format what was used, shortest form', () => {
    assert.equal(formatRate(2), '2');
    assert.equal(formatRate(-4), '-4');
    assert.equal(formatRate(1.5), '1.5');
    assert.equal(formatRate(1 / 3), '0.333');
    assert.throws(() => formatRate(Number.NaN), RangeError);
  });

  it('throw nothing but HeaderError on any input; formatted values parse back', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const parse of [parseScale, parseSpeed]) {
          try {
            assert.ok(Number.isFinite(parse(s)));
          } catch (e) {
            assert.ok(e instanceof HeaderError);
          }
        }
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -64000, max: 64000 }).filter((n) => n !== 0), (k) => {
        const n = k / 1000;
        assert.equal(parseScale(formatRate(n)), n);
      }),
    );
  });

  it('read x-Prebuffer maxtime and write the time backed up', () => {
    assert.equal(parsePrebufferMaxTime('maxtime=3.0'), 3);
    assert.equal(parsePrebufferMaxTime('foo=1; MaxTime = 2.5'), 2.5);
    assert.equal(parsePrebufferMaxTime('maxtime=-1'), undefined);
    assert.equal(parsePrebufferMaxTime('time=2'), undefined);
    assert.equal(formatPrebuffer(1.5), 'time=1.500');
    assert.throws(() => formatPrebuffer(-1), RangeError);
  });
});
