import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdtsFramer, adtsHeader } from './adts.js';
import { parseAudioSpecificConfig } from './format.js';

const LC_44_STEREO = { objectType: 2, sampleRate: 44100, channelConfiguration: 2 };

/** A raw AU whose bytes never contain 0xFF (no false sync inside). */
function au(n: number, size = 200 + (n % 50)): Buffer {
  return Buffer.alloc(size, (n % 0x7f) + 1);
}

function adts(data: Buffer, config = LC_44_STEREO): Buffer {
  return Buffer.concat([adtsHeader(config, data.length), data]);
}

/** `data` in chunks of the given sizes, repeated. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < data.length; k++) {
    const n = sizes[k % sizes.length];
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('adtsHeader', () => {
  it('writes the 7-byte header ffmpeg writes for AAC LC 44.1 kHz stereo', () => {
    // ffmpeg -c:a aac -f adts, a 371-byte frame: FF F1 50 80 2E 7F FC.
    assert.deepEqual([...adtsHeader(LC_44_STEREO, 364)], [0xff, 0xf1, 0x50, 0x80, 0x2e, 0x7f, 0xfc]);
  });

  it('writes the core object type of explicitly signalled HE-AAC', () => {
    // AOT 5 (SBR), core rate 24 kHz, stereo, extension 48 kHz, core AOT 2.
    const he = parseAudioSpecificConfig(Buffer.from('2b098800', 'hex'))!;
    assert.equal(he.objectType, 5);
    const h = adtsHeader(he, 100);
    assert.equal(h[2] >> 6, 1, 'profile LC');
    assert.equal((h[2] >> 2) & 0x0f, 6, '24 kHz');
  });

  it('refuses what ADTS cannot say', () => {
    assert.throws(() => adtsHeader({ ...LC_44_STEREO, objectType: 42 }, 10), RangeError);
    assert.throws(() => adtsHeader({ ...LC_44_STEREO, sampleRate: 44000 }, 10), RangeError);
    assert.throws(() => adtsHeader({ ...LC_44_STEREO, channelConfiguration: 0 }, 10), RangeError);
    assert.throws(() => adtsHeader(LC_44_STEREO, 8185), RangeError);
    assert.throws(() => adtsHeader(LC_44_STEREO, 0), RangeError);
  });
});

describe('AdtsFramer', () => {
  it('strips the header and yields raw AUs of 1024 samples with the AudioSpecificConfig', () => {
    const aus = [au(0), au(1), au(2)];
    const got = new AdtsFramer().push(Buffer.concat(aus.map((a) => adts(a))));
    assert.deepEqual(
      got.map((f) => f.data),
      aus.slice(0, 2),
    );
    assert.deepEqual(
      got.map((f) => [f.samples, f.sampleRate, f.channels]),
      [
        [1024, 44100, 2],
        [1024, 44100, 2],
      ],
    );
    assert.equal(got[0].audioSpecificConfig.toString('hex'), '1210');
    assert.deepEqual(parseAudioSpecificConfig(got[0].audioSpecificConfig), {
      objectType: 2,
      sampleRate: 44100,
      channelConfiguration: 2,
      channels: 2,
    });
  });

  it('strips the 9-byte header of CRC-protected frames', () => {
    const withCrc = (data: Buffer): Buffer => {
      const h = adtsHeader({ objectType: 2, sampleRate: 48000, channelConfiguration: 1 }, data.length + 2);
      h[1] &= 0xfe; // protection_absent = 0
      return Buffer.concat([h, Buffer.from([0x12, 0x34]), data]);
    };
    const aus = [au(0), au(1), au(2)];
    const framer = new AdtsFramer();
    const got = framer.push(Buffer.concat(aus.map(withCrc)));
    assert.deepEqual(
      got.map((f) => f.data),
      aus.slice(0, 2),
    );
    assert.deepEqual(
      got.map((f) => [f.sampleRate, f.channels]),
      [
        [48000, 1],
        [48000, 1],
      ],
    );
    assert.deepEqual(
      framer.flush().map((f) => f.data),
      [aus[2]],
    );
  });

  it('skips junk, ID3 tags and frames of several raw data blocks; resyncs', () => {
    const aus = Array.from({ length: 8 }, (_, i) => au(i));
    const multi = adts(au(99));
    multi[6] |= 1; // two raw data blocks: cannot be split
    const id3 = Buffer.concat([
      Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x05', 'latin1'),
      Buffer.alloc(5, 0xff),
    ]);
    const junk = Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x01, 0x02, 0x03, 0x04]);
    const stream = Buffer.concat([
      junk,
      id3,
      ...aus.slice(0, 4).map((a) => adts(a)),
      multi,
      ...aus.slice(4).map((a) => adts(a)),
    ]);
    const framer = new AdtsFramer();
    const frames = chunked(stream, [1, 7, 300, 2, 13]).flatMap((c) => framer.push(c));
    assert.deepEqual(
      frames.map((f) => f.data),
      aus.slice(0, 7),
    );
    assert.equal(framer.bytesSkipped, junk.length + id3.length + multi.length);
  });

  it('gives the same AUs for any chunking and never throws on random bytes', () => {
    const stream = Buffer.concat(Array.from({ length: 10 }, (_, i) => adts(au(i, 5 + i * 37))));
    const whole = new AdtsFramer().push(stream).map((f) => f.data);
    assert.equal(whole.length, 9);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const framer = new AdtsFramer();
        const out = chunked(stream, sizes).flatMap((c) => framer.push(c));
        assert.deepEqual(
          out.map((f) => f.data),
          whole,
        );
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const framer = new AdtsFramer({ maxPendingBytes: 256 });
        framer.push(Buffer.from(bytes));
        assert.ok(framer.pendingBytes <= 256);
      }),
      { numRuns: 200 },
    );
  });
});
