import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h264Format, parseAvcDecoderConfig } from './format.js';

// A real x264 constrained-baseline level 3.0 SPS and its PPS.
const SPS = Buffer.from('6742c01eda0280bfe5c04400000300040000030 0f03c58b920'.replace(/ /g, ''), 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');

describe('h264Format', () => {
  it('derives profile-level-id and sprop-parameter-sets from the parameter sets', () => {
    const f = h264Format({ payloadType: 96, sps: [SPS], pps: [PPS] });
    assert.deepEqual(f, {
      media: 'video',
      payloadType: 96,
      encodingName: 'H264',
      clockRate: 90000,
      fmtp: {
        'packetization-mode': '1',
        'profile-level-id': '42c01e',
        // Base64 computed independently of this code.
        'sprop-parameter-sets': 'Z0LAHtoCgL/lwEQAAAMABAAAAwDwPFi5IA==,aM48gA==',
      },
    });
    assert.deepEqual(Object.keys(f.fmtp), ['packetization-mode', 'profile-level-id', 'sprop-parameter-sets']);
  });

  it('omits what it cannot derive', () => {
    assert.deepEqual(h264Format({ payloadType: 97, sps: [], pps: [] }).fmtp, { 'packetization-mode': '1' });
  });
});

describe('parseAvcDecoderConfig', () => {
  const avcC = Buffer.concat([
    Buffer.from([1, 0x42, 0xc0, 0x1e, 0xfc | 3, 0xe0 | 1]),
    Buffer.from([0, SPS.length]),
    SPS,
    Buffer.from([1, 0, PPS.length]),
    PPS,
  ]);

  it('reads the length size and parameter sets', () => {
    assert.deepEqual(parseAvcDecoderConfig(avcC), {
      profileIndication: 0x42,
      profileCompatibility: 0xc0,
      levelIndication: 0x1e,
      nalLengthSize: 4,
      sps: [SPS],
      pps: [PPS],
    });
  });

  it('returns null for every truncation', () => {
    for (let n = 0; n < avcC.length; n++)
      assert.equal(parseAvcDecoderConfig(avcC.subarray(0, n)), null, `length ${n}`);
  });
});
