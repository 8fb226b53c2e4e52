import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { run } from '../../../test/helpers/run.js';
import { tempDir } from '../../../test/helpers/server.js';
import { openMedia } from '../../media/open-media.js';
import { decodeImaWav, ImaQtDecoder, imaWavFramesPerBlock } from './ima-adpcm.js';

const tmp = tempDir('rivulet-ima-');
after(() => tmp.cleanup());

/** What ffmpeg decodes from a file, as interleaved s16be. */
async function ffmpegDecode(path: string): Promise<Buffer> {
  const out = join(tmp.dir, 'decoded.raw');
  const r = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-i', path, '-f', 's16be', '-c:a', 'pcm_s16be', out],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(out);
}

describe('IMA ADPCM', () => {
  it('expands nibbles as the reference decoder does (QuickTime)', () => {
    // Header: predictor 0, index 0. Nibbles 7 (+11: 7/8 + 7 + 7/2 + 7/4), then 8+7 (-).
    const packet = Buffer.alloc(34);
    packet[2] = 0xf7;
    const out = new ImaQtDecoder(1).decode(packet);
    // After +11 the index is 8 (step 16): -(2 + 16 + 8 + 4) = -30 → -19.
    assert.deepEqual([out.readInt16BE(0), out.readInt16BE(2)], [11, -19]);
    assert.equal(out.length, 128);
  });

  it('takes the first sample of a WAV block from its header', () => {
    const block = Buffer.alloc(4 + 4);
    block.writeInt16LE(-1000, 0);
    block[2] = 10;
    const out = decodeImaWav(block, 1, 8);
    assert.equal(imaWavFramesPerBlock(8, 1), 9);
    assert.equal(out.length, 18);
    assert.equal(out.readInt16BE(0), -1000);
    // Nibble 0: + (1 × step 19) >> 3 = +2, and the index falls to 9.
    assert.equal(out.readInt16BE(2), -998);
  });

  it('decodes QuickTime ima4 exactly as ffmpeg does', async () => {
    const path = await fixture('ima4.mov');
    const movie = await openMedia(path);
    const t = movie.tracks[0];
    const file = readFileSync(path);
    const chunks = t.chunks!();
    const data = Buffer.concat(
      [...chunks.offsets].map((o, i) => file.subarray(o, o + chunks.counts[i] * 68)),
    );
    assert.ok((await ffmpegDecode(path)).equals(new ImaQtDecoder(2).decode(data)));
  });

  it('decodes WAV IMA ADPCM exactly as ffmpeg does', async () => {
    const path = await fixture('ima-adpcm.wav');
    const t = (await openMedia(path)).tracks[0];
    const blockAlign = t.sound!.bytesPerFrame!;
    const first = t.sample(0).offset;
    const data = readFileSync(path).subarray(first, first + t.sampleCount * blockAlign);
    assert.ok((await ffmpegDecode(path)).equals(decodeImaWav(data, 2, blockAlign)));
  });
});
