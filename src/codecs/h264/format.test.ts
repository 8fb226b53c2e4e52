import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { openMovie } from '../../media/mp4/reader.js';
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

  it('reads a record with two SPS and a 2-byte length size', () => {
    const rec = Buffer.from([1, 77, 0x40, 30, 0xfd, 0xe2, 0, 2, 0x67, 1, 0, 1, 0x67, 1, 0, 3, 0x68, 2, 3]);
    const cfg = parseAvcDecoderConfig(rec)!;
    assert.equal(cfg.nalLengthSize, 2);
    assert.deepEqual(
      cfg.sps.map((b) => [...b]),
      [[0x67, 1], [0x67]],
    );
    assert.deepEqual(
      cfg.pps.map((b) => [...b]),
      [[0x68, 2, 3]],
    );
    assert.equal(cfg.profileIndication, 77);
    assert.equal(cfg.profileCompatibility, 0x40);
    assert.equal(cfg.levelIndication, 30);
  });

  it('ignores the High-profile fields after the PPS list', () => {
    // chroma_format, bit depths and an empty SPS extension list, as x264 writes for High profile.
    const high = Buffer.concat([avcC, Buffer.from([0xfc | 1, 0xf8, 0xf8, 0])]);
    assert.deepEqual(parseAvcDecoderConfig(high), parseAvcDecoderConfig(avcC));
  });

  it('rejects other versions, 3-byte lengths and parameter sets running past the end', () => {
    assert.equal(parseAvcDecoderConfig(Buffer.from([2, 66, 0, 30, 0xff, 0xe0, 0])), null, 'version 2');
    assert.equal(parseAvcDecoderConfig(Buffer.from([1, 66, 0, 30, 0xfe, 0xe0, 0])), null, 'lengthSizeMinusOne 2');
    assert.equal(parseAvcDecoderConfig(Buffer.from([1, 66, 0, 30, 0xff, 0xe1, 0, 10, 0x67])), null, 'SPS too long');
  });

  it('decodes the baseline fixture record', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    const cfg = parseAvcDecoderConfig(movie.tracks.find((t) => t.codec === 'avc1')!.avcC!)!;
    assert.equal(cfg.nalLengthSize, 4);
    assert.equal(cfg.profileIndication, 66);
    assert.ok(cfg.levelIndication >= 10 && cfg.levelIndication <= 52);
    assert.equal(cfg.sps.length, 1);
    assert.equal(cfg.pps.length, 1);
    assert.equal(cfg.sps[0][0] & 0x1f, 7);
    assert.equal(cfg.pps[0][0] & 0x1f, 8);
    assert.equal(cfg.sps[0][1], cfg.profileIndication, 'SPS profile_idc matches the record');
    assert.equal(cfg.sps[0][2], cfg.profileCompatibility, 'SPS constraint flags match the record');
    assert.equal(cfg.sps[0][3], cfg.levelIndication, 'SPS level_idc matches the record');
  });

  it('decodes the High profile fixture record', async () => {
    const movie = await openMovie(await fixture('h264-high-bframes.mp4'));
    const cfg = parseAvcDecoderConfig(movie.tracks.find((t) => t.codec === 'avc1')!.avcC!)!;
    assert.equal(cfg.profileIndication, 100);
    assert.equal(cfg.sps.length, 1);
    assert.equal(cfg.pps.length, 1);
  });
});
