/** `rivulet playlist check` as a user runs it on DSS-style playlist and config files: a child
 * process, what it prints and its exit status. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { mediaDirWith } from '../helpers/media.js';
import { run } from '../helpers/run.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');
const rivulet = (...args: string[]) => run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeoutMs: 60_000 });

describe('rivulet playlist check (command line)', () => {
  let media: { dir: string; cleanup: () => void };
  before(async () => {
    // Two H.264 320x240 + AAC 44.1 kHz stereo clips, MPEG-4 Visual + the same AAC ("another
    // codec"), and a file with no playable track.
    media = await mediaDirWith(['h264-aac-faststart.mp4', 'h264-aac-moovend.mp4', 'mp4v-aac.mp4', 'pcm-f32.mov']);
    // H.264 at another frame size with the same audio: no fixture has it, so it is made here.
    const small = await run('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc=size=176x144:rate=25:duration=2',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2',
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-ac', '2', join(media.dir, 'small clip.mp4'),
    ]);
    assert.equal(small.code, 0, small.stderr);
    // As the DSS admin wrote them: a quoted name with a space, weights, comments; a config with
    // keys Rivulet ignores.
    writeFileSync(
      join(media.dir, 'chan.playlist'),
      [
        '*PLAY-LIST*',
        '#',
        '# Created by QTSS Admin CGI Server',
        '#',
        'h264-aac-faststart.mp4 10',
        'h264-aac-moovend.mp4 5',
        '"small clip.mp4" 10',
        'mp4v-aac.mp4 3',
        'gone.mp4',
        'unquoted name.mp4 4',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(media.dir, 'chan.config'),
      [
        'playlist_file chan.playlist',
        'play_mode weighted_random',
        'recent_movies_list_size 2',
        'destination_ip_address 127.0.0.1',
        'destination_base_port 0',
        'logging enabled',
        'sdp_file chan.sdp',
        'destination_sdp_file chan.sdp',
        'broadcast_SDP_is_dynamic enabled',
        '',
      ].join('\n'),
    );
    writeFileSync(join(media.dir, 'dead.playlist'), '*PLAY-LIST*\ngone.mp4\npcm-f32.mov\n');
  });
  after(() => media.cleanup());

  it('says what plays, what would be skipped and why, and exits 0', async () => {
    const r = await rivulet('playlist', 'check', join(media.dir, 'chan.playlist'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = r.stdout;
    assert.match(out, /Config: +.*chan\.config \(play_mode weighted_random, recent_movies_list_size 2\)/);
    assert.match(out, /warning: .*chan\.config: DSS keywords Rivulet has no use for, ignored: destination_ip_address \(line 4\), destination_base_port \(line 5\), sdp_file \(line 7\), broadcast_SDP_is_dynamic \(line 9\)/);
    assert.match(out, /warning: .*chan\.playlist:10: line skipped: 'name\.mp4' is not a weight from 1 to 10 \(a path with spaces must be in quotes\)/);
    const row = (n: number) => out.split('\n').find((l) => new RegExp(`^ +${n}  `).test(l)) ?? '';
    assert.match(out, /# {2}entry +weight {2}plays {2}duration {2}codecs +notes/);
    assert.match(row(1), /h264-aac-faststart\.mp4 +10 {2}yes +10\.000 s {2}H264\/90000 320x240, MPEG4-GENERIC\/44100\/2 +the reference/);
    assert.match(row(2), /h264-aac-moovend\.mp4 +5 {2}yes +10\.000 s {2}H264\/90000 320x240, MPEG4-GENERIC\/44100\/2$/);
    assert.match(row(3), /small clip\.mp4 +10 {2}yes +2\.0\d\d s {2}H264\/90000 176x144, .*frame size 176x144 where the reference has 320x240: plays, its parameter sets sent in band at the switch/);
    assert.match(row(4), /mp4v-aac\.mp4 +3 {2}no +6\.000 s {2}MP4V-ES\/90000 320x240, .*would be skipped: its tracks \(video MP4V-ES\/90000, audio MPEG4-GENERIC\/44100\/2\) do not match the channel's \(video H264\/90000, audio MPEG4-GENERIC\/44100\/2\)/);
    assert.match(row(5), /gone\.mp4 +10 {2}no +- {2}- +would be skipped: missing \(no such file\)/);
    assert.equal(row(6), '');
    assert.match(out, /3 of 5 entries play: 22\.0\d\d s in one pass through the list\n$/);
  });

  it('takes the .config too, and exits 1 when the no-repeat window leaves nothing to pick', async () => {
    writeFileSync(join(media.dir, 'tight.config'), 'playlist_file chan.playlist\nplay_mode weighted_random\nrecent_movies_list_size 3\n');
    const r = await rivulet('playlist', 'check', join(media.dir, 'tight.config'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /3 of 5 entries play/);
    assert.match(r.stdout, /the broadcast would not start: recent_movies_list_size is 3 but the playlist has 3 different items/);
  });

  it('exits 1 when nothing in the list can play, saying why for each entry', async () => {
    const r = await rivulet('playlist', 'check', join(media.dir, 'dead.playlist'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /gone\.mp4 .*would be skipped: missing \(no such file\)/);
    assert.match(r.stdout, /pcm-f32\.mov .*would be skipped: no playable track: track 1 \(fl32\): floating-point PCM has no RTP payload format/);
    assert.match(r.stdout, /0 of 2 entries play: 0\.000 s in one pass through the list\nnothing can play\n$/);
  });

  it('exits 1 for a file that is not a playlist, and 2 for a usage error', async () => {
    const notList = await rivulet('playlist', 'check', join(media.dir, 'h264-aac-faststart.mp4'));
    assert.equal(notList.code, 1);
    assert.match(notList.stdout, /error: .*h264-aac-faststart\.mp4 is not a playlist: its first line must be \*PLAY-LIST\*/);
    const usage = await rivulet('playlist', 'list');
    assert.equal(usage.code, 2);
    assert.match(usage.stdout, /Usage: rivulet playlist check FILE/);
    const help = await rivulet('--help');
    assert.match(help.stdout, /playlist check a DSS playlist before broadcasting it/);
  });
});
