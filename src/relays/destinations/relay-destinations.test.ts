import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { Socket as NetSocket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, pathsSchema, type Config } from '../../config/index.js';
import { ClientDirectory, CoreEvents, StreamRegistry, type RelayStatus, type Stream } from '../../core/index.js';
import { FakePublisher } from '../../core/test-helpers/fakes.js';
import { createLogger, silentLogger, type Logger } from '../../logging/index.js';
import { RelayReader } from '../../readers/index.js';
import { avFeeds, TrackFeed } from '../../readers/test-helpers/track-feed.js';
import { parseRtcpCompound } from '../../rtcp/index.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { mediaServer, type MediaServer, type MediaServerOptions } from '../../rtsp/client/test-helpers/media-server.js';
import { UdpPortAllocator } from '../../transport/index.js';
import { RelayDestinations } from './relay-destinations.js';

const until = async (ok: () => boolean, ms = 3000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (ok()) return true;
  return ok();
};

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A relay setup: a registry with `live/a` fed by hand (when published, by a source that came
 * through `hops`), destinations following `paths` with the server's UDP ports `ports` (default:
 * rtp.portMin..portMax), every relay.state event kept. */
function rig(paths: unknown, sets: string[] = [], log: Logger = silentLogger(), ports?: UdpPortAllocator) {
  const config: Config = loadConfig({ sets: ['rtp.rtcpInterval=1', 'rtp.portMin=52000', 'rtp.portMax=53999', ...sets] });
  let entries = pathsSchema.parse(paths);
  const events = new CoreEvents();
  const registry = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger(), events });
  const states: RelayStatus[] = [];
  events.on('relay.state', (s) => states.push(s));
  const udp = ports ?? new UdpPortAllocator({ min: config.rtp.portMin, max: config.rtp.portMax });
  const clients = new ClientDirectory();
  const relays = new RelayDestinations({ registry, events, config: () => config, log, serverId: 'test-server', ports: udp, paths: () => entries, clients });
  cleanup.push(() => relays.close(), () => registry.close('test over'));
  let feeds = avFeeds();
  const publish = (hops?: string[]): Stream => {
    feeds = avFeeds();
    return registry.publish('live/a', feeds.map((f) => f.track), Object.assign(new FakePublisher(), { hops }), 0);
  };
  return {
    config,
    registry,
    events,
    states,
    relays,
    clients,
    publish,
    get video(): TrackFeed {
      return feeds[0];
    },
    get audio(): TrackFeed {
      return feeds[1];
    },
    setPaths(next: unknown) {
      entries = pathsSchema.parse(next);
      relays.apply();
    },
    /** The states one target went through. */
    trail: (target: RegExp) => states.filter((s) => target.test(s.target)).map((s) => s.state),
  };
}

/** Receivers on an even port and the three above (two tracks' RTP and RTCP). */
async function udpReceivers(): Promise<{ port: number; got: Buffer[][] }> {
  for (;;) {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    const sockets: Socket[] = [];
    const got: Buffer[][] = [[], [], [], []];
    try {
      for (let i = 0; i < 4; i++) {
        const s = createSocket('udp4');
        sockets.push(s);
        s.on('message', (m) => got[i].push(m));
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(base + i, '127.0.0.1', () => resolve());
        });
      }
      cleanup.push(() => sockets.forEach((s) => s.close()));
      return { port: base, got };
    } catch {
      sockets.forEach((s) => s.close());
    }
  }
}

/** An even port from which `count` UDP ports were free a moment ago. */
async function freeUdpPorts(count: number): Promise<number> {
  for (;;) {
    const base = 54000 + 2 * Math.floor(Math.random() * 3000);
    const sockets: Socket[] = [];
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const s = createSocket('udp4');
      sockets.push(s);
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(base + i, () => resolve(true));
      });
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
}

async function server(o: Partial<MediaServerOptions> = {}): Promise<MediaServer> {
  const s = await mediaServer({ sdp: '', ...o });
  cleanup.push(() => s.close());
  return s;
}

/** Consecutive sequence numbers and timestamps that never go back, over `packets`. */
function continuous(packets: Buffer[]): boolean {
  const h = packets.map((p) => readRtpHeader(p)!);
  return h.every((x, i) => i === 0 || (x.sequence === ((h[i - 1].sequence + 1) & 0xffff) && ((x.timestamp - h[i - 1].timestamp) >>> 0) < 0x80000000));
}

