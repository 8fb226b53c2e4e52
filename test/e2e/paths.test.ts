/** Per-path settings (`paths:`): exact names and `~regex` keys override live.takeover,
 * live.publishAllow and live.graceTime, with real ffmpeg publishers and scripted viewers; a bad
 * entry stops `rivulet serve` with an error naming the key. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRtcpCompound } from '../../src/rtcp/index.js';
import { fixture } from '../helpers/fixtures.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { RawRtspClient, until, type Reply } from '../helpers/rtsp-client.js';
import { rawViewer, waitActive } from '../helpers/live.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];

const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';


const video = (c: RawRtspClient) => c.frames.filter((f) => f.channel === 0).length;
const gotBye = (c: RawRtspClient) =>
  c.frames.some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((p) => p.type === 'bye'));

describe('per-path settings (paths:)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let clip: string;
  const pubs: Publisher[] = [];
  const publish = (path: string) => {
    const p = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(p);
    return p;
  };

  before(async () => {
    clip = await fixture('h264-aac-faststart.mp4');
    media = tempDir('rivulet-paths-');
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      [
        'paths:',
        '  live/open:',
        '    takeover: true',
        '  "~^live/strict/.*$":',
        '    publishAllow: []',
        '  live/quick:',
        '    graceTime: 1',
      ].join('\n'),
    );
    // Global: no takeover, localhost may publish, viewers wait 30 s for a publisher.
    srv = await startServer({ mediaDir: media.dir, configFile: config, sets: ['live.graceTime=30'] });
  });
  after(async () => {
    await Promise.all(pubs.map((p) => p.stop()));
    await srv.close();
    media.cleanup();
  });

  it('a second ffmpeg publisher takes over a takeover path, and its viewers carry on under it', async () => {
    const first = publish('live/open');
    await waitActive(srv, 'live/open');
    const stream = srv.server.live!.get('live/open');
    const v = await rawViewer(srv, 'live/open');
    assert.equal(v.play.status, 200, 'PLAY live/open');
    assert.ok(await until(() => video(v.c) > 20, 15_000), 'the viewer gets video from the first publisher');
    const firstPublisher = stream?.source;
    assert.ok(firstPublisher);

    publish('live/open');
    assert.ok(
      await until(() => stream?.source !== undefined && stream.source !== firstPublisher, 15_000),
      'the second publisher feeds the path',
    );
    // The first one's session is closed and its packets are dropped; ffmpeg itself does not notice
    // over TCP, so it is stopped here.
    await first.stop();
    assert.ok(
      srv.logs.some((l) => /broadcast taken over/.test(l) && l.includes('paths.live/open.takeover')),
      'the takeover is logged with the entry that allowed it',
    );
    const before = video(v.c);
    assert.ok(await until(() => video(v.c) > before + 50, 15_000), 'video keeps coming from the new publisher');
    assert.equal(srv.server.live!.get('live/open'), stream, 'the same broadcast continues');
    assert.equal(srv.server.live!.get('live/open')!.state, 'active');
    assert.equal(gotBye(v.c), false, 'the viewer was never told the broadcast ended');
    assert.equal((await v.c.request('GET_PARAMETER', srv.url('live/open'), { Session: v.session })).status, 200);
    v.c.close();
  });

  it('on a path without an entry a second publisher gets 412, as live.takeover says', async () => {
    publish('live/other');
    await waitActive(srv, 'live/other');
    const c = await RawRtspClient.connect(srv.port);
    const second = await c.request('ANNOUNCE', srv.url('live/other'), { 'Content-Type': 'application/sdp' }, SDP);
    assert.equal(second.status, 412);
    assert.equal(srv.server.live!.get('live/other')!.state, 'active', 'the first broadcast is untouched');
    c.close();
  });

  it('publishing from 127.0.0.1 to a path the regex closes needs a login (401); elsewhere it does not', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const strict = await c.request('ANNOUNCE', srv.url('live/strict/x'), { 'Content-Type': 'application/sdp' }, SDP);
    assert.equal(strict.status, 401);
    assert.match(strict.headers.get('www-authenticate') ?? '', /^Digest /);
    assert.ok(
      srv.logs.some((l) => l.includes('publishing from 127.0.0.1 is not allowed (paths.~^live/strict/.*$.publishAllow)')),
      'the refusal names the entry',
    );
    const open = await c.request('ANNOUNCE', srv.url('live/other2'), { 'Content-Type': 'application/sdp' }, SDP);
    assert.equal(open.status, 200, 'live.publishAllow lets 127.0.0.1 publish where no entry matches');
    c.close();
    // ffmpeg gets the same answer: no broadcast starts at the closed path.
    const pub = publish('live/strict/x');
    assert.ok(await until(() => pub.child.exitCode !== null, 15_000), 'ffmpeg gives up');
    assert.equal(srv.server.live!.get('live/strict/x'), undefined);
    assert.match(pub.log(), /401|Unauthorized/i);
  });

  it("a path's shorter graceTime ends its viewers sooner when the publisher goes", async () => {
    const pub = publish('live/quick');
    await waitActive(srv, 'live/quick');
    const v = await rawViewer(srv, 'live/quick');
    assert.equal(v.play.status, 200, 'PLAY live/quick');
    assert.ok(await until(() => video(v.c) > 10, 15_000));
    const killed = Date.now();
    await pub.stop(); // SIGKILL: the connection drops, the broadcast is interrupted
    assert.ok(await until(() => gotBye(v.c), 15_000), 'the viewer gets RTCP BYE');
    const waited = (Date.now() - killed) / 1000;
    assert.ok(waited >= 0.9 && waited < 15, `BYE after ${waited.toFixed(1)} s: the path's 1 s, not live.graceTime's 30 s`);
    assert.ok(srv.logs.some((l) => /broadcast interrupted/.test(l) && l.includes('live/quick') && /grace[^\d]*1\b/.test(l)));
    v.c.close();
  });

  it('an entry can open a path the global publishAllow closes, for every request of the publish', async () => {
    const config = join(media.dir, 'wide.yaml');
    writeFileSync(config, 'paths:\n  live/wide:\n    publishAllow: ["127.0.0.1/32"]\n  live/gst:\n    publishAllow: ["127.0.0.1/32"]\n');
    const closed = await startServer({ mediaDir: media.dir, configFile: config, sets: ['live.publishAllow='] });
    try {
      const pub = ffmpegPublish(clip, closed.url('live/wide'), 'tcp');
      pubs.push(pub);
      await waitActive(closed, 'live/wide');
      // A first SETUP for recording names a track URL (live/gst/stream=0, as GStreamer's
      // rtspclientsink announces it): live/gst's entry judges it, as it does the ANNOUNCE.
      const c = await RawRtspClient.connect(closed.port);
      const gstSdp = SDP.replace('a=control:streamid=0', 'a=control:stream=0');
      assert.equal((await c.request('ANNOUNCE', closed.url('live/gst'), { 'Content-Type': 'application/sdp' }, gstSdp)).status, 200);
      const setup = await c.request('SETUP', `${closed.url('live/gst')}/stream=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
      });
      assert.equal(setup.status, 200);
      assert.equal((await c.request('RECORD', closed.url('live/gst'), { Session: sid(setup) })).status, 200);
      const elsewhere = await c.request('ANNOUNCE', closed.url('live/narrow'), { 'Content-Type': 'application/sdp' }, SDP);
      assert.equal(elsewhere.status, 401, 'live.publishAllow (empty) still applies elsewhere');
      c.close();
      await pub.stop();
    } finally {
      await closed.close();
    }
  });
});

describe('paths: config errors name the key (rivulet serve)', () => {
  let dir: { dir: string; cleanup: () => void };
  before(() => {
    dir = tempDir('rivulet-paths-cfg-');
  });
  after(() => dir.cleanup());

  for (const [what, yaml, expected] of [
    ['a bad regex', 'paths:\n  "~^live/(.*$":\n    takeover: true\n', /paths\.~\^live\/\(\.\*\$: Invalid regular expression/],
    ['a bad value', 'paths:\n  live/cam1:\n    graceTime: -1\n', /paths\.live\/cam1\.graceTime: Too small/],
  ] as const) {
    it(`refuses to start with ${what}`, async () => {
      const file = join(dir.dir, `${what.replace(/ /g, '-')}.yaml`);
      writeFileSync(file, yaml);
      const cli = serveCli(['--config', file, '--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', dir.dir]);
      await assert.rejects(cli.port, expected);
      assert.notEqual(cli.child.exitCode, 0);
    });
  }
});
