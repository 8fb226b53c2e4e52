/** The server's client directory (`server.clients`: Connected Users, the metrics and the access
 * log read it) as real clients fill it: ffmpeg viewers over UDP, TCP and an HTTP tunnel, and an
 * ffmpeg publisher are listed while they play with what they are and what they were sent;
 * disconnecting one there makes the ffmpeg process exit; a finished session leaves a
 * 'client.ended' record with its status, codecs, bytes and times, and a wrong password one with
 * 401; a relay pulling from another server is listed as a relay and comes back after a
 * disconnect; and auth.scheme changed at run time is what the next challenge asks for. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsersFileDoc } from '../../src/auth/index.js';
import type { ClientRecord, ClientRow } from '../../src/core/index.js';
import { fixture } from '../helpers/fixtures.js';
import { waitActive } from '../helpers/live.js';
import { makeClip } from '../helpers/media.js';
import { ffmpegPublish, spawnPublisher, type Publisher } from '../helpers/publish.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const CLIP = 'h264-aac-faststart.mp4';
/** Frames in CLIP (10 s at 25 fps): a viewer cut off part-way decodes fewer. */
const CLIP_FRAMES = 250;
const SHORT = 'short.mp4';

/** ffmpeg playing `url` to the end (or until it is cut off), decoding it all. */
function ffmpegViewer(url: string, transport: 'udp' | 'tcp' | 'http'): Publisher {
  return spawnPublisher('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'info', '-rtsp_transport', transport, '-i', url, '-f', 'null', '-']);
}

/** Video frames ffmpeg said it decoded (its final progress line). */
function framesDecoded(log: string): number {
  return Number([...log.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0);
}

/** Resolves true when the process has exited within `ms`. */
function exitsWithin(p: Publisher, ms: number): Promise<boolean> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

describe('the client directory, filled by real clients', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let etc: { dir: string; cleanup: () => void };
  const ended: ClientRecord[] = [];
  const running: Publisher[] = [];
  let shortSize = 0;

  /** The row of the one client at `path`, once it is listed. */
  async function rowAt(path: string, kind?: ClientRow['kind']): Promise<ClientRow> {
    let row: ClientRow | undefined;
    const found = await until(() => {
      row = srv.server.clients.list().find((c) => c.path === path && (kind === undefined || c.kind === kind));
      return row !== undefined && row.bytesSent + row.bytesReceived > 0;
    }, 20_000, 50);
    assert.ok(found && row, `a client at ${path} is listed: ${JSON.stringify(srv.server.clients.list())}`);
    return row;
  }

  async function endedRecord(pred: (r: ClientRecord) => boolean, what: string): Promise<ClientRecord> {
    assert.ok(await until(() => ended.some(pred), 20_000, 50), `${what}: ${JSON.stringify(ended)}`);
    return ended.find(pred)!;
  }

  before(async () => {
    media = tempDir('rivulet-clients-media-');
    etc = tempDir('rivulet-clients-etc-');
    const clip = await fixture(CLIP);
    for (const d of ['open', 'locked']) {
      mkdirSync(join(media.dir, d));
      copyFileSync(clip, join(media.dir, d, CLIP));
    }
    shortSize = statSync(await makeClip(join(media.dir, 'open'), { name: SHORT, video: 'testsrc', hz: 440, seconds: 2 })).size;
    writeFileSync(join(media.dir, 'locked', 'qtaccess'), 'require valid-user\n');
    const users = UsersFileDoc.create('Streaming Server');
    users.setPassword('alice', 'wonder land');
    writeFileSync(join(etc.dir, 'qtusers'), users.toString());
    writeFileSync(join(etc.dir, 'qtgroups'), '');
    srv = await startServer({
      mediaDir: media.dir,
      sets: [`auth.usersFile=${join(etc.dir, 'qtusers')}`, `auth.groupsFile=${join(etc.dir, 'qtgroups')}`, 'auth.failuresBeforeDelay=100', 'live.publishAllow=127.0.0.1/32'],
    });
    srv.server.events.on('client.ended', (r) => ended.push(r));
  });
  after(async () => {
    for (const p of running) await p.stop();
    await srv.close();
    media.cleanup();
    etc.cleanup();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`an ffmpeg file viewer over ${transport.toUpperCase()} is listed while it plays, and disconnecting it ends ffmpeg`, async () => {
      const path = `open/${CLIP}`;
      const viewer = ffmpegViewer(`${srv.url(path)}?from=test-${transport}`, transport);
      running.push(viewer);
      const row = await rowAt(path);
      assert.equal(row.kind, 'rtsp-file');
      assert.equal(row.protocol, 'rtsp');
      assert.equal(row.address, '127.0.0.1');
      assert.equal(row.url, srv.url(path));
      assert.equal(row.transport, transport.toUpperCase());
      assert.match(row.userAgent ?? '', /^Lavf\d/);
      assert.equal(row.user, undefined);
      const first = row.bytesSent;
      assert.ok(await until(() => (srv.server.clients.get(row.id)?.bytesSent ?? 0) > first, 10_000, 50), 'bytes sent grow while it plays');

      assert.equal(srv.server.clients.disconnect(row.id), true);
      assert.ok(await exitsWithin(viewer, 8000), `ffmpeg exits once disconnected:\n${viewer.log().slice(-2000)}`);
      assert.ok(framesDecoded(viewer.log()) < CLIP_FRAMES, `it was cut off before the end (${framesDecoded(viewer.log())} frames)`);
      assert.equal(srv.server.clients.get(row.id), undefined, 'no longer listed');
      const r = await endedRecord((x) => x.path === path && x.reason === 'disconnected by the administrator' && x.transport === transport.toUpperCase(), 'the disconnected session leaves a record');
      assert.equal(r.status, 200);
      assert.equal(r.query, `from=test-${transport}`);
      assert.ok(r.bytesSent >= first);
      assert.ok(![...srv.server.sessions.values()].some((s) => !s.closed && s.kind === 'vod'), 'the session is gone');
    });
  }

  it('ffmpeg playing a short clip to its end leaves a record: status 200, codecs, bytes, duration, play start', async () => {
    const path = `open/${SHORT}`;
    const viewer = ffmpegViewer(srv.url(path), 'udp');
    running.push(viewer);
    assert.ok(await exitsWithin(viewer, 30_000), 'ffmpeg plays the clip through');
    assert.equal(viewer.child.exitCode, 0, viewer.log().slice(-2000));
    const r = await endedRecord((x) => x.path === path && x.status !== 401, 'the finished session leaves a record');
    assert.equal(r.status, 200);
    assert.equal(r.kind, 'rtsp-file');
    assert.equal(r.reason, 'teardown');
    assert.equal(r.videoCodec, 'H264');
    assert.equal(r.audioCodec, 'MPEG4-GENERIC');
    assert.equal(r.playStart, 0);
    assert.ok(Math.abs(r.fileLength - 2) < 0.2, `fileLength ${r.fileLength}`);
    assert.equal(r.fileSize, shortSize);
    assert.ok(r.packetsSent > 50, `packetsSent ${r.packetsSent}`);
    // RTP bytes: payload plus the 12-byte header of each packet.
    assert.ok(r.bytesSent > 12 * r.packetsSent, `bytesSent ${r.bytesSent}`);
    // The server paces the file: two seconds of it take about one (Instant-On sends the first
    // seconds at vod.overbufferRate 2, up to vod.maxSendAheadTime 2 s ahead), never all at once.
    assert.ok(r.endedAt - r.startedAt >= 700, `duration ${r.endedAt - r.startedAt} ms`);
    assert.match(r.userAgent ?? '', /^Lavf\d/);
    assert.equal(r.transport, 'UDP');
  });

  it('a PLAY from one second in is the record play start', async () => {
    const path = `open/${SHORT}`;
    const before = ended.length;
    const c = await RawRtspClient.connect(srv.port);
    try {
      const base = srv.url(path);
      assert.equal((await c.request('DESCRIBE', base)).status, 200);
      const setup = await c.request('SETUP', `${base}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      assert.equal(setup.status, 200);
      const session = setup.headers.get('session')!.split(';')[0];
      assert.equal((await c.request('PLAY', base, { Session: session, Range: 'npt=1-' })).status, 200);
      await sleep(300);
      assert.equal((await c.request('TEARDOWN', base, { Session: session })).status, 200);
    } finally {
      c.close();
    }
    const r = await endedRecord((x) => ended.indexOf(x) >= before && x.path === path, 'the scripted session leaves a record');
    assert.equal(r.playStart, 1);
    assert.equal(r.userAgent, 'rivulet-test');
    assert.equal(r.transport, 'TCP');
    assert.equal(r.videoCodec, 'H264');
    assert.equal(r.audioCodec, undefined, 'only the video track was set up');
  });

  it('a wrong password leaves a 401 record naming the user and the realm', async () => {
    const path = `locked/${CLIP}`;
    const viewer = ffmpegViewer(srv.url(path).replace('rtsp://', 'rtsp://alice:guess@'), 'tcp');
    running.push(viewer);
    assert.ok(await exitsWithin(viewer, 20_000));
    assert.match(viewer.log(), /401 Unauthorized/);
    const r = await endedRecord((x) => x.path === path && x.user === 'alice', 'the refused login leaves a record');
    assert.equal(r.status, 401);
    assert.equal(r.realm, 'Streaming Server');
    assert.equal(r.url, srv.url(path), 'no credentials in the URL');
    assert.equal(r.kind, 'rtsp-file');
    assert.match(r.userAgent ?? '', /^Lavf\d/);
    assert.match(r.reason, /wrong password/);
    assert.equal(r.bytesSent, 0);
  });

  it('the right password: the listed viewer names its user', async () => {
    const path = `locked/${CLIP}`;
    const viewer = ffmpegViewer(srv.url(path).replace('rtsp://', 'rtsp://alice:wonder%20land@'), 'tcp');
    running.push(viewer);
    const row = await rowAt(path);
    assert.equal(row.user, 'alice');
    assert.equal(row.url, srv.url(path));
    srv.server.clients.disconnect(row.id);
    assert.ok(await exitsWithin(viewer, 8000));
    const r = await endedRecord((x) => x.path === path && x.status === 200, 'its record');
    assert.equal(r.user, 'alice');
    assert.equal(r.realm, 'Streaming Server');
  });

  it('an ffmpeg viewer through an HTTP tunnel is listed as http-tunnel, and disconnecting it ends ffmpeg', async () => {
    const path = `open/${CLIP}`;
    const viewer = ffmpegViewer(srv.url(path), 'http');
    running.push(viewer);
    const row = await rowAt(path, 'http-tunnel');
    assert.equal(row.transport, 'HTTP');
    assert.equal(row.protocol, 'rtsp');
    assert.match(row.userAgent ?? '', /^Lavf\d/);
    srv.server.clients.disconnect(row.id);
    assert.ok(await exitsWithin(viewer, 8000), `ffmpeg exits once disconnected:\n${viewer.log().slice(-2000)}`);
    assert.ok(framesDecoded(viewer.log()) < CLIP_FRAMES);
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`an ffmpeg publisher over ${transport.toUpperCase()} and a live viewer are listed; disconnecting the publisher ends it`, async () => {
      const path = `live/clients-${transport}`;
      const pub = ffmpegPublish(await fixture(CLIP), srv.url(path), transport);
      running.push(pub);
      await waitActive(srv, path);
      const row = await rowAt(path, 'publisher');
      assert.equal(row.transport, transport.toUpperCase());
      assert.equal(row.url, srv.url(path));
      assert.match(row.userAgent ?? '', /^Lavf\d/);
      const got = row.bytesReceived;
      assert.ok(await until(() => (srv.server.clients.get(row.id)?.bytesReceived ?? 0) > got, 10_000, 50), 'bytes received grow');

      const viewer = ffmpegViewer(srv.url(path), 'tcp');
      running.push(viewer);
      const seen = await rowAt(path, 'rtsp-live');
      assert.equal(seen.transport, 'TCP');
      srv.server.clients.disconnect(seen.id);
      assert.ok(await exitsWithin(viewer, 8000), `the live viewer exits:\n${viewer.log().slice(-2000)}`);

      assert.equal(srv.server.clients.disconnect(row.id), true);
      assert.ok(await exitsWithin(pub, 8000), `the publisher exits once disconnected:\n${pub.log().slice(-2000)}`);
      const r = await endedRecord((x) => x.path === path && x.kind === 'publisher', 'the publisher leaves a record');
      assert.equal(r.videoCodec, 'H264');
      assert.equal(r.audioCodec, 'MPEG4-GENERIC');
      assert.ok(r.bytesReceived > 0 && (r.packetsReceived ?? 0) > 0);
      const live = await endedRecord((x) => x.path === path && x.kind === 'rtsp-live', 'the live viewer leaves a record');
      assert.equal(live.fileLength, 0);
      assert.equal(live.fileSize, 0);
      assert.ok(live.bytesSent > 0);
    });
  }

  it('auth.scheme changed at run time is what the next challenge asks for', async () => {
    const challenge = async () => {
      const c = await RawRtspClient.connect(srv.port);
      try {
        const r = await c.request('DESCRIBE', srv.url(`locked/${CLIP}`));
        assert.equal(r.status, 401);
        return r.headers.getAll('www-authenticate');
      } finally {
        c.close();
      }
    };
    const auth = srv.server.config.auth;
    try {
      assert.ok((await challenge()).every((c) => c.startsWith('Digest ')));
      srv.server.config.auth.scheme = 'basic';
      assert.deepEqual(await challenge(), ['Basic realm="Streaming Server"']);
      // The whole section replaced, as a reload may do.
      srv.server.config.auth = { ...auth, scheme: 'digest' };
      assert.ok((await challenge()).every((c) => c.startsWith('Digest ')));
    } finally {
      srv.server.config.auth = { ...auth, scheme: 'digest' };
    }
  });
});

describe('relay legs in the client directory', () => {
  let origin: TestServer;
  let edge: TestServer;
  let media: { dir: string; cleanup: () => void };
  let pub: Publisher | undefined;

  before(async () => {
    media = tempDir('rivulet-clients-relay-');
    origin = await startServer({ mediaDir: media.dir, sets: ['live.publishAllow=127.0.0.1/32'] });
    const yaml = join(media.dir, 'edge.yaml');
    writeFileSync(yaml, `paths:\n  relayed:\n    source: ${origin.url('live/cam')}\n    sourceOnDemand: false\n    sourceRetry: { min: 0.5, max: 2 }\n`);
    pub = ffmpegPublish(await fixture(CLIP), origin.url('live/cam'), 'tcp');
    await waitActive(origin, 'live/cam');
    edge = await startServer({ mediaDir: media.dir, configFile: yaml });
  });
  after(async () => {
    await pub?.stop();
    await edge.close();
    await origin.close();
    media.cleanup();
  });

  it('a pulled source is listed as a relay; disconnected, it reconnects on its back-off', async () => {
    const listed = () => edge.server.clients.list().find((c) => c.kind === 'relay' && c.path === 'relayed');
    assert.ok(await until(() => (listed()?.bytesReceived ?? 0) > 0, 20_000, 50), `the pull is listed: ${JSON.stringify(edge.server.clients.list())}`);
    const row = listed()!;
    assert.equal(row.protocol, 'rtsp');
    assert.equal(row.address, '127.0.0.1');
    assert.equal(row.url, origin.url('live/cam'));
    assert.equal(row.transport, 'TCP');
    // The origin sees the edge as a live viewer.
    assert.ok(origin.server.clients.list().some((c) => c.kind === 'rtsp-live' && c.path === 'live/cam'));

    assert.equal(edge.server.clients.disconnect(row.id), true);
    assert.ok(await until(() => listed()?.id !== row.id, 5000, 20), 'the dropped session is no longer listed');
    assert.ok(await until(() => (listed()?.bytesReceived ?? 0) > 0 && listed()!.id !== row.id, 20_000, 50), 'it reconnected and is listed again');
    const status = [...edge.server.relays.values()].find((r) => r.path === 'relayed');
    assert.equal(status?.state, 'playing');
    assert.ok((status?.reconnects ?? 0) >= 1);
  });
});
