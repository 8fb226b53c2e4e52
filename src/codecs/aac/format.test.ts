import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { openMovie } from '../../media/mp4/reader.js';
import { aacFormat, parseAudioSpecificConfig } from './format.js';

/** Packs [value, bitCount] pairs MSB first, padding the last byte with zeros. */
function bits(...fields: [number, number][]): Buffer {
  let s = '';
  for (const [v, n] of fields) s += v.toString(2).padStart(n, '0');
  s = s.padEnd(Math.ceil(s.length / 8) * 8, '0');
  return Buffer.from(s.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

describe('aacFormat', () => {
  it('describes AAC-hbr with the ASC as hex config', () => {
    // AAC LC, 44.1 kHz, stereo: 00010 0100 0010 000 → 0x12 0x10
    const f = aacFormat({
      payloadType: 97,
      sampleRate: 44100,
      channels: 2,
      audioSpecificConfig: Buffer.from([0x12, 0x10]),
    });
    assert.deepEqual(f, {
      media: 'audio',
      payloadType: 97,
      encodingName: 'MPEG4-GENERIC',
      clockRate: 44100,
      channels: 2,
      fmtp: {
        streamtype: '5',
        'profile-level-id': '1',
        mode: 'AAC-hbr',
        sizelength: '13',
        indexlength: '3',
        indexdeltalength: '3',
        config: '1210',
      },
    });
    assert.deepEqual(Object.keys(f.fmtp), [
      'streamtype',
      'profile-level-id',
      'mode',
      'sizelength',
      'indexlength',
      'indexdeltalength',
      'config',
    ]);
  });
});

describe('parseAudioSpecificConfig', () => {
  it('reads object type, rate and channels', () => {
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x12, 0x10])), {
      objectType: 2,
      sampleRate: 44100,
      channelConfiguration: 2,
      channels: 2,
    });
    // AAC LC 48 kHz mono: 00010 0011 0001 000
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x11, 0x88])), {
      objectType: 2,
      sampleRate: 48000,
      channelConfiguration: 1,
      channels: 1,
    });
  });

  it('handles the 0xF escape for an explicit 24-bit frequency', () => {
    // Explicit rate (index 15) 22050 Hz, stereo: 00010 1111 <24 bits> 0010
    const explicit = Buffer.alloc(5);
    const v = (BigInt(2) << 35n) | (15n << 31n) | (22050n << 7n) | (2n << 3n);
    for (let i = 0; i < 5; i++) explicit[i] = Number((v >> BigInt(8 * (4 - i))) & 0xffn);
    assert.deepEqual(parseAudioSpecificConfig(explicit), {
      objectType: 2,
      sampleRate: 22050,
      channelConfiguration: 2,
      channels: 2,
    });
    const odd = parseAudioSpecificConfig(bits([2, 5], [0xf, 4], [37800, 24], [1, 4]))!;
    assert.equal(odd.sampleRate, 37800);
    assert.equal(odd.channels, 1);
  });

  it('handles the 31 escape for object types above 30', () => {
    const asc = parseAudioSpecificConfig(bits([31, 5], [42 - 32, 6], [3, 4], [2, 4]))!;
    assert.equal(asc.objectType, 42);
    assert.equal(asc.sampleRate, 48000);
    assert.equal(asc.channels, 2);
  });

  it('reports explicit SBR signalling (HE-AAC): core rate, output rate and core object type', () => {
    assert.deepEqual(parseAudioSpecificConfig(bits([5, 5], [6, 4], [2, 4], [3, 4], [2, 5])), {
      objectType: 5,
      sampleRate: 24000,
      channelConfiguration: 2,
      channels: 2,
      extensionSampleRate: 48000,
      coreObjectType: 2,
    });
  });

  it('reports explicit PS signalling (HE-AAC v2) with an escaped extension rate', () => {
    const asc = parseAudioSpecificConfig(bits([29, 5], [8, 4], [1, 4], [0xf, 4], [32000, 24], [2, 5]))!;
    assert.equal(asc.objectType, 29);
    assert.equal(asc.sampleRate, 16000);
    assert.equal(asc.channels, 1);
    assert.equal(asc.extensionSampleRate, 32000);
    assert.equal(asc.coreObjectType, 2);
  });

  it('leaves the extension fields out without explicit SBR/PS signalling', () => {
    const asc = parseAudioSpecificConfig(Buffer.from([0x12, 0x10]))!;
    assert.equal('extensionSampleRate' in asc, false);
    assert.equal('coreObjectType' in asc, false);
  });

  it('maps channel configurations to channel counts', () => {
    const channels = (cfg: number): number => parseAudioSpecificConfig(bits([2, 5], [3, 4], [cfg, 4]))!.channels;
    assert.equal(channels(0), 0, 'layout in the PCE');
    assert.equal(channels(6), 6, '5.1');
    assert.equal(channels(7), 8, '7.1');
    assert.equal(channels(8), 0, 'reserved');
    assert.equal(channels(11), 7, '6.1');
    assert.equal(channels(13), 24, '22.2');
  });

  it('decodes the 3GP fixture as mono 16 kHz', async () => {
    const movie = await openMovie(await fixture('h264-aac.3gp'));
    const audio = movie.tracks.find((t) => t.handler === 'soun')!;
    const asc = parseAudioSpecificConfig(audio.esds!.decoderSpecificInfo)!;
    assert.equal(asc.objectType, 2);
    assert.equal(asc.sampleRate, 16000);
    assert.equal(asc.channels, 1);
  });

  it('returns null for truncated or reserved input', () => {
    assert.equal(parseAudioSpecificConfig(Buffer.from([0x12])), null);
    assert.equal(parseAudioSpecificConfig(Buffer.alloc(0)), null);
    assert.equal(parseAudioSpecificConfig(Buffer.from([0x16, 0x90])), null); // index 13 reserved
    assert.equal(parseAudioSpecificConfig(bits([2, 5], [0xf, 4], [1, 8])), null, 'escaped rate cut short');
    assert.equal(parseAudioSpecificConfig(bits([31, 5], [1, 3])), null, 'escaped object type cut short');
    assert.equal(parseAudioSpecificConfig(bits([5, 5], [6, 4], [2, 4])), null, 'SBR without its extension rate');
    assert.equal(parseAudioSpecificConfig(bits([5, 5], [6, 4], [2, 4], [14, 4], [2, 5])), null, 'reserved extension rate');
  });
});
