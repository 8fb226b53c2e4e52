import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Base64Error, Base64StreamDecoder } from './base64-stream.js';

/** Feeds `text` split at the given positions and returns everything decoded. */
function decodeSplit(text: string, cuts: number[]): Buffer {
  const d = new Base64StreamDecoder();
  const bytes = Buffer.from(text, 'latin1');
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    parts.push(d.push(bytes.subarray(prev, c)));
    prev = c;
  }
  parts.push(d.push(bytes.subarray(prev)));
  assert.equal(d.pendingChars, 0);
  return Buffer.concat(parts);
}

describe('Base64StreamDecoder', () => {
  it('decodes separately encoded requests, padding in the middle of the stream', () => {
    const a = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    const b = 'DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\n\r\n';
    const text = Buffer.from(a).toString('base64') + Buffer.from(b).toString('base64');
    assert.ok(text.includes('='), 'the example has padding');
    assert.equal(decodeSplit(text, []).toString(), a + b);
  });

  it('keeps a partial group for the next read, whatever the split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pieces, rawCuts) => {
          const text = pieces.map((p) => Buffer.from(p).toString('base64')).join('');
          const cuts = rawCuts.map((c) => (text.length ? c % (text.length + 1) : 0));
          assert.deepEqual(decodeSplit(text, cuts), Buffer.concat(pieces.map((p) => Buffer.from(p))));
        },
      ),
    );
  });

  it('ignores line breaks between groups', () => {
    assert.equal(decodeSplit('T1BU\r\nSU9O\nUw==\r\n', [5, 9]).toString(), 'OPTIONS');
  });

  it('rejects characters outside the alphabet and misplaced padding', () => {
    for (const bad of ['T1B!', 'T===', 'QQ=A', '=QQQ']) {
      const d = new Base64StreamDecoder();
      assert.throws(() => d.push(Buffer.from(bad)), Base64Error, bad);
      assert.throws(() => d.push(Buffer.from('QUJD')), Base64Error, 'stays failed');
    }
  });
});
