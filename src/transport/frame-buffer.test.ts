import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRtpHeader } from '../rtp/packet.js';
import { FrameBuffer } from './frame-buffer.js';

/** Splits `$` frames back into [channel, payload] pairs; fails on anything else. */
function frames(bytes: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let o = 0;
  while (o < bytes.length) {
    assert.equal(bytes[o], 0x24, `frame marker at ${o}`);
    const len = bytes.readUInt16BE(o + 2);
    out.push([bytes[o + 1], bytes.subarray(o + 4, o + 4 + len)]);
    o += 4 + len;
  }
  assert.equal(o, bytes.length);
  return out;
}

describe('FrameBuffer', () => {
  it('frames RTP packets from their parts and built payloads, in order, in few chunks', () => {
    const fb = new FrameBuffer();
    const body = Buffer.alloc(1000, 7);
    for (let i = 0; i < 50; i++) fb.rtp(0, { parts: [Buffer.from([0x7c, 0x85]), body], length: 1002, marker: i === 49 }, { payloadType: 96, sequence: 65530 + i, timestamp: 1234, ssrc: 0xdeadbeef });
    fb.frame(1, Buffer.from('rtcp'));
    const shared = Buffer.from([0x24, 2, 0, 1, 9]);
    fb.raw(shared);
    fb.frame(1, Buffer.from('after'));
    const bytes = fb.bytes;
    const { chunks, reusable } = fb.take();
    assert.equal(reusable, undefined, 'a batch holding a shared frame gives no buffer back');
    assert.equal(fb.bytes, 0);
    assert.ok(chunks.includes(shared), 'a raw frame is kept as it is');
    const all = Buffer.concat(chunks);
    assert.equal(all.length, bytes);
    const f = frames(all);
    assert.equal(f.length, 53);
    for (let i = 0; i < 50; i++) {
      const h = readRtpHeader(f[i][1])!;
      assert.equal(f[i][0], 0);
      assert.equal(h.sequence, (65530 + i) & 0xffff);
      assert.equal(h.ssrc, 0xdeadbeef);
      assert.equal(h.marker, i === 49);
      assert.equal(f[i][1].length, 12 + 1002);
    }
    assert.deepEqual(f.slice(50).map(([c, p]) => [c, p.toString('latin1')]), [[1, 'rtcp'], [2, '\t'], [1, 'after']]);
  });

  it('reuses a batch buffer given back, and only then', () => {
    const fb = new FrameBuffer();
    for (let i = 0; i < 10; i++) fb.frame(0, Buffer.alloc(1000, 1));
    const a = fb.take();
    assert.equal(a.chunks.length, 1);
    assert.ok(a.reusable && a.chunks[0].buffer === a.reusable.buffer);
    for (let i = 0; i < 10; i++) fb.frame(0, Buffer.alloc(1000, 2));
    const b = fb.take();
    assert.notEqual(b.chunks[0].buffer, a.chunks[0].buffer, 'not reused before it is given back');
    assert.equal(a.chunks[0][4], 1, 'the first batch is intact');
    fb.recycle(a.reusable);
    for (let i = 0; i < 10; i++) fb.frame(0, Buffer.alloc(1000, 3));
    const c = fb.take();
    assert.equal(c.chunks[0].buffer, a.reusable.buffer, 'reused once given back');
    assert.equal(frames(Buffer.concat(c.chunks)).length, 10);
  });

  it('never rewrites bytes it handed out, and drops what is cleared', () => {
    const fb = new FrameBuffer();
    fb.frame(0, Buffer.from('one'));
    const first = fb.take().chunks;
    const copy = Buffer.concat(first);
    for (let i = 0; i < 100; i++) fb.frame(0, Buffer.alloc(3000, i));
    assert.ok(Buffer.concat(first).equals(copy), 'the first batch is unchanged');
    fb.clear();
    assert.equal(fb.bytes, 0);
    assert.deepEqual(fb.take().chunks, []);
    assert.throws(() => fb.frame(0, Buffer.alloc(70000)), RangeError);
  });
});
