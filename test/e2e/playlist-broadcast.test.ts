/** What a playlist channel (`paths.<name>.playlist`) broadcasts, as real clients and the server's
 * log show it: items of another codec (MPEG-4 Part 2, H.265) and a missing file are skipped with
 * one log line each while the channel goes on; an item of another frame size plays at its own
 * size; weighted_random never repeats an item inside its window and favours the heavy items;
 * DSS `.playlist` and `.config` files written as the QTSS admin wrote them play unchanged.
 * ffmpeg decodes each channel and every picture is checked against the clips' own. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertInOrder,
  assertWatched,
  clipSet,
  FrameCatalog,
  makeClip,
  watchChannel,
  type ClipSpec,
} from '../helpers/media.js';
import { until } from '../helpers/rtsp-client.js';
import { ffprobe } from '../helpers/run.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

/** The station's playable items, 2 s each, and what it skips. */
const STATION = clipSet('item', 3, 2);
const OTHER_CODECS: ClipSpec[] = [
  { name: 'mpeg4.mp4', video: 'testsrc', hz: 550, seconds: 2, codec: 'mpeg4' },
  { name: 'hevc.mp4', video: 'testsrc', hz: 550, seconds: 2, codec: 'h265' },
];
const LARGE: ClipSpec = { name: 'large.mp4', video: 'testsrc2', hz: 660, seconds: 2, size: '640x360' };
/** Four 1 s items for weighted_random, two of them heavy: with `recent: 2` each pick is one of
 * the two items not in the last two picks, so a light one comes whenever both heavy ones just
 * played, and the heavy ones take about two picks in three. */
const RANDOM = clipSet('pick', 4, 1, 'negate');
const WEIGHTS = [100, 100, 1, 1];
const RECENT = 2;

/** Base names of the files the server logged playing at `path`, in order. */
function played(srv: TestServer, path: string): string[] {
  return logged(srv, 'playlist item playing', path).map((f) => basename(f.file ?? ''));
}

