import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aacFormat, parseAudioSpecificConfig } from './format.js';

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
    });
    // AAC LC 48 kHz mono: 00010 0011 0001 000
    assert.deepEqual(parseAudioSpecificConfig(Buffer.from([0x11, 0x88])), {
      objectType: 2,
      sampleRate: 48000,
      channelConfiguration: 1,
    });
    // Explicit rate (index 15) 22050 Hz, stereo: 00010 1111 <24 bits> 0010
    const explicit = Buffer.alloc(5);
    const v = (BigInt(2) << 35n) | (15n << 31n) | (22050n << 7n) | (2n << 3n);
    for (let i = 0; i < 5; i++) explicit[i] = Number((v >> BigInt(8 * (4 - i))) & 0xffn);
    assert.deepEqual(parseAudioSpecificConfig(explicit), {
      objectType: 2,
      sampleRate: 22050,
      channelConfiguration: 2,
    });
  });

  it('returns null for truncated or reserved input', () => {
    assert.equal(parseAudioSpecificConfig(Buffer.from([0x12])), null);
    assert.equal(parseAudioSpecificConfig(Buffer.alloc(0)), null);
    assert.equal(parseAudioSpecificConfig(Buffer.from([0x16, 0x90])), null); // index 13 reserved
  });
});
