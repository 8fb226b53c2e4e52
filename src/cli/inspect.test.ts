import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../../test/helpers/fixtures.js';
import { tempDir } from '../../test/helpers/server.js';
import { inspect, inspectFile, type FileReport } from './inspect.js';

async function runInspect(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await inspect(args, (s) => (out += s));
  return { code, out };
}

describe('rivulet inspect', () => {
  const t = tempDir('rivulet-inspect-');
  let good: string;
  let bad: string;

  before(async () => {
    good = join(t.dir, 'good');
    bad = join(t.dir, 'bad');
    mkdirSync(join(good, 'sub'), { recursive: true });
    mkdirSync(bad);
    copyFileSync(await fixture('h264-aac-faststart.mp4'), join(good, 'movie.mp4'));
    copyFileSync(await fixture('tone.mp3'), join(good, 'sub', 'song.mp3'));
    copyFileSync(await fixture('tone-mulaw.au'), join(good, 'sub', 'voice.au'));
    writeFileSync(join(good, 'notes.txt'), 'not media');
    writeFileSync(join(good, '.hidden.mp4'), 'ignored');
    copyFileSync(await fixture('pcm-f32.mov'), join(bad, 'float.mov'));
    copyFileSync(await fixture('h263-aac.3gp'), join(bad, 'phone.3gp'));
    writeFileSync(join(bad, 'broken.mp4'), Buffer.from('\0\0\0\x14ftypisom\0\0\0\0isom'));
  });
  after(() => t.cleanup());

  it('reports container, tracks, what streams, and exits 0 when everything can be streamed', async () => {
    const { code, out } = await runInspect([good]);
    assert.equal(code, 0, out);
    const paths = out.split('\n').filter((l) => l.startsWith(t.dir));
    assert.deepEqual(
      paths,
      [join(good, 'movie.mp4'), join(good, 'sub', 'song.mp3'), join(good, 'sub', 'voice.au')],
      'media files only, sorted, recursively',
    );
    assert.match(out, /container: mp4, 10\.0\d\d s, \d+ kbit\/s, not hinted/);
    assert.match(out, /track 1: vide 'avc1' 320x240, 10\.000 s/);
    assert.match(
      out,
      /streams track 1 as H264\/90000\n {2}streams track 2 as MPEG4-GENERIC\/44100\/2\n {2}can stream: yes/,
    );
    assert.match(out, /container: mp3, 6\.0\d\d s, 1\d\d kbit\/s[\s\S]*?streams track 1 as MPA\/90000/);
    assert.match(out, /streams track 1 as PCMU\/8000\/1/);
    assert.match(out, /3 files inspected; all can be streamed\n$/);
  });

  it('says why a file cannot be streamed and exits 1', async () => {
    const { code, out } = await runInspect([bad]);
    assert.equal(code, 1);
    assert.match(
      out,
      /float\.mov\n {2}container: mov, 2\.000 s[^\n]*\n {2}track 1: soun 'fl32' 44100 Hz, 1 ch[^\n]*\n {2}leaves out track 1 \(fl32\): floating-point PCM has no RTP payload format \(convert it to 16-bit\)\n {2}can stream: no — no playable track: track 1 \(fl32\): floating-point PCM/,
    );
    assert.match(out, /broken\.mp4\n {2}can stream: no — not a streamable movie: no moov box/);
    assert.match(out, /phone\.3gp[\s\S]*?H263-1998\/90000[\s\S]*?can stream: yes/);
  });

  it('prints one JSON object per file with --json, including hinting', async () => {
    const hinted = join(t.dir, 'hinted.mp4');
    copyFileSync(await fixture('hinted-h264-aac.mp4'), hinted);
    const { code, out } = await runInspect(['--json', hinted, join(bad, 'float.mov')]);
    assert.equal(code, 1);
    const [h, f] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FileReport);
    assert.equal(h.hinted, true);
    assert.equal(h.playable, true);
    assert.ok(h.tracks.some((x) => x.handler === 'hint'));
    assert.deepEqual(
      [f.container, f.playable, f.skipped],
      [
        'mov',
        false,
        [
          {
            track: 1,
            codec: 'fl32',
            reason: 'floating-point PCM has no RTP payload format (convert it to 16-bit)',
          },
        ],
      ],
    );
  });

  it('reports a missing path and an explicitly named non-media file', async () => {
    const { code, out } = await runInspect([join(t.dir, 'nope.mp4'), join(good, 'notes.txt')]);
    assert.equal(code, 1);
    assert.match(out, /nope\.mp4\n {2}can stream: no — no such file or folder/);
    assert.match(
      out,
      /notes\.txt\n {2}can stream: no — not a streamable movie: not a media file Rivulet reads \(MP4\/MOV\/3GP, MP3, WAV, AIFF, AU\): /,
    );
  });

  it('prints usage without paths (exit 2) and with --help (exit 0)', async () => {
    assert.equal((await runInspect([])).code, 2);
    const help = await runInspect(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: rivulet inspect/);
  });

  it('inspectFile reports duration and bitrate of an AIFF', async () => {
    const r = await inspectFile(await fixture('tone-s16be.aiff'));
    assert.equal(r.container, 'aiff');
    assert.equal(r.duration, 6);
    assert.deepEqual(r.streams, [{ track: 1, rtpmap: 'L16/22050/1', viaHintTrack: false }]);
    assert.ok(Math.abs(r.tracks[0].bitrateKbps! - 352.8) < 0.1);
  });
});
