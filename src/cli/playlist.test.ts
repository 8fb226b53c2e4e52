import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SourceControlError, type SourceInfo } from '../core/index.js';
import { playlistApiRoutes } from '../http/index.js';
import { silentLogger } from '../logging/index.js';
import { ControlSocket } from '../server/control-socket.js';
import { playlist } from './playlist.js';
import { formatSource, formatValue } from './playlist-control.js';

const root = mkdtempSync(join(tmpdir(), 'rivulet-plcli-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await playlist(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const running: SourceInfo = {
  path: 'live/tv',
  setting: 'playlist',
  origin: 'paths.live/tv.playlist',
  text: 'tv.playlist',
  onDemand: false,
  state: 'running',
  since: '2026-01-01T00:00:00.000Z',
  readers: 2,
  status: { current: { file: 'a.mp4', since: '2026-01-01T00:00:05.000Z' }, upcoming: ['b.mp4', 'c.mp4'] },
};

describe('rivulet playlist start|stop|status', () => {
  const socket = join(root, 'ctl', 'c.sock');
  const set = ['--set', `control.socket=${socket}`];
  let ctl: ControlSocket | undefined;
  const list: SourceInfo[] = [running, { ...running, path: 'radio', origin: 'playlists.folder', text: '/pl/radio.playlist', state: 'stopped', readers: 0, status: undefined, since: undefined }];
  before(async () => {
    ctl = await ControlSocket.open(
      socket,
      playlistApiRoutes({
        sources: () => list,
        startSource: (key) => (key === 'radio' ? Promise.resolve({ ...list[1], state: 'running' }) : Promise.reject(new SourceControlError('conflict', `'${key}' is already running`))),
        stopSource: (key) => ({ ...list.find((s) => s.path === key)!, state: 'stopped', status: undefined }),
      }),
      silentLogger(),
    );
  });
  after(() => ctl?.close());

  it('prints each playlist with its state and what it plays', async () => {
    const r = await cli('status', ...set);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      [
        'live/tv: running, 2 viewers, since 2026-01-01T00:00:00.000Z',
        '  paths.live/tv.playlist: tv.playlist',
        '  current: a.mp4 (since 2026-01-01T00:00:05.000Z)',
        '  upcoming: b.mp4, c.mp4',
        'radio: stopped by the operator (rivulet playlist start starts it)',
        '  playlists.folder: /pl/radio.playlist',
        '',
      ].join('\n'),
    );
    const one = await cli('status', 'live/tv', '--json', ...set);
    assert.equal(one.code, 0);
    assert.deepEqual(JSON.parse(one.out), running);
  });

  it("starts and stops, and exits 1 with the server's reason when it refuses", async () => {
    const start = await cli('start', 'radio', ...set);
    assert.deepEqual([start.code, start.out.split('\n')[0]], [0, 'started radio']);
    const stop = await cli('stop', 'live/tv', ...set);
    assert.deepEqual([stop.code, stop.out.split('\n').slice(0, 2)], [0, ['stopped live/tv', 'live/tv: stopped by the operator (rivulet playlist start starts it)']]);
    const again = await cli('start', 'live/tv', ...set);
    assert.deepEqual(again, { code: 1, out: '', err: "rivulet: 'live/tv' is already running\n" });
    const unknown = await cli('stop', 'nope', ...set);
    assert.deepEqual(unknown, { code: 1, out: '', err: "rivulet: no playlist is configured at 'nope'\n" });
  });

  it('says so when no server answers, or the config turns the socket off', async () => {
    const gone = join(root, 'none.sock');
    assert.deepEqual(await cli('status', '--set', `control.socket=${gone}`), {
      code: 1,
      out: '',
      err: `rivulet: no Rivulet server answers on ${gone} (is it running with this config?)\n`,
    });
    const off = await cli('stop', 'tv', '--set', 'control.socket=');
    assert.equal(off.code, 1);
    assert.match(off.err, /control\.socket is "" in this config/);
  });

  it('exits 2 with the usage for a missing name or an unknown verb', async () => {
    for (const argv of [['start'], ['stop', 'a', 'b'], ['check'], ['list'], []]) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.out, /^Usage: rivulet playlist check FILE\|NAME/);
    }
  });
});

