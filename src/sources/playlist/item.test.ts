import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { audioShape, mismatch, nowPlaying, openItem, type Opened } from './item.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-playlist-item-')));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A 0.3 s tone made by ffmpeg with `args` (codec, rate, channels, tags) into `name`. */
async function tone(name: string, args: string[]): Promise<string> {
  const out = join(dir, name);
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=f=440:d=0.3', ...args, out]);
  return out;
}

const MP3 = ['-c:a', 'libmp3lame', '-b:a', '64k'];
const open = async (file: string): Promise<Opened> => {
  const o = await openItem(file);
  if (typeof o === 'string') assert.fail(`${file} does not open: ${o}`);
  return o;
};

describe('playlist items: now playing', () => {
  it('says Artist - Title, the title alone, else the file name without its extension', () => {
    assert.equal(nowPlaying('/m/a.mp3', { title: 'Song', artist: 'Band', album: 'LP' }), 'Band - Song');
    assert.equal(nowPlaying('/m/a.mp3', { title: 'Song' }), 'Song');
    assert.equal(nowPlaying('/m/Some Tune.v2.mp3', {}), 'Some Tune.v2');
    assert.equal(nowPlaying('/m/noext', { artist: 'Band' }), 'Band - noext');
  });

  it("opens an item with its tags' title", async () => {
    const [tagged, bare] = await Promise.all([
      tone('tagged.mp3', [...MP3, '-metadata', 'title=Sine', '-metadata', 'artist=Tones']),
      tone('bare tone.mp3', [...MP3, '-map_metadata', '-1', '-id3v2_version', '0']),
    ]);
    assert.equal((await open(tagged)).title, 'Tones - Sine');
    assert.equal((await open(bare)).title, 'bare tone');
  });
});

describe('playlist items: the same-codecs rule for MPEG audio and AAC', () => {
  const files: Record<string, string> = {};
  before(async () => {
    const made = await Promise.all([
      tone('s44.mp3', [...MP3, '-ar', '44100', '-ac', '2']),
      tone('s44b.mp3', [...MP3, '-ar', '44100', '-ac', '2', '-metadata', 'title=Other']),
      tone('s22.mp3', [...MP3, '-ar', '22050', '-ac', '2']),
      tone('m44.mp3', [...MP3, '-ar', '44100', '-ac', '1']),
      tone('s48-in.mp4', [...MP3, '-ar', '48000', '-ac', '2']),
      tone('a44.m4a', ['-c:a', 'aac', '-ar', '44100', '-ac', '2']),
      tone('a22.m4a', ['-c:a', 'aac', '-ar', '22050', '-ac', '2']),
    ]);
    for (const f of made) files[f.slice(dir.length + 1)] = f;
  });

  it('reads the rate and channels of an MP3 from its frames, and of MP3 in MP4 from its sample entry', async () => {
    assert.equal(audioShape((await open(files['s44.mp3'])).tracks[0]), '44100 Hz stereo');
    assert.equal(audioShape((await open(files['m44.mp3'])).tracks[0]), '44100 Hz mono');
    const inMp4 = (await open(files['s48-in.mp4'])).tracks[0];
    assert.equal(inMp4.description.format.encodingName, 'MPA');
    assert.equal(audioShape(inMp4), '48000 Hz stereo');
    assert.equal(audioShape((await open(files['a44.m4a'])).tracks[0]), undefined, 'AAC has both in its rtpmap');
  });

  it('lets an MP3 of the same rate and channels follow, and names both rates or channel counts otherwise', async () => {
    const ref = (await open(files['s44.mp3'])).tracks;
    assert.equal(mismatch((await open(files['s44b.mp3'])).tracks, ref), undefined);
    const rate = mismatch((await open(files['s22.mp3'])).tracks, ref);
    assert.match(rate ?? '', /22050 Hz stereo where the channel's is 44100 Hz stereo/);
    const mono = mismatch((await open(files['m44.mp3'])).tracks, ref);
    assert.match(mono ?? '', /44100 Hz mono where the channel's is 44100 Hz stereo/);
    assert.match(mismatch((await open(files['s48-in.mp4'])).tracks, ref) ?? '', /48000 Hz stereo .* 44100 Hz stereo/);
  });

  it('skips an AAC item of another rate, naming both', async () => {
    const ref = (await open(files['a44.m4a'])).tracks;
    const why = mismatch((await open(files['a22.m4a'])).tracks, ref);
    assert.match(why ?? '', /MPEG4-GENERIC\/22050\/2.*MPEG4-GENERIC\/44100\/2/);
  });
});
