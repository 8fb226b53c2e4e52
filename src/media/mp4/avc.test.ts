import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { parseAudioSpecificConfig, parseAvcC, parseHvcC } from './avc.js';
import { openMovie } from './reader.js';
import { Mp4Error } from './types.js';

/** Packs [value, bitCount] pairs MSB first, padding the last byte with zeros. */
function bits(...fields: [number, number][]): Buffer {
  let s = '';
  for (const [v, n] of fields) s += v.toString(2).padStart(n, '0');
  s = s.padEnd(Math.ceil(s.length / 8) * 8, '0');
  return Buffer.from(s.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

describe('parseAvcC', () => {
  it('decodes the baseline fixture record', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    const avcC = movie.tracks.find((t) => t.codec === 'avc1')!.avcC!;
    const cfg = parseAvcC(avcC);
    assert.equal(cfg.nalLengthSize, 4);
    assert.equal(cfg.profileIdc, 66);
    assert.ok(cfg.levelIdc >= 10 && cfg.levelIdc <= 52);
    assert.equal(cfg.sps.length, 1);
    assert.equal(cfg.pps.length, 1);
    assert.equal(cfg.sps[0][0] & 0x1f, 7);
    assert.equal(cfg.pps[0][0] & 0x1f, 8);
    assert.equal(cfg.sps[0][1], cfg.profileIdc, 'SPS profile_idc matches the record');
    assert.equal(cfg.sps[0][2], cfg.constraintFlags);
  });

  it('decodes the High profile record', async () => {
    const movie = await openMovie(await fixture('h264-high-bframes.mp4'));
    assert.equal(parseAvcC(movie.tracks[0].avcC!).profileIdc, 100);
  });

  it('decodes a hand-made record with two SPS and a 2-byte length size', () => {
    const rec = Buffer.from([1, 77, 0x40, 30, 0xfd, 0xe2, 0, 2, 0x67, 1, 0, 1, 0x67, 1, 0, 3, 0x68, 2, 3]);
    const cfg = parseAvcC(rec);
    assert.equal(cfg.nalLengthSize, 2);
    assert.deepEqual(cfg.sps.map((b) => [...b]), [[0x67, 1], [0x67]]);
    assert.deepEqual(cfg.pps.map((b) => [...b]), [[0x68, 2, 3]]);
    assert.equal(cfg.constraintFlags, 0x40);
    assert.equal(cfg.levelIdc, 30);
  });

  it('rejects truncated records and wrong versions with Mp4Error', () => {
    assert.throws(() => parseAvcC(Buffer.from([1, 66, 0, 30, 0xff, 0xe1, 0, 10, 0x67])), Mp4Error);
    assert.throws(() => parseAvcC(Buffer.from([2, 66, 0, 30, 0xff, 0xe0, 0])), Mp4Error);
    assert.throws(() => parseAvcC(Buffer.alloc(0)), Mp4Error);
  });
});

describe('parseHvcC', () => {
  it('splits the fixture parameter sets into VPS/SPS/PPS', async () => {
    const movie = await openMovie(await fixture('h265-aac.mp4'));
    const track = movie.tracks.find((t) => t.codec === 'hvc1')!;
    const cfg = parseHvcC(track.hvcC!);
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

  it('rejects a truncated record with Mp4Error', () => {
    assert.throws(() => parseHvcC(Buffer.from([1, 1, 0x60, 0, 0])), Mp4Error);
  });
});

describe('parseAudioSpecificConfig', () => {
  it('decodes AAC LC 44.1 kHz stereo (0x1210)', () => {
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x12, 0x10])), {
      objectType: 2,
      sampleRate: 44100,
      channels: 2,
      channelConfiguration: 2,
    });
  });

  it('decodes the 3GP fixture as mono 16 kHz', async () => {
    const movie = await openMovie(await fixture('h264-aac.3gp'));
    const audio = movie.tracks.find((t) => t.handler === 'soun')!;
    const asc = parseAudioSpecificConfig(audio.esds!.decoderSpecificInfo);
    assert.equal(asc.sampleRate, 16000);
    assert.equal(asc.channels, 1);
  });

  it('handles the 0xF escape for an explicit 24-bit frequency', () => {
    const asc = parseAudioSpecificConfig(bits([2, 5], [0xf, 4], [37800, 24], [1, 4]));
    assert.equal(asc.sampleRate, 37800);
    assert.equal(asc.channels, 1);
  });

  it('handles the 31 escape for object types above 30', () => {
    const asc = parseAudioSpecificConfig(bits([31, 5], [42 - 32, 6], [3, 4], [2, 4]));
    assert.equal(asc.objectType, 42);
    assert.equal(asc.sampleRate, 48000);
    assert.equal(asc.channels, 2);
  });

  it('reports explicit SBR signalling (HE-AAC)', () => {
    const asc = parseAudioSpecificConfig(bits([5, 5], [6, 4], [2, 4], [3, 4], [2, 5]));
    assert.equal(asc.objectType, 5);
    assert.equal(asc.sampleRate, 24000);
    assert.equal(asc.extensionSampleRate, 48000);
    assert.equal(asc.coreObjectType, 2);
  });

  it('maps channel configuration 7 to 8 channels', () => {
    assert.equal(parseAudioSpecificConfig(bits([2, 5], [3, 4], [7, 4])).channels, 8);
  });

  it('rejects truncated configs and reserved frequency indexes with Mp4Error', () => {
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x12])), Mp4Error);
    assert.throws(() => parseAudioSpecificConfig(bits([2, 5], [13, 4], [2, 4])), Mp4Error);
    assert.throws(() => parseAudioSpecificConfig(bits([2, 5], [0xf, 4], [1, 8])), Mp4Error);
  });
});
