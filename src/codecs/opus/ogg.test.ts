import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { OpusConfig } from './format.js';
import {
  OggOpusReader,
  OggOpusWriter,
  oggCrc32,
  oggPage,
  opusPacketSamples,
  opusTag,
  parseOpusHead,
  parseOpusTags,
  type OpusTags,
} from './ogg.js';

/** A CELT 20 ms packet (config 31, code 0) of `size` bytes tagged with `n`. */
function packet(n: number, size = 60): Buffer {
  const p = Buffer.alloc(size, n & 0xff);
  p[0] = 0xf8;
  return p;
}

function read(
  bytes: Buffer,
  chunk = bytes.length,
): { reader: OggOpusReader; packets: Buffer[]; heads: OpusConfig[]; tags: OpusTags[] } {
  const heads: OpusConfig[] = [];
  const tags: OpusTags[] = [];
  const reader = new OggOpusReader({ onHead: (h) => heads.push(h), onTags: (t) => tags.push(t) });
  const packets: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk)
    for (const f of reader.push(bytes.subarray(i, i + chunk))) packets.push(f.data);
  return { reader, packets, heads, tags };
}

describe('oggCrc32', () => {
  it('is CRC-32 with polynomial 0x04c11db7, initial 0, no reflection, no final xor', () => {
    // The CRC-32/CKSUM check value 0x765e7680 has a final xor of all ones.
    assert.equal(oggCrc32(Buffer.from('123456789')), (0x765e7680 ^ 0xffffffff) >>> 0);
  });
});

describe('opusPacketSamples (RFC 6716 §3.1)', () => {
  it('reads the frame size from the config and the frame count from the code', () => {
    assert.equal(opusPacketSamples(Buffer.from([0x00])), 480, 'SILK NB 10 ms');
    assert.equal(opusPacketSamples(Buffer.from([0x18])), 2880, 'SILK NB 60 ms');
    assert.equal(opusPacketSamples(Buffer.from([0x68])), 960, 'hybrid SWB 20 ms');
    assert.equal(opusPacketSamples(Buffer.from([0x80])), 120, 'CELT 2.5 ms');
    assert.equal(opusPacketSamples(Buffer.from([0xf8])), 960, 'CELT 20 ms');
    assert.equal(opusPacketSamples(Buffer.from([0xf9, 0, 0])), 1920, 'code 1: two frames');
    assert.equal(opusPacketSamples(Buffer.from([0xfb, 0x03])), 2880, 'code 3: three frames');
    assert.equal(opusPacketSamples(Buffer.from([0x1b, 0x03])), 0, '180 ms is over the 120 ms limit');
    assert.equal(opusPacketSamples(Buffer.from([0xfb])), 0, 'code 3 without its count');
    assert.equal(opusPacketSamples(Buffer.alloc(0)), 0);
  });
});

