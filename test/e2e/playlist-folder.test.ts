/** `playlists.folder`: a folder of DSS playlists as the QTSS admin kept them, broadcast by
 * `rivulet serve --config` with no `paths:` entry: `chan/chan.playlist` with its `chan.config`
 * (DSS's layout, mounted where its destination_sdp_file says) and a flat `other.playlist`.
 * ffprobe finds both with their codecs; `rivulet playlist check NAME` and `status` know them;
 * a playlist added to the folder broadcasts after SIGHUP. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeStatus, rivulet, stopServe, waitDescribe } from '../helpers/cli.js';
import { makeClip } from '../helpers/media.js';
import { ffprobe } from '../helpers/run.js';
import { serveCli, tempDir } from '../helpers/server.js';

describe('playlists.folder (DSS playlists broadcast from a folder)', () => {
  let scratch: { dir: string; cleanup: () => void };
  let config: string;
  let folder: string;
  let server: ReturnType<typeof serveCli>;
  let port: number;

  before(async () => {
    scratch = tempDir('rivulet-plfolder-');
    const media = join(scratch.dir, 'media');
    folder = join(scratch.dir, 'Playlists');
    mkdirSync(join(folder, 'chan'), { recursive: true });
    mkdirSync(media);
    await Promise.all([
      makeClip(media, { name: 'one.mp4', video: 'testsrc', hz: 440, seconds: 2 }),
      makeClip(media, { name: 'two.mp4', video: 'testsrc2', hz: 660, seconds: 2 }),
      makeClip(media, { name: 'hevc.mp4', video: 'mandelbrot', hz: 550, seconds: 2, codec: 'h265' }),
    ]);
    // As the QTSS web admin wrote them: absolute movie paths, a config with DSS's keys.
    writeFileSync(join(folder, 'chan', 'chan.playlist'), ['*PLAY-LIST*', '#', '# Created by QTSS Admin CGI Server', '#', `"${media}/one.mp4" 10`, `"${media}/two.mp4" 5`, ''].join('\n'));
    writeFileSync(
      join(folder, 'chan', 'chan.config'),
      [
        `playlist_file "${join(folder, 'chan', 'chan.playlist')}"`,
        'play_mode sequential_looped',
        'recent_movies_list_size 0',
        'destination_ip_address 127.0.0.1',
        'destination_base_port 5004',
        'destination_sdp_file "tv/chan.sdp"',
        'broadcast_SDP_is_dynamic enabled',
        'logging enabled',
        '',
      ].join('\n'),
    );
    // Relative entries are relative to the playlist's folder.
    writeFileSync(join(folder, 'other.playlist'), '*PLAY-LIST*\n../media/hevc.mp4\n');
    config = join(scratch.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      ['media:', `  dir: ${media}`, 'playlists:', `  folder: ${folder}`, 'state:', `  folder: ${join(scratch.dir, 'state')}`, 'logs:', `  folder: ${join(scratch.dir, 'logs')}`, ''].join('\n'),
    );
    server = serveCli(['--config', config, '--rtsp-port', '0', '--bind', '127.0.0.1']);
    port = await server.port;
  });
  after(async () => {
    if (server) await stopServe(server.child);
    scratch?.cleanup();
  });

  it('broadcasts the DSS layout at its destination_sdp_file and the flat playlist at its name, each with its codecs', async () => {
    await waitDescribe(port, 'tv/chan');
    await waitDescribe(port, 'other');
    const chan = await ffprobe(`rtsp://127.0.0.1:${port}/tv/chan`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(chan.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(chan.streams.find((s) => s.codec_type === 'video')?.width, 320);
    const other = await ffprobe(`rtsp://127.0.0.1:${port}/other.sdp`, ['-rtsp_transport', 'udp']);
    assert.deepEqual(other.streams.map((s) => s.codec_name).sort(), ['aac', 'hevc']);
    assert.equal(await describeStatus(port, 'chan'), 404, 'the DSS playlist is at its mount point, not its name');
  });

  it('rivulet playlist check NAME and status know the folder playlists', async () => {
    const chan = await rivulet('playlist', 'check', 'tv/chan', '--config', config);
    assert.equal(chan.code, 0, chan.stdout + chan.stderr);
    assert.match(chan.stdout, /^Config: +.*chan\/chan\.config \(play_mode sequential_looped\)$/m);
    assert.match(chan.stdout, /^ +1 {2}.*one\.mp4 +10 {2}yes +2\.0\d\d s {2}H264\/90000 320x240, MPEG4-GENERIC\/44100\/2 +the reference/m);
    assert.match(chan.stdout, /^ +2 {2}.*two\.mp4 +5 {2}yes /m);
    assert.match(chan.stdout, /2 of 2 entries play/);
    const other = await rivulet('playlist', 'check', 'other', '--config', config);
    assert.equal(other.code, 0, other.stdout + other.stderr);
    assert.match(other.stdout, /H265\/90000 320x240/);

    const status = await rivulet('playlist', 'status', '--config', config);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^other: running.*\n {2}playlists\.folder: .*\/Playlists\/other\.playlist$/m);
    assert.match(status.stdout, /^tv\/chan: running.*\n {2}playlists\.folder: .*\/Playlists\/chan\/chan\.playlist$/m);
  });

  it('a playlist added to the folder broadcasts after SIGHUP', async () => {
    assert.equal(await describeStatus(port, 'late'), 404);
    mkdirSync(join(folder, 'late'));
    writeFileSync(join(folder, 'late', 'late.playlist'), '*PLAY-LIST*\n../../media/two.mp4\n');
    server.child.kill('SIGHUP');
    await waitDescribe(port, 'late');
    const late = await ffprobe(`rtsp://127.0.0.1:${port}/late`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(late.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.match(server.out(), /configured source .*path=late .*from=playlists\.folder/);
  });
});