/** The fields of the log lines with message `msg` at `path` (`key=value`, or `key="json"`). */
function logged(srv: TestServer, msg: string, path: string): Record<string, string>[] {
  return srv.logs
    .filter((l) => l.includes(` ${msg} `))
    .map((l) => Object.fromEntries([...l.matchAll(/ (\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)].map(([, k, v]) => [k, v.startsWith('"') ? (JSON.parse(v) as string) : v])))
    .filter((f) => f.path === path);
}

describe('playlist broadcast (paths.<name>.playlist)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let catalog: FrameCatalog;
  /** DSS's layout: a folder of its own per playlist, named with a space as the admin allowed. */
  let dss: string;

  before(async () => {
    media = tempDir('rivulet-playlist-');
    await Promise.all([...STATION, ...OTHER_CODECS, LARGE, ...RANDOM].map((c) => makeClip(media.dir, c)));
    catalog = await FrameCatalog.of('ffmpeg', Object.fromEntries([...STATION, LARGE, ...RANDOM].map((c) => [c.name, join(media.dir, c.name)])));
    dss = join(media.dir, 'Late Night');
    mkdirSync(join(dss, 'extras'), { recursive: true });
    copyFileSync(join(media.dir, 'pick1.mp4'), join(dss, 'clip one.mp4'));
    copyFileSync(join(media.dir, 'pick2.mp4'), join(dss, 'extras', 'pick2.mp4'));
    copyFileSync(join(media.dir, 'pick3.mp4'), join(dss, 'extras', 'pick3.mp4'));
    copyFileSync(join(media.dir, 'pick4.mp4'), join(dss, 'four four.mp4'));
    // As the QTSS admin wrote them: its header, an absolute quoted path, weights; then by hand a
    // folder entry and an include, which itself names a file with a space.
    writeFileSync(
      join(dss, 'Late Night.playlist'),
      ['*PLAY-LIST*', '#', '# Created by QTSS Admin CGI Server', '#', `"${join(dss, 'clip one.mp4')}" 10`, 'extras 5', '+ more.playlist', ''].join('\n'),
    );
    writeFileSync(join(dss, 'more.playlist'), ['*PLAY-LIST*', '"four four.mp4" 3', ''].join('\n'));
    // With four files a window of three leaves one choice: every four picks play all four.
    writeFileSync(
      join(dss, 'Late Night.config'),
      [
        '# Created by QTSS Admin CGI Server',
        `playlist_file "${join(dss, 'Late Night.playlist')}"`,
        'play_mode weighted_random',
        'recent_movies_list_size 3',
        `sdp_file "${join(dss, 'Late Night.sdp')}"`,
        'destination_sdp_file "late_night.sdp"',
        'destination_ip_address 127.0.0.1',
        'destination_base_port 5004',
        'max_upcoming_list_size 7',
        'logging enabled',
        `log_file "${join(dss, 'Late Night.log')}"`,
        '#broadcast_name "Late Night"',
        'broadcast_SDP_is_dynamic enabled',
        '',
      ].join('\n'),
    );
    const config = join(media.dir, 'rivulet.yaml');
    const names = (c: ClipSpec[]) => c.map((i) => i.name);
    const [one, two, three] = names(STATION);
    writeFileSync(
      config,
      [
        'paths:',
        '  station:',
        '    playlist:',
        `      items: [${one}, ${OTHER_CODECS[0].name}, ${two}, gone.mp4, ${OTHER_CODECS[1].name}, { file: ${three}, weight: 10 }]`,
        '      mode: sequential_looped',
        '  sizes:',
        '    playlist:',
        `      items: [${one}, ${LARGE.name}]`,
        '  random:',
        '    playlist:',
        `      items: [${RANDOM.map((c, i) => `{ file: ${c.name}, weight: ${WEIGHTS[i]} }`).join(', ')}]`,
        '      mode: weighted_random',
        `      recent: ${RECENT}`,
        '  late-night:',
        '    playlist: Late Night/Late Night.playlist',
      ].join('\n'),
    );
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  it('skips items of another codec and a missing file, one log line each, and goes on', async () => {
    const w = await watchChannel(srv.url('station'), 'ffmpeg', 'tcp', 8);
    assertInOrder(assertWatched(w, catalog, 'station', 3), STATION.map((c) => c.name), 'station');
    // Once the list has gone round twice, each bad item was tried twice and reported once.
    const last = STATION[2].name;
    assert.ok(await until(() => played(srv, 'station').filter((f) => f === last).length >= 2, 15_000), `the list went round: ${played(srv, 'station').join(', ')}`);
    const skipped = logged(srv, 'playlist item skipped', 'station');
    const reason = (file: string) => skipped.filter((f) => basename(f.file ?? '') === file).map((f) => f.reason);
    assert.equal(reason(OTHER_CODECS[0].name).length, 1, JSON.stringify(skipped));
    assert.match(reason(OTHER_CODECS[0].name)[0], /video MP4V-ES\/90000.* do not match the channel's \(video H264\/90000/);
    assert.equal(reason(OTHER_CODECS[1].name).length, 1, JSON.stringify(skipped));
    assert.match(reason(OTHER_CODECS[1].name)[0], /video H265\/90000.* do not match the channel's \(video H264\/90000/);
    assert.deepEqual(reason('gone.mp4'), ['missing (no such file)']);
    assert.equal(skipped.length, 3, JSON.stringify(skipped));
  });

  it('plays an item of another frame size, decoded at its own size', async () => {
    // 2 s items: 5 s watched crosses at least two changes (320x240 → 640x360 → 320x240). Each
    // picture equals the file's own, so the large item is decoded whole at 640x360.
    const w = await watchChannel(srv.url('sizes'), 'ffmpeg', 'tcp', 5);
    assertInOrder(assertWatched(w, catalog, 'sizes', 2), [STATION[0].name, LARGE.name], 'sizes');
    const size = (item: string) => new Set(catalog.locate(w.video).located.filter((f) => f.item === item).map((f) => f.size));
    assert.deepEqual([...size(STATION[0].name)], ['320x240']);
    assert.deepEqual([...size(LARGE.name)], ['640x360']);
  });

  it('weighted_random: never repeats within the window, favours heavy items, and viewers see what the log says', async () => {
    // 13 s of 1 s items: at least twelve changes.
    const w = await watchChannel(srv.url('random'), 'ffmpeg', 'tcp', 13);
    const seen = assertWatched(w, catalog, 'random', 12).map((r) => r.item);
    assert.ok(await until(() => played(srv, 'random').length >= 16, 20_000), 'sixteen picks logged');
    const picks = played(srv, 'random');
    for (const [i, p] of picks.entries()) {
      assert.ok(!picks.slice(Math.max(0, i - RECENT), i).includes(p), `pick ${i} (${p}) repeats within the last ${RECENT}: ${picks.join(', ')}`);
    }
    const at = picks.findIndex((_, k) => seen.every((s, i) => picks[k + i] === s));
    assert.ok(at >= 0, `the viewer saw the items in the order logged: saw ${seen.join(', ')}; logged ${picks.join(', ')}`);
    // Loosely: the expected share is about 2/3; uniform picks would give 1/2.
    const heavy = picks.filter((p) => p === RANDOM[0].name || p === RANDOM[1].name).length;
    assert.ok(heavy > picks.length / 2, `heavy items played ${heavy} of ${picks.length} times: ${picks.join(', ')}`);
  });

  it('plays DSS .playlist and .config files as written, naming the keys it does not use once', async () => {
    const probe = await ffprobe(srv.url('late-night'), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(
      probe.streams.map((s) => [s.codec_name, s.width ?? s.sample_rate]),
      [['h264', 320], ['aac', '44100']],
    );
    assert.ok(await until(() => played(srv, 'late-night').length >= 8, 20_000), 'eight picks logged');
    const picks = played(srv, 'late-night');
    // The quoted path with spaces, the folder's two files and the included list's file.
    assert.deepEqual(new Set(picks.slice(-4)), new Set(['clip one.mp4', 'pick2.mp4', 'pick3.mp4', 'four four.mp4']), picks.join(', '));
    for (const [i, p] of picks.entries()) assert.ok(!picks.slice(Math.max(0, i - 3), i).includes(p), `pick ${i} (${p}) repeats within the last 3`);
    const unused = srv.logs.filter((l) => l.includes('DSS keywords Rivulet has no use for'));
    assert.equal(unused.length, 1, unused.join(''));
    assert.match(unused[0], /sdp_file \(line 5\), destination_ip_address \(line 7\), destination_base_port \(line 8\), broadcast_SDP_is_dynamic \(line 13\)/);
    // A busy machine may make the channel fall behind; that says nothing about the files.
    const complaints = srv.logs.filter((l) => / (WARN|ERROR) /.test(l) && l.includes('path=late-night') && !l.includes('playlist fell behind'));
    assert.deepEqual(complaints, [], 'every line of the DSS files understood, every entry played');
    assert.deepEqual(srv.logs.filter((l) => l.includes('unknown keyword')), [], 'every keyword known');
  });
});
