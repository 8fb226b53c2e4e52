import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payloadBytes } from '../test-helpers/rtp-loop.js';
import { opusFormat, parseDOps } from './format.js';
import { OpusPacketizer } from './packetizer.js';

describe('OpusPacketizer (RFC 7587)', () => {
  it('sends one Opus packet per RTP payload, unchanged', () => {
    const pkt = Buffer.from([0xfc, 1, 2, 3, 4]);
    const out = new OpusPacketizer().packetize(pkt);
    assert.equal(out.length, 1);
    assert.deepEqual(payloadBytes(out[0]), pkt);
  });

  it('never fragments: an oversized packet goes whole and is counted; empty ones are dropped', () => {
    const p = new OpusPacketizer({ maxPayloadSize: 100 });
    assert.equal(p.packetize(Buffer.alloc(300, 1)).length, 1);
    assert.equal(p.oversizeCount, 1);
    assert.deepEqual(p.packetize(Buffer.alloc(0)), []);
    assert.equal(p.droppedCount, 1);
  });
});

describe('opusFormat', () => {
  it('is always opus/48000/2, with sprop-stereo saying what is sent', () => {
    assert.deepEqual(opusFormat({ payloadType: 111, channels: 1, inputSampleRate: 16000 }), {
      media: 'audio',
      payloadType: 111,
      encodingName: 'opus',
      clockRate: 48000,
      channels: 2,
      fmtp: { 'sprop-stereo': '0', 'sprop-maxcapturerate': '16000' },
    });
    assert.deepEqual(opusFormat({ payloadType: 96, channels: 2, inputSampleRate: 0 }).fmtp, {
      'sprop-stereo': '1',
    });
  });

  it('parses dOps (big endian)', () => {
    const body = Buffer.from([0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0xff, 0xfe, 0]);
    assert.deepEqual(parseDOps(body), {
      outputChannels: 2,
      preSkip: 312,
      inputSampleRate: 48000,
      outputGain: -2,
      channelMappingFamily: 0,
    });
    assert.equal(parseDOps(body.subarray(0, 10)), null);
  });
});
