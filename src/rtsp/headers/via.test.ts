import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatVia, MAX_VIA_HOPS, parseVia } from './via.js';

describe('Via', () => {
  it('formats hops in order', () => {
    assert.equal(formatVia(['edge-1']), 'RTSP/1.0 edge-1');
    assert.equal(formatVia(['a', 'b.example_2']), 'RTSP/1.0 a, RTSP/1.0 b.example_2');
    assert.equal(formatVia([]), '');
  });

  it('refuses a hop that is not a token', () => {
    for (const h of ['', 'a b', 'a,b', 'x'.repeat(65), 'a\r\nX: 1'])
      assert.throws(() => formatVia([h]), RangeError, h);
  });

  it('reads the received-by of each entry, over several headers, comments left out', () => {
    assert.deepEqual(parseVia(['RTSP/1.0 a, RTSP/1.0 b (Rivulet, relay)', '1.1 proxy.example.com:8554']), [
      'a',
      'b',
      'proxy.example.com:8554',
    ]);
    assert.deepEqual(parseVia(['RTSP/1.0', ' , ', '(only a comment)']), []);
  });

  it('reads back what it formats, and never more than MAX_VIA_HOPS', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), { maxLength: 10 }), (hops) => {
        assert.deepEqual(parseVia([formatVia(hops)]), hops);
      }),
    );
    assert.equal(
      parseVia([Array.from({ length: 100 }, (_, i) => `RTSP/1.0 h${i}`).join(',')]).length,
      MAX_VIA_HOPS,
    );
  });
});
