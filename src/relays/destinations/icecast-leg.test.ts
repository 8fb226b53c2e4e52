import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mpaFormat } from '../../codecs/mpa/format.js';
import { parseMpegAudioHeader } from '../../codecs/mpa/header.js';
import { loadConfig, pathsSchema } from '../../config/index.js';
import { ClientDirectory, CoreEvents, StreamRegistry, type RelayStatus, type Stream } from '../../core/index.js';
import { StreamTrack } from '../../core/stream-track.js';
import { FakePublisher, H264 } from '../../core/test-helpers/fakes.js';
import { silentLogger } from '../../logging/index.js';
import { AudioFeed } from '../../sources/audio-feed.js';
import { UdpPortAllocator } from '../../transport/index.js';
import { RelayDestinations } from './relay-destinations.js';

const until = async (ok: () => boolean, ms = 5000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (ok()) return true;
  return ok();
};

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo: 417-byte frames, numbered in their last byte. */
const FRAME = 417;
function mp3Frames(n: number, first = 0): Buffer {
  const b = Buffer.alloc(n * FRAME);
  for (let i = 0; i < n; i++) {
    b.writeUInt32BE(0xfffb9000, i * FRAME);
    b[i * FRAME + FRAME - 1] = (first + i) & 0xff;
  }
  return b;
}

/** One request the fake server got: its head, and (a PUT) the body that followed. */
interface Got {
  head: string;
  body: Buffer[];
  socket: Socket;
}

/** An Icecast stand-in: each PUT answered with `answer(head)` (undefined: nothing), GETs with 200;
 * `paused`: a PUT's body is not read. */
async function fakeIcecast(answer: (head: string) => string | undefined, opts: { paused?: boolean } = {}) {
  const puts: Got[] = [];
  const gets: string[] = [];
  const server: Server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    let got: Got | undefined;
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      if (got) return void got.body.push(d);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (head.startsWith('GET ')) {
        gets.push(head);
        socket.end('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      got = { head, body: [buf.subarray(end + 4)], socket };
      puts.push(got);
      const a = answer(head);
      if (a !== undefined) socket.write(a);
      if (opts.paused) socket.pause();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  cleanup.push(() => {
    for (const p of puts) p.socket.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port, puts, gets, body: (i: number) => Buffer.concat(puts[i]?.body ?? []) };
}

/** `radio/a` pushed to `url` (a fast back-off), with the relay states kept and an MP3 (or, with
 * `video`, an H.264-only) stream to publish. */
function rig(url: string, sets: string[] = [], video = false) {
  const config = loadConfig({ sets: ['rtp.portMin=52000', 'rtp.portMax=53999', ...sets] });
  const entries = pathsSchema.parse({ 'radio/a': { push: [{ url, retry: { min: 0.2, max: 0.4 } }] } });
  const events = new CoreEvents();
  const registry = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger(), events });
  const states: RelayStatus[] = [];
  events.on('relay.state', (s) => states.push(s));
  const clients = new ClientDirectory();
  const ports = new UdpPortAllocator({ min: config.rtp.portMin, max: config.rtp.portMax });
  const relays = new RelayDestinations({ registry, events, config: () => config, log: silentLogger(), serverId: 'test', ports, paths: () => entries, clients });
  cleanup.push(() => relays.close(), () => registry.close('test over'));
  relays.apply();
  const track = new StreamTrack({ id: 1, format: video ? H264 : mpaFormat(), bitrateKbps: 128 });
  const feed = new AudioFeed({ codec: 'mp3', onFormat: () => undefined, onPacket: (p) => track.ingest(p) });
  let stream: Stream | undefined;
  return {
    states,
    clients,
    relays,
    publish(): Stream {
      stream = registry.publish('radio/a', [track], new FakePublisher(), 0);
      return stream;
    },
    /** `n` frames through the feed (the last one waits for the next header to confirm it). */
    feed: (n: number, first = 0) => feed.push(mp3Frames(n, first)),
    status: () => relays.status()[0],
    trail: () => states.map((s) => s.state),
  };
}

/** The frames of `b`, walked header to header; -1 where a header is missing. */
function frameNumbers(b: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + FRAME <= b.length; off += FRAME) out.push(parseMpegAudioHeader(b, off)?.frameSize === FRAME ? b[off + FRAME - 1] : -1);
  return out;
}