describe('OggOpusWriter → OggOpusReader', () => {
  const tags: OpusTags = {
    vendor: 'test encoder',
    comments: [
      ['TITLE', 'Song ä'],
      ['artist', 'Band'],
      ['X', 'a=b'],
    ],
  };

  it('writes OpusHead and OpusTags pages first, then audio pages the reader reads back', () => {
    const w = new OggOpusWriter({ serial: 0x1234, channels: 1, preSkip: 312, inputSampleRate: 44100, tags });
    const pages = [w.pages([packet(1), packet(2)], 312n + 1920n), w.pages([packet(3)], 312n + 2880n)];
    const { packets, heads, tags: seen } = read(Buffer.concat([w.headers, ...pages]), 17);
    assert.deepEqual(packets, [packet(1), packet(2), packet(3)]);
    assert.deepEqual(heads, [
      { outputChannels: 1, preSkip: 312, inputSampleRate: 44100, outputGain: 0, channelMappingFamily: 0 },
    ]);
    assert.deepEqual(seen, [tags]);
    assert.equal(opusTag(seen[0], 'Artist'), 'Band');
    // Header pages: BOS, sequence 0 and 1, granule 0; audio pages go on from 2.
    assert.equal(w.headers[5], 2);
    assert.equal(w.headers.readUInt32LE(18), 0);
    assert.equal(pages[0].readUInt32LE(14), 0x1234);
    assert.deepEqual(
      pages.map((p) => [p.readUInt32LE(18), p.readBigUInt64LE(6)]),
      [
        [2, 2232n],
        [3, 3192n],
      ],
    );
    assert.equal(w.sequence, 4);
  });

  it('carries packets over pages with lacing (255-multiples and over 255 segments)', () => {
    const w = new OggOpusWriter({ channels: 2 });
    const big = [packet(1, 255), packet(2, 510), packet(3, 70_000), packet(4, 3)];
    const bytes = w.pages(big, 100_000n);
    // 70,000 bytes need 275 lacing values: the page is split, the second one continued.
    const { packets } = read(Buffer.concat([w.headers, bytes]), 1000);
    // The reader's default bound (64 KiB) drops the 70,000-byte packet and keeps the rest.
    assert.deepEqual(packets, [big[0], big[1], big[3]]);
    const r2 = new OggOpusReader({ maxPendingBytes: 200_000 });
    assert.deepEqual(
      r2.push(Buffer.concat([w.headers, bytes])).map((f) => f.data),
      big,
    );
    // Each page's granule is where its last finished packet ends (TOC durations counted back).
    const second = 27 + bytes[26] + [...bytes.subarray(27, 27 + bytes[26])].reduce((a, b) => a + b, 0);
    assert.equal(bytes.readBigUInt64LE(6), 100_000n - 2n * 960n);
    assert.equal(bytes[second + 5] & 1, 1, 'continued');
    assert.equal(bytes.readBigUInt64LE(second + 6), 100_000n);
  });

  it('gives the same packets for any chunking, through junk and a damaged page', () => {
    const w = new OggOpusWriter({ channels: 2, tags });
    const pages = Array.from({ length: 6 }, (_, i) =>
      w.pages([packet(i, 100 + i * 90)], BigInt((i + 1) * 960)),
    );
    const bad = Buffer.from(pages[2]);
    bad[40] ^= 1; // CRC no longer matches: the page is skipped
    const junk = Buffer.from('OggS junk that looks like a page start');
    const stream = Buffer.concat([w.headers, pages[0], junk, pages[1], bad, pages[3], pages[4], pages[5]]);
    const whole = read(stream).packets;
    assert.deepEqual(
      whole,
      [0, 1, 3, 4, 5].map((i) => packet(i, 100 + i * 90)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (chunk) => {
        const { packets, reader } = read(stream, chunk);
        assert.deepEqual(packets, whole);
        assert.equal(reader.bytesSkipped, junk.length + bad.length);
      }),
      { numRuns: 100 },
    );
  });

  it('drops a packet whose first part was on a lost page', () => {
    const w = new OggOpusWriter({ channels: 2 });
    const spanning = w.pages([packet(1, 70_000)], 960n);
    const firstLen = 27 + 255 + 255 * 255;
    assert.equal(spanning.readBigInt64LE(6), -1n, 'no packet ends on the first page');
    const after = w.pages([packet(2)], 1920n);
    const r = new OggOpusReader({ maxPendingBytes: 200_000 });
    const got = r.push(Buffer.concat([w.headers, spanning.subarray(firstLen), after]));
    assert.deepEqual(
      got.map((f) => f.data),
      [packet(2)],
    );
    assert.equal(r.packetsDropped, 1);
  });

  it('restarts on a chained stream (a new BOS with its OpusHead) and ignores other codecs', () => {
    const a = new OggOpusWriter({ serial: 1, channels: 2 });
    const b = new OggOpusWriter({
      serial: 2,
      channels: 1,
      tags: { vendor: 'v', comments: [['TITLE', 'Next']] },
    });
    // A Vorbis stream multiplexed in: its BOS is not OpusHead, its pages are not followed.
    const vorbis = oggPage(
      { serial: 9, sequence: 0, granule: 0n, bos: true },
      [30],
      [Buffer.from('\x01vorbis' + 'x'.repeat(23), 'latin1')],
    );
    const other = oggPage({ serial: 9, sequence: 1, granule: 960n }, [60], [packet(77)]);
    const stream = Buffer.concat([
      a.headers,
      vorbis,
      a.pages([packet(1)], 960n),
      other,
      b.headers,
      b.pages([packet(2)], 960n),
    ]);
    const frames = new OggOpusReader().push(stream);
    assert.deepEqual(
      frames.map((f) => [f.data[1], f.channels, f.samples, f.sampleRate]),
      [
        [1, 2, 960, 48000],
        [2, 1, 960, 48000],
      ],
    );
    const { heads, tags } = read(stream);
    assert.deepEqual(
      heads.map((h) => h.outputChannels),
      [2, 1],
    );
    assert.equal(opusTag(tags[1], 'title'), 'Next');
  });

  it('parses headers defensively', () => {
    assert.equal(parseOpusHead(Buffer.from('OpusHead')), null);
    assert.equal(parseOpusTags(Buffer.from('OpusTagsxxxxxxxx')), null, 'vendor length past the end');
    const lying = Buffer.concat([
      Buffer.from('OpusTags'),
      Buffer.from([1, 0, 0, 0]),
      Buffer.from('v'),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    ]);
    assert.deepEqual(
      parseOpusTags(lying),
      { vendor: 'v', comments: [] },
      'a comment count beyond the packet',
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const r = new OggOpusReader({ maxPendingBytes: 1024 });
        r.push(Buffer.concat([Buffer.from('OggS'), Buffer.from(bytes)]));
        assert.ok(r.pendingBytes <= 1024);
      }),
      { numRuns: 200 },
    );
  });
});
