import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { payloadBytes } from '../test-helpers/rtp-loop.js';
import { pcmFormat } from './format.js';
import { PcmPacketizer } from './packetizer.js';
import { pcmConvert, pcmFormatFromSampleEntry } from './sample-format.js';

describe('PcmPacketizer (RFC 3551)', () => {
  it('sends 20 ms of 8 kHz µ-law as one 160-byte PCMU packet', () => {
    const block = Buffer.alloc(800, 0xff);
    const out = new PcmPacketizer({ format: 'ulaw', channels: 1, sampleRate: 8000 }).packetize(block);
    assert.deepEqual(
      out.map((p) => [p.length, p.timestampOffset]),
      [
        [160, 0],
        [160, 160],
        [160, 320],
        [160, 480],
        [160, 640],
      ],
    );
  });

  it('keeps 16-bit stereo 44.1 kHz within the payload budget, on frame boundaries, time-stamped per packet', () => {
    const p = new PcmPacketizer({ format: 's16be', channels: 2, sampleRate: 44100 });
    assert.equal(p.framesPerPacket, 350, '1400 / 4 bytes per frame < 882 frames in 20 ms');
    const block = Buffer.alloc(882 * 4);
    block.writeInt16BE(0x1234, 294 * 4);
    const out = p.packetize(block);
    assert.deepEqual(
      out.map((x) => [x.length, x.timestampOffset]),
      [
        [1176, 0],
        [1176, 294],
        [1176, 588],
      ],
    );
    assert.equal(payloadBytes(out[1]).readInt16BE(0), 0x1234);
  });

  it('byte-swaps little-endian 16-bit into L16 (network byte order)', () => {
    const le = Buffer.alloc(8);
    [1, -2, 300, -32768].forEach((v, i) => le.writeInt16LE(v, i * 2));
    const out = new PcmPacketizer({ format: 's16le', channels: 2, sampleRate: 48000 }).packetize(le);
    const b = payloadBytes(out[0]);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => b.readInt16BE(i * 2)),
      [1, -2, 300, -32768],
    );
    assert.deepEqual(le.readInt16LE(0), 1, 'the file data is not modified');
  });

  it('converts 24/32-bit samples, and widens 8-bit ones to L16', () => {
    const s24le = Buffer.from([0x56, 0x34, 0x12, 0xfe, 0xff, 0x7f]);
    assert.deepEqual([...pcmConvert('s24le', s24le)], [0x12, 0x34, 0x56, 0x7f, 0xff, 0xfe]);
    assert.deepEqual([...pcmConvert('s32le', Buffer.from([0x01, 0x56, 0x34, 0x12]))], [0x12, 0x34, 0x56]);
    assert.deepEqual([...pcmConvert('s32be', Buffer.from([0x12, 0x34, 0x56, 0x01]))], [0x12, 0x34, 0x56]);
    assert.deepEqual(
      [...pcmConvert('s8', Buffer.from([0x00, 0x7f, 0x80, 0xff]))],
      [0x00, 0, 0x7f, 0, 0x80, 0, 0xff, 0],
    );
    // Offset binary: 0x80 is silence, 0x00 the most negative sample.
    assert.deepEqual([...pcmConvert('u8', Buffer.from([0x80, 0x00, 0xff]))], [0x00, 0, 0x80, 0, 0x7f, 0]);
  });

  it('leaves out a trailing partial frame', () => {
    const out = new PcmPacketizer({ format: 's16be', channels: 2, sampleRate: 8000 }).packetize(
      Buffer.alloc(10),
    );
    assert.equal(out[0].length, 8);
  });

  it('always sends whole frames within the limit, covering the block in order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'u8',
          's8',
          's16be',
          's16le',
          's24be',
          's24le',
          's32be',
          's32le',
          'ulaw',
          'alaw' as const,
        ),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 24, max: 1500 }),
        fc.integer({ min: 0, max: 5000 }),
        (format, channels, max, frames) => {
          const bytes = {
            u8: 1,
            s8: 1,
            s16be: 2,
            s16le: 2,
            s24be: 3,
            s24le: 3,
            s32be: 4,
            s32le: 4,
            ulaw: 1,
            alaw: 1,
          }[format];
          const out = {
            u8: 2,
            s8: 2,
            s16be: 2,
            s16le: 2,
            s24be: 3,
            s24le: 3,
            s32be: 3,
            s32le: 3,
            ulaw: 1,
            alaw: 1,
          }[format];
          const p = new PcmPacketizer({ format, channels, sampleRate: 16000, maxPayloadSize: max });
          const payloads = p.packetize(Buffer.alloc(frames * bytes * channels));
          let next = 0;
          for (const x of payloads) {
            assert.ok(x.length <= max && x.length % (out * channels) === 0 && x.length > 0);
            assert.equal(x.timestampOffset, next);
            next += x.length / (out * channels);
          }
          assert.equal(next, frames);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('pcmFormat', () => {
  it('uses the static payload types of RFC 3551 Table 4 where they fit', () => {
    assert.equal(
      pcmFormat({ encoding: 'PCMU', sampleRate: 8000, channels: 1, payloadType: 96 }).payloadType,
      0,
    );
    assert.equal(
      pcmFormat({ encoding: 'PCMA', sampleRate: 8000, channels: 1, payloadType: 96 }).payloadType,
      8,
    );
    assert.equal(
      pcmFormat({ encoding: 'L16', sampleRate: 44100, channels: 2, payloadType: 96 }).payloadType,
      10,
    );
    assert.equal(
      pcmFormat({ encoding: 'L16', sampleRate: 44100, channels: 1, payloadType: 96 }).payloadType,
      11,
    );
    assert.deepEqual(pcmFormat({ encoding: 'PCMU', sampleRate: 44100, channels: 2, payloadType: 97 }), {
      media: 'audio',
      payloadType: 97,
      encodingName: 'PCMU',
      clockRate: 44100,
      channels: 2,
      fmtp: {},
    });
    assert.equal(
      pcmFormat({ encoding: 'L24', sampleRate: 48000, channels: 2, payloadType: 98 }).payloadType,
      98,
    );
  });
});

describe('pcmFormatFromSampleEntry', () => {
  it('maps QuickTime sample entries', () => {
    assert.equal(pcmFormatFromSampleEntry('twos', 16), 's16be');
    assert.equal(pcmFormatFromSampleEntry('twos', 8), 's8');
    assert.equal(pcmFormatFromSampleEntry('sowt', 16), 's16le');
    assert.equal(pcmFormatFromSampleEntry('raw ', 8), 'u8');
    assert.equal(pcmFormatFromSampleEntry('in24', 24, { littleEndian: true }), 's24le');
    assert.equal(pcmFormatFromSampleEntry('in24', 24), 's24be');
    assert.equal(pcmFormatFromSampleEntry('ulaw', 16), 'ulaw', 'µ-law entries often claim 16 bits');
    assert.equal(pcmFormatFromSampleEntry('lpcm', 24, { flags: 4 | 2 }), 's24be');
    assert.equal(pcmFormatFromSampleEntry('lpcm', 16, { flags: 4 }), 's16le');
    assert.deepEqual(pcmFormatFromSampleEntry('lpcm', 32, { flags: 1 }), {
      reason: 'floating-point PCM has no RTP payload format (convert it to 16-bit)',
    });
    assert.match((pcmFormatFromSampleEntry('fl32', 32) as { reason: string }).reason, /floating-point/);
    assert.match((pcmFormatFromSampleEntry('twos', 12) as { reason: string }).reason, /12-bit/);
  });
});
