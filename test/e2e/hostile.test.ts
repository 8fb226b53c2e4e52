/** Hostile clients: path tricks, oversized and garbage requests, pipelining floods, slowloris
 * trickles, connection floods from one address, and garbage between interleaved frames. Each
 * gets its 4xx (or its connection closed) and the server keeps serving everyone else. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReceiverReport } from '../../src/rtcp/index.js';
import { encodeInterleavedHeader } from '../../src/rtsp/message/serialize.js';
import { mediaDirWith } from '../helpers/media.js';
import { ffprobe } from '../helpers/run.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const MOVIE = 'h264-aac-faststart.mp4';

/** A raw socket that collects what the server says. */
async function rawSocket(
  port: number,
  localAddress?: string,
): Promise<{ s: Socket; text: () => string; closed: Promise<void> }> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  await new Promise<void>((r, j) => s.once('connect', () => r()).once('error', j));
  let text = '';
  s.on('data', (d) => (text += d.toString('latin1')));
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  return { s, text: () => text, closed };
}

describe('hostile input', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let outside: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith([MOVIE]);
    outside = tempDir('rivulet-outside-');
    const movie = readFileSync(join(media.dir, MOVIE));
    mkdirSync(join(outside.dir, 'private'));
    writeFileSync(join(outside.dir, 'private', 'secret.mp4'), movie);
    symlinkSync(join(outside.dir, 'private'), join(media.dir, 'linked-dir'));
    writeFileSync(join(media.dir, 'qtaccess'), 'require any-user\n');
    srv = await startServer({
      mediaDir: media.dir,
      sets: [
        'limits.requestTimeout=1',
        'limits.maxPendingRequests=4',
        'limits.maxConnectionsPerIp=8',
        'rtsp.maxLineBytes=1024',
      ],
    });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
    outside.cleanup();
  });

  async function stillServing(): Promise<void> {
    const c = await RawRtspClient.connect(srv.port);
    assert.equal((await c.request('DESCRIBE', srv.url(MOVIE))).status, 200, 'the server still serves');
    c.close();
  }

  it('refuses every way out of the media folder', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const cases: [string, number[]][] = [
      [srv.url('../../../etc/passwd'), [403]],
      [srv.url('%2e%2e/%2e%2e/etc/passwd'), [403]],
      [srv.url('%2E%2e%2fetc%2fpasswd'), [403]],
      [srv.url('..%5c..%5cetc%5cpasswd'), [403]],
      [srv.url('sub/%2e%2e/%2e%2e/etc/passwd'), [403]],
      [srv.url(`${MOVIE}%00.txt`), [400]],
      [srv.url('%00'), [400]],
      [srv.url('%zz'), [400]],
      // An absolute path lands inside the media folder, where there is no /etc/passwd.
      [srv.url('/etc/passwd'), [404]],
      ['/etc/passwd', [404]],
      ['etc/passwd', [400]],
      ['file:///etc/passwd', [400]],
      [srv.url('linked-dir/secret.mp4'), [403]],
      [srv.url('qtaccess'), [403]],
    ];
    for (const [uri, want] of cases) {
      const r = await c.request('DESCRIBE', uri);
      assert.ok(want.includes(r.status), `${uri}: ${r.status}`);
    }
    for (const method of ['SETUP', 'ANNOUNCE']) {
      const r = await c.request(method, srv.url('%2e%2e/escape/trackID=1'), {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
        'Content-Type': 'application/sdp',
      });
      assert.equal(r.status, 403, method);
    }
    c.close();
    await stillServing();
  });

  it('closes on an over-long request line (414), header line or head (413), too many headers or garbage (400)', async () => {
    const cases: [string, number][] = [
      [`DESCRIBE ${srv.url('a'.repeat(2000))} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, 414],
      [`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Long: ${'x'.repeat(2000)}\r\n\r\n`, 413],
      [`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${'X-A: b\r\n'.repeat(2000)}\r\n`, 413],
      [
        `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${Array.from({ length: 80 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`,
        400,
      ],
      [`SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n`, 413],
      [`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n`, 400],
      ['\x00\x01\x02\x03 binary junk\r\n\r\n', 400],
    ];
    for (const [text, status] of cases) {
      const c = await rawSocket(srv.port);
      c.s.write(text);
      await c.closed;
      assert.match(c.text(), new RegExp(`^RTSP/1\\.0 ${status} `), JSON.stringify(text.slice(0, 60)));
      assert.match(c.text(), /\r\nConnection: close\r\n/);
    }
    await stillServing();
  });

  it('answers a pipelining flood with 503 after limits.maxPendingRequests and closes', async () => {
    const c = await rawSocket(srv.port);
    let flood = '';
    for (let i = 1; i <= 50; i++) flood += `OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    c.s.write(flood);
    await c.closed;
    const statuses = [...c.text().matchAll(/^RTSP\/1\.0 (\d{3}) /gm)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 200, 200, 503]);
    // A few pipelined requests (what real clients do) are fine.
    const ok = await rawSocket(srv.port);
    ok.s.write(flood.split('\r\n\r\n').slice(0, 3).join('\r\n\r\n') + '\r\n\r\n');
    assert.ok(await until(() => (ok.text().match(/RTSP\/1\.0 200/g) ?? []).length === 3, 5000));
    ok.s.destroy();
    await stillServing();
  });

  it('closes a slowloris connection with 408 after limits.requestTimeout', async () => {
    const c = await rawSocket(srv.port);
    const started = Date.now();
    const drip = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ';
    let i = 0;
    const timer = setInterval(() => {
      if (i < drip.length) c.s.write(drip[i++]);
      else c.s.write('a');
    }, 100);
    await c.closed;
    clearInterval(timer);
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 5000, `closed after ${took} ms`);
    assert.match(c.text(), /^RTSP\/1\.0 408 /);
    assert.ok(srv.logs.some((l) => /request not completed in time/.test(l)));
    // A connection that sends whole requests, slowly one after another, is left alone.
    const patient = await RawRtspClient.connect(srv.port);
    for (let k = 0; k < 3; k++) {
      assert.equal((await patient.request('OPTIONS', '*')).status, 200);
      await sleep(700);
    }
    patient.close();
    await stillServing();
  });

  it('closes connections from one address over limits.maxConnectionsPerIp; other addresses still connect', async () => {
    const held: { s: Socket; closed: Promise<void> }[] = [];
    for (let i = 0; i < 12; i++) held.push(await rawSocket(srv.port, '127.0.0.3'));
    await sleep(300);
    const open = held.filter((h) => !h.s.destroyed && h.s.readyState === 'open');
    assert.ok(
      await until(() => held.filter((h) => h.s.destroyed || h.s.readyState !== 'open').length === 4, 3000),
      `${open.length} still open`,
    );
    assert.ok(srv.logs.some((l) => /too many from this address/.test(l) && /127\.0\.0\.3/.test(l)));
    await stillServing();
    for (const h of held) h.s.destroy();
    await Promise.all(held.map((h) => h.closed));
    await sleep(100);
    const again = await RawRtspClient.connect(srv.port, '127.0.0.1', '127.0.0.3');
    assert.equal((await again.request('OPTIONS', '*')).status, 200, 'closed connections no longer count');
    again.close();
  });

  it('skips garbage between interleaved frames of a TCP session and keeps the session', async () => {
    const c = await RawRtspClient.connect(srv.port);
    assert.equal((await c.request('DESCRIBE', srv.url(MOVIE))).status, 200);
    const setup = await c.request('SETUP', `${srv.url(MOVIE)}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    const session = setup.headers.get('session')!.split(';')[0];
    assert.equal((await c.request('PLAY', srv.url(MOVIE), { Session: session })).status, 200);
    assert.ok(await until(() => c.frames.length > 20));
    const rr = buildReceiverReport(0x1234);
    // RTCP, garbage (binary, and text that is no request), RTCP, then a request right after garbage.
    c.raw(Buffer.concat([encodeInterleavedHeader(1, rr.length), rr]));
    c.raw(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x99]));
    c.raw('NOT A REQUEST\r\n\x01\x02');
    c.raw(Buffer.concat([encodeInterleavedHeader(1, rr.length), rr]));
    c.raw('\x00garbage');
    const keep = await c.request('GET_PARAMETER', srv.url(MOVIE), { Session: session });
    assert.equal(keep.status, 200, 'the request after the garbage is answered');
    const before = c.frames.length;
    assert.ok(await until(() => c.frames.length > before + 10), 'media keeps flowing');
    assert.ok(
      srv.logs.some((l) => /skipped bytes that were neither a request nor an interleaved frame/.test(l)),
    );
    c.close();
    await stillServing();
  });

  it('ffprobe still works after all of it', async () => {
    const p = await ffprobe(srv.url(MOVIE), ['-rtsp_transport', 'tcp']);
    assert.deepEqual(p.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  });
});
