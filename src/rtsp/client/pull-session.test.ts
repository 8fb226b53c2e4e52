import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UdpPortAllocator } from '../../transport/index.js';
import { RtspClientError } from './errors.js';
import { PullSession, pullSession, type PullTrack } from './pull-session.js';
import type { SessionEndReason } from './session-control.js';
import { fakeServer, fakeSdp, type FakeServer } from './test-helpers/fake-server.js';
import { mediaServer, type MediaServerOptions } from './test-helpers/media-server.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function media(o: MediaServerOptions) {
  const s = await mediaServer(o);
  servers.push(s);
  return s;
}

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return pred();
};

function ended(s: PullSession): Promise<[SessionEndReason, RtspClientError | undefined]> {
  return new Promise((r) => s.once('end', (reason, e) => r([reason, e])));
}

const ports = new UdpPortAllocator({ min: 40000, max: 49999 });

describe('pullSession', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`DESCRIBE, SETUP and PLAY over ${transport}: every track's packets, SDP parsed, TEARDOWN on close`, async () => {
      const s = await media({
        sdp: fakeSdp(['trackID=1', 'trackID=2']),
        contentBase: (u) => `${u}/`,
        stranger: transport === 'udp',
      });
      const got: [number, number][] = [];
      const session = await pullSession(s.url('a.mp4'), {
        transport,
        udpPorts: ports,
        onRtp: (t: PullTrack, p: Buffer) => got.push([t.index, p.readUInt16BE(2)]),
      });
      assert.deepEqual(s.methods(), ['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY']);
      assert.deepEqual(
        s.requests.filter((r) => r.method === 'SETUP').map((r) => r.uri),
        [s.url('a.mp4/trackID=1'), s.url('a.mp4/trackID=2')],
      );
      assert.equal(s.requests[4].uri, s.url('a.mp4/'), 'PLAY on the aggregate (Content-Base)');
      assert.equal(s.requests[4].headers.get('session'), 'S1');
      assert.equal(s.requests[3].headers.get('session'), 'S1', 'the second SETUP joins the session');
      assert.equal(session.description.media.length, 2);
      assert.equal(session.description.media[1].format.encodingName, 'H264');
      assert.equal(session.sessionId, 'S1');
      if (transport === 'tcp') {
        assert.deepEqual(s.setups.map((x) => x.interleaved), [[0, 1], [2, 3]]);
        assert.deepEqual(session.tracks.map((t) => t.channels), [[0, 1], [2, 3]]);
      } else {
        for (const spec of s.setups) assert.ok(spec.clientPort && spec.clientPort[0] % 2 === 0 && spec.clientPort[0] >= 40000);
      }
      assert.ok(await until(() => got.length === 10), `got ${got.length}`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.length, 10, 'the stranger\'s datagrams were ignored');
      assert.equal(session.foreignDatagrams, transport === 'udp' ? 10 : 0);
      assert.deepEqual(session.tracks.map((t) => t.counts.rtpPackets), [5, 5]);
      const end = ended(session);
      await session.close();
      assert.deepEqual(await end, ['teardown', undefined]);
      assert.equal(s.methods().at(-1), 'TEARDOWN');
      await session.close();
      assert.equal(session.endReason, 'teardown');
    });
  }

  it('resolves controls without Content-Base against the request URL, and honours a session-level control', async () => {
    const s = await media({ sdp: fakeSdp(['rtsp://127.0.0.1:1/abs/t0', '/root/t1'], 'agg') });
    const session = await pullSession(s.url('cam'));
    const setups = s.requests.filter((r) => r.method === 'SETUP').map((r) => r.uri);
    assert.deepEqual(setups, ['rtsp://127.0.0.1:1/abs/t0', `rtsp://127.0.0.1:${s.port}/root/t1`]);
    assert.equal(s.requests.find((r) => r.method === 'PLAY')?.uri, s.url('cam/agg'));
    await session.close();
  });

  it('keeps the session alive with GET_PARAMETER when OPTIONS lists it, else OPTIONS', async () => {
    for (const [pub, method] of [['OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER', 'GET_PARAMETER'], ['OPTIONS, PLAY', 'OPTIONS']]) {
      // timeout=1: a keepalive every 500 ms.
      const s = await media({ sdp: fakeSdp(['t']), sessionTimeout: 1, public: pub, packets: 0 });
      const session = await pullSession(s.url(), { inactivityMs: 60_000 });
      const before = s.methods().length;
      await new Promise((r) => setTimeout(r, 1300));
      const sent = s.methods().slice(before);
      assert.ok(sent.length >= 2 && sent.every((m) => m === method), `${pub}: ${sent.join()}`);
      const ka = s.requests.at(-1)!;
      assert.equal(ka.headers.get('session'), 'S1');
      await session.close();
    }
  });

  it('ends with bye when every track said BYE', async () => {
    const s = await media({ sdp: fakeSdp(['a', 'b']), bye: true });
    const session = await PullSession.open(s.url());
    const end = ended(session);
    await session.play();
    assert.equal((await end)[0], 'bye');
    assert.ok(session.tracks.every((t) => t.counts.bye));
  });

  it('ends with timeout when no media comes, and with closed when the server hangs up', async () => {
    const s = await media({ sdp: fakeSdp(['a']), packets: 0 });
    const quiet = await pullSession(s.url(), { inactivityMs: 200 });
    const [reason, err] = await ended(quiet);
    assert.equal(reason, 'timeout');
    assert.match(err?.message ?? '', /no media from .* for 200 ms/);

    const s2 = await media({ sdp: fakeSdp(['a']), packets: 0 });
    const dropped = await pullSession(s2.url());
    const end = ended(dropped);
    for (const sock of s2.sockets) sock.destroy();
    const [r2, e2] = await end;
    assert.equal(r2, 'closed');
    assert.match(e2?.message ?? '', /closed the connection/);
  });

  it('ends with redirect when the server sends REDIRECT', async () => {
    const s = await media({ sdp: fakeSdp(['a']), packets: 0 });
    const session = await pullSession(s.url());
    const end = ended(session);
    for (const sock of s.sockets) sock.write('REDIRECT rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 1\r\nLocation: rtsp://elsewhere/x\r\n\r\n');
    const [reason, err] = await end;
    assert.equal(reason, 'redirect');
    assert.match(err?.message ?? '', /rtsp:\/\/elsewhere\/x/);
  });

  it('follows redirects to another server, and stops after the limit', async () => {
    const target = await media({ sdp: fakeSdp(['t']) });
    const hop = await fakeServer((req, c) => c.reply(req, 302, { Location: target.url('moved') }));
    servers.push(hop);
    const session = await pullSession(hop.url('old'));
    assert.equal(session.url, target.url('moved'));
    assert.deepEqual(target.methods(), ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY']);
    await session.close();

    const loop = await fakeServer((req, c) => c.reply(req, 301, { Location: req.uri }));
    servers.push(loop);
    await assert.rejects(pullSession(loop.url(), { maxRedirects: 3 }), (e: unknown) => e instanceof RtspClientError && e.code === 'redirect' && /more than 3 redirects/.test(e.message));
    assert.equal(loop.accepted, 4);
  });

  it('sends a 305 request through the proxy named, with the original URL', async () => {
    const proxy = await media({ sdp: fakeSdp(['t']) });
    const origin = await fakeServer((req, c) => c.reply(req, 305, { Location: proxy.url('') }));
    servers.push(origin);
    const session = await pullSession(origin.url('cam'));
    assert.equal(proxy.requests.find((r) => r.method === 'DESCRIBE')?.uri, origin.url('cam'));
    await session.close();
  });

  it('fails clearly on a DESCRIBE refused, an unusable SDP, a refused transport, a SETUP without Session', async () => {
    const cases: [MediaServerOptions['override'], string, RegExp][] = [
      [(r, c) => r.method === 'DESCRIBE' && (c.reply(r, 404), true), 'status', /DESCRIBE rtsp:\/\/.* was answered 404 Not Found/],
      [(r, c) => r.method === 'DESCRIBE' && (c.reply(r, 200, { 'Content-Type': 'application/sdp' }, 'garbage'), true), 'sdp', /SDP the client cannot use/],
      [(r, c) => r.method === 'DESCRIBE' && (c.reply(r, 200, { 'Content-Type': 'text/html' }, '<html>'), true), 'sdp', /text\/html, not application\/sdp/],
      [(r, c) => r.method === 'SETUP' && (c.reply(r, 461), true), 'transport', /refuses RTP over TCP \(461\)/],
      [(r, c) => r.method === 'SETUP' && (c.reply(r, 200, { Transport: 'RTP/AVP;unicast;client_port=5000-5001' }), true), 'transport', /asked for RTP\/AVP\/TCP/],
      [(r, c) => r.method === 'SETUP' && (c.reply(r, 200, { Transport: 'RTP/AVP/TCP;interleaved=0-1' }), true), 'protocol', /without a Session header/],
    ];
    for (const [override, code, re] of cases) {
      const s = await media({ sdp: fakeSdp(['a']), override });
      await assert.rejects(pullSession(s.url()), (e: unknown) => {
        assert.ok(e instanceof RtspClientError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, re);
        return true;
      });
      assert.ok(await until(() => s.sockets.size === 0), 'the connection was closed');
    }
  });
});
