import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MpegAudioFramer, type AudioFrame } from './framer.js';
import { parseMpegAudioHeader } from './header.js';

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo (417 bytes, 418 with padding). */
const L3_128_44 = [0xff, 0xfb, 0x90, 0x44];
/** The same at 48 kHz (another stream: the rate bits differ). */
const L3_128_48 = [0xff, 0xfb, 0x94, 0x44];
/** MPEG-1 Layer III, 64 kbit/s, 44.1 kHz, mono: another bitrate, same stream. */
const L3_64_44_MONO = [0xff, 0xfb, 0x50, 0xc4];

/** A frame whose body is a counter (never 0xFF, so no false sync inside). */
function frame(header: number[], n: number): Buffer {
  const h = parseMpegAudioHeader(Buffer.from(header))!;
  const b = Buffer.alloc(h.frameSize, n & 0x7f);
  Buffer.from(header).copy(b);
  return b;
}

function frames(header: number[], count: number, from = 0): Buffer[] {
  return Array.from({ length: count }, (_, i) => frame(header, from + i));
}

/** An ID3v2.4 tag with `size` bytes of body (syncsafe size), with a footer when asked. */
function id3v2(size: number, footer = false): Buffer {
  const h = Buffer.from([
    0x49,
    0x44,
    0x33,
    4,
    0,
    footer ? 0x10 : 0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ]);
  // The body is full of sync words: none of it may be taken for audio.
  return Buffer.concat([
    h,
    Buffer.alloc(size, 0xff),
    footer ? Buffer.from('3DI\x04\x00\x10\x00\x00\x00\x00', 'latin1') : Buffer.alloc(0),
  ]);
}

function id3v1(): Buffer {
  const b = Buffer.alloc(128, 0xff);
  b.write('TAG', 0, 'latin1');
  return b;
}

function pushAll(framer: MpegAudioFramer, chunks: Buffer[]): AudioFrame[] {
  return chunks.flatMap((c) => framer.push(c));
}

/** `data` cut at the given points. */
function cut(data: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of at) {
    out.push(data.subarray(last, p));
    last = p;
  }
  out.push(data.subarray(last));
  return out;
}

