/** Rivulet's own RTSP client (src/rtsp/client) against real servers: it pulls a Digest-protected
 * file and an ffmpeg broadcast from a real Rivulet over TCP and UDP, pushes a stream into a
 * Rivulet path that ffprobe and ffmpeg then decode, and pulls from gst-rtsp-server. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRtpHeader } from '../../src/rtp/index.js';
import { PullSession, pullSession, pushSession, RtspClientError } from '../../src/rtsp/client/index.js';
import { UdpPortAllocator } from '../../src/transport/index.js';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { peerAvailable, startGstPeer, type GstPeer } from '../helpers/gst-peer.js';
import { waitActive } from '../helpers/live.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffmpegDecode, ffprobe } from '../helpers/run.js';
import { until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

const CLIP = 'h264-aac-faststart.mp4';
const MAIN = join(repoRoot, 'src/cli/main.ts');
const ports = new UdpPortAllocator({ min: 30000, max: 39999 });

const withCreds = (url: string, user: string, pw: string) =>
  url.replace('rtsp://', `rtsp://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@`);

/** Encoding names of the session's tracks, upper-cased, in SDP order. */
const codecs = (s: PullSession) => s.description.media.map((m) => m.format.encodingName.toUpperCase());

/** Waits until every track got at least `n` RTP packets (video: the first track). */
async function received(s: PullSession, video: number, audio: number, ms = 15_000): Promise<void> {
  const ok = await until(() => s.tracks[0].counts.rtpPackets >= video && (s.tracks[1]?.counts.rtpPackets ?? audio) >= audio, ms);
  assert.ok(ok, `RTP packets per track: ${s.tracks.map((t) => t.counts.rtpPackets).join(', ')}`);
}

/** Counts packets per track, checking each is RTP version 2 with its track's payload type. */
function checked(s: { on: PullSession['on'] }, bad: string[]): void {
  s.on('rtp', (track, p) => {
    const h = readRtpHeader(p);
    if (h === null || h.payloadType !== track.media.format.payloadType) bad.push(`track ${track.index}: ${p.subarray(0, 2).toString('hex')}`);
  });
}

