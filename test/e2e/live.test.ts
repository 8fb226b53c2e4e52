/** Live broadcasting with real encoders and players: ffmpeg and GStreamer publish (ANNOUNCE/
 * RECORD over TCP and UDP) or feed an SDP-described UDP stream; ffmpeg, GStreamer and scripted
 * clients watch. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { parseRtcpCompound } from '../../src/rtcp/index.js';
import { fixture } from '../helpers/fixtures.js';
import { ffmpegPublish, spawnPublisher, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffprobe, run, gstPlayedThrough, gstDecode, GST_H264 } from '../helpers/run.js';
import { RawRtspClient, sleep, udpReceiver, until, type Reply } from '../helpers/rtsp-client.js';
import { rawViewer, waitActive } from '../helpers/live.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];


/** Frames (packets grouped by timestamp) of the first video track a raw viewer received. */
function firstFrameNalTypes(payloads: Buffer[]): number[] {
  const first = readRtpHeader(payloads[0])!;
  const types: number[] = [];
  for (const p of payloads) {
    const h = readRtpHeader(p)!;
    if (h.timestamp !== first.timestamp) break;
    const pl = p.subarray(h.payloadOffset);
    const t = pl[0] & 0x1f;
    if (t === 24) {
      for (let o = 1; o + 2 < pl.length;) {
        const n = pl.readUInt16BE(o);
        types.push(pl[o + 2] & 0x1f);
        o += 2 + n;
      }
    } else if (t === 28) types.push(pl[1] & 0x1f);
    else types.push(t);
  }
  return types;
}


