/** RTSP over TLS (RTSPS) on tls.ports with a self-signed certificate made at test time: ffmpeg,
 * GStreamer and a scripted client play with media interleaved on the encrypted connection. */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { loadConfig } from '../../src/config/index.js';
import { RivuletServer, StartupError } from '../../src/server/index.js';
import { fixture } from '../helpers/fixtures.js';
import { mediaDirWith } from '../helpers/media.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { decodeErrors, run, gstPlayedThrough, gstDecode, GST_H264 } from '../helpers/run.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';

const FILE = 'h264-aac-faststart.mp4';

describe('RTSPS (RTSP over TLS)', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let certs: { dir: string; cleanup: () => void };
  let files: { cert: string; key: string };
  let tlsPort: number;
  const pubs: Publisher[] = [];

  before(async () => {
    media = await mediaDirWith([FILE]);
    certs = tempDir('rivulet-tls-');
    files = await selfSigned(certs.dir);
    srv = await startServer({
      mediaDir: media.dir,
      sets: [`tls.cert=${files.cert}`, `tls.key=${files.key}`, 'tls.ports=0', 'limits.requestTimeout=2'],
    });
    tlsPort = srv.server.tlsPorts[0];
    assert.ok(tlsPort > 0 && tlsPort !== srv.port);
  });
  after(async () => {
    await Promise.all(pubs.map((p) => p.stop()));
    await srv.close();
    media.cleanup();
    certs.cleanup();
  });

  it('ffmpeg plays a file over rtsps:// (TCP-interleaved media inside TLS)', async () => {
    const r = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-i',
        `rtsps://127.0.0.1:${tlsPort}/${FILE}`,
        '-map',
        '0:v',
        '-frames:v',
        '100',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 40_000 },
    );
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.deepEqual(decodeErrors(r.stderr), []);
    assert.ok(Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1]) >= 100);
  });

  it('GStreamer rtspsrc plays a file over rtsps://', async () => {
    const { r, decoded } = await gstDecode(`rtsps://127.0.0.1:${tlsPort}/${FILE}`, GST_H264, 100, {
      props: ['tls-validation-flags=0', 'latency=200'],
      timeoutMs: 40_000,
    });
    assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
    assert.ok(decoded >= 100);
  });

  it('ffmpeg and GStreamer watch a live stream over rtsps://', async () => {
    const path = 'live/secure';
    const pub = ffmpegPublish(await fixture(FILE), srv.url(path), 'tcp');
    pubs.push(pub);
    assert.ok(
      await until(() => (srv.server.live?.get(path)?.tracks[0].packetsIn ?? 0) > 10, 15_000),
      'broadcast started',
    );
    const ff = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-i',
        `rtsps://127.0.0.1:${tlsPort}/${path}`,
        '-map',
        '0:v',
        '-frames:v',
        '75',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 40_000 },
    );
    assert.equal(ff.code, 0, ff.stderr.slice(-2000));
    assert.deepEqual(decodeErrors(ff.stderr), []);
    const gst = await gstDecode(`rtsps://127.0.0.1:${tlsPort}/${path}`, GST_H264, 75, {
      props: ['tls-validation-flags=0'],
      timeoutMs: 40_000,
    });
    assert.ok(gstPlayedThrough(gst.r), gst.r.stderr.slice(-2000));
    assert.ok(gst.decoded >= 75);
    await pub.stop();
  });

  it('carries RTSP and interleaved RTP only inside TLS; plain RTSP stays on the RTSP port', async () => {
    const sock = tlsConnect({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((r, j) => sock.once('secureConnect', () => r()).once('error', j));
    const c = RawRtspClient.over(sock);
    const url = `rtsps://127.0.0.1:${tlsPort}/${FILE}`;
    const d = await c.request('DESCRIBE', url);
    assert.equal(d.status, 200);
    assert.equal(d.headers.get('content-base'), `${url}/`);
    const s = await c.request('SETUP', `${url}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(s.status, 200);
    const p = await c.request('PLAY', url, { Session: s.headers.get('session')!.split(';')[0] });
    assert.equal(p.status, 200);
    assert.ok(await until(() => c.frames.filter((f) => f.channel === 0).length > 50));
    c.close();
    // A plain-text client on the TLS port gets no RTSP answer, and the server hangs up at once
    // (the bytes are not a TLS handshake; measured at a few ms).
    const plain = netConnect({ port: tlsPort, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    plain.on('data', (d: Buffer) => chunks.push(d));
    plain.on('error', () => undefined);
    const closed = new Promise<void>((r) => plain.once('close', () => r()));
    await new Promise<void>((r) => plain.once('connect', () => r()));
    const sent = Date.now();
    plain.write('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const inTime = await Promise.race([closed.then(() => true), sleep(5000).then(() => false)]);
    const waited = Date.now() - sent;
    plain.destroy();
    const got = Buffer.concat(chunks).toString('latin1');
    assert.ok(!got.includes('RTSP/1.0'), `no RTSP answer in clear, got ${JSON.stringify(got)}`);
    assert.ok(inTime, `the server closes the connection within 5 s (still open after ${waited} ms)`);
  });

  it('hangs up on a client that stalls in the middle of the TLS handshake (limits.requestTimeout)', async () => {
    const stall = netConnect({ port: tlsPort, host: '127.0.0.1' });
    stall.on('error', () => undefined);
    const closed = new Promise<void>((r) => stall.once('close', () => r()));
    await new Promise<void>((r) => stall.once('connect', () => r()));
    const sent = Date.now();
    // The first bytes of a TLS record header (handshake, TLS 1.0), then nothing.
    stall.write(Buffer.from([0x16, 0x03, 0x01]));
    const inTime = await Promise.race([closed.then(() => true), sleep(8000).then(() => false)]);
    const waited = Date.now() - sent;
    stall.destroy();
    assert.ok(inTime, `closed within limits.requestTimeout (2 s) plus slack (still open after ${waited} ms)`);
    assert.ok(waited >= 1500, `not before the timeout (closed after ${waited} ms)`);
  });

  it('refuses to start with a clear error when the key does not match or a file is missing', async () => {
    const bad = async (sets: string[], why: RegExp) => {
      const server = new RivuletServer({
        config: loadConfig({
          sets: ['rtsp.ports=0', 'rtsp.bind=127.0.0.1', `media.dir=${media.dir}`, ...sets],
        }),
      });
      await assert.rejects(server.start(), (e: unknown) => {
        assert.ok(e instanceof StartupError, String(e));
        assert.match(e.message, why);
        return true;
      });
    };
    const other = tempDir('rivulet-tls2-');
    try {
      const otherFiles = await selfSigned(other.dir);
      await bad([`tls.cert=${files.cert}`, `tls.key=${otherFiles.key}`], /not a usable certificate and key/);
      await bad(
        [`tls.cert=${join(other.dir, 'missing.pem')}`, `tls.key=${files.key}`],
        /cannot read tls\.cert .*missing\.pem/,
      );
    } finally {
      other.cleanup();
    }
  });
});
