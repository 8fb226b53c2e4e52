import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UdpPortAllocator } from '../../transport/index.js';
import { RtspClientError } from './errors.js';
import { pushSession } from './push-session.js';
import { fakeSdp, rtpPacket, type FakeServer } from './test-helpers/fake-server.js';
import { mediaServer } from './test-helpers/media-server.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return pred();
};

const ports = new UdpPortAllocator({ min: 50000, max: 59999 });

describe('pushSession', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`ANNOUNCE, SETUP mode=record and RECORD over ${transport}, then packets reach the server`, async () => {
      const s = await mediaServer({ sdp: '' });
      servers.push(s);
      const sdp = fakeSdp(['streamid=0', 'streamid=1']);
      const push = await pushSession(s.url('live/x'), sdp, { transport, udpPorts: ports, via: 'RTSP/1.0 me' });
      assert.deepEqual(s.methods(), ['ANNOUNCE', 'SETUP', 'SETUP', 'RECORD']);
      const [announce] = s.requests;
      assert.equal(announce.headers.get('content-type'), 'application/sdp');
      assert.equal(announce.body.toString(), sdp);
      assert.ok(s.requests.every((r) => r.headers.get('via') === 'RTSP/1.0 me'));
      assert.deepEqual(
        s.requests.filter((r) => r.method === 'SETUP').map((r) => r.uri),
        [s.url('live/x/streamid=0'), s.url('live/x/streamid=1')],
      );
      assert.ok(s.setups.every((t) => t.mode === 'record'));
      assert.match(s.requests[1].headers.get('transport') ?? '', /;mode=record$/);
      assert.equal(s.requests[3].uri, s.url('live/x'));
      assert.equal(s.requests[3].headers.get('session'), 'S1');
      for (let n = 0; n < 4; n++) {
        assert.notEqual(push.sendRtp(0, rtpPacket(n)), 'dropped');
        assert.notEqual(push.sendRtp(push.tracks[1], rtpPacket(n, 97)), 'dropped');
      }
      push.sendRtcp(1, Buffer.from([0x80, 200, 0, 0]));
      if (transport === 'tcp') {
        assert.ok(await until(() => s.frames.length === 9));
        assert.deepEqual([...new Set(s.frames.map((f) => f.channel))].sort(), [0, 2, 3]);
      } else {
        assert.ok(await until(() => s.udpIn.flat().length === 9));
        assert.equal(s.udpIn[1].length, 5);
      }
      assert.deepEqual(push.tracks.map((t) => t.counts.rtpPackets), [4, 4]);
      await push.close();
      assert.equal(s.methods().at(-1), 'TEARDOWN');
      assert.equal(push.sendRtp(0, rtpPacket(9)), 'dropped');
      assert.equal(push.tracks[0].counts.dropped, 1);
    });
  }

  it('refuses an SDP it cannot push, before connecting', async () => {
    await assert.rejects(pushSession('rtsp://127.0.0.1:1/x', 'nonsense'), (e: unknown) => e instanceof RtspClientError && e.code === 'sdp');
    await assert.rejects(
      pushSession('rtsp://127.0.0.1:1/x', fakeSdp([undefined, undefined])),
      (e: unknown) => e instanceof RtspClientError && e.code === 'sdp' && /no a=control/.test(e.message),
    );
  });

  it('says which request the server refused', async () => {
    const s = await mediaServer({ sdp: '', override: (r, c) => r.method === 'RECORD' && (c.reply(r, 403), true) });
    servers.push(s);
    await assert.rejects(
      pushSession(s.url('live/x'), fakeSdp(['a'])),
      (e: unknown) => e instanceof RtspClientError && e.code === 'status' && e.status === 403 && /RECORD .* was answered 403 Forbidden/.test(e.message),
    );
    assert.ok(await until(() => s.sockets.size === 0));
  });
});
