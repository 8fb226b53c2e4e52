import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { h265Format, parseHevcDecoderConfig } from './format.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
// Parameter sets of a real x265 Main-profile stream.
const VPS = hex('40010c01ffff016000000300900000030000030 05d959809');
const SPS = hex('420101016000000300900000030000030 05da00280802d165959a4932bc05a70800001f480003a9804');
const PPS = hex('4401c172b46240');

describe('h265Format', () => {
  it('carries the parameter sets as sprop-vps/sps/pps', () => {
    const f = h265Format({ payloadType: 98, vps: [VPS], sps: [SPS], pps: [PPS] });
    assert.deepEqual(f, {
      media: 'video',
      payloadType: 98,
      encodingName: 'H265',
      clockRate: 90000,
      fmtp: {
        // Base64 computed independently of this code.
        'sprop-vps': 'QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ',
        'sprop-sps': 'QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAWnCAAAH0gAA6mAQ=',
        'sprop-pps': 'RAHBcrRiQA==',
      },
    });
    assert.deepEqual(Object.keys(f.fmtp), ['sprop-vps', 'sprop-sps', 'sprop-pps']);
  });
});

describe('parseHevcDecoderConfig', () => {
  const array = (type: number, n: Buffer): Buffer =>
    Buffer.concat([Buffer.from([0x80 | type, 0, 1, n.length >> 8, n.length & 0xff]), n]);
  const fixed = Buffer.alloc(23);
  fixed[0] = 1;
  fixed[1] = 0x01; // profile space 0, tier 0, Main
  fixed[12] = 93; // level 3.1
  fixed[21] = 0x0f; // lengthSizeMinusOne = 3
  fixed[22] = 4;
  const sei = hex('4e01 0501');
  const hvcC = Buffer.concat([fixed, array(32, VPS), array(33, SPS), array(34, PPS), array(39, sei)]);

  it('reads the length size and NAL arrays', () => {
    assert.deepEqual(parseHevcDecoderConfig(hvcC), {
      profileSpace: 0,
      tierFlag: 0,
      profileIdc: 1,
      levelIdc: 93,
      nalLengthSize: 4,
      vps: [VPS],
      sps: [SPS],
      pps: [PPS],
      other: [{ nalType: 39, nalus: [sei] }],
    });
  });

  it('returns null for every truncation', () => {
    for (let n = 0; n < hvcC.length; n++)
      assert.equal(parseHevcDecoderConfig(hvcC.subarray(0, n)), null, `length ${n}`);
  });
});
