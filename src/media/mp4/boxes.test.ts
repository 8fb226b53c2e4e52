import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childBoxes, Cursor, decodeBoxHeader, readBoxHeader, readFullBox } from './boxes.js';
import { box, fullBox, largeBox, u32, u64 } from './test-helpers/build-boxes.js';
import { Mp4Error } from './types.js';

describe('box headers', () => {
  it('reads a 32-bit size', () => {
    const buf = box('free', Buffer.alloc(4));
    assert.deepEqual(readBoxHeader(buf, 0, buf.length), { type: 'free', start: 0, headerSize: 8, bodyStart: 8, end: 12 });
  });

  it('reads a 64-bit largesize when size is 1', () => {
    const buf = largeBox('mdat', Buffer.alloc(5));
    assert.deepEqual(readBoxHeader(buf, 0, buf.length), { type: 'mdat', start: 0, headerSize: 16, bodyStart: 16, end: 21 });
  });

  it('size 0 extends to the end of the parent', () => {
    const buf = Buffer.concat([u32(0), Buffer.from('mdat'), Buffer.alloc(100)]);
    assert.equal(readBoxHeader(buf, 0, buf.length).end, 108);
    assert.equal(readBoxHeader(buf, 0, 50).end, 50);
  });

  it('accounts for the uuid extended type', () => {
    const buf = box('uuid', Buffer.alloc(16, 0xab), Buffer.alloc(3));
    const h = readBoxHeader(buf, 0, buf.length);
    assert.equal(h.headerSize, 24);
    assert.equal(h.end - h.bodyStart, 3);
  });

  it('decodes against file coordinates separate from the buffer', () => {
    const header = Buffer.concat([u32(1), Buffer.from('mdat'), u64(2 ** 33)]);
    const h = decodeBoxHeader(header, 0, 2 ** 32, 2 ** 34);
    assert.equal(h.start, 2 ** 32);
    assert.equal(h.end, 2 ** 32 + 2 ** 33);
  });

  for (const [name, bytes] of [
    ['size below 8', Buffer.concat([u32(7), Buffer.from('free'), Buffer.alloc(8)])],
    ['size past the parent', Buffer.concat([u32(100), Buffer.from('free'), Buffer.alloc(8)])],
    ['huge 32-bit size', Buffer.concat([u32(0xfffffff0), Buffer.from('free'), Buffer.alloc(8)])],
    ['largesize below 16', Buffer.concat([u32(1), Buffer.from('free'), u64(15), Buffer.alloc(8)])],
    ['largesize past the parent', Buffer.concat([u32(1), Buffer.from('free'), u64(2 ** 40)])],
    ['largesize beyond 2^53', Buffer.concat([u32(1), Buffer.from('free'), Buffer.alloc(8, 0xff)])],
    ['truncated largesize', Buffer.concat([u32(1), Buffer.from('free'), Buffer.alloc(4)])],
    ['truncated header', Buffer.from([0, 0, 0])],
  ] as const) {
    it(`rejects ${name} with Mp4Error`, () => {
      assert.throws(() => readBoxHeader(bytes, 0, bytes.length), Mp4Error);
    });
  }

  it('walks children, ignoring fewer than 8 trailing bytes', () => {
    const buf = Buffer.concat([box('a   '), box('b   ', Buffer.alloc(3)), u32(0)]);
    assert.deepEqual(
      [...childBoxes(buf, 0, buf.length)].map((h) => h.type),
      ['a   ', 'b   '],
    );
  });

  it('stops a walk at a broken child with Mp4Error', () => {
    const buf = Buffer.concat([box('a   '), u32(3), Buffer.from('bad!')]);
    assert.throws(() => [...childBoxes(buf, 0, buf.length)], Mp4Error);
  });

  it('reads full-box version and flags', () => {
    const buf = fullBox('mvhd', 1, 0x000203, u32(7));
    const { version, flags, body } = readFullBox(buf, readBoxHeader(buf, 0, buf.length));
    assert.equal(version, 1);
    assert.equal(flags, 0x203);
    assert.equal(body.u32(), 7);
    assert.throws(() => body.u8(), Mp4Error);
  });
});

describe('Cursor', () => {
  it('never reads past its end', () => {
    const buf = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const c = new Cursor(buf, 2, 6, 'test');
    assert.equal(c.u16(), 0x0304);
    assert.throws(() => c.u32(), Mp4Error);
    assert.throws(() => c.skip(3), Mp4Error);
    assert.throws(() => c.need(-1), Mp4Error);
    assert.throws(() => c.need(NaN), Mp4Error);
    assert.deepEqual([...c.bytes(2)], [5, 6]);
    assert.equal(c.remaining, 0);
  });

  it('rejects 64-bit values that do not fit a Number exactly', () => {
    const c = new Cursor(Buffer.alloc(8, 0xff), 0, 8, 'test');
    assert.throws(() => c.u64(), Mp4Error);
  });
});
