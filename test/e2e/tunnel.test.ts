/** RTSP over HTTP tunnelling (QuickTime's GET/POST scheme) on the RTSP port and on an extra
 * rtsp.httpPorts port, with ffmpeg, GStreamer and a scripted client; reference movies for plain
 * HTTP GETs, fetched with curl. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { mediaDirWith } from '../helpers/media.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffmpegDecode, run, gstPlayedThrough, gstDecode, GST_H264 } from '../helpers/run.js';
import { RawRtspClient, sleep, until, type Reply } from '../helpers/rtsp-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { openTunnel } from '../helpers/tunnel-client.js';

const FILE = 'h264-aac-faststart.mp4';
const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];

/** ffmpeg reads `frames` video frames over the tunnel; returns how many it decoded. */
async function ffmpegFrames(url: string, frames: number): Promise<number> {
  const { r, frames: decoded } = await ffmpegDecode(url, { frames, transport: 'http', timeoutMs: 40_000 });
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.deepEqual(decodeErrors(r.stderr), []);
  return decoded;
}

/** GStreamer rtspsrc on an rtsph:// URL decodes `buffers` video buffers; returns how many. */
async function gstBuffers(url: string, buffers: number): Promise<number> {
  const { r, decoded } = await gstDecode(url, GST_H264, buffers, {
    props: ['latency=200'],
    timeoutMs: 40_000,
  });
  assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
  return decoded;
}