describe('live broadcasting', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let clip: string;
  const pubs: Publisher[] = [];

  before(async () => {
    clip = await fixture('h264-aac-faststart.mp4');
    media = tempDir('rivulet-live-');
    srv = await startServer({ mediaDir: media.dir, sets: ['live.graceTime=4', 'live.publisherTimeout=2'] });
  });
  after(async () => {
    await Promise.all(pubs.map((p) => p.stop()));
    await srv.close();
    media.cleanup();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`ffmpeg publishes over ${transport}; ffprobe and ffmpeg read it over UDP and TCP`, async () => {
      const path = `live/ff-${transport}`;
      const pub = ffmpegPublish(clip, srv.url(path), transport);
      pubs.push(pub);
      await waitActive(srv, path);
      const probe = await ffprobe(srv.url(path), ['-rtsp_transport', 'udp']);
      assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
      for (const rt of ['udp', 'tcp']) {
        const r = await run(
          'ffmpeg',
          [
            '-hide_banner',
            '-nostats',
            '-rtsp_transport',
            rt,
            '-i',
            srv.url(`${path}.sdp`),
            '-map',
            '0:v',
            '-frames:v',
            '100',
            '-f',
            'null',
            '-',
          ],
          { timeoutMs: 30_000 },
        );
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        const frames = Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1]);
        assert.ok(frames >= 100, `decoded ${frames} frames over ${rt}`);
        assert.deepEqual(decodeErrors(r.stderr), [], `decode errors over ${rt}`);
      }
      await pub.stop();
    });
  }

  it('GStreamer publishes with rtspclientsink and GStreamer reads with rtspsrc', async () => {
    const path = 'live/gst';
    const pub = spawnPublisher('gst-launch-1.0', [
      'videotestsrc',
      'is-live=true',
      '!',
      'video/x-raw,width=320,height=240,framerate=25/1',
      '!',
      'x264enc',
      'tune=zerolatency',
      'key-int-max=25',
      'speed-preset=ultrafast',
      '!',
      'video/x-h264,profile=baseline',
      '!',
      'rtspclientsink',
      `location=${srv.url(path)}`,
      'protocols=tcp',
    ]);
    pubs.push(pub);
    await waitActive(srv, path);
    for (const protocols of ['tcp', 'udp']) {
      const { r, decoded } = await gstDecode(srv.url(path), GST_H264, 100, {
        props: [`protocols=${protocols}`],
        timeoutMs: 40_000,
      });
      assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + pub.log().slice(-2000));
      assert.ok(decoded >= 100, `decoded ${decoded} buffers over ${protocols}`);
    }
    await pub.stop();
  });

  it('plays an SDP-file stream fed by ffmpeg over RTP/UDP, and refuses a second one on the same port', async () => {
    const port = 30000 + 2 * Math.floor(Math.random() * 4000);
    const sdpFile = join(media.dir, 'feed.sdp');
    const pub = spawnPublisher('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'warning',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      clip,
      '-an',
      '-c',
      'copy',
      '-f',
      'rtp',
      '-sdp_file',
      sdpFile,
      `rtp://127.0.0.1:${port}`,
    ]);
    pubs.push(pub);
    assert.ok(
      await until(() => {
        try {
          return sdpText(sdpFile) !== false;
        } catch {
          return false;
        }
      }, 10_000),
      'ffmpeg wrote the SDP',
    );
    const r = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-rtsp_transport',
        'tcp',
        '-i',
        srv.url('feed.sdp'),
        '-frames:v',
        '100',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.deepEqual(decodeErrors(r.stderr), []);
    // The same ports described by a second file: a clear error, and the first stream plays on.
    writeFileSync(join(media.dir, 'clash.sdp'), sdpText(sdpFile) as string);
    const c = await RawRtspClient.connect(srv.port);
    const clash = await c.request('DESCRIBE', srv.url('clash.sdp'));
    assert.equal(clash.status, 500);
    assert.ok(
      srv.logs.some((l) => l.includes(`UDP port ${port} is already used by live stream 'feed'`)),
      'the log names the port and the stream using it',
    );
    assert.equal((await c.request('DESCRIBE', srv.url('feed'))).status, 200, 'name without .sdp works too');
    c.close();
    await pub.stop();
  });

  it('starts a viewer joining mid-stream on a keyframe, with RTP-Info naming its first packet', async () => {
    const path = 'live/join';
    const pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    for (const delay of [700, 1300]) {
      await sleep(delay);
      const v = await rawViewer(srv, path);
      assert.equal(v.play.status, 200);
      assert.equal(v.play.headers.get('range'), 'npt=now-');
      await until(() => v.c.frames.filter((f) => f.channel === 0).length > 20);
      const video = v.c.frames.filter((f) => f.channel === 0).map((f) => f.payload);
      const info = /trackID=1;seq=(\d+);rtptime=(\d+)/.exec(v.play.headers.get('rtp-info')!)!;
      const h = readRtpHeader(video[0])!;
      assert.equal(h.sequence, Number(info[1]));
      assert.equal(h.timestamp, Number(info[2]));
      assert.ok(
        firstFrameNalTypes(video).includes(5),
        `first frame NAL types ${firstFrameNalTypes(video).join(',')}`,
      );
      v.c.close();
    }
    await pub.stop();
  });

  it('serves 200 concurrent readers (TCP and UDP) with no loss', async () => {
    const path = 'live/many';
    const pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    const tcp = await Promise.all(Array.from({ length: 100 }, () => rawViewer(srv, path)));
    const udp = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const rx = await udpReceiver();
        const c = await RawRtspClient.connect(srv.port);
        const s = await c.request('SETUP', `${srv.url(path)}/trackID=1`, {
          Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}`,
        });
        const p = await c.request('PLAY', srv.url(path), { Session: sid(s) });
        assert.equal(p.status, 200);
        return { c, rx };
      }),
    );
    await sleep(4000);
    const gaps = (pkts: Buffer[]) => {
      let lost = 0;
      for (let i = 1; i < pkts.length; i++)
        lost += ((readRtpHeader(pkts[i])!.sequence - readRtpHeader(pkts[i - 1])!.sequence) & 0xffff) - 1;
      return lost;
    };
    for (const v of tcp) {
      const pk = v.c.frames.filter((f) => f.channel === 0).map((f) => f.payload);
      assert.ok(pk.length > 100, `a TCP reader got ${pk.length} packets`);
      assert.equal(gaps(pk), 0);
      v.c.close();
    }
    for (const v of udp) {
      assert.ok(v.rx.rtpPackets.length > 100, `a UDP reader got ${v.rx.rtpPackets.length} packets`);
      assert.equal(gaps(v.rx.rtpPackets), 0);
      v.c.close();
      v.rx.close();
    }
    await pub.stop();
  });

  it('lets a stalled viewer skip to the next keyframe without delaying others or growing memory', async () => {
    const path = 'live/slow';
    const pub = ffmpegPublish(await fixture('h264-highrate.mp4'), srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    // A real player in its own process keeps up; a scripted viewer stops reading altogether.
    const fast = run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-rtsp_transport',
        'tcp',
        '-i',
        srv.url(path),
        '-t',
        '8',
        '-c',
        'copy',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 30_000 },
    );
    const slow = await rawViewer(srv, path);
    slow.c.socket.pause(); // the kernel buffers fill, then the server's queue for it
    await sleep(6000);
    const track = srv.server.live!.get(path)!.tracks[0];
    const readers = [...track.readers] as unknown as { dropped: number }[];
    assert.ok(Math.max(...readers.map((r) => r.dropped)) > 0, 'the stalled viewer dropped frames');
    const conn = [...srv.server.connections].find((c) => c.socket.remotePort === slow.c.socket.localPort)!;
    assert.ok(
      conn.writableLength < 1048576 + 4 * 1024 * 1024,
      `queued for the stalled viewer: ${conn.writableLength} bytes`,
    );
    const r = await fast;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.doesNotMatch(r.stderr, /missed \d+ packets/, 'the player that keeps up loses nothing');
    const frames = Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1]);
    assert.ok(frames >= 150, `the player that keeps up got ${frames} frames in 8 s`);
    // Reading again, the stalled viewer's stream resumes (from a keyframe, as the reader waits for one).
    const before = slow.c.frames.length;
    slow.c.socket.resume();
    assert.ok(await until(() => slow.c.frames.length > before + 2000, 15_000));
    slow.c.close();
    await pub.stop();
  });

  it('keeps viewers through a publisher restart within the grace period, and ends them with BYE after it', async () => {
    const path = 'live/restart';
    let pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    const v = await rawViewer(srv, path);
    await until(() => v.c.frames.some((f) => f.channel === 0));
    await pub.stop(); // killed: its connection drops, the broadcast is interrupted
    await sleep(500);
    const before = v.c.frames.filter((f) => f.channel === 0).length;
    pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    assert.ok(
      await until(() => v.c.frames.filter((f) => f.channel === 0).length > before + 50, 15_000),
      'video resumes without reconnecting',
    );
    const resumed = v.c.frames
      .filter((f) => f.channel === 0)
      .slice(before)
      .map((f) => f.payload);
    assert.ok(firstFrameNalTypes(resumed).includes(5), 'resumes on a keyframe');
    assert.equal((await v.c.request('GET_PARAMETER', srv.url(path), { Session: v.session })).status, 200);

    // Now the publisher stops sending without disconnecting: after live.publisherTimeout (2 s)
    // it is dropped, and after live.graceTime (4 s) viewers get BYE.
    pub.child.kill('SIGSTOP');
    const bye = await until(
      () =>
        v.c.frames.some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((p) => p.type === 'bye')),
      15_000,
    );
    pub.child.kill('SIGCONT');
    assert.ok(bye, 'viewers get RTCP BYE when the broadcast ends');
    assert.equal(
      (await v.c.request('GET_PARAMETER', srv.url(path), { Session: v.session })).status,
      454,
      'the session ended',
    );
    const c = await RawRtspClient.connect(srv.port);
    assert.equal((await c.request('DESCRIBE', srv.url(path))).status, 404, 'no broadcast is active any more');
    c.close();
    v.c.close();
    await pub.stop();
  });

  it('refuses a second publisher (412), a publisher from a non-allowed address without a login (401), and viewers of idle paths (404)', async () => {
    const path = 'live/busy';
    const pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    const sdp =
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';
    const c = await RawRtspClient.connect(srv.port);
    const second = await c.request('ANNOUNCE', srv.url(path), { 'Content-Type': 'application/sdp' }, sdp);
    assert.equal(second.status, 412);
    assert.equal((await c.request('DESCRIBE', srv.url('live/nobody'))).status, 404);
    assert.equal(
      (await c.request('DESCRIBE', srv.url(path))).status,
      200,
      'the first broadcast is untouched',
    );
    c.close();
    await pub.stop();

    // Only 127.0.0.1 may publish; a client on 127.0.0.2 is refused.
    const strict = await startServer({ mediaDir: media.dir, sets: ['live.publishAllow=127.0.0.1/32'] });
    try {
      const sock = connect({ host: '127.0.0.1', port: strict.port, localAddress: '127.0.0.2' });
      await new Promise<void>((r, j) => sock.once('connect', () => r()).once('error', j));
      let text = '';
      sock.on('data', (d) => (text += d.toString()));
      sock.write(
        `ANNOUNCE ${strict.url('live/x')} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
      );
      assert.ok(await until(() => text.includes('\r\n\r\n')));
      assert.match(text, /^RTSP\/1\.0 401 /);
      assert.match(text, /\r\nWWW-Authenticate: Digest /, 'credentials could help: a challenge, not 403');
      sock.destroy();
      assert.ok(
        strict.logs.some((l) => /publishing from 127\.0\.0\.2 is not allowed/.test(l)),
        'the refusal is logged',
      );
      const local = await RawRtspClient.connect(strict.port);
      assert.equal(
        (await local.request('ANNOUNCE', strict.url('live/x'), { 'Content-Type': 'application/sdp' }, sdp))
          .status,
        200,
        '127.0.0.1 may',
      );
      local.close();
    } finally {
      await strict.close();
    }
  });
});

