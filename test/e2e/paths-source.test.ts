/** Configured sources (`paths.<name>.source: sdp:<file>`): a path fed by an SDP-described RTP/UDP
 * feed with no encoder pushing to the server. ffmpeg sends RTP to the ports the SDP names; ffprobe
 * and ffmpeg read the path over RTSP. An always-on source runs before any viewer asks and stops
 * when a reload drops it; publishers are refused there; a bad source value stops `rivulet serve`
 * with an error naming the key. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { spawnPublisher, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffmpegDecode, ffprobe } from '../helpers/run.js';
import { RawRtspClient, udpReceiver, until } from '../helpers/rtsp-client.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

const ANNOUNCED =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';

/** An even UDP port whose pair is free now (the helper binds both, then lets them go). */
async function freeRtpPort(): Promise<number> {
  const r = await udpReceiver();
  r.close();
  return r.rtpPort;
}

/** ffmpeg looping the clip's video as RTP to `port` on this host, writing its SDP to `sdpFile`. */
async function rtpFeed(clip: string, port: number, sdpFile: string): Promise<Publisher> {
  const pub = spawnPublisher('ffmpeg', ['-hide_banner', '-loglevel', 'warning', '-re', '-stream_loop', '-1', '-i', clip, '-an', '-c', 'copy', '-f', 'rtp', '-sdp_file', sdpFile, `rtp://127.0.0.1:${port}`]);
  const written = await until(() => existsSync(sdpFile) && readFileSync(sdpFile, 'utf8').includes('m=video'), 10_000);
  assert.ok(written, `ffmpeg wrote ${sdpFile}: ${pub.log()}`);
  return pub;
}

describe('configured sources (paths.<name>.source: sdp:<file>)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let elsewhere: { dir: string; cleanup: () => void };
  const pubs: Publisher[] = [];

  before(async () => {
    const clip = await fixture('h264-aac-faststart.mp4');
    media = tempDir('rivulet-source-');
    elsewhere = tempDir('rivulet-source-sdp-');
    // The lobby's SDP is relative (to media.dir); the door's is absolute, outside the media folder.
    pubs.push(await rtpFeed(clip, await freeRtpPort(), join(media.dir, 'lobby-feed.sdp')));
    const doorSdp = join(elsewhere.dir, 'door.sdp');
    pubs.push(await rtpFeed(clip, await freeRtpPort(), doorSdp));
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      ['paths:', '  cam/lobby:', '    source: sdp:lobby-feed.sdp', '  cam/door:', `    source: sdp:${doorSdp}`, '    sourceOnDemand: false'].join('\n'),
    );
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv.close();
    await Promise.all(pubs.map((p) => p.stop()));
    media.cleanup();
    elsewhere.cleanup();
  });

  it('ffprobe sees H.264 at the configured path and ffmpeg decodes it: no encoder pushed anything', async () => {
    assert.ok(srv.server.live, 'the server has its stream registry');
    assert.equal(srv.server.live.get('cam/lobby'), undefined, 'an on-demand source waits for its first viewer');
    const probe = await ffprobe(srv.url('cam/lobby'), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(
      probe.streams.map((s) => [s.codec_type, s.codec_name, s.width, s.height]),
      [['video', 'h264', 320, 240]],
    );
    const { r, frames } = await ffmpegDecode(srv.url('cam/lobby'), { frames: 50, transport: 'udp', timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.ok(frames >= 50, `decoded ${frames} frames`);
    assert.deepEqual(decodeErrors(r.stderr), []);
    assert.equal(srv.server.live?.get('cam/lobby')?.source?.kind, 'sdp-file');
  });

  it('runs an always-on source before any viewer asks', async () => {
    assert.equal(srv.server.live?.get('cam/door')?.state, 'active', 'started with the server');
    assert.ok(await until(() => (srv.server.live?.get('cam/door')?.tracks[0].packetsIn ?? 0) > 10, 10_000), 'and it is fed');
    const { r, frames } = await ffmpegDecode(srv.url('cam/door'), { frames: 25, transport: 'tcp', timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.ok(frames >= 25, `decoded ${frames} frames`);
  });

  it('refuses a publisher at a path with a configured source, with the reason in the log', async () => {
    const c = await RawRtspClient.connect(srv.port);
    try {
      const r = await c.request('ANNOUNCE', srv.url('cam/lobby'), { 'Content-Type': 'application/sdp' }, ANNOUNCED);
      assert.equal(r.status, 403);
      assert.ok(
        srv.logs.some((l) => l.includes("'cam/lobby' is fed by its configured source (paths.cam/lobby.source: sdp:lobby-feed.sdp) and takes no publisher")),
        'the log says why',
      );
      const elsewhereOk = await c.request('ANNOUNCE', srv.url('live/free'), { 'Content-Type': 'application/sdp' }, ANNOUNCED);
      assert.equal(elsewhereOk.status, 200, 'other paths still take publishers');
    } finally {
      c.close();
    }
  });

  it('stops a source a reload removes, and the path takes publishers again', async () => {
    const door = srv.server.live?.get('cam/door');
    assert.equal(door?.state, 'active');
    assert.equal(srv.server.setPaths({ 'cam/lobby': { source: 'sdp:lobby-feed.sdp' } }), true);
    assert.equal(door.state, 'ended', 'the removed source is stopped');
    assert.ok(srv.logs.some((l) => l.includes('configured source removed') && l.includes('cam/door')));
    const c = await RawRtspClient.connect(srv.port);
    try {
      const r = await c.request('ANNOUNCE', srv.url('cam/door'), { 'Content-Type': 'application/sdp' }, ANNOUNCED);
      assert.equal(r.status, 200);
    } finally {
      c.close();
    }
  });
});

it('rivulet serve refuses to start with a bad source, naming the key', async () => {
  const dir = tempDir('rivulet-source-cfg-');
  try {
    const cases = [
      ['paths:\n  cam/lobby:\n    source: rtmp://cam\n', /paths\.cam\/lobby\.source: expected publisher, sdp:<file>, rtsp:.* or udp:.*, got 'rtmp:\/\/cam'/],
      ['paths:\n  "~^cam/":\n    source: sdp:a.sdp\n', /paths\.~\^cam\/\.source: only an exact path name may have a source/],
    ] as const;
    await Promise.all(
      cases.map(async ([yaml, expected], i) => {
        const file = join(dir.dir, `bad-${i}.yaml`);
        writeFileSync(file, yaml);
        const cli = serveCli(['--config', file, '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', dir.dir]);
        await assert.rejects(cli.port, expected);
        assert.equal(cli.child.exitCode, 2, 'a config error exits with status 2');
      }),
    );
  } finally {
    dir.cleanup();
  }
});