describe('RTSP client against a real Rivulet', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let clip: string;
  const pubs: Publisher[] = [];

  before(async () => {
    media = tempDir('rivulet-client-media-');
    clip = await fixture(CLIP);
    mkdirSync(join(media.dir, 'digest'));
    mkdirSync(join(media.dir, 'live'));
    copyFileSync(clip, join(media.dir, 'digest', CLIP));
    writeFileSync(join(media.dir, 'digest', 'qtaccess'), 'AuthName "Digest area"\nrequire valid-user\n');
    const users = join(media.dir, 'qtusers');
    const groups = join(media.dir, 'qtgroups');
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'passwd', '-c', '-f', users, '-g', groups, '-p', 'wonder land', 'alice'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    srv = await startServer({
      mediaDir: media.dir,
      sets: [`auth.usersFile=${users}`, `auth.groupsFile=${groups}`, 'live.publishAllow=127.0.0.1/32', 'auth.failuresBeforeDelay=100'],
    });
  });
  after(async () => {
    for (const p of pubs) await p.stop();
    await srv?.close();
    media?.cleanup();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pulls a Digest-protected file over ${transport}: the SDP and every track's packets`, async () => {
      const bad: string[] = [];
      const s = await PullSession.open(withCreds(srv.url(`digest/${CLIP}`), 'alice', 'wonder land'), { transport, udpPorts: ports });
      checked(s, bad);
      await s.play();
      try {
        assert.deepEqual(codecs(s), ['H264', 'MPEG4-GENERIC']);
        assert.match(s.sdp, /^a=control:trackID=1\r?$/m);
        assert.equal(s.contentBase, `${srv.url(`digest/${CLIP}`)}/`);
        assert.equal(s.tracks[0].url, `${srv.url(`digest/${CLIP}`)}/trackID=1`);
        assert.ok(s.tracks.every((t) => t.rtpInfo?.seq !== undefined), 'RTP-Info for every track');
        // 2 s of 320x240 video and 44.1 kHz AAC.
        await received(s, 100, 40);
        assert.deepEqual(bad, []);
        assert.equal(s.foreignDatagrams, 0);
      } finally {
        await s.close();
      }
      assert.equal(s.endReason, 'teardown');
    });
  }

  it('refuses wrong credentials with a clear error that hides the password', async () => {
    const url = withCreds(srv.url(`digest/${CLIP}`), 'alice', 'not-it');
    await assert.rejects(pullSession(url), (e: unknown) => {
      assert.ok(e instanceof RtspClientError && e.code === 'auth', String(e));
      assert.equal(e.message, `wrong credentials for user "alice" at ${srv.url(`digest/${CLIP}`).replace('rtsp://', 'rtsp://alice@')} (401 Unauthorized)`);
      return true;
    });
    await assert.rejects(pullSession(srv.url(`digest/${CLIP}`)), /needs credentials/);
  });

  it('pulls a live broadcast ffmpeg pushes, over TCP and UDP at once', async () => {
    const path = 'live/cam';
    const pub = ffmpegPublish(clip, srv.url(path), 'tcp');
    pubs.push(pub);
    await waitActive(srv, path);
    const sessions = await Promise.all((['tcp', 'udp'] as const).map((transport) => pullSession(srv.url(path), { transport, udpPorts: ports })));
    try {
      for (const s of sessions) {
        assert.deepEqual(codecs(s), ['H264', 'MPEG4-GENERIC']);
        await received(s, 100, 40);
      }
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
      await pub.stop();
    }
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pushes over ${transport} (the file pulled from Rivulet, relayed): ffprobe and ffmpeg decode it at the far end`, async () => {
      const path = `live/pushed-${transport}`;
      const pull = await PullSession.open(withCreds(srv.url(`digest/${CLIP}`), 'alice', 'wonder land'));
      const push = await pushSession(srv.url(path), pull.sdp, { transport, udpPorts: ports }).catch(async (e: unknown) => {
        await pull.close();
        throw e;
      });
      try {
        pull.on('rtp', (t, p) => push.sendRtp(t.index, p));
        pull.on('rtcp', (t, p) => push.sendRtcp(t.index, p));
        await pull.play();
        await waitActive(srv, path);
        const probe = await ffprobe(srv.url(path), ['-rtsp_transport', 'tcp']);
        assert.deepEqual(probe.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
        const { r, frames } = await ffmpegDecode(srv.url(path), { frames: 50, transport: 'tcp', timeoutMs: 30_000 });
        assert.equal(frames, 50, r.stderr.slice(-2000));
        assert.deepEqual(decodeErrors(r.stderr), []);
        assert.ok(push.tracks.every((t) => t.counts.rtpPackets > 0 && t.counts.dropped === 0));
        assert.ok(push.recording);
      } finally {
        await push.close();
        await pull.close();
      }
    });
  }
});

describe('RTSP client against gst-rtsp-server', () => {
  let peer: GstPeer | undefined;
  let dir: { dir: string; cleanup: () => void } | undefined;

  before(async () => {
    if (!peerAvailable()) return;
    dir = tempDir('rivulet-client-peer-');
    const clip = await fixture(CLIP);
    copyFileSync(clip, join(dir.dir, basename(clip)));
    peer = await startGstPeer(dir.dir, ['--file', basename(clip)]);
  });
  after(async () => {
    await peer?.stop();
    dir?.cleanup();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pulls the peer's /file over ${transport}`, async (t) => {
      if (peer === undefined) return missingTool(t, 'python3-gi gir1.2-gst-rtsp-server-1.0', 'the gst-rtsp-server peer');
      assert.equal(peer.child.exitCode, null, `the peer exited: ${peer.log().slice(-2000)}`);
      const bad: string[] = [];
      const s = await PullSession.open(peer.url('file'), { transport, udpPorts: ports });
      checked(s, bad);
      await s.play();
      try {
        assert.deepEqual(codecs(s), ['H264', 'MPEG4-GENERIC']);
        assert.equal(s.tracks[0].url, `${peer.url('file')}/stream=0`);
        await received(s, 100, 40);
        assert.deepEqual(bad, []);
      } finally {
        await s.close();
      }
      assert.equal(s.endReason, 'teardown');
    });
  }
});