function sdpText(file: string): string | false {
  const t = readFileSync(file, 'utf8');
  return t.includes('m=video') ? t : false;
}

describe('live publishers that send no RTSP keep-alive', () => {
  it('keep publishing over UDP and TCP past rtsp.sessionTimeout: their media keeps the session alive', async () => {
    const clip = await fixture('h264-aac-faststart.mp4');
    const media = tempDir('rivulet-live-keep-');
    const srv = await startServer({ mediaDir: media.dir, sets: ['rtsp.sessionTimeout=5'] });
    const pubs = (['udp', 'tcp'] as const).map((t) => ffmpegPublish(clip, srv.url(`keep/${t}`), t));
    try {
      for (const t of ['udp', 'tcp']) await waitActive(srv, `keep/${t}`);
      // ffmpeg sends no RTSP request while it publishes: only its media and RTCP say it is there.
      // Past three session timeouts, so an idle-connection sweep would have struck too (ffmpeg
      // stops sending when its RTSP connection closes).
      await sleep(17_000);
      const before = ['udp', 'tcp'].map((t) => srv.server.live!.get(`keep/${t}`)!.tracks[0].packetsIn);
      await sleep(2000);
      for (const [i, t] of (['udp', 'tcp'] as const).entries()) {
        const s = srv.server.live!.get(`keep/${t}`);
        assert.equal(s?.state, 'active', `${t} publisher still on air after 19 s with a 5 s session timeout`);
        assert.ok(s.tracks[0].packetsIn > before[i] + 50, `${t} packets still arriving 17-19 s in (${s.tracks[0].packetsIn - before[i]})`);
      }
      assert.ok(!srv.logs.some((l) => /session closed.*timeout/.test(l) && /record/.test(l)), 'no publisher session timed out');
    } finally {
      await Promise.all(pubs.map((p) => p.stop()));
      await srv.close();
      media.cleanup();
    }
  });
});
