import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IcyInterleaver, metadataBlock } from './icy-metadata.js';

/** Splits a listener's byte stream back into audio and blocks, strictly by the interval. */
function parse(stream: Buffer, metaint: number): { audio: Buffer; titles: string[] } {
  const audio: Buffer[] = [];
  const titles: string[] = [];
  let off = 0;
  while (off < stream.length) {
    const take = Math.min(metaint, stream.length - off);
    audio.push(stream.subarray(off, off + take));
    off += take;
    if (take < metaint || off >= stream.length) break;
    const len = stream[off] * 16;
    const text = stream.toString('utf8', off + 1, off + 1 + len).replace(/\0+$/, '');
    if (len > 0) titles.push(/StreamTitle='(.*?)';/.exec(text)?.[1] ?? '?');
    off += 1 + len;
  }
  return { audio: Buffer.concat(audio), titles };
}

describe('metadataBlock', () => {
  it('writes StreamTitle and StreamUrl padded to 16-byte units with the length byte first', () => {
    const b = metadataBlock('Artist - Song', 'http://x');
    assert.equal((b.length - 1) % 16, 0);
    assert.equal(b[0] * 16, b.length - 1);
    assert.equal(b.toString('utf8', 1).replace(/\0+$/, ''), "StreamTitle='Artist - Song';StreamUrl='http://x';");
  });

  it('keeps quotes and NULs out of the values and cuts long titles to one block', () => {
    assert.match(metadataBlock("Rock 'n' Roll\0").toString('utf8'), /StreamTitle='Rock ’n’ Roll';/);
    const long = metadataBlock('é'.repeat(5000));
    assert.ok(long.length <= 1 + 255 * 16);
    assert.match(long.toString('utf8'), /';StreamUrl='';/);
  });
});

describe('IcyInterleaver', () => {
  it('puts a block after exactly every metaint bytes, the title only when it changed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 40 }), fc.integer({ min: 256, max: 1024 }), (sizes, metaint) => {
        const icy = new IcyInterleaver(metaint);
        const audio: Buffer[] = [];
        const out: Buffer[] = [];
        let version = 1;
        let n = 0;
        for (const size of sizes) {
          const chunk = Buffer.alloc(size, n++ & 0xff);
          audio.push(chunk);
          if (n % 7 === 0) version++;
          out.push(...icy.interleave(chunk, version, () => metadataBlock(`title ${version}`)));
        }
        const parsed = parse(Buffer.concat(out), metaint);
        assert.deepEqual(parsed.audio, Buffer.concat(audio));
        for (let i = 1; i < parsed.titles.length; i++) assert.notEqual(parsed.titles[i], parsed.titles[i - 1]);
      }),
    );
  });

  it('sends the first block with the title and then empty blocks while it stays the same', () => {
    const icy = new IcyInterleaver(256);
    const pieces = icy.interleave(Buffer.alloc(256 * 3), 5, () => metadataBlock('A'));
    const blocks = pieces.filter((p) => p.length !== 256);
    assert.equal(blocks.length, 3);
    assert.ok(blocks[0].length > 1);
    assert.deepEqual(blocks.slice(1).map((b) => [...b]), [[0], [0]]);
  });
});
