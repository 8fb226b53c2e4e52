/** `rivulet import-dss` on a DSS 6.0.3 streamingserver.xml (test/fixtures/dss, its paths moved into
 * a scratch folder): the real command writes the config and reports each pref, and `rivulet serve
 * --config` with it serves what the DSS served: a movie of the movie folder, a qtaccess-protected
 * folder (users from the DSS qtusers file), the relay of its relayconfig.xml (pulling from an
 * upstream Rivulet and announced to itself, watched at the DSS URL) and the PlaylistBroadcaster
 * channel of its playlists folder. ffprobe checks each. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { passwd } from '../../src/cli/passwd.js';
import { describeStatus, rivulet, stopServe, waitDescribe } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { freePort } from '../helpers/gst-peer.js';
import { makeClip } from '../helpers/media.js';
import { ffprobe } from '../helpers/run.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

const FIXTURES = join(repoRoot, 'test/fixtures/dss');
const CLIP_SECONDS = 3;

/** A fixture file with DSS's Linux paths (and ports) replaced as `moves` says. */
function moved(file: string, moves: [RegExp | string, string][]): string {
  let text = readFileSync(join(FIXTURES, file), 'utf8');
  for (const [from, to] of moves) text = text.replaceAll(from, to);
  return text;
}

describe('rivulet import-dss: a DSS 6.0.3 config with a relay and a playlist, imported and served', () => {
  let scratch: { dir: string; cleanup: () => void };
  let upstream: TestServer | undefined;
  let server: ReturnType<typeof serveCli> | undefined;
  let xml: string;
  let config: string;
  let movies: string;
  let port: number;
  let report: string;

  before(async () => {
    scratch = tempDir('rivulet-import-dss-');
    const etc = join(scratch.dir, 'etc');
    movies = join(scratch.dir, 'movies');
    mkdirSync(join(movies, 'members'), { recursive: true });
    mkdirSync(join(etc, 'playlists', 'news'), { recursive: true });
    await makeClip(movies, { name: 'clip.mp4', video: 'testsrc', hz: 440, seconds: CLIP_SECONDS });
    copyFileSync(join(movies, 'clip.mp4'), join(movies, 'members', 'clip.mp4'));
    writeFileSync(join(movies, 'members', 'qtaccess'), 'AuthName "Members"\nrequire valid-user\n');
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    assert.equal(await passwd(['-c', '-f', join(etc, 'qtusers'), '-p', 's3cret', 'alice'], { stdin: process.stdin, stdout: quiet, stderr: process.stderr }), 0);
    writeFileSync(join(etc, 'qtgroups'), 'admin: alice\n');

    // The origin the DSS relay pulls from: another Rivulet broadcasting the clip, looped.
    const up = join(scratch.dir, 'upstream.yaml');
    writeFileSync(up, 'paths:\n  origin:\n    playlist:\n      items: [clip.mp4]\n');
    upstream = await startServer({ mediaDir: movies, configFile: up });
    // The relay announces to this server itself at its RTSP port, which the DSS config names: a
    // port free now, kept as the config says rather than overridden.
    port = await freePort();

    const paths: [RegExp | string, string][] = [
      ['/usr/local/movies/', `${movies}/`],
      ['/var/streaming/logs/', `${scratch.dir}/logs/`],
      ['/var/streaming/playlists/', `${etc}/playlists/`],
      ['/etc/streaming/', `${etc}/`],
    ];
    xml = join(etc, 'streamingserver.xml');
    writeFileSync(
      xml,
      moved('streamingserver.xml', [
        [/<LIST-PREF NAME="rtsp_port"[^]*?<\/LIST-PREF>/g, `<LIST-PREF NAME="rtsp_port" TYPE="UInt16" >\n\t\t\t<VALUE>${port}</VALUE>\n\t\t</LIST-PREF>`],
        ['<PREF NAME="bind_ip_addr" >0</PREF>', '<PREF NAME="bind_ip_addr" >127.0.0.1</PREF>'],
        ...paths,
      ]),
    );
    writeFileSync(
      join(etc, 'relayconfig.xml'),
      moved('relayconfig.xml', [
        ['<PREF NAME="rtsp_port">5554</PREF>', `<PREF NAME="rtsp_port">${upstream.port}</PREF>`],
        ['<PREF NAME="rtsp_port">554</PREF>', `<PREF NAME="rtsp_port">${port}</PREF>`],
      ]),
    );
    for (const f of ['news.playlist', 'news.config']) writeFileSync(join(etc, 'playlists', 'news', f), moved(join('playlists', 'news', f), paths));

    config = join(scratch.dir, 'rivulet.yaml');
    const r = await rivulet('import-dss', xml, '--out', config);
    report = r.stderr;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'the config goes to --out, the report to standard error');
  });
  after(async () => {
    if (server) await stopServe(server.child);
    await upstream?.close();
    scratch?.cleanup();
  });

  it('reports each pref: mapped to its key, or not mapped with the reason', () => {
    const lines = report.trimEnd().split('\n');
    const prefLines = lines.filter((l) => /^(mapped|not mapped):/.test(l));
    // Every pref of the file, and the playlists folder found beside it.
    assert.equal(prefLines.length, 178 + 1, report);
    for (const l of lines.slice(1, -1)) assert.match(l, /^(mapped|not mapped|relay|relay issue|playlist|qtaccess|warning): /, l);
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    assert.match(report, new RegExp(`^mapped: +rtsp_port ${port} → rtsp\\.ports: \\[${port}\\]`, 'm'));
    assert.match(report, /^mapped: +bind_ip_addr 127\.0\.0\.1 → rtsp\.bind: \[127\.0\.0\.1\]$/m);
    assert.match(report, new RegExp(`^mapped: +movie_folder ${esc(movies)}/ → media\\.dir: ${esc(movies)}/$`, 'm'));
    assert.match(report, /^mapped: +maximum_connections -1 → limits\.maxConnections: 0 /m);
    assert.match(report, /^mapped: +QTSSRelayModule relay_prefs_file .*\/etc\/relayconfig\.xml → relays\.dssConfig: /m);
    assert.match(report, /^mapped: +QTSSAccessModule modAccess_usersfilepath .*\/etc\/qtusers → auth\.usersFile: /m);
    assert.match(report, /^mapped: +QTSSReflectorModule ip_allow_list \[127\.0\.0\.\*, 192\.168\.10\.\*\] → live\.publishAllow: \[127\.0\.0\.0\/24, 192\.168\.10\.0\/24, ::1\]/m);
    assert.match(report, /^mapped: +PlaylistBroadcaster playlists folder .*\/etc\/playlists → playlists\.folder: /m);
    assert.match(report, /^mapped: +reliable_udp true → retransmit\.reliableUdp\.enabled: true/m);
    assert.match(report, /^not mapped: +run_user_name qtss: Rivulet runs as the user that starts it/m);
    assert.match(report, /^not mapped: +drop_all_packets_delay 2500: DSS's thinning by how late its packets went out/m);
    assert.match(report, /^mapped: +QTSSFlowControlModule loss_thin_tolerance 30 → retransmit\.thinning\.thinPercent: 30/m);
    assert.match(report, /^mapped: +QTSSMP3StreamingModule mp3_broadcast_password \(hidden\) → radio\.sourcePassword: \(hidden\) /m);
    assert.ok(!report.includes('hunter2'), 'no password in the report');
    assert.match(report, new RegExp(`^relay: +"From the origin" → path relayed: pulled from rtsp://127\\.0\\.0\\.1:${upstream!.port}/origin$`, 'm'));
    assert.match(report, /^playlist: +.*\/etc\/playlists\/news\/news\.playlist → path news$/m);
    assert.match(report, new RegExp(`^qtaccess: +${esc(movies)}/members/qtaccess: read as it is`, 'm'));
    assert.doesNotMatch(report, /^warning:/m, 'every file the config names is there');
    assert.match(lines[lines.length - 1], /^\d+ prefs mapped, \d+ not mapped; config written to .*rivulet\.yaml\./);
  });

  it('writes to standard output without --out, never over a file without --force; usage and unreadable XML fail clearly', async () => {
    assert.equal((statSync(config).mode & 0o777).toString(8), '600', 'the config it creates is readable by its owner only (relay passwords)');
    const written = readFileSync(config, 'utf8');
    assert.match(written, /^ {2}# from movie_folder /m);
    const [again, toStdout, forced, usage, broken] = await Promise.all([
      rivulet('import-dss', xml, '--out', config),
      rivulet('import-dss', xml),
      rivulet('import-dss', xml, '--out', config, '--force'),
      rivulet('import-dss'),
      rivulet('import-dss', join(scratch.dir, 'etc', 'relayconfig.xml'), '--out', join(scratch.dir, 'never.yaml')),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /rivulet\.yaml exists: not replaced \(--force replaces it\)/);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.equal(toStdout.stdout, written, 'the same config, on standard output');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(config, 'utf8'), written);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /which streamingserver\.xml\?[^]*Usage: rivulet import-dss STREAMINGSERVER_XML/);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /relayconfig\.xml is a relay config \(relayconfig\.xml\), not streamingserver\.xml/);
  });

  it('rivulet serve --config serves the movie, the protected folder, the relayed stream and the playlist channel', async () => {
    server = serveCli(['--config', config]);
    assert.equal(await server.port, port, 'the RTSP port of the DSS config');

    const movie = await ffprobe(`rtsp://127.0.0.1:${port}/clip.mp4`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(movie.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.ok(Math.abs(Number(movie.format.duration) - CLIP_SECONDS) < 0.2, `duration ${movie.format.duration}`);

    assert.equal(await describeStatus(port, 'members/clip.mp4'), 401, 'the qtaccess file still protects its folder');
    const member = await ffprobe(`rtsp://alice:s3cret@127.0.0.1:${port}/members/clip.mp4`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(member.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);

    await waitDescribe(port, 'relayed.sdp');
    const relayed = await ffprobe(`rtsp://127.0.0.1:${port}/relayed.sdp`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(relayed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(relayed.streams.find((s) => s.codec_type === 'video')?.width, 320);

    await waitDescribe(port, 'news');
    const news = await ffprobe(`rtsp://127.0.0.1:${port}/news`, ['-rtsp_transport', 'udp']);
    assert.deepEqual(news.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.match(server.out(), /relays\.dssConfig read .*relays=relayed/);
  });
});
