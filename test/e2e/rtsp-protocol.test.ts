/** The server's RTSP answers checked byte for byte by a scripted client: status codes, pipelining,
 * interleaved frames, RTP-Info, pause/resume, seek, RTCP keep-alive and BYE. */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { buildReceiverReport } from '../../src/rtcp/index.js';
import { parseRtcpCompound } from '../../src/rtcp/index.js';
import { mediaDirWith } from '../helpers/media.js';
import { RawRtspClient, sleep, udpReceiver, until, type Reply } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const MOVIE = 'h264-aac-faststart.mp4';

function sessionId(r: Reply): string {
  const s = r.headers.get('session');
  assert.ok(s, 'Session header');
  return s.split(';')[0];
}

describe('RTSP protocol (raw socket)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let outside: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith([MOVIE, 'pcm-f32.mov']);
    const good = readFileSync(join(media.dir, MOVIE));
    writeFileSync(join(media.dir, 'truncated.mp4'), good.subarray(0, 2000));
    // moov at the start, media data cut at 60 %: the index promises samples the file lacks.
    writeFileSync(join(media.dir, 'cut.mp4'), good.subarray(0, Math.floor(good.length * 0.6)));
    writeFileSync(
      join(media.dir, 'garbage.mp4'),
      Buffer.from('this is not a movie at all, just text\n'.repeat(50)),
    );
    outside = tempDir('rivulet-outside-');
    writeFileSync(join(outside.dir, 'secret.mp4'), good);
    symlinkSync(join(outside.dir, 'secret.mp4'), join(media.dir, 'escape.mp4'));
    mkdirSync(join(media.dir, 'sub'));
    writeFileSync(join(media.dir, 'sub', 'in sub.mp4'), good);
    srv = await startServer({ mediaDir: media.dir, sets: ['rtsp.sessionTimeout=5'] });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
    outside.cleanup();
  });

  it('answers OPTIONS with Public, CSeq, Server and Date', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const r = await c.request('OPTIONS', '*');
    assert.equal(r.status, 200);
    for (const m of [
      'DESCRIBE',
      'SETUP',
      'PLAY',
      'PAUSE',
      'TEARDOWN',
      'GET_PARAMETER',
      'SET_PARAMETER',
      'OPTIONS',
    ]) {
      assert.ok(r.headers.get('public')!.includes(m), m);
    }
    assert.equal(r.headers.get('cseq'), '1');
    assert.equal(r.headers.get('server'), 'Rivulet');
    assert.ok(!Number.isNaN(Date.parse(r.headers.get('date')!)));
    c.close();
  });

  it('describes a movie with SDP, Content-Base and per-track controls', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const r = await c.request('DESCRIBE', srv.url(MOVIE), { Accept: 'application/sdp' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/sdp');
    assert.equal(r.headers.get('content-base'), `${srv.url(MOVIE)}/`);
    assert.match(r.body, /^v=0\r\n/);
    assert.match(r.body, /a=control:\*/);
    assert.match(r.body, /a=range:npt=0-10\.0\d\d/);
    assert.match(
      r.body,
      /m=video 0 RTP\/AVP 96[\s\S]*a=rtpmap:96 H264\/90000[\s\S]*a=fmtp:96 packetization-mode=1;profile-level-id=42c0..;sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+[\s\S]*a=control:trackID=1/,
    );
    assert.match(
      r.body,
      /m=audio 0 RTP\/AVP 97[\s\S]*a=rtpmap:97 MPEG4-GENERIC\/44100\/2[\s\S]*mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210[\s\S]*a=control:trackID=2/,
    );
    const spaced = await c.request('DESCRIBE', srv.url('sub/in%20sub.mp4'));
    assert.equal(spaced.status, 200);
    c.close();
  });

  it('answers every error with its status and keeps serving', async () => {
    const c = await RawRtspClient.connect(srv.port);
    assert.equal((await c.request('DESCRIBE', srv.url('missing.mp4'))).status, 404);
    assert.equal((await c.request('DESCRIBE', srv.url('../etc/passwd'))).status, 403);
    assert.equal((await c.request('DESCRIBE', srv.url('%2e%2e/%2e%2e/etc/passwd'))).status, 403);
    assert.equal(
      (await c.request('DESCRIBE', srv.url('escape.mp4'))).status,
      403,
      'symlink out of the media folder',
    );
    assert.equal((await c.request('DESCRIBE', srv.url('pcm-f32.mov'))).status, 415);
    assert.equal((await c.request('DESCRIBE', srv.url('truncated.mp4'))).status, 415);
    assert.equal((await c.request('DESCRIBE', srv.url('garbage.mp4'))).status, 415);
    assert.equal((await c.request('PLAY', srv.url(MOVIE), { Session: '12345' })).status, 454);
    assert.equal((await c.request('PLAY', srv.url(MOVIE))).status, 454);
    assert.equal((await c.request('FOO', srv.url(MOVIE))).status, 501);
    const multicast = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
      Transport: 'RTP/AVP;multicast;port=5000-5001',
    });
    assert.equal(multicast.status, 461);
    const savp = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
      Transport: 'RTP/SAVP;unicast;client_port=5000-5001',
    });
    assert.equal(savp.status, 461);
    assert.equal(
      (
        await c.request('SETUP', `${srv.url(MOVIE)}/trackID=9`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        })
      ).status,
      404,
    );
    const setup = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    const pause = await c.request('PAUSE', srv.url(MOVIE), { Session: sessionId(setup) });
    assert.equal(pause.status, 455, 'PAUSE before PLAY is not valid in the Ready state');
    c.raw('OPTIONS * RTSP/2.0\r\nCSeq: 77\r\n\r\n');
    const v2 = await c.next();
    assert.equal(v2.status, 505);
    assert.equal(v2.headers.get('cseq'), '77');
    c.raw('OPTIONS * RTSP/1.0\r\n\r\n');
    assert.equal((await c.next()).status, 400, 'no CSeq');
    assert.equal((await c.request('OPTIONS', '*')).status, 200, 'still serving');
    c.close();

    const big = await RawRtspClient.connect(srv.port);
    big.raw(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Junk: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.equal((await big.next()).status, 413);
    await big.closed;

    const body = await RawRtspClient.connect(srv.port);
    body.raw(`SET_PARAMETER ${srv.url(MOVIE)} RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 10000000\r\n\r\n`);
    assert.equal((await body.next()).status, 413);
    await body.closed;

    const bad = await RawRtspClient.connect(srv.port);
    bad.raw('\x16\x03\x01 definitely not rtsp\r\n\r\n');
    assert.equal((await bad.next()).status, 400);
    await bad.closed;

    const c2 = await RawRtspClient.connect(srv.port);
    assert.equal((await c2.request('OPTIONS', '*')).status, 200, 'the server survived all of it');
    c2.close();
  });

  it('plays what is valid of a movie whose media data is cut short, then ends it with BYE', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const setup = await c.request('SETUP', `${srv.url('cut.mp4')}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    // Start near the cut so the test does not wait for the whole movie.
    assert.equal(
      (await c.request('PLAY', srv.url('cut.mp4'), { Session: sessionId(setup), Range: 'npt=4-' })).status,
      200,
    );
    const bye = await until(
      () =>
        c.frames.some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((p) => p.type === 'bye')),
      10_000,
    );
    assert.ok(bye, 'BYE when the data runs out');
    assert.ok(c.frames.filter((f) => f.channel === 0).length > 10, 'the valid part was sent');
    assert.ok(
      srv.logs.some((l) => /WARN .*reading the movie failed/.test(l)),
      'the broken file is logged',
    );
    assert.equal((await c.request('OPTIONS', '*')).status, 200, 'the server keeps serving');
    c.close();
  });

  it('answers pipelined requests in order, with $ frames between them', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const rr = buildReceiverReport(1234, []);
    const frame = Buffer.concat([Buffer.from([0x24, 1, rr.length >> 8, rr.length & 255]), rr]);
    c.raw(
      Buffer.concat([
        Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: 10\r\n\r\n`),
        frame,
        Buffer.from(
          `DESCRIBE ${srv.url(MOVIE)} RTSP/1.0\r\nCSeq: 11\r\n\r\nGET_PARAMETER ${srv.url(MOVIE)} RTSP/1.0\r\nCSeq: 12\r\n\r\n`,
        ),
      ]),
    );
    const a = await c.next();
    const b = await c.next();
    const d = await c.next();
    assert.deepEqual(
      [a.headers.get('cseq'), b.headers.get('cseq'), d.headers.get('cseq')],
      ['10', '11', '12'],
    );
    assert.deepEqual([a.status, b.status, d.status], [200, 200, 200]);
    assert.match(b.body, /m=video/);
    c.close();
  });

  it('plays over TCP with RTP-Info matching the first packets, pauses and resumes on the same timeline, seeks to a keyframe', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const s1 = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(s1.status, 200);
    assert.match(s1.headers.get('transport')!, /RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}/);
    assert.match(s1.headers.get('session')!, /^\d+;timeout=5$/);
    const sid = sessionId(s1);
    const s2 = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=2`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      Session: sid,
    });
    assert.equal(s2.status, 200);
    const videoSsrc = parseInt(/ssrc=([0-9A-F]+)/.exec(s1.headers.get('transport')!)![1], 16);

    const play = await c.request('PLAY', srv.url(MOVIE), { Session: sid, Range: 'npt=0-' });
    assert.equal(play.status, 200);
    assert.match(play.headers.get('range')!, /^npt=0\.000-10\.0\d\d$/);
    const info = play.headers
      .get('rtp-info')!
      .split(',')
      .map((e) =>
        Object.fromEntries(
          e.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
      ) as Record<string, string>[];
    assert.equal(info.length, 2);
    assert.equal(info[0].url, `${srv.url(MOVIE)}/trackID=1`);
    await until(
      () => c.frames.filter((f) => f.channel === 0).length > 30 && c.frames.some((f) => f.channel === 2),
    );
    const v = c.frames.filter((f) => f.channel === 0).map((f) => readRtpHeader(f.payload)!);
    const a = c.frames.filter((f) => f.channel === 2).map((f) => readRtpHeader(f.payload)!);
    assert.equal(v[0].sequence, Number(info[0].seq));
    assert.equal(v[0].timestamp, Number(info[0].rtptime));
    assert.equal(v[0].ssrc, videoSsrc);
    assert.equal(v[0].payloadType, 96);
    assert.equal(a[0].sequence, Number(info[1].seq));
    assert.ok((a[0].timestamp - Number(info[1].rtptime)) >>> 0 < 2048, 'audio starts at the same instant');
    for (let i = 1; i < v.length; i++) assert.equal(v[i].sequence, (v[i - 1].sequence + 1) & 0xffff);
    // A sender report arrives at once on the RTCP channel, for the same SSRC.
    await until(() => c.frames.some((f) => f.channel === 1));
    const sr = parseRtcpCompound(c.frames.find((f) => f.channel === 1)!.payload);
    assert.equal(sr[0].type, 'sr');
    assert.equal((sr[0] as { ssrc: number }).ssrc, videoSsrc);

    await sleep(1500);
    const pause = await c.request('PAUSE', srv.url(MOVIE), { Session: sid });
    assert.equal(pause.status, 200);
    await sleep(300);
    const before = c.frames.filter((f) => f.channel === 0).map((f) => readRtpHeader(f.payload)!);
    const lastBefore = before[before.length - 1];
    const pausedAt = Number(/npt=([\d.]+)-/.exec(pause.headers.get('range')!)![1]);
    assert.ok(pausedAt > 1.4 && pausedAt < 4, `paused at ${pausedAt}`);
    await sleep(1500);
    assert.equal(c.frames.filter((f) => f.channel === 0).length, before.length, 'nothing sent while paused');
    const resume = await c.request('PLAY', srv.url(MOVIE), { Session: sid });
    assert.equal(resume.status, 200);
    const resumedAt = Number(/^npt=([\d.]+)-/.exec(resume.headers.get('range')!)![1]);
    assert.ok(Math.abs(resumedAt - pausedAt) < 0.002, `resumed at ${resumedAt}, paused at ${pausedAt}`);
    await until(() => c.frames.filter((f) => f.channel === 0).length > before.length + 5);
    const afterPkts = c.frames
      .filter((f) => f.channel === 0)
      .slice(before.length)
      .map((f) => readRtpHeader(f.payload)!);
    assert.equal(afterPkts[0].sequence, (lastBefore.sequence + 1) & 0xffff, 'sequence continues');
    const jump = (afterPkts[0].timestamp - lastBefore.timestamp) >>> 0;
    assert.ok(
      jump < 90000 * 0.5,
      `timestamps continue the media timeline (jump ${jump / 90000} s despite 1.8 s of pause)`,
    );

    // Counted before the request: the first packets after the seek may arrive in the same read
    // as the PLAY response, ahead of the response being handed to the test. The sequence goes on
    // from the last packet sent, so no earlier packet carries the number RTP-Info names.
    const n = c.frames.length;
    const seek = await c.request('PLAY', srv.url(MOVIE), { Session: sid, Range: 'npt=5-7' });
    assert.equal(seek.status, 200);
    assert.match(
      seek.headers.get('range')!,
      /^npt=4\.000-7\.000$/,
      'starts on the keyframe at or before 5 s',
    );
    const seekInfo = /url=[^;]+trackID=1;seq=(\d+);rtptime=(\d+)/.exec(seek.headers.get('rtp-info')!)!;
    assert.ok(
      await until(() =>
        c.frames
          .slice(n)
          .some((f) => f.channel === 0 && readRtpHeader(f.payload)!.sequence === Number(seekInfo[1])),
      ),
      `a packet with the sequence number RTP-Info names after the seek (${seekInfo[1]}) arrives`,
    );
    const first = c.frames
      .slice(n)
      .map((f) => f)
      .find((f) => f.channel === 0 && readRtpHeader(f.payload)!.sequence === Number(seekInfo[1]))!;
    assert.equal(readRtpHeader(first.payload)!.timestamp, Number(seekInfo[2]));
    // The first packet after the seek is the start of an IDR picture (NAL type 5, or an FU-A of it, or SPS first).
    const nal = first.payload[12] & 0x1f;
    const inner = nal === 28 ? first.payload[13] & 0x1f : nal;
    assert.ok([5, 6, 7, 9].includes(inner), `first NAL type ${inner}`);
    // npt=5-7: the stream ends with BYE about 3 s later.
    const m = c.frames.length;
    const bye = await until(
      () =>
        c.frames
          .slice(m)
          .some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((p) => p.type === 'bye')),
      8000,
    );
    assert.ok(bye, 'RTCP BYE at the end of the range');
    const teardown = await c.request('TEARDOWN', srv.url(MOVIE), { Session: sid });
    assert.equal(teardown.status, 200);
    assert.equal((await c.request('GET_PARAMETER', srv.url(MOVIE), { Session: sid })).status, 454);
    c.close();
  });

  it('plays only the tracks set up, over UDP, with SR and BYE on RTCP, and keeps several sessions on one connection', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const audio = await udpReceiver();
    const video = await udpReceiver();
    try {
      const sa = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=2`, {
        Transport: `RTP/AVP;unicast;client_port=${audio.rtpPort}-${audio.rtpPort + 1}`,
      });
      assert.equal(sa.status, 200);
      assert.match(
        sa.headers.get('transport')!,
        new RegExp(
          `^RTP/AVP;unicast;source=127\\.0\\.0\\.1;client_port=${audio.rtpPort}-${audio.rtpPort + 1};server_port=\\d+-\\d+;ssrc=[0-9A-F]{8}`,
        ),
      );
      const sv = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
        Transport: `RTP/AVP;unicast;client_port=${video.rtpPort}-${video.rtpPort + 1}`,
      });
      assert.notEqual(sessionId(sa), sessionId(sv), 'a SETUP without Session starts a new session');
      assert.equal((await c.request('PLAY', srv.url(MOVIE), { Session: sessionId(sa) })).status, 200);
      await until(() => audio.rtpPackets.length > 20 && audio.rtcpPackets.length > 0);
      assert.ok(
        audio.rtpPackets.every((p) => readRtpHeader(p)!.payloadType === 97),
        'only audio packets',
      );
      assert.equal(video.rtpPackets.length, 0, 'the other session has not been played');
      assert.equal(parseRtcpCompound(audio.rtcpPackets[0])[0].type, 'sr');
      assert.equal((await c.request('TEARDOWN', srv.url(MOVIE), { Session: sessionId(sa) })).status, 200);
      assert.ok(
        await until(() => audio.rtcpPackets.some((p) => parseRtcpCompound(p).some((x) => x.type === 'bye'))),
        'BYE at TEARDOWN',
      );
      const n = audio.rtpPackets.length;
      await sleep(300);
      assert.ok(audio.rtpPackets.length <= n + 2, 'no more packets after TEARDOWN');
      assert.equal((await c.request('TEARDOWN', srv.url(MOVIE), { Session: sessionId(sv) })).status, 200);
    } finally {
      audio.close();
      video.close();
      c.close();
    }
  });

  it('keeps a UDP session alive on RTCP receiver reports alone, outliving its RTSP connection', async () => {
    const rx = await udpReceiver();
    const idle = await udpReceiver();
    try {
      const c = await RawRtspClient.connect(srv.port);
      const s = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=2`, {
        Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}`,
      });
      const sid = sessionId(s);
      const serverRtcp = Number(/server_port=\d+-(\d+)/.exec(s.headers.get('transport')!)![1]);
      const s2 = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=2`, {
        Transport: `RTP/AVP;unicast;client_port=${idle.rtpPort}-${idle.rtpPort + 1}`,
      });
      const idleSid = sessionId(s2);
      assert.equal((await c.request('PLAY', srv.url(MOVIE), { Session: sid })).status, 200);
      c.close(); // the RTSP connection goes away; the UDP session stays
      const rr = buildReceiverReport(0x1234, []);
      for (let i = 0; i < 8; i++) {
        rx.rtcp.send(rr, serverRtcp, '127.0.0.1');
        await sleep(1000);
      }
      const c2 = await RawRtspClient.connect(srv.port);
      assert.equal(
        (await c2.request('GET_PARAMETER', srv.url(MOVIE), { Session: sid })).status,
        200,
        'kept alive by RTCP',
      );
      assert.equal(
        (await c2.request('GET_PARAMETER', srv.url(MOVIE), { Session: idleSid })).status,
        454,
        'the silent session was reaped',
      );
      assert.equal((await c2.request('TEARDOWN', srv.url(MOVIE), { Session: sid })).status, 200);
      c2.close();
    } finally {
      rx.close();
      idle.close();
    }
  });
});