/** The stream's relay reader of `protocol`, if one reads it. */
const relayReader = (s: Stream, protocol: string) => [...s.readers].find((r): r is RelayReader => r instanceof RelayReader && r.protocol === protocol);

describe('RelayDestinations: forward', () => {
  it('sends each track to port + 2N from a keyframe on, with continuous RTP and sender reports on the port above', async () => {
    const rx = await udpReceivers();
    const r = rig({ 'live/a': { forward: [`udp://127.0.0.1:${rx.port}?ttl=3`] } });
    r.relays.apply();
    assert.deepEqual(r.trail(/udp/), ['stopped'], 'configured, waiting for a stream');
    r.publish();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    r.video.delta(); // before any keyframe: not sent
    r.video.key();
    for (let i = 0; i < 20; i++) {
      r.video.delta();
      r.audio.audio();
    }
    assert.ok(await until(() => rx.got[0].length === 42 && rx.got[2].length === 20), `video ${rx.got[0].length}, audio ${rx.got[2].length}`);
    assert.ok(continuous(rx.got[0]), 'video sequence numbers follow each other');
    assert.ok(continuous(rx.got[2]), 'audio sequence numbers follow each other');
    assert.equal(readRtpHeader(rx.got[0][0])!.ssrc, r.registry.get('live/a')!.tracks[0].ssrc);
    assert.ok(await until(() => rx.got[1].length > 0 && rx.got[3].length > 0));
    assert.equal(parseRtcpCompound(rx.got[1][0])[0].type, 'sr');
    const st = r.relays.status()[0];
    assert.equal(st.role, 'forward');
    assert.equal(st.target, `udp://127.0.0.1:${rx.port}?ttl=3`);
    assert.ok(st.bytesOut > 42 * 12, `bytesOut ${st.bytesOut}`);
  });

  it('stops when the stream ends and starts again when it is published again', async () => {
    const rx = await udpReceivers();
    const r = rig({ 'live/a': { forward: [{ host: '127.0.0.1', port: rx.port }] } });
    const first = r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    r.video.key();
    first.end('publisher left');
    assert.equal(r.relays.status()[0].state, 'stopped');
    assert.ok(await until(() => parseRtcpCompound(rx.got[1].at(-1) ?? Buffer.alloc(0)).some((p) => p.type === 'bye')), 'a BYE ends the forward');
    r.publish();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    r.video.key();
    assert.ok(await until(() => rx.got[0].length === 4));
    assert.deepEqual(r.trail(/udp/), ['connecting', 'playing', 'stopped', 'connecting', 'playing']);
  });

  it('is listed as a relay client while it plays; disconnected there, it starts again on its back-off', async () => {
    const rx = await udpReceivers();
    const r = rig({ 'live/a': { forward: [`udp://127.0.0.1:${rx.port}`] } });
    r.relays.apply();
    assert.equal(r.clients.size, 0, 'nothing plays before a stream is published');
    const stream = r.publish();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    const [row] = r.clients.list();
    assert.deepEqual(
      { kind: row.kind, protocol: row.protocol, address: row.address, url: row.url, path: row.path, transport: row.transport },
      { kind: 'relay', protocol: 'rtp', address: '127.0.0.1', url: `udp://127.0.0.1:${rx.port}`, path: 'live/a', transport: 'UDP' },
    );
    r.video.key();
    r.video.delta();
    assert.ok(await until(() => rx.got[0].length === 4), 'a keyframe and a frame, two packets each');
    assert.equal(r.clients.get(row.id)?.packetsSent, 4, 'its packets are counted');
    assert.ok(r.clients.get(row.id)!.bytesSent > 4 * 12);
    assert.equal(r.clients.disconnect(row.id), true);
    assert.equal(r.relays.status()[0].state, 'retrying');
    assert.equal(r.clients.get(row.id), undefined, 'the dropped connection is no longer listed');
    // The back-off's first wait is a second.
    assert.ok(await until(() => r.relays.status()[0].state === 'playing', 5000));
    assert.equal(r.clients.size, 1, 'listed again');
    assert.notEqual(r.clients.list()[0].id, row.id);
    stream.end('publisher left');
    assert.equal(r.clients.size, 0, 'a stopped leg is not listed');
  });

  it('counts sends nobody receives and says so once a minute; the stream goes on', async () => {
    const lines: string[] = [];
    const probe = await udpReceivers();
    const r = rig({ 'live/a': { forward: [`udp://127.0.0.1:${probe.port + 8000}`] } }, [], createLogger({ level: 'info', write: (l) => lines.push(l) }));
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    r.video.key();
    for (let i = 0; i < 150; i++) {
      r.video.delta();
      await sleep(10);
    }
    const failing = lines.filter((l) => /UDP sends failed \(.*ECONNREFUSED.*\); the stream goes on/.test(l));
    assert.equal(failing.length, 1, lines.join(''));
    const st = r.relays.status()[0];
    assert.equal(st.state, 'playing');
    assert.match(st.lastError ?? '', /UDP send failed: .*ECONNREFUSED/);
  });

  it('retries a destination that cannot be opened', async () => {
    const r = rig({ 'live/a': { forward: [{ host: '127.0.0.1', port: 7000, iface: '192.0.2.250' }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'retrying'));
    const st = r.relays.status()[0];
    assert.match(st.lastError ?? '', /from 192\.0\.2\.250/);
    assert.equal(st.reconnects, 1);
    assert.ok(st.nextAttemptAt! > Date.now() && st.nextAttemptAt! <= Date.now() + 1000);
  });
});

describe('RelayDestinations: push', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`announces the stream's SDP with the hop header and sends it over ${transport} from a keyframe`, async () => {
      const s = await server();
      const r = rig({ 'live/a': { push: [{ url: s.url('edge/a'), transport }] } });
      r.publish();
      r.relays.apply();
      assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
      assert.deepEqual(s.methods(), ['ANNOUNCE', 'SETUP', 'SETUP', 'RECORD']);
      assert.ok(s.requests.every((q) => q.headers.get('via') === 'RTSP/1.0 test-server'));
      const sdp = s.requests[0].body.toString();
      assert.match(sdp, /m=video 0 RTP\/AVP 96/);
      assert.match(sdp, /a=control:trackID=1/);
      assert.match(sdp, /m=audio 0 RTP\/AVP 97/);
      r.video.delta();
      r.video.key();
      r.video.delta();
      r.audio.audio();
      const rtp = (): Buffer[] =>
        transport === 'tcp' ? s.frames.filter((f) => f.channel === 0).map((f) => f.payload) : (s.udpIn[0] ?? []).filter((p) => p[1] !== 200 && p[1] !== 202);
      assert.ok(await until(() => rtp().length === 4), `video packets: ${rtp().length}`);
      assert.ok(continuous(rtp()));
      assert.equal(r.relays.status()[0].reconnects, 0);
      assert.ok(r.relays.status()[0].bytesOut > 0);
    });
  }

  it('takes the kind of each push from its URL: rtsp:// is announced, icecast:// feeds a mount', async () => {
    const s = await server();
    // avFeeds' AAC has no config an ICY byte stream could carry: the Icecast leg says so.
    const r = rig({ 'live/a': { push: [s.url('edge/a'), 'icecast://source:pw@127.0.0.1:9/m'] } });
    r.publish();
    r.relays.apply();
    const leg = (target: RegExp) => r.relays.status().find((x) => target.test(x.target));
    assert.ok(await until(() => leg(/^rtsp/)?.state === 'playing' && leg(/^icecast/)?.state === 'retrying'), JSON.stringify(r.relays.status()));
    assert.deepEqual(s.methods(), ['ANNOUNCE', 'SETUP', 'SETUP', 'RECORD']);
    assert.equal(leg(/^icecast/)?.target, 'icecast://127.0.0.1:9/m');
    assert.match(leg(/^icecast/)?.lastError ?? '', /has no audio track an Icecast mount can carry/);
  });

  it('names the relays the stream came through before this server in the hop header', async () => {
    const s = await server();
    const r = rig({ 'live/a': { push: [s.url('edge/a')] } });
    // Pushed here by origin-1 through relay-2 (its ANNOUNCE's Via); a hop no Via can carry is left out.
    r.publish(['origin-1', 'relay-2', 'not a hop']);
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    assert.ok(s.requests.length >= 4);
    for (const q of s.requests) assert.equal(q.headers.get('via'), 'RTSP/1.0 origin-1, RTSP/1.0 relay-2, RTSP/1.0 test-server');
  });

  it("binds a UDP push's local ports from the server's allocator, shared with its viewers and pulls", async () => {
    const s = await server();
    // The config says 52000-53999; the server's allocator (which its viewers and pulls use too) is
    // the one to take them from.
    const base = await freeUdpPorts(4);
    const shared = new UdpPortAllocator({ min: base, max: base + 3 });
    const r = rig({ 'live/a': { push: [{ url: s.url('edge/a'), transport: 'udp' }] } }, [], silentLogger(), shared);
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'), r.relays.status()[0].lastError);
    const ports = s.setups.map((t) => t.clientPort?.[0]).sort();
    assert.deepEqual(ports, [base, base + 2]);
  });

  it('tears the push down when the stream ends and announces again when it is back', async () => {
    const s = await server();
    const r = rig({ 'live/a': { push: [s.url('edge/a')] } });
    r.relays.apply();
    const first = r.publish();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    first.end('publisher left');
    assert.ok(await until(() => s.methods().includes('TEARDOWN')));
    assert.equal(r.relays.status()[0].state, 'stopped');
    r.publish();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    assert.equal(s.methods().filter((m) => m === 'ANNOUNCE').length, 2);
    assert.equal(r.relays.status()[0].reconnects, 0, 'an ended stream is no failure');
  });

  it('retries a refusal with doubling waits up to max, saying when and why', async () => {
    const announces: number[] = [];
    const s = await server({
      override: (q, c) => {
        if (q.method !== 'ANNOUNCE') return false;
        announces.push(Date.now());
        c.reply(q, 403);
        return true;
      },
    });
    const r = rig({ 'live/a': { push: [{ url: s.url('edge/a'), retry: { min: 0.1, max: 0.4 } }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => announces.length >= 5, 4000));
    const gaps = announces.slice(1).map((t, i) => t - announces[i]);
    [100, 200, 400, 400].forEach((want, i) => assert.ok(gaps[i] >= want - 10 && gaps[i] < want + 250, `gap ${i}: ${gaps[i]} ms, expected about ${want}`));
    const retrying = r.states.filter((x) => x.state === 'retrying');
    assert.match(retrying[0].lastError ?? '', /ANNOUNCE .* was answered 403/);
    assert.ok(retrying.every((x, i) => x.reconnects === i + 1 && x.nextAttemptAt !== undefined));
    assert.deepEqual(r.trail(/edge/).slice(0, 4), ['connecting', 'retrying', 'connecting', 'retrying']);
  });

  it('a far end that finds this server in the hop header is a loop: waits the longest', async () => {
    const s = await server({
      override: (q, c) => q.method === 'ANNOUNCE' && (c.raw(`RTSP/1.0 403 Loop Detected\r\nCSeq: ${q.headers.get('cseq')}\r\n\r\n`), true),
    });
    const r = rig({ 'live/a': { push: [{ url: s.url('edge/a'), retry: { min: 0.1, max: 20 } }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'retrying'));
    const st = r.relays.status()[0];
    assert.match(st.lastError ?? '', /403 Loop Detected/);
    assert.ok(st.nextAttemptAt! - Date.now() > 19_000, 'retry.max, not min');
  });

  it('reconnects by itself when the far end drops, and plays again', async () => {
    const s = await server();
    const r = rig({ 'live/a': { push: [{ url: s.url('edge/a'), retry: { min: 0.1, max: 1 } }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    for (const sock of s.sockets) sock.destroy();
    assert.ok(await until(() => r.relays.status()[0].state === 'retrying'));
    assert.match(r.relays.status()[0].lastError ?? '', /closed/);
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    assert.equal(s.accepted, 2);
    assert.equal(r.relays.status()[0].reconnects, 1);
    r.video.key();
    assert.ok(await until(() => s.frames.filter((f) => f.channel === 0).length === 2), 'media flows on the new session');
    assert.equal(r.registry.get('live/a')!.readers.size, 1, 'the dropped session left the stream');
  });

  it('is listed as a relay client while it plays; disconnected there, it announces again', async () => {
    const s = await server();
    const r = rig({ 'live/a': { push: [{ url: s.url('edge/a').replace('rtsp://', 'rtsp://bob:secret@'), retry: { min: 0.1, max: 1 } }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    const [row] = r.clients.list();
    assert.equal(row.kind, 'relay');
    assert.equal(row.protocol, 'rtsp');
    assert.equal(row.address, '127.0.0.1');
    assert.equal(row.url, s.url('edge/a'), 'no credentials');
    assert.equal(row.transport, 'TCP');
    r.clients.disconnect(row.id);
    assert.equal(r.relays.status()[0].state, 'retrying');
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    assert.equal(s.accepted, 2, 'a new session');
    assert.equal(r.clients.size, 1);
  });

  it('skips to the next keyframe when the far end stops reading, its memory bounded', async (t) => {
    let stalled: NetSocket | undefined;
    const s = await server({
      override: (q, c) => {
        if (q.method === 'RECORD') stalled = c.socket;
        return false;
      },
    });
    const r = rig({ 'live/a': { push: [s.url('edge/a')] } }, ['live.viewerQueueBytes=65536']);
    const stream = r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing'));
    stalled!.pause();
    const reader = relayReader(stream, 'relay-push')!;
    let maxQueued = 0;
    for (let i = 0; i < 400 && reader.dropped === 0; i++) {
      r.video.key();
      for (let j = 0; j < 5; j++) r.video.big(40, 1400);
      maxQueued = Math.max(maxQueued, reader.outputs[0].sink.backlog);
      await sleep(1);
    }
    assert.ok(reader.dropped > 0, 'frames were skipped');
    assert.ok(maxQueued < 65536 + 2 * 40 * 1420, `queued at most ${maxQueued} bytes`);
    t.diagnostic(`${reader.dropped} frames skipped; at most ${maxQueued} bytes queued on the connection`);
    assert.equal(r.relays.status()[0].state, 'playing', 'a slow far end is no failure');
  });

  it('apply() stops removed and changed destinations, keeps the others running', async () => {
    const keep = await server();
    const drop = await server();
    const rx = await udpReceivers();
    const r = rig({ 'live/a': { push: [keep.url('edge/a'), drop.url('edge/a')], forward: [`udp://127.0.0.1:${rx.port}`] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status().every((x) => x.state === 'playing')));
    r.setPaths({ 'live/a': { push: [keep.url('edge/a')], forward: [`udp://127.0.0.1:${rx.port}?ttl=2`] } });
    assert.ok(await until(() => drop.methods().includes('TEARDOWN')));
    assert.ok(await until(() => r.relays.status().length === 2 && r.relays.status().every((x) => x.state === 'playing')));
    assert.equal(keep.accepted, 1, 'the unchanged push kept its session');
    assert.ok(!keep.methods().includes('TEARDOWN'));
    assert.deepEqual(r.trail(/udp/), ['connecting', 'playing', 'stopped', 'connecting', 'playing'], 'the changed forward stopped, its new form started');
    assert.equal(r.registry.get('live/a')!.readers.size, 2);
  });

  it('close() stops every leg: TEARDOWN, no retry after it, no listener left', async () => {
    const s = await server();
    const refusing = await server({ override: (q, c) => q.method === 'ANNOUNCE' && (c.reply(q, 503), true) });
    const r = rig({ 'live/a': { push: [s.url('edge/a'), { url: refusing.url('edge/a'), retry: { min: 0.1, max: 0.1 } }] } });
    r.publish();
    r.relays.apply();
    assert.ok(await until(() => r.relays.status()[0].state === 'playing' && r.relays.status()[1].state === 'retrying'));
    r.relays.close();
    assert.ok(await until(() => s.methods().includes('TEARDOWN')));
    const tries = refusing.accepted;
    await sleep(300);
    assert.equal(refusing.accepted, tries, 'no attempt after close');
    assert.equal(r.events.listenerCount('path.published'), 0);
    assert.equal(r.registry.get('live/a')!.readers.size, 0);
    r.relays.apply();
    assert.deepEqual(r.relays.status(), []);
  });
});
