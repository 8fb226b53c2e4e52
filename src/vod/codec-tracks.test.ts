import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { amr3gp, syntheticAmrFrames } from '../../test/helpers/amr-3gp.js';
import { fixture } from '../../test/helpers/fixtures.js';
import { tempDir } from '../../test/helpers/server.js';
import { PcmBlockTrack } from '../media/audio/pcm-blocks.js';
import { openMedia } from '../media/open-media.js';
import { describeMovie, skippedSummary } from './movie-stream.js';
import type { VodPresentation } from './types.js';

async function describeFixture(name: string): Promise<VodPresentation> {
  return describeMovie(await openMedia(await fixture(name)));
}

/** `rtpmap` text, fmtp and payload type of each streamed track. */
function formats(p: VodPresentation) {
  return p.tracks.map((t) => {
    const f = t.description.format;
    return {
      pt: f.payloadType,
      rtpmap: `${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`,
      fmtp: f.fmtp,
      kind: t.kind,
      clock: t.clockRate,
    };
  });
}

const tmp = tempDir('rivulet-describe-');
after(() => tmp.cleanup());

describe('describeMovie: more codecs', () => {
  it('H.263 in 3GP → H263-1998 (baseline), with AAC', async () => {
    const p = await describeFixture('h263-aac.3gp');
    assert.deepEqual(formats(p)[0], {
      pt: 96,
      rtpmap: 'H263-1998/90000',
      fmtp: {},
      kind: 'video',
      clock: 90000,
    });
    assert.equal(formats(p)[1].rtpmap, 'MPEG4-GENERIC/16000/1');
    assert.deepEqual([p.tracks[0].description.width, p.tracks[0].description.height], [176, 144]);
  });

  it('MPEG-4 Visual → MP4V-ES with profile-level-id and the esds VOL as config', async () => {
    const p = await describeFixture('mp4v-aac.mp4');
    const v = formats(p)[0];
    assert.equal(v.rtpmap, 'MP4V-ES/90000');
    assert.equal(v.fmtp['profile-level-id'], '1');
    assert.equal(v.fmtp.config, p.movie.tracks[0].esds!.decoderSpecificInfo.toString('hex').toUpperCase());
    assert.match(v.fmtp.config, /^000001B0/);
  });

  it('Opus in MP4 → opus/48000/2 with sprop-stereo', async () => {
    assert.deepEqual(formats(await describeFixture('opus.mp4')), [
      {
        pt: 96,
        rtpmap: 'opus/48000/2',
        fmtp: { 'sprop-stereo': '1', 'sprop-maxcapturerate': '48000' },
        kind: 'audio',
        clock: 48000,
      },
    ]);
  });

  it('MP3 files and MP3 in MP4 → MPA, static payload type 14, 90 kHz', async () => {
    for (const name of ['tone.mp3', 'mp3.mp4']) {
      assert.deepEqual(
        formats(await describeFixture(name)),
        [{ pt: 14, rtpmap: 'MPA/90000', fmtp: {}, kind: 'audio', clock: 90000 }],
        name,
      );
    }
  });

  it('uncompressed audio → L16/L24/PCMU/PCMA in ~20 ms blocks', async () => {
    const cases: [string, string, number][] = [
      ['tone-s16le.wav', 'L16/44100/2', 10],
      ['tone-s16be.aiff', 'L16/22050/1', 96],
      ['tone-mulaw.au', 'PCMU/8000/1', 0],
      ['pcm-s16be.mov', 'L16/44100/2', 10],
      ['pcm-s16le.mov', 'L16/48000/2', 96],
      ['pcm-s24le.mov', 'L24/48000/2', 96],
      ['pcm-u8.mov', 'L16/22050/1', 96],
      ['pcm-mulaw.mov', 'PCMU/8000/1', 0],
      ['pcm-alaw.mov', 'PCMA/44100/2', 96],
    ];
    for (const [name, rtpmap, pt] of cases) {
      const p = await describeFixture(name);
      const [f] = formats(p);
      assert.deepEqual([f.rtpmap, f.pt], [rtpmap, pt], name);
      const blocks = p.tracks[0].mp4;
      assert.ok(blocks instanceof PcmBlockTrack, name);
      assert.equal(blocks.framesPerBlock, Math.round(f.clock * 0.02), name);
    }
  });

  it('IMA ADPCM (QuickTime ima4, WAV) → decoded to L16 in blocks of whole ADPCM packets', async () => {
    const mov = await describeFixture('ima4.mov');
    assert.deepEqual(formats(mov)[0].rtpmap, 'L16/22050/2');
    // 22050 × 0.02 / 64 → 7 packets of 68 bytes (stereo) a block.
    assert.deepEqual([mov.tracks[0].mp4.sample(0).size, mov.tracks[0].mp4.sample(1).dts], [7 * 68, 7 * 64]);
    const wav = await describeFixture('ima-adpcm.wav');
    assert.deepEqual(formats(wav)[0].rtpmap, 'L16/16000/2');
    assert.equal(wav.movie.tracks[0].codec, 'dvi ');
  });

  it('says why float PCM is not streamed, in the words of the 415 answer', async () => {
    const p = await describeFixture('pcm-f32.mov');
    assert.equal(p.tracks.length, 0);
    assert.equal(
      skippedSummary(p.skipped),
      'track 1 (fl32): floating-point PCM has no RTP payload format (convert it to 16-bit)',
    );
  });

  it('AMR-NB and AMR-WB in a hand-made 3GP → AMR/8000/1 and AMR-WB/16000/1, octet-aligned', async () => {
    for (const wideband of [false, true]) {
      const path = join(tmp.dir, `amr-${wideband}.3gp`);
      writeFileSync(
        path,
        amr3gp(syntheticAmrFrames(100, wideband, wideband ? 8 : 7), { wideband, framesPerSample: 10 }),
      );
      const p = describeMovie(await openMedia(path));
      assert.equal(p.movie.brand, '3gp');
      assert.deepEqual(formats(p), [
        {
          pt: 96,
          rtpmap: wideband ? 'AMR-WB/16000/1' : 'AMR/8000/1',
          fmtp: { 'octet-align': '1' },
          kind: 'audio',
          clock: wideband ? 16000 : 8000,
        },
      ]);
      assert.equal(p.movie.duration, 2);
      assert.equal(p.movie.tracks[0].entryBoxes?.damr?.[8], 10, 'frames per sample from damr');
    }
  });
});