describe('RTSP over HTTP tunnelling', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let httpPort: number;
  const pubs: Publisher[] = [];

  before(async () => {
    media = await mediaDirWith([FILE]);
    srv = await startServer({ mediaDir: media.dir, sets: ['rtsp.httpPorts=0'] });
    httpPort = srv.server.httpPorts[0];
    assert.ok(httpPort > 0 && httpPort !== srv.port, 'an extra port was opened');
  });
  after(async () => {
    await Promise.all(pubs.map((p) => p.stop()));
    await srv.close();
    media.cleanup();
  });

  const ports = () =>
    [
      ['RTSP port', srv.port],
      ['rtsp.httpPorts port', httpPort],
    ] as const;

  it('answers the GET as QuickTime expects and carries requests, responses and media', async () => {
    const t = await openTunnel(srv.port, { path: `/${FILE}` });
    const c = RawRtspClient.over(t.stream);
    const head = await t.head;
    const lines = head.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.0 200 OK');
    for (const h of [
      'Content-Type: application/x-rtsp-tunnelled',
      'Cache-Control: no-store',
      'Pragma: no-cache',
      'Connection: close',
    ]) {
      assert.ok(lines.includes(h), `GET answer has '${h}':\n${head}`);
    }
    const url = srv.url(FILE);
    assert.equal((await c.request('OPTIONS', url)).status, 200);
    const d = await c.request('DESCRIBE', url);
    assert.equal(d.status, 200);
    assert.match(d.body, /m=video/);
    const s = await c.request('SETUP', `${url}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(s.status, 200);
    assert.equal((await c.request('PLAY', url, { Session: sid(s) })).status, 200);
    assert.ok(
      await until(() => c.frames.filter((f) => f.channel === 0).length > 50),
      'RTP arrives on the GET connection',
    );
    assert.equal((await c.request('TEARDOWN', url, { Session: sid(s) })).status, 200);
    c.close();
  });

  it('pairs a POST that arrives first, answering what it sent before its GET came', async () => {
    const t = await openTunnel(srv.port, { postFirstMs: 400 });
    const c = RawRtspClient.over(t.stream);
    const r = await c.request('OPTIONS', '*');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('public') ?? '', /DESCRIBE/);
    c.close();
  });

  it('decodes a POST body that arrives one byte per read', async () => {
    const t = await openTunnel(httpPort, { byteByByte: true });
    const c = RawRtspClient.over(t.stream);
    const a = c.request('OPTIONS', '*');
    const b = c.request('DESCRIBE', srv.url(FILE));
    assert.equal((await a).status, 200);
    assert.equal((await b).status, 200);
    c.close();
  });

  it('lives and dies as a pair: closing the POST ends the GET and the session', async () => {
    const t = await openTunnel(srv.port);
    const c = RawRtspClient.over(t.stream);
    const url = srv.url(FILE);
    const s = await c.request('SETUP', `${url}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    await c.request('PLAY', url, { Session: sid(s) });
    assert.ok(await until(() => c.frames.length > 10));
    const closed = new Promise<void>((r) => t.get.once('close', () => r()));
    t.post.destroy();
    await closed;
    assert.ok(
      await until(() => !srv.server.sessions.has(sid(s)) || srv.server.sessions.get(sid(s))!.closed, 3000),
      'the session ended',
    );

    const t2 = await openTunnel(srv.port);
    const c2 = RawRtspClient.over(t2.stream);
    assert.equal((await c2.request('OPTIONS', '*')).status, 200);
    const postClosed = new Promise<void>((r) => t2.post.once('close', () => r()));
    t2.get.destroy();
    await postClosed;
  });

  it('drops a GET whose POST never comes, and a tunnel whose POST is not base64', async () => {
    const t = await openTunnel(srv.port);
    t.post.destroy();
    // A lone GET (its cookie never matched again) is dropped after the pairing wait.
    const lone = await openTunnel(srv.port, { cookie: 'lonely-cookie' });
    lone.post.destroy();
    const bad = await openTunnel(srv.port);
    const badClosed = new Promise<void>((r) => bad.get.once('close', () => r()));
    bad.post.write('T1BU!!!!\r\n');
    await badClosed;
    assert.ok(
      srv.logs.some((l) => l.includes('not base64')),
      'the log says why',
    );
    const started = Date.now();
    const { connect } = await import('node:net');
    const get = connect({ port: srv.port, host: '127.0.0.1' });
    get.write('GET / HTTP/1.0\r\nx-sessioncookie: nobody-posts\r\n\r\n');
    get.resume();
    await new Promise<void>((r) => get.once('close', () => r()));
    const waited = Date.now() - started;
    assert.ok(waited > 3000 && waited < 10_000, `dropped after ${waited} ms`);
  });

  for (const [label, port] of [
    ['RTSP port', 0],
    ['rtsp.httpPorts port', 1],
  ] as const) {
    it(`ffmpeg -rtsp_transport http and GStreamer rtsph:// play VOD on the ${label}`, async () => {
      const p = ports()[port][1];
      assert.ok((await ffmpegFrames(`rtsp://127.0.0.1:${p}/${FILE}`, 100)) >= 100);
      assert.ok((await gstBuffers(`rtsph://127.0.0.1:${p}/${FILE}`, 100)) >= 100);
    });
  }

  it('ffmpeg and GStreamer play a live stream through the tunnel on both ports', async () => {
    const path = 'live/tunnelled';
    const pub = ffmpegPublish(await fixture(FILE), srv.url(path), 'tcp');
    pubs.push(pub);
    assert.ok(
      await until(() => (srv.server.live?.get(path)?.tracks[0].packetsIn ?? 0) > 10, 15_000),
      'broadcast started',
    );
    for (const [, p] of ports()) {
      assert.ok((await ffmpegFrames(`rtsp://127.0.0.1:${p}/${path}`, 75)) >= 75);
      assert.ok((await gstBuffers(`rtsph://127.0.0.1:${p}/${path}`, 75)) >= 75);
    }
    // While it is live, a plain HTTP GET of its path gets a reference movie too.
    const r = await run('curl', ['-s', '-i', `http://127.0.0.1:${srv.port}/${path}`], { timeoutMs: 10_000 });
    assert.match(r.stdout, /^HTTP\/1\.0 200/);
    await pub.stop();
  });

  it('answers a plain HTTP GET of a movie with a QuickTime reference movie (curl), 404 otherwise', async () => {
    for (const [, p] of ports()) {
      const r = await run('curl', ['-s', '-i', `http://127.0.0.1:${p}/${FILE}`], { timeoutMs: 10_000 });
      assert.equal(r.code, 0, r.stderr);
      const [head, body] = r.stdout.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.0 200 OK/);
      assert.match(head, /\r\nContent-Type: video\/quicktime(\r\n|$)/i);
      // Whatever port the GET came to, the movie points at the RTSP port.
      assert.equal(body, `rtsptext\r\nrtsp://127.0.0.1:${srv.port}/${FILE}\r\n`);
      const missing = await run(
        'curl',
        ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${p}/missing.mp4`],
        { timeoutMs: 10_000 },
      );
      assert.equal(missing.stdout, '404');
    }
    const named = await run(
      'curl',
      ['-s', '-H', 'Host: media.example.org:8080', `http://127.0.0.1:${srv.port}/${FILE}`],
      { timeoutMs: 10_000 },
    );
    assert.equal(named.stdout, `rtsptext\r\nrtsp://media.example.org:${srv.port}/${FILE}\r\n`);
    for (const path of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/a/..%2f..%2fetc/passwd']) {
      const escape = await run(
        'curl',
        [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--path-as-is',
          `http://127.0.0.1:${srv.port}${path}`,
        ],
        { timeoutMs: 10_000 },
      );
      assert.equal(escape.stdout, '403', `${path}: a path out of the media folder is refused as over RTSP`);
    }
    // Plain RTSP still works on both kinds of port after all that.
    for (const [, p] of ports()) {
      const c = await RawRtspClient.connect(p);
      assert.equal((await c.request('OPTIONS', '*')).status, 200);
      c.close();
    }
    await sleep(10);
  });
});
