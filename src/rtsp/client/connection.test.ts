import assert from 'node:assert/strict';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { selfSigned } from '../../../test/helpers/tls.js';
import { tempDir } from '../../../test/helpers/server.js';
import { RtspClientConnection } from './connection.js';
import { RtspClientError } from './errors.js';
import { fakeServer, type FakeServer } from './test-helpers/fake-server.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(...args: Parameters<typeof fakeServer>): Promise<FakeServer> {
  const s = await fakeServer(...args);
  servers.push(s);
  return s;
}

/** Rejects with an RtspClientError of `code` whose message matches `re`. */
async function failsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<RtspClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RtspClientError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a rejection');
}

function closed(c: RtspClientConnection): Promise<RtspClientError | undefined> {
  return new Promise((r) => c.once('close', r));
}

describe('RtspClientConnection', () => {
  it('sends CSeq, User-Agent and the Via option, never the user info, and reads the answer', async () => {
    const s = await serve((req, c) => c.reply(req, 200, { Public: 'OPTIONS, DESCRIBE' }, 'hi'));
    const conn = await RtspClientConnection.connect(s.url().replace('rtsp://', 'rtsp://u:pw@'), { via: 'RTSP/1.0 node-a', userAgent: 'T/1' });
    const res = await conn.request('OPTIONS', s.url().replace('rtsp://', 'rtsp://u:pw@'), { 'X-Extra': 7 });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hi');
    const [req] = s.requests;
    assert.equal(req.uri, s.url());
    assert.equal(req.headers.get('cseq'), '1');
    assert.equal(req.headers.get('user-agent'), 'T/1');
    assert.equal(req.headers.get('via'), 'RTSP/1.0 node-a');
    assert.equal(req.headers.get('x-extra'), '7');
    conn.close();
    conn.close();
    assert.ok(conn.closed);
    await failsWith(conn.request('OPTIONS', s.url()), 'closed', /closed/);
  });

  it('matches pipelined requests by CSeq whatever the order of the answers', async () => {
    const held: Parameters<Parameters<typeof fakeServer>[0]>[] = [];
    const s = await serve((req, c) => {
      held.push([req, c]);
      if (held.length === 3) for (const [r, cc] of held.reverse()) cc.reply(r, 200, { 'X-Uri': r.uri });
    });
    const conn = await RtspClientConnection.connect(s.url());
    const answers = await Promise.all(['a', 'b', 'c'].map((p) => conn.request('OPTIONS', s.url(p))));
    assert.deepEqual(
      answers.map((r) => r.headers.get('x-uri')),
      ['a', 'b', 'c'].map((p) => s.url(p)),
    );
    conn.close();
  });

  it('takes an answer without CSeq for the one request waiting, and fails when several wait', async () => {
    const s = await serve((req, c) => {
      if (req.uri.endsWith('/one') || req.uri.endsWith('/two')) c.raw('RTSP/1.0 200 OK\r\n\r\n');
    });
    const conn = await RtspClientConnection.connect(s.url());
    assert.equal((await conn.request('OPTIONS', s.url('one'))).status, 200);
    const both = [conn.request('OPTIONS', s.url('two')), conn.request('OPTIONS', s.url('three'))];
    for (const p of both) await failsWith(p, 'protocol', /without CSeq while 2 requests were waiting/);
    assert.ok(conn.closed);
  });

  it('ignores an answer for a CSeq nobody waits for', async () => {
    const s = await serve((req, c) => {
      c.raw('RTSP/1.0 200 OK\r\nCSeq: 99\r\n\r\n');
      c.reply(req, 204);
    });
    const conn = await RtspClientConnection.connect(s.url());
    assert.equal((await conn.request('OPTIONS', s.url())).status, 204);
    assert.equal(conn.strayResponses, 1);
    conn.close();
  });

  it('times out a request that is never answered, closes, and clears its timer', async () => {
    const s = await serve(() => undefined);
    const conn = await RtspClientConnection.connect(s.url(), { timeoutMs: 150 });
    const ended = closed(conn);
    const t0 = Date.now();
    await failsWith(conn.request('DESCRIBE', s.url('x')), 'timeout', /no answer to DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/x within 150 ms/);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal((await ended)?.code, 'timeout');
  });

  it('times out a slowloris answer dribbled a byte at a time', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await serve((_req, c) => {
      const text = 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nX: ' + 'a'.repeat(1000);
      let i = 0;
      const t = setInterval(() => (i < text.length ? c.raw(text[i++]) : clearInterval(t)), 20);
      timers.push(t);
    });
    const conn = await RtspClientConnection.connect(s.url(), { timeoutMs: 300 });
    await failsWith(conn.request('OPTIONS', s.url()), 'timeout', /within 300 ms/);
    for (const t of timers) clearInterval(t);
  });

  it('ends with an error on a huge Content-Length, an endless head, garbage, or HTTP', async () => {
    const cases: [string | Buffer, RegExp][] = [
      ['RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n', /body over 1024 bytes/],
      [`RTSP/1.0 200 OK\r\nCSeq: 1\r\nX: ${'a'.repeat(5000)}`, /head over 2048 bytes|line over/],
      [Buffer.from([0x16, 0x03, 0x01, 0, 1, 2, 3]), /not RTSP/],
      ['HTTP/1.0 404 Not Found\r\n\r\n', /answered HTTP\/1\.0 404: not an RTSP server/],
    ];
    for (const [bytes, re] of cases) {
      const s = await serve((_req, c) => c.raw(bytes));
      const conn = await RtspClientConnection.connect(s.url(), { maxBodyBytes: 1024, maxHeaderBytes: 2048 });
      await failsWith(conn.request('DESCRIBE', s.url()), 'protocol', re);
      assert.ok(conn.closed);
    }
  });

  it('rejects what waits when the server closes, and reports it', async () => {
    const s = await serve((_req, c) => c.socket.end());
    const conn = await RtspClientConnection.connect(s.url());
    const ended = closed(conn);
    await failsWith(conn.request('OPTIONS', s.url()), 'closed', /closed the connection/);
    assert.match((await ended)?.message ?? '', /closed the connection/);
  });

  it('hands interleaved frames to the handler, between answers', async () => {
    const s = await serve((req, c) => {
      c.frame(0, Buffer.from('rtp-1'));
      c.reply(req, 200);
      c.frame(1, Buffer.from('rtcp'));
    });
    const conn = await RtspClientConnection.connect(s.url());
    const got: string[] = [];
    conn.onFrame((ch, p) => {
      got.push(`${ch}:${p.toString()}`);
      if (ch === 1) throw new Error('a handler that throws does not break the connection');
    });
    await conn.request('PLAY', s.url());
    await conn.request('GET_PARAMETER', s.url());
    assert.deepEqual(got, ['0:rtp-1', '1:rtcp', '0:rtp-1', '1:rtcp']);
    assert.ok(!conn.closed);
    conn.close();
  });

  it('answers the server\'s own requests and reports them', async () => {
    let server: Parameters<NonNullable<Parameters<typeof fakeServer>[1]>>[0] | undefined;
    const s = await serve(
      () => undefined,
      (c) => (server = c),
    );
    const conn = await RtspClientConnection.connect(s.url());
    const seen = new Promise<string>((r) => conn.once('request', (req) => r(req.method)));
    const answer = new Promise<string>((r) => server!.socket.once('data', (d: Buffer) => r(d.toString())));
    server!.raw('OPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n');
    assert.equal(await seen, 'OPTIONS');
    assert.match(await answer, /^RTSP\/1\.0 200 OK\r\nCSeq: 5\r\n/);
    conn.close();
  });

  it('writes interleaved frames, reports backpressure and drops past its bound', async () => {
    const s = await serve(() => undefined);
    const conn = await RtspClientConnection.connect(s.url(), { maxWriteBufferBytes: 256 * 1024 });
    assert.equal(conn.writeInterleaved(2, Buffer.from('abc')), 'written');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(s.frames.map((f) => [f.channel, f.payload.toString()]), [[2, 'abc']]);
    // The fake server stops reading: the socket buffer fills.
    for (const sock of s.sockets) sock.pause();
    const results = new Set<string>();
    const big = Buffer.alloc(60_000);
    for (let i = 0; i < 2000 && !results.has('dropped'); i++) results.add(conn.writeInterleaved(0, big));
    assert.ok(results.has('buffered'), [...results].join());
    assert.ok(results.has('dropped'));
    assert.ok(conn.droppedFrames > 0);
    assert.ok(conn.writableLength < 256 * 1024 + 2 * 60_004);
    assert.throws(() => conn.writeInterleaved(0, Buffer.alloc(70_000)), RangeError);
    conn.close();
    assert.equal(conn.writeInterleaved(0, big), 'dropped');
  });

  it('refuses too many waiting requests', async () => {
    const s = await serve(() => undefined);
    const conn = await RtspClientConnection.connect(s.url(), { maxPending: 2, timeoutMs: 5000 });
    const waiting = [conn.request('OPTIONS', s.url()), conn.request('OPTIONS', s.url())];
    await failsWith(conn.request('OPTIONS', s.url()), 'limit', /2 requests already wait/);
    conn.close();
    for (const p of waiting) await failsWith(p, 'closed', /closed/);
  });

  it('says clearly when it cannot connect', async () => {
    const s = await serve(() => undefined);
    const port = s.port;
    await s.close();
    await failsWith(RtspClientConnection.connect(`rtsp://u:secret@127.0.0.1:${port}/a`), 'connect', /cannot connect to rtsp:\/\/u@127\.0\.0\.1:\d+\/a: .*ECONNREFUSED/);
  });

  it('speaks TLS for rtsps://, refusing an unverified certificate unless told', async () => {
    const dir = tempDir('rivulet-client-tls-');
    try {
      const { cert, key } = await selfSigned(dir.dir);
      const tls = createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (sock) => {
        sock.on('error', () => undefined);
        sock.on('data', (d: Buffer) => {
          const cseq = /CSeq: (\d+)/.exec(d.toString())?.[1] ?? '0';
          sock.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
        });
      });
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      const port = (tls.address() as { port: number }).port;
      const url = `rtsps://127.0.0.1:${port}/a`;
      await failsWith(RtspClientConnection.connect(url), 'connect', /self.signed.*rejectUnauthorized: false/i);
      for (const opts of [{ rejectUnauthorized: false }, { ca: readFileSync(cert), rejectUnauthorized: true }]) {
        const conn = await RtspClientConnection.connect(`rtsps://localhost:${port}/a`, opts);
        assert.equal((await conn.request('OPTIONS', url)).status, 200);
        conn.close();
      }
      await new Promise((r) => tls.close(r));
    } finally {
      dir.cleanup();
    }
  });
});
