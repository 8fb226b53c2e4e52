import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtpLoop, payloadBytes } from '../test-helpers/rtp-loop.js';
import { MpaDepacketizer } from './depacketizer.js';
import { mpaFormat } from './format.js';
import { parseMpegAudioHeader } from './header.js';
import { MpaPacketizer } from './packetizer.js';

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo: FF FB 90 44. */
const L3_128_44 = [0xff, 0xfb, 0x90, 0x44];

function mp3Frame(header = L3_128_44): Buffer {
  const h = parseMpegAudioHeader(Buffer.from(header))!;
  const b = Buffer.alloc(h.frameSize, 0x55);
  Buffer.from(header).copy(b);
  return b;
}

describe('parseMpegAudioHeader', () => {
  it('reads MPEG-1 Layer III', () => {
    assert.deepEqual(parseMpegAudioHeader(Buffer.from(L3_128_44)), {
      version: 1,
      layer: 3,
      bitrate: 128,
      sampleRate: 44100,
      channels: 2,
      frameSize: 417,
      samplesPerFrame: 1152,
    });
    // Padding bit adds a byte.
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x92, 0x44]))!.frameSize, 418);
  });

  it('reads MPEG-2 Layer III (576 samples) and MPEG-2.5 mono', () => {
    // MPEG-2 L3, 64 kbit/s (index 8), 22050 Hz: 72 × 64000 / 22050 = 208.
    const m2 = parseMpegAudioHeader(Buffer.from([0xff, 0xf3, 0x80, 0xc0]))!;
    assert.deepEqual(
      [m2.version, m2.layer, m2.bitrate, m2.sampleRate, m2.channels, m2.frameSize, m2.samplesPerFrame],
      [2, 3, 64, 22050, 1, 208, 576],
    );
    const m25 = parseMpegAudioHeader(Buffer.from([0xff, 0xe3, 0x80, 0xc0]))!;
    assert.deepEqual([m25.version, m25.sampleRate], [2.5, 11025]);
  });

  it('reads Layer I and II frame lengths', () => {
    // MPEG-1 L2 192 kbit/s 48 kHz: 144 × 192000 / 48000 = 576.
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfd, 0xa4, 0x00]))!.frameSize, 576);
    // MPEG-1 L1 384 kbit/s 44.1 kHz: (12 × 384000 / 44100 = 104) × 4 = 416.
    const l1 = parseMpegAudioHeader(Buffer.from([0xff, 0xff, 0xc0, 0x00]))!;
    assert.deepEqual([l1.layer, l1.frameSize, l1.samplesPerFrame], [1, 416, 384]);
  });

  it('rejects free format, reserved fields and lost sync', () => {
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x00, 0x44])), null, 'free format');
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0xf0, 0x44])), null, 'bad bitrate');
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x9c, 0x44])), null, 'reserved rate');
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xeb, 0x90, 0x44])), null, 'reserved version');
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xf9, 0x90, 0x44])), null, 'reserved layer');
    assert.equal(parseMpegAudioHeader(Buffer.from([0xfe, 0xfb, 0x90, 0x44])), null);
    assert.equal(parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x90])), null);
  });
});

describe('MpaPacketizer (RFC 2250 §3.5)', () => {
  it('sends a frame after a 4-byte header of MBZ and fragment offset 0', () => {
    const f = mp3Frame();
    const out = new MpaPacketizer().packetize(f);
    assert.equal(out.length, 1);
    const b = payloadBytes(out[0]);
    assert.deepEqual([...b.subarray(0, 4)], [0, 0, 0, 0]);
    assert.deepEqual(b.subarray(4), f);
    assert.equal(out[0].length, 421);
  });

  it('fragments a frame larger than the payload with increasing offsets', () => {
    const f = mp3Frame();
    const out = new MpaPacketizer({ maxPayloadSize: 150 }).packetize(f);
    // 417 bytes over 146-byte fragments → 3 fragments of 139.
    assert.deepEqual(
      out.map((p) => payloadBytes(p).readUInt32BE(0)),
      [0, 139, 278],
    );
    assert.deepEqual(Buffer.concat(out.map((p) => payloadBytes(p).subarray(4))), f);
    assert.ok(
      out.every((p) => p.timestampOffset === undefined),
      'fragments share the timestamp',
    );
  });

  it('needs room for the frame header in the first fragment', () => {
    assert.throws(() => new MpaPacketizer({ maxPayloadSize: 7 }), RangeError);
  });

  it('round-trips frames through RTP and the depacketizer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 1500 }), fc.integer({ min: 1, max: 6 }), (max, n) => {
        const frames = Array.from({ length: n }, (_, i) => {
          const f = mp3Frame([0xff, 0xfb, 0x90 | (i % 2 ? 2 : 0), 0x44]);
          f[10] = i;
          return f;
        });
        const p = new MpaPacketizer({ maxPayloadSize: max });
        const d = new MpaDepacketizer();
        const loop = new RtpLoop();
        const got = frames.flatMap((f, i) =>
          loop.send(p.packetize(f), i * 2351).flatMap((r) => [...d.push(r.payload, r.info)]),
        );
        assert.deepEqual(
          got,
          frames.map((data, i) => ({ timestamp: i * 2351, data })),
        );
        assert.equal(d.droppedCount, 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('mpaFormat', () => {
  it('is static payload type 14 at 90 kHz', () => {
    assert.deepEqual(mpaFormat(), {
      media: 'audio',
      payloadType: 14,
      encodingName: 'MPA',
      clockRate: 90000,
      fmtp: {},
    });
  });
});