describe('MpegAudioFramer', () => {
  it('yields whole frames with their samples, rate, channels and bitrate', () => {
    const fs = [...frames(L3_128_44, 3), ...frames(L3_64_44_MONO, 2, 3)];
    const got = new MpegAudioFramer().push(Buffer.concat(fs));
    // The last frame waits for what follows it to confirm it.
    assert.deepEqual(
      got.map((f) => [f.data, f.samples, f.sampleRate, f.channels, f.bitrateKbps]),
      fs.slice(0, 4).map((f, i) => [f, 1152, 44100, i < 3 ? 2 : 1, i < 3 ? 128 : 64]),
    );
  });

  it('locks only on a header followed by a matching one', () => {
    // A lone sync word in garbage, whose "frame" is not followed by a header.
    const junk = Buffer.concat([Buffer.from('garbage'), Buffer.from(L3_128_44), Buffer.alloc(600, 0x11)]);
    const fs = frames(L3_128_44, 3);
    const framer = new MpegAudioFramer();
    const got = framer.push(Buffer.concat([junk, ...fs]));
    assert.deepEqual(
      got.map((f) => f.data),
      fs.slice(0, 2),
    );
    assert.equal(framer.bytesSkipped, junk.length);
    // At the end of the stream the last frame goes out without a follower.
    assert.deepEqual(
      framer.flush().map((f) => f.data),
      [fs[2]],
    );
    assert.equal(framer.pendingBytes, 0);
  });

  it('skips ID3v2 tags anywhere (by their size, footer included) and ID3v1 blocks', () => {
    const a = frames(L3_128_44, 2);
    const b = frames(L3_128_44, 2, 2);
    const tags = [id3v2(3000), id3v2(50, true), id3v1()];
    const framer = new MpegAudioFramer();
    const got = framer.push(Buffer.concat([tags[0], ...a, tags[1], tags[2], ...b, frame(L3_128_44, 9)]));
    assert.deepEqual(
      got.map((f) => f.data),
      [...a, ...b],
    );
    assert.equal(
      framer.bytesSkipped,
      tags.reduce((n, t) => n + t.length, 0),
    );
  });

  it('resyncs after garbage in the middle and counts what it skipped', () => {
    const a = frames(L3_128_44, 3);
    const b = frames(L3_128_44, 3, 3);
    // Garbage that starts like a frame header of the stream, then breaks off.
    const garbage = Buffer.concat([
      Buffer.from(L3_128_44),
      Buffer.alloc(100, 0x22),
      Buffer.from([0xff, 0xfb, 0x90]),
    ]);
    const framer = new MpegAudioFramer();
    const got = framer.push(Buffer.concat([...a, garbage, ...b]));
    assert.deepEqual(
      got.map((f) => f.data),
      [...a, ...b.slice(0, 2)],
    );
    assert.equal(framer.bytesSkipped, garbage.length);
  });

  it('follows a change of stream (a playlist file at another rate) once two frames agree', () => {
    const a = frames(L3_128_44, 3);
    const b = frames(L3_128_48, 3);
    const got = new MpegAudioFramer().push(Buffer.concat([...a, ...b]));
    assert.deepEqual(
      got.map((f) => f.sampleRate),
      [44100, 44100, 44100, 48000, 48000],
    );
  });

  it('gives the same frames for any chunking', () => {
    // A frame followed by junk cannot be confirmed and is dropped with the junk.
    const stream = Buffer.concat([
      id3v2(700),
      ...frames(L3_128_44, 4),
      Buffer.from('junk'),
      id3v1(),
      ...frames(L3_64_44_MONO, 4, 4),
    ]);
    const whole = new MpegAudioFramer().push(stream).map((f) => f.data);
    assert.equal(whole.length, 6);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (points) => {
        const framer = new MpegAudioFramer();
        assert.deepEqual(
          pushAll(framer, cut(stream, points)).map((f) => f.data),
          whole,
        );
        assert.equal(framer.bytesSkipped, 700 + 10 + 417 + 4 + 128);
      }),
      { numRuns: 300 },
    );
  });

  it('copies: changing a pushed chunk afterwards changes no frame', () => {
    const fs = frames(L3_128_44, 3);
    const chunk = Buffer.concat(fs);
    const got = new MpegAudioFramer().push(chunk);
    chunk.fill(0);
    assert.deepEqual(got[0].data, fs[0]);
  });

  it('keeps its pending bytes under the bound, dropping and counting the rest', () => {
    // A huge ID3 tag (album art) is skipped as it passes, not buffered.
    const framer = new MpegAudioFramer({ maxPendingBytes: 1024 });
    const tag = id3v2(200_000);
    for (let i = 0; i < tag.length; i += 3000) {
      framer.push(tag.subarray(i, i + 3000));
      assert.ok(framer.pendingBytes <= 1024);
    }
    const fs = frames(L3_128_44, 3);
    assert.deepEqual(
      framer.push(Buffer.concat(fs)).map((f) => f.data),
      fs.slice(0, 2),
    );
    assert.equal(framer.bytesSkipped, tag.length);

    // Sync words without end (each a frame header that nothing confirms): bounded.
    const small = new MpegAudioFramer({ maxPendingBytes: 300 });
    const noise = Buffer.alloc(50_000);
    for (let i = 0; i + 4 <= noise.length; i += 5) Buffer.from(L3_128_48).copy(noise, i);
    for (let i = 0; i < noise.length; i += 999) {
      small.push(noise.subarray(i, i + 999));
      assert.ok(small.pendingBytes <= 300, `pending ${small.pendingBytes}`);
    }
    // A frame larger than the bound can never be whole: dropped, counted, no frame, still bounded.
    const all = Buffer.concat(fs);
    for (let i = 0; i < all.length; i += 200) assert.deepEqual(small.push(all.subarray(i, i + 200)), []);
    assert.ok(small.pendingBytes <= 300);
    assert.ok(small.bytesSkipped >= noise.length + fs.length * 417 - 300);
    assert.throws(() => new MpegAudioFramer({ maxPendingBytes: 3 }), RangeError);
  });

  it('survives random bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const framer = new MpegAudioFramer({ maxPendingBytes: 512 });
        for (const f of framer.push(Buffer.from(bytes))) assert.ok(parseMpegAudioHeader(f.data));
        assert.ok(framer.pendingBytes <= 512);
      }),
      { numRuns: 300 },
    );
  });
});
