import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeaderError } from '../../net/index.js';
import { formatNptRange, formatRange, parseRange, type NptRange } from './range.js';

describe('parseRange', () => {
  it('parses the npt forms clients send', () => {
    assert.deepEqual(parseRange('npt=5-'), { unit: 'npt', start: 5 });
    assert.deepEqual(parseRange('npt=5.5-10'), { unit: 'npt', start: 5.5, end: 10 });
    assert.deepEqual(parseRange('npt=now-'), { unit: 'npt', start: 'now' });
    assert.deepEqual(parseRange('npt=-10'), { unit: 'npt', end: 10 });
    assert.deepEqual(parseRange('npt=0.000-'), { unit: 'npt', start: 0 });
    assert.deepEqual(parseRange('npt = 0.000-'), { unit: 'npt', start: 0 });
    assert.deepEqual(parseRange(' npt=1.5 - 2.25 '), { unit: 'npt', start: 1.5, end: 2.25 });
    assert.deepEqual(parseRange('NPT=7.-'), { unit: 'npt', start: 7 });
  });

  it('parses hh:mm:ss.frac times', () => {
    assert.deepEqual(parseRange('npt=0:00:05-0:01:00.5'), { unit: 'npt', start: 5, end: 60.5 });
    assert.deepEqual(parseRange('npt=12:05:35.3-'), { unit: 'npt', start: 12 * 3600 + 5 * 60 + 35.3 });
    assert.throws(() => parseRange('npt=0:60:00-'), HeaderError);
    assert.throws(() => parseRange('npt=0:00:61-'), HeaderError);
  });

  it('keeps the time parameter', () => {
    assert.deepEqual(parseRange('npt=0-;time=19970123T153600Z'), {
      unit: 'npt',
      start: 0,
      time: '19970123T153600Z',
    });
  });

  it('recognises smpte and clock as unsupported units', () => {
    assert.deepEqual(parseRange('smpte=10:12:33:20-'), { unit: 'smpte', value: 'smpte=10:12:33:20-' });
    assert.deepEqual(parseRange('smpte-25=10:07:00-10:07:33:05.01'), {
      unit: 'smpte-25',
      value: 'smpte-25=10:07:00-10:07:33:05.01',
    });
    assert.equal(parseRange('clock=19961108T142300Z-19961108T143520Z').unit, 'clock');
  });

  it('throws HeaderError on bad syntax, 457 on a backwards range', () => {
    for (const v of [
      '',
      'npt',
      'npt=',
      'npt=-',
      'npt=5',
      'npt=a-b',
      'npt=-5-10',
      'npt=1e3-',
      'npt=5-now',
      'frames=1-2',
      '=1-2',
    ])
      assert.throws(() => parseRange(v), HeaderError, v);
    assert.throws(
      () => parseRange('npt=10-5'),
      (e: unknown) => e instanceof HeaderError && e.status === 457,
    );
    assert.throws(() => parseRange(`npt=${'9'.repeat(400)}-`), HeaderError);
  });
});

describe('formatNptRange / formatRange', () => {
  it('writes three decimals', () => {
    assert.equal(formatNptRange(5, 10), 'npt=5.000-10.000');
    assert.equal(formatNptRange(0), 'npt=0.000-');
    assert.equal(formatNptRange('now'), 'npt=now-');
    assert.equal(formatNptRange(1.23456, 2.5), 'npt=1.235-2.500');
    assert.equal(formatRange({ unit: 'npt', end: 10 }), 'npt=-10.000');
    assert.equal(
      formatRange({ unit: 'npt', start: 0, time: '19970123T153600Z' }),
      'npt=0.000-;time=19970123T153600Z',
    );
    assert.throws(() => formatNptRange(-1), RangeError);
    assert.throws(() => formatNptRange(Number.NaN), RangeError);
  });
});

describe('Range properties', () => {
  const secs = fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true });

  it('formatNptRange → parseRange round-trips to millisecond precision', () => {
    fc.assert(
      fc.property(
        fc.oneof(secs, fc.constant('now' as const)),
        fc.option(secs, { nil: undefined }),
        (start, end) => {
          const ms = (t: number) => Number(t.toFixed(3));
          if (typeof start === 'number' && end !== undefined && ms(end) < ms(start))
            [start, end] = [end, start];
          const r = parseRange(formatNptRange(start, end));
          const expected: NptRange = { unit: 'npt', start: start === 'now' ? 'now' : ms(start) };
          if (end !== undefined) expected.end = ms(end);
          assert.deepEqual(r, expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('random strings throw nothing but HeaderError', () => {
    const alphabet = fc.constantFrom(...'npt=now-.:;0123456789 smpteclock'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: alphabet }), fc.string({ unit: 'binary' })),
        (s) => {
          try {
            parseRange(s);
          } catch (e) {
            assert.ok(e instanceof HeaderError, String(e));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
