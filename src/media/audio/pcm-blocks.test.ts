import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMoov } from '../mp4/reader.js';
import { Mp4Error } from '../mp4/types.js';
import { box, moov, u16, type SynthTrack } from '../mp4/test-helpers/build-boxes.js';
import { PcmBlockTrack } from './pcm-blocks.js';
import { PcmDataTrack } from './pcm-data-track.js';

function track(t: Partial<SynthTrack> & Pick<SynthTrack, 'stsc' | 'chunkOffsets'>, quickTime = true) {
  const full: SynthTrack = { id: 1, handler: 'soun', codec: 'twos', timescale: 8000, channels: 2, sampleRate: 8000, ...t };
  return parseMoov(moov([full]), { quickTime }).tracks[0];
}

describe('PcmBlockTrack', () => {
  it('cuts each chunk into blocks of whole frames, never across chunks', () => {
    // 3 chunks of 250, 250 and 100 one-frame samples (4 bytes each) at scattered offsets.
    const t = track({ constant: { size: 4, count: 600 }, stts: [[600, 1]], stsc: [[1, 250], [3, 100]], chunkOffsets: [1000, 50_000, 90_000] });
    const b = new PcmBlockTrack(t, 4, 160);
    // ceil(250/160) + ceil(250/160) + ceil(100/160) = 2 + 2 + 1.
    assert.equal(b.sampleCount, 5);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => b.sample(i)).map((s) => [s.offset, s.size, s.dts]),
      [
        [1000, 640, 0],
        [1000 + 640, 360, 160],
        [50_000, 640, 250],
        [50_000 + 640, 360, 410],
        [90_000, 400, 500],
      ],
    );
    assert.ok([0, 1, 2, 3, 4].every((i) => b.sample(i).sync));
    assert.equal(b.totalBytes, 2400);
    assert.deepEqual([0, 159, 160, 249, 250, 409, 410, 599, 10_000].map((d) => b.sampleAtDts(d)), [0, 0, 1, 1, 2, 2, 3, 4, 4]);
    assert.throws(() => b.sample(5), RangeError);
  });

  it('uses its own frame size when an old QuickTime file says every sample is 1 byte', () => {
    const t = track({ constant: { size: 1, count: 400 }, stts: [[400, 1]], stsc: [[1, 400]], chunkOffsets: [64] });
    const b = new PcmBlockTrack(t, 4, 160);
    assert.deepEqual([b.sample(2).offset, b.sample(2).size], [64 + 320 * 4, 80 * 4]);
  });

  it('follows stts when the timescale is not the sampling rate', () => {
    const t = track({ timescale: 600, constant: { size: 4, count: 300 }, stts: [[300, 2]], stsc: [[1, 300]], chunkOffsets: [0] });
    const b = new PcmBlockTrack(t, 4, 100);
    assert.deepEqual([b.sample(1).dts, b.sample(2).dts], [200, 400]);
    assert.equal(b.sampleAtDts(401), 2);
  });

  it('reads a track of millions of one-frame samples through the chunk table alone', () => {
    // 10 hours of 48 kHz audio: more samples than the per-sample index takes.
    const count = 48000 * 36000;
    const t = track({ timescale: 48000, constant: { size: 4, count }, stts: [[count, 1]], co64: true, stsc: [[1, 48000]], chunkOffsets: Array.from({ length: 36000 }, (_, i) => 4096 + i * 192_000), entryChildren: [box('enda', u16(1))] });
    const b = new PcmBlockTrack(t, 4, 960);
    assert.equal(b.sampleCount, 36000 * 50);
    const last = b.sample(b.sampleCount - 1);
    assert.deepEqual([last.offset, last.size, last.dts], [4096 + 35999 * 192_000 + 49 * 960 * 4, 3840, count - 960]);
    assert.equal(b.sampleAtDts(48000 * 3600), 3600 * 50);
    assert.deepEqual(t.entryBoxes?.enda, u16(1));
    assert.throws(() => t.sample(0), Mp4Error, 'the per-sample index is still refused');
  });

  it('works over the frame-level track of a WAV/AIFF/AU file', () => {
    const t = new PcmDataTrack({ codec: 'sowt', sound: { version: 0, sampleSize: 16 }, channels: 1, sampleRate: 8000, dataOffset: 44, bytesPerFrame: 2, frames: 1000 });
    const b = new PcmBlockTrack(t, 2, 160);
    assert.equal(b.sampleCount, 7);
    assert.deepEqual([b.sample(6).offset, b.sample(6).size, b.sample(6).dts], [44 + 960 * 2, 40 * 2, 960]);
  });
});
