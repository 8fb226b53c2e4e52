import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { openMovie } from '../../media/mp4/reader.js';
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

  it('reads the profile space, tier and profile from the packed byte', () => {
    const rec = Buffer.from(hvcC);
    rec[1] = (2 << 6) | (1 << 5) | 4; // profile space 2, High tier, RExt (4)
    rec[12] = 153; // level 5.1
    const cfg = parseHevcDecoderConfig(rec)!;
    assert.deepEqual(
      [cfg.profileSpace, cfg.tierFlag, cfg.profileIdc, cfg.levelIdc],
      [2, 1, 4, 153],
    );
  });

  it('collects several NAL units of one array and arrays repeated for one type', () => {
    const twoPps = Buffer.concat([
      Buffer.from([0x80 | 34, 0, 2]),
      Buffer.from([0, PPS.length]),
      PPS,
      Buffer.from([0, 2, 0x44, 0x01]),
    ]);
    const head = Buffer.from(fixed);
    head[22] = 3;
    const cfg = parseHevcDecoderConfig(Buffer.concat([head, array(33, SPS), twoPps, array(33, SPS)]))!;
    assert.equal(cfg.vps.length, 0);
    assert.deepEqual(cfg.sps, [SPS, SPS]);
    assert.deepEqual(cfg.pps, [PPS, Buffer.from([0x44, 0x01])]);
    assert.deepEqual(cfg.other, []);
  });

  it('reads the length size and accepts the pre-standard version 0', () => {
    const rec = Buffer.from(hvcC);
    rec[0] = 0;
    rec[21] = 0xfc | 1; // lengthSizeMinusOne = 1
    const cfg = parseHevcDecoderConfig(rec)!;
    assert.equal(cfg.nalLengthSize, 2);
    assert.deepEqual(cfg.sps, [SPS]);
  });

  it('rejects later versions and 3-byte lengths', () => {
    const v2 = Buffer.from(hvcC);
    v2[0] = 2;
    assert.equal(parseHevcDecoderConfig(v2), null);
    const len3 = Buffer.from(hvcC);
    len3[21] = 0xfc | 2;
    assert.equal(parseHevcDecoderConfig(len3), null);
  });

  it('splits the fixture parameter sets into VPS/SPS/PPS', async () => {
    const movie = await openMovie(await fixture('h265-aac.mp4'));
    const cfg = parseHevcDecoderConfig(movie.tracks.find((t) => t.codec === 'hvc1')!.hvcC!)!;
    assert.equal(cfg.nalLengthSize, 4);
    assert.equal(cfg.vps.length, 1);
    assert.equal(cfg.sps.length, 1);
    assert.equal(cfg.pps.length, 1);
    assert.equal((cfg.vps[0][0] >> 1) & 0x3f, 32);
    assert.equal((cfg.sps[0][0] >> 1) & 0x3f, 33);
    assert.equal((cfg.pps[0][0] >> 1) & 0x3f, 34);
    assert.equal(cfg.profileIdc, 1, 'Main profile');
    assert.ok(cfg.levelIdc > 0);
  });
});