describe('IcecastLeg', () => {
  it('sends PUT with Basic auth, the content type and the station info, then whole MP3 frames from after 100 Continue', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.1 100 Continue\r\n\r\n');
    const r = rig(`icecast://src:p%40ss@127.0.0.1:${ic.port}/live.mp3`);
    assert.deepEqual(r.trail(), ['stopped'], 'waits for the path to be published');
    const stream = r.publish();
    stream.setMetadata({ name: 'Test FM\r\nX-Evil: 1', genre: 'Jazz', description: 'All day', url: 'http://example.com/', public: false, bitrateKbps: 128 });
    assert.ok(await until(() => r.status().state === 'playing'), JSON.stringify(r.states));
    const head = ic.puts[0].head.split('\r\n');
    assert.equal(head[0], 'PUT /live.mp3 HTTP/1.1');
    assert.ok(head.includes(`Authorization: Basic ${Buffer.from('src:p@ss').toString('base64')}`), head.join('\n'));
    assert.ok(head.includes('Content-Type: audio/mpeg'));
    assert.ok(head.includes('Expect: 100-continue'));
    assert.ok(head.includes('ice-name: Test FM X-Evil: 1'), 'a line break in a value cannot start a header');
    for (const h of ['ice-genre: Jazz', 'ice-description: All day', 'ice-url: http://example.com/', 'ice-bitrate: 128', 'ice-public: 0']) assert.ok(head.includes(h), h);
    assert.equal(r.status().target, `icecast://127.0.0.1:${ic.port}/live.mp3`, 'no password in the status');
    r.feed(21);
    assert.ok(await until(() => ic.body(0).length >= 20 * FRAME));
    assert.deepEqual(frameNumbers(ic.body(0)), Array.from({ length: 20 }, (_, i) => i), 'whole frames in order, nothing else');
    const [listed] = r.clients.list();
    assert.equal(listed.kind, 'relay');
    assert.equal(listed.protocol, 'icecast');
    assert.equal(listed.url, `icecast://127.0.0.1:${ic.port}/live.mp3`);
    assert.equal(r.clients.get(listed.id)?.bytesSent, 20 * FRAME);
  });

  it('tells the server each new title with updinfo, with the same login', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.0 200 OK\r\n\r\n');
    const r = rig(`icecast://source:pw@127.0.0.1:${ic.port}/m`);
    const stream = r.publish();
    stream.setMetadata({ title: 'First & Song' });
    assert.ok(await until(() => r.status().state === 'playing'));
    r.feed(3);
    assert.ok(await until(() => ic.gets.length === 1), 'the title the stream had');
    stream.setMetadata({ genre: 'no title change' });
    stream.setMetadata({ title: 'Second' });
    r.feed(3, 3);
    assert.ok(await until(() => ic.gets.length === 2));
    const lines = ic.gets.map((g) => g.split('\r\n'));
    const q = (i: number) => new URL(lines[i][0].split(' ')[1], 'http://x').searchParams;
    assert.deepEqual([q(0).get('mount'), q(0).get('mode'), q(0).get('song')], ['/m', 'updinfo', 'First & Song']);
    assert.equal(q(1).get('song'), 'Second');
    assert.ok(lines[1].includes(`Authorization: Basic ${Buffer.from('source:pw').toString('base64')}`));
    await sleep(200);
    assert.equal(ic.gets.length, 2, 'a change of something else sends nothing');
  });

  it('reports a refusal with its reason and tries again on the back-off', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.0 401 Authentication Required\r\nContent-Type: text/html\r\n\r\n<html><body><b>401 - You need to authenticate</b></body></html>');
    const r = rig(`icecast://source:wrong@127.0.0.1:${ic.port}/m`);
    r.publish();
    assert.ok(await until(() => r.status().state === 'retrying'));
    assert.match(r.status().lastError ?? '', /^refused: HTTP\/1.0 401 Authentication Required \(401 - You need to authenticate\)$/);
    assert.ok(await until(() => ic.puts.length >= 3, 5000), 'tried again');
    assert.equal(r.clients.size, 0, 'never listed: it never played');
  });

  it('says why a path without audio Icecast can carry is not fed, and does not try again', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.0 200 OK\r\n\r\n');
    const r = rig(`icecast://source:pw@127.0.0.1:${ic.port}/m`, [], true);
    r.publish();
    assert.ok(await until(() => r.status().state === 'retrying'));
    assert.match(r.status().lastError ?? '', /radio\/a has no audio track an Icecast mount can carry \(MP3, AAC or Opus; its tracks: H264\)/);
    await sleep(1000); // five back-off periods
    assert.deepEqual(r.trail(), ['stopped', 'connecting', 'retrying']);
    assert.equal(ic.puts.length, 0);
  });

  it('drops a server that stops reading once the backlog passes its bound, and connects again', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.0 200 OK\r\n\r\n', { paused: true });
    const r = rig(`icecast://source:pw@127.0.0.1:${ic.port}/m`, ['radio.maxFlowControlTime=1']);
    r.publish();
    assert.ok(await until(() => r.status().state === 'playing'));
    // The kernel's buffers take a few MB first; then Node's queue passes 64 KiB.
    for (let i = 0; i < 400 && r.status().state === 'playing'; i++) {
      r.feed(100, i);
      await sleep(1);
    }
    assert.equal(r.status().state, 'retrying', JSON.stringify(r.status()));
    assert.match(r.status().lastError ?? '', /the server took the audio too slowly \(\d+ bytes waiting\)/);
    assert.ok(await until(() => ic.puts.length === 2 && r.status().state === 'playing'), 'connected again');
  });

  it('reports a server that closes the connection as dropped', async () => {
    const ic = await fakeIcecast(() => 'HTTP/1.0 200 OK\r\n\r\n');
    const r = rig(`icecast://source:pw@127.0.0.1:${ic.port}/m`);
    r.publish();
    assert.ok(await until(() => r.status().state === 'playing'));
    ic.puts[0].socket.destroy();
    assert.ok(await until(() => r.status().state === 'retrying'));
    assert.equal(r.status().lastError, 'the server closed the connection');
    assert.ok(await until(() => r.status().state === 'playing' && ic.puts.length === 2));
  });
});
