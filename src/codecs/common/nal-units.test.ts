import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitAnnexB, splitLengthPrefixed } from './nal-units.js';
import { lengthPrefixed } from '../test-helpers/rtp-loop.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('splitAnnexB', () => {
  it('splits at 3- and 4-byte start codes', () => {
    const out = splitAnnexB(hex('00 00 00 01 67 42 00 00 01 68 ce 00 00 00 01 65 88 84'));
    assert.deepEqual(out, [hex('67 42'), hex('68 ce'), hex('65 88 84')]);
  });

  it('ignores leading garbage, trailing zeros and empty NAL units', () => {
    const out = splitAnnexB(hex('ff 12 00 00 01 00 00 01 09 f0 00 00 00 00 00 01 41 9a 00 00'));
    assert.deepEqual(out, [hex('09 f0'), hex('41 9a')]);
    assert.deepEqual(splitAnnexB(hex('41 9a 00 11')), []);
    assert.deepEqual(splitAnnexB(Buffer.alloc(0)), []);
  });

  it('round-trips NAL units without start-code emulation', () => {
    // Bytes 1..255 cannot form 00 00 0x, which emulation prevention would rule out anyway.
    const nalArb = fc
      .uint8Array({ minLength: 1, maxLength: 50 })
      .map((a) => Buffer.from(a.map((x) => x || 1)));
    fc.assert(
      fc.property(
        fc.array(nalArb, { maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        (nalus, four) => {
          const stream = Buffer.concat(nalus.flatMap((n, i) => [hex(four[i] ? '00000001' : '000001'), n]));
          assert.deepEqual(splitAnnexB(stream), nalus);
        },
      ),
    );
  });
});

describe('splitLengthPrefixed', () => {
  it('round-trips with every length size', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const, 4 as const),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 255 }), { maxLength: 6 }),
        (size, arrays) => {
          const nalus = arrays.map((a) => Buffer.from(a));
          assert.deepEqual(splitLengthPrefixed(lengthPrefixed(nalus, size), size), nalus);
        },
      ),
    );
  });

  it('stops at a corrupt length instead of throwing', () => {
    assert.deepEqual(splitLengthPrefixed(hex('00 00 00 02 41 01 00 00 ff ff 41'), 4), [hex('41 01')]);
    assert.deepEqual(splitLengthPrefixed(hex('00 00 00'), 4), []);
    assert.deepEqual(splitLengthPrefixed(hex('00 00 00 02 41 01'), 2), [hex('41 01')]); // empty NAL skipped
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(1 as const, 2 as const, 4 as const),
        (b, n) => {
          for (const nal of splitLengthPrefixed(Buffer.from(b), n)) assert.ok(nal.length > 0);
        },
      ),
    );
  });

  it('rejects an invalid length size', () => {
    assert.throws(() => splitLengthPrefixed(Buffer.alloc(4), 3 as 4), RangeError);
  });
});
