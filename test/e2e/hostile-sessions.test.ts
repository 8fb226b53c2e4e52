/** Hostile sessions: SETUPs with unusable client ports, session and announcement floods, sessions
 * kept alive without ever playing, live.writeSdp aimed through symlinks, and UDP asked for inside
 * RTSPS. Each is refused with its status and a logged reason, and holds no socket afterwards. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { mediaDirWith } from '../helpers/media.js';
import { openUdpSockets } from '../helpers/open-sockets.js';
import { decodeErrors, run } from '../helpers/run.js';
import { RawRtspClient, sleep, udpReceiver, until, type Reply, type UdpReceiver } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';

const MOVIE = 'h264-aac-faststart.mp4';
const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];
const udp = (rx: UdpReceiver, extra = '') => ({ Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}${extra}` });
const sdp = (tracks: number) =>
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  Array.from({ length: tracks }, (_, i) => `m=video 0 RTP/AVP ${96 + i}\r\na=rtpmap:${96 + i} H264/90000\r\na=control:streamid=${i}\r\n`).join('');
const SDP_HDR = { 'Content-Type': 'application/sdp' };

/** Lets closed sockets leave /proc before counting. */
const settledUdp = async () => {
  await sleep(100);
  return openUdpSockets();
};

describe('hostile sessions', () => {
  let media: { dir: string; cleanup: () => void };
  before(async () => {
    media = await mediaDirWith([MOVIE]);
  });
  after(() => media.cleanup());

  describe('bad client ports and session caps', () => {
    let srv: TestServer;
    let rx: UdpReceiver;
    before(async () => {
      srv = await startServer({
        mediaDir: media.dir,
        sets: ['limits.maxSessionsPerConnection=3', 'limits.maxSessionsPerIp=5'],
      });
      rx = await udpReceiver();
    });
    after(async () => {
      rx.close();
      await srv.close();
    });

    it('refuses 20 SETUPs with unusable client ports before binding anything (400/461), leaking no socket', async () => {
      const c = await RawRtspClient.connect(srv.port);
      const track = `${srv.url(MOVIE)}/trackID=1`;
      const held = await c.request('SETUP', track, udp(rx));
      assert.equal(held.status, 200);
      const before = await settledUdp();
      const bad: [string, number][] = [
        ['RTP/AVP;unicast;client_port=0-0', 400],
        ['RTP/AVP;unicast;client_port=70000-70001', 400],
        ['RTP/AVP;unicast;client_port=5001-5002', 461],
        ['RTP/AVP;unicast;client_port=6000-6000', 461],
      ];
      for (let i = 0; i < 20; i++) {
        const [transport, status] = bad[i % bad.length];
        const r = await c.request('SETUP', track, { Transport: transport });
        assert.equal(r.status, status, `${transport} -> ${r.status}`);
        // Adding a track to a held session with a bad port holds nothing either.
        assert.equal((await c.request('SETUP', `${srv.url(MOVIE)}/trackID=2`, { Transport: transport, Session: sid(held) })).status, status);
      }
      assert.equal(await settledUdp(), before, 'no UDP socket left open by refused SETUPs');
      assert.ok(srv.logs.some((l) => /client_port=0-0 is outside 1-65535/.test(l)), 'reason logged');
      assert.ok(srv.logs.some((l) => /RTP port must be even/.test(l)), 'reason logged');
      // The good session still works, and TEARDOWN frees its pair.
      assert.equal((await c.request('TEARDOWN', srv.url(MOVIE), { Session: sid(held) })).status, 200);
      assert.equal(await settledUdp(), before - 2);
      c.close();
    });

    it('caps sessions per connection and per address with 453 naming the key; refusals hold no port', async () => {
      const before = await settledUdp();
      const track = `${srv.url(MOVIE)}/trackID=1`;
      const a = await RawRtspClient.connect(srv.port);
      const sessions: { c: RawRtspClient; id: string }[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await a.request('SETUP', track, udp(rx));
        assert.equal(r.status, 200);
        sessions.push({ c: a, id: sid(r) });
      }
      const overConn = await a.request('SETUP', track, udp(rx));
      assert.equal(overConn.status, 453);
      assert.equal((await a.request('SETUP', track, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).status, 453);
      assert.ok(srv.logs.some((l) => /limits\.maxSessionsPerConnection=3/.test(l)), 'refusal logged with its key');
      // A second connection from the same address reaches the address cap (5).
      const b = await RawRtspClient.connect(srv.port);
      for (let i = 0; i < 2; i++) {
        const r = await b.request('SETUP', track, udp(rx));
        assert.equal(r.status, 200);
        sessions.push({ c: b, id: sid(r) });
      }
      assert.equal((await b.request('SETUP', track, udp(rx))).status, 453);
      const fresh = await RawRtspClient.connect(srv.port);
      assert.equal((await fresh.request('SETUP', track, udp(rx))).status, 453, 'a new connection does not reset the address cap');
      assert.ok(srv.logs.some((l) => /127\.0\.0\.1 holds 5 sessions \(limits\.maxSessionsPerIp=5\)/.test(l)), 'refusal logged with its key');
      assert.equal(await settledUdp(), before + 10, 'five sessions, one pair each; refusals hold nothing');
      // UDP sessions outlive their connection and still count.
      a.close();
      await sleep(200);
      assert.equal((await fresh.request('SETUP', track, udp(rx))).status, 453);
      // Another address is not affected.
      const other = await RawRtspClient.connect(srv.port, '127.0.0.1', '127.0.0.2');
      const o = await other.request('SETUP', track, udp(rx));
      assert.equal(o.status, 200);
      assert.equal((await other.request('TEARDOWN', srv.url(MOVIE), { Session: sid(o) })).status, 200);
      // Closing a session gives its place back.
      assert.equal((await fresh.request('TEARDOWN', srv.url(MOVIE), { Session: sessions[0].id })).status, 200);
      const again = await fresh.request('SETUP', track, udp(rx));
      assert.equal(again.status, 200);
      for (const id of [sid(again), ...sessions.slice(1).map((s) => s.id)]) {
        assert.equal((await fresh.request('TEARDOWN', srv.url(MOVIE), { Session: id })).status, 200);
      }
      assert.equal(await settledUdp(), before, 'every port freed');
      for (const c of [b, fresh, other]) c.close();
    });
  });

  it('reaps sessions that never PLAY or RECORD within rtsp.sessionTimeout, however they are kept alive, freeing their ports', async () => {
    const srv = await startServer({ mediaDir: media.dir, sets: ['rtsp.sessionTimeout=5'] });
    const rx = await udpReceiver();
    try {
      const before = await settledUdp();
      const c = await RawRtspClient.connect(srv.port);
      const track = `${srv.url(MOVIE)}/trackID=2`;
      const idle = await c.request('SETUP', track, udp(rx));
      const created = Date.now();
      const played = await c.request('SETUP', track, udp(rx));
      assert.equal((await c.request('PLAY', srv.url(MOVIE), { Session: sid(played) })).status, 200);
      // A publisher that announces and sets up but never RECORDs.
      const pubUrl = srv.url('live/never');
      assert.equal((await c.request('ANNOUNCE', pubUrl, SDP_HDR, sdp(1))).status, 200);
      const pub = await c.request('SETUP', `${pubUrl}/streamid=0`, udp(rx, ';mode=record'));
      assert.equal(pub.status, 200);
      assert.equal(await settledUdp(), before + 6);
      let reapedAfter = 0;
      while (Date.now() - created < 9000) {
        // Requests naming the sessions keep them alive; they must not save the idle ones.
        const i = await c.request('GET_PARAMETER', srv.url(MOVIE), { Session: sid(idle) });
        await c.request('GET_PARAMETER', pubUrl, { Session: sid(pub) });
        assert.equal((await c.request('GET_PARAMETER', srv.url(MOVIE), { Session: sid(played) })).status, 200, 'the playing session stays');
        if (i.status === 454) {
          reapedAfter = Date.now() - created;
          break;
        }
        await sleep(250);
      }
      assert.ok(reapedAfter > 0, 'the never-played session was reaped');
      assert.ok(reapedAfter <= 6500, `reaped ${reapedAfter} ms after SETUP (timeout 5 s, reaper ticks each second)`);
      let pubGone = false;
      for (let i = 0; i < 15 && !pubGone; i++) {
        pubGone = (await c.request('GET_PARAMETER', pubUrl, { Session: sid(pub) })).status === 454;
        if (!pubGone) await sleep(200);
      }
      assert.ok(pubGone, 'the publisher that never sent RECORD was reaped');
      assert.ok(srv.logs.some((l) => /never played or recorded within rtsp\.sessionTimeout/.test(l) && l.includes(sid(idle))), 'reason logged');
      assert.equal(await settledUdp(), before + 2, 'only the playing session holds ports');
      assert.equal((await c.request('TEARDOWN', srv.url(MOVIE), { Session: sid(played) })).status, 200);
      c.close();
    } finally {
      rx.close();
      await srv.close();
    }
  });

  describe('announcements', () => {
    let srv: TestServer;
    let outside: { dir: string; cleanup: () => void };
    before(async () => {
      outside = tempDir('rivulet-outside-');
      writeFileSync(join(outside.dir, 'victim.sdp'), 'precious');
      symlinkSync(outside.dir, join(media.dir, 'escape'));
      symlinkSync(join(outside.dir, 'victim.sdp'), join(media.dir, 'trap.sdp'));
      symlinkSync(join(outside.dir, 'nodir'), join(media.dir, 'gone'));
      mkdirSync(join(media.dir, 'cams'));
      srv = await startServer({
        mediaDir: media.dir,
        sets: ['live.writeSdp=true', 'limits.maxAnnouncementsPerConnection=2', 'limits.maxTracksPerAnnounce=2'],
      });
    });
    after(async () => {
      await srv.close();
      outside.cleanup();
    });

    const recordSetup = (c: RawRtspClient, path: string) =>
      c.request('SETUP', `${srv.url(path)}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' });

    it('never writes the SDP through a symlink out of the media folder, and a refused ANNOUNCE leaves nothing behind', async () => {
      const c = await RawRtspClient.connect(srv.port);
      assert.equal((await c.request('ANNOUNCE', srv.url('escape/cam'), SDP_HDR, sdp(1))).status, 403);
      // (A SETUP below escape/ is refused by access control already, whatever was announced.)
      assert.notEqual((await recordSetup(c, 'escape/cam')).status, 200);
      assert.equal((await c.request('ANNOUNCE', srv.url('escape/deeper/cam'), SDP_HDR, sdp(1))).status, 403);
      assert.equal((await c.request('ANNOUNCE', srv.url('trap'), SDP_HDR, sdp(1))).status, 403);
      assert.equal((await recordSetup(c, 'trap')).status, 455, 'no announcement left behind for SETUP');
      assert.deepEqual(readdirSync(outside.dir), ['victim.sdp'], 'nothing written outside');
      assert.equal(readFileSync(join(outside.dir, 'victim.sdp'), 'utf8'), 'precious');
      assert.ok(srv.logs.some((l) => /escape\/cam.* leads outside the media folder/.test(l)), 'reason logged');
      assert.ok(srv.logs.some((l) => /cannot write trap\.sdp in the media folder \(live\.writeSdp\).*symbolic link/.test(l)), 'reason logged');
      // A dangling folder link is not caught by the path check (nothing exists there), only by
      // the writer: no folder may appear outside.
      assert.equal((await c.request('ANNOUNCE', srv.url('gone/cam'), SDP_HDR, sdp(1))).status, 403);
      assert.equal((await recordSetup(c, 'gone/cam')).status, 455);
      assert.deepEqual(readdirSync(outside.dir), ['victim.sdp'], 'nothing made outside');
      // Inside the media folder it is written, and the publisher goes on.
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/front'), SDP_HDR, sdp(1))).status, 200);
      assert.match(readFileSync(join(media.dir, 'cams', 'front.sdp'), 'utf8'), /m=video 0 RTP\/AVP 96/);
      assert.equal((await recordSetup(c, 'cams/front')).status, 200);
      c.close();
    });

    it('caps tracks per ANNOUNCE and announcements per connection (453, key logged), keeping no refused one', async () => {
      const c = await RawRtspClient.connect(srv.port);
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/many'), SDP_HDR, sdp(3))).status, 453);
      assert.equal((await recordSetup(c, 'cams/many')).status, 455);
      assert.equal(existsSync(join(media.dir, 'cams', 'many.sdp')), false, 'a refused ANNOUNCE writes no file');
      assert.ok(srv.logs.some((l) => /3 media sections \(limits\.maxTracksPerAnnounce=2\)/.test(l)));
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/a'), SDP_HDR, sdp(2))).status, 200);
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/b'), SDP_HDR, sdp(1))).status, 200);
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/c'), SDP_HDR, sdp(1))).status, 453);
      assert.equal((await recordSetup(c, 'cams/c')).status, 455);
      assert.ok(srv.logs.some((l) => /limits\.maxAnnouncementsPerConnection=2/.test(l)));
      assert.equal((await c.request('ANNOUNCE', srv.url('cams/a'), SDP_HDR, sdp(1))).status, 200, 'announcing again replaces, it does not add');
      const other = await RawRtspClient.connect(srv.port);
      assert.equal((await other.request('ANNOUNCE', srv.url('cams/c'), SDP_HDR, sdp(1))).status, 200, 'the cap is per connection');
      c.close();
      other.close();
    });
  });

  describe('RTSPS keeps media inside TLS', () => {
    let srv: TestServer;
    let certs: { dir: string; cleanup: () => void };
    let tlsPort: number;
    before(async () => {
      certs = tempDir('rivulet-tls-');
      const files = await selfSigned(certs.dir);
      srv = await startServer({ mediaDir: media.dir, sets: [`tls.cert=${files.cert}`, `tls.key=${files.key}`, 'tls.ports=0'] });
      tlsPort = srv.server.tlsPorts[0];
    });
    after(async () => {
      await srv.close();
      certs.cleanup();
    });

    const secureClient = async () => {
      const sock = tlsConnect({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false });
      await new Promise<void>((r, j) => sock.once('secureConnect', () => r()).once('error', j));
      return RawRtspClient.over(sock);
    };

    it('answers 461 to UDP transport from viewers and publishers on a TLS connection; interleaved plays', async () => {
      const rx = await udpReceiver();
      const c = await secureClient();
      try {
        const url = `rtsps://127.0.0.1:${tlsPort}/${MOVIE}`;
        const before = await settledUdp();
        const u = await c.request('SETUP', `${url}/trackID=1`, udp(rx));
        assert.equal(u.status, 461);
        assert.match(u.reason, /^Unsupported transport$/i);
        assert.ok(srv.logs.some((l) => /RTSPS carries media only inside TLS/.test(l)), 'reason logged');
        const pubUrl = `rtsps://127.0.0.1:${tlsPort}/live/tls-cam`;
        assert.equal((await c.request('ANNOUNCE', pubUrl, SDP_HDR, sdp(1))).status, 200);
        assert.equal((await c.request('SETUP', `${pubUrl}/streamid=0`, udp(rx, ';mode=record'))).status, 461);
        assert.equal(await settledUdp(), before, 'nothing bound for the refused SETUPs');
        // The same SETUP on plain RTSP takes UDP.
        const plain = await RawRtspClient.connect(srv.port);
        const p = await plain.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, udp(rx));
        assert.equal(p.status, 200);
        assert.equal((await plain.request('TEARDOWN', srv.url(MOVIE), { Session: sid(p) })).status, 200);
        plain.close();
        // UDP offered first, interleaved second: interleaved is chosen.
        const s = await c.request('SETUP', `${url}/trackID=1`, {
          Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1},RTP/AVP/TCP;unicast;interleaved=0-1`,
        });
        assert.equal(s.status, 200);
        assert.match(s.headers.get('transport')!, /^RTP\/AVP\/TCP;unicast;interleaved=0-1/);
        assert.equal((await c.request('PLAY', url, { Session: sid(s) })).status, 200);
        assert.ok(await until(() => c.frames.filter((f) => f.channel === 0).length > 50));
        assert.equal(rx.rtpPackets.length, 0, 'no media in clear over UDP');
      } finally {
        c.close();
        rx.close();
      }
    });

    it('ffmpeg still plays over rtsps://', async () => {
      const r = await run(
        'ffmpeg',
        ['-hide_banner', '-nostats', '-i', `rtsps://127.0.0.1:${tlsPort}/${MOVIE}`, '-map', '0:v', '-frames:v', '50', '-f', 'null', '-'],
        { timeoutMs: 40_000 },
      );
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.deepEqual(decodeErrors(r.stderr), []);
      assert.ok(Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1]) >= 50);
    });
  });
});