describe('rivulet playlist check NAME', () => {
  const media = join(root, 'media');
  const folder = join(root, 'playlists');
  let config: string;
  before(() => {
    mkdirSync(media, { recursive: true });
    copyFileSync(new URL('../../media/sample.mp4', import.meta.url), join(media, 'sample.mp4'));
    mkdirSync(join(folder, 'news'), { recursive: true });
    writeFileSync(join(folder, 'news', 'news.playlist'), `*PLAY-LIST*\n${join(media, 'sample.mp4')}\n`);
    writeFileSync(join(folder, 'news', 'news.config'), 'destination_sdp_file live/news.sdp\nplay_mode sequential\n');
    config = join(root, 'rivulet.yaml');
    writeFileSync(
      config,
      [
        'media:',
        `  dir: ${media}`,
        'playlists:',
        `  folder: ${folder}`,
        'paths:',
        '  station:',
        '    playlist:',
        '      items: [sample.mp4, { file: gone.mp4, weight: 3 }]',
        '      mode: weighted_random',
        '      recent: 1',
      ].join('\n'),
    );
  });

  it('checks a native list of the config as it checks a DSS one, its mode and no-repeat window too', async () => {
    const r = await cli('check', 'station', '--config', config);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^Playlist: paths\.station\.playlist \(mode weighted_random, recent 1\)\n/);
    assert.match(r.out, / 1 {2}sample\.mp4 +10 {2}yes +12\.0\d\d s {2}H264\/90000 640x360, MPEG4-GENERIC\/44100\/2 +the reference/);
    assert.match(r.out, / 2 {2}gone\.mp4 +3 {2}no .*would be skipped: missing \(no such file\)/);
    assert.match(r.out, /1 of 2 entries play: 12\.0\d\d s in one pass through the list\nthe broadcast would not start: recent_movies_list_size is 1 but the playlist has 1 different item/);
  });

  it('checks the playlist of playlists.folder broadcast at NAME (its destination_sdp_file)', async () => {
    const r = await cli('check', 'live/news', '--config', config);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Config: +.*news\.config \(play_mode sequential\)\nPlaylist: .*news\/news\.playlist\n/);
    assert.match(r.out, /1 of 1 entry plays/);
  });

  it('exits 1 as the server refuses it when its sdp_reference_movie cannot play', async () => {
    const dss = join(root, 'dss');
    mkdirSync(dss, { recursive: true });
    writeFileSync(join(dss, 'ref.playlist'), `*PLAY-LIST*\n${join(media, 'sample.mp4')}\n`);
    writeFileSync(join(dss, 'ref.config'), 'play_mode sequential\nsdp_reference_movie gone.mov\n');
    const r = await cli('check', join(dss, 'ref.playlist'));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /1 of 1 entry plays: 12\.0\d\d s in one pass through the list\n/);
    assert.ok(r.out.endsWith(`the broadcast would not start: sdp_reference_movie ${join(dss, 'gone.mov')} cannot play (missing (no such file))\n`), r.out);
    assert.doesNotMatch(r.out, /the reference/, 'no entry stands in for it');
  });

  it('exits 1 naming what it looked for when the config has no such playlist', async () => {
    const r = await cli('check', 'nope', '--config', config);
    assert.equal(r.code, 1);
    assert.equal(r.out, `error: 'nope' is no file, and the config has no playlist at that path (no paths.nope.playlist, none in playlists.folder ${folder})\nnothing can play\n`);
  });
});

describe('formatValue', () => {
  it('prints what a source reports on one line', () => {
    assert.equal(formatValue('a.mp4'), 'a.mp4');
    assert.equal(formatValue([]), '(none)');
    assert.equal(formatValue(Array.from({ length: 12 }, (_, i) => i)), '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 … (2 more)');
    assert.equal(formatValue([{ file: 'a.mp4' }, { file: 'b.mp4', weight: 5 }]), 'a.mp4, b.mp4 (weight 5)');
    assert.equal(formatValue({ mode: 'weighted_random', history: ['a', 'b'] }), 'mode weighted_random, history ["a","b"]');
    assert.equal(formatValue(3), '3');
    assert.equal(formatValue(null), '-');
  });

  it('says when a waiting source starts', () => {
    const s: SourceInfo = { ...running, state: 'waiting', waiting: 'schedule', nextStart: '2030-01-01T00:00:00.000Z', readers: 0, status: undefined };
    assert.equal(formatSource(s).split('\n')[0], 'live/tv: waiting for its schedule: starts at 2030-01-01T00:00:00.000Z');
  });
});
