import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sniffOpening, type Opening } from './sniff.js';

interface Seen {
  opening: Opening;
  /** What a reader attached after the decision reads (RTSP: every byte, replayed). */
  bytes: () => string;
}

describe('sniffOpening', () => {
  let port: number;
  const server = createServer();
  let next: ((s: Seen) => void) | undefined;

  before(async () => {
    server.on('connection', (socket: Socket) => {
      sniffOpening(socket, { maxHeaderBytes: 8192, maxBodyBytes: 65536, timeoutMs: 3000, requestTimeoutMs: 400 }, (opening) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        if (opening.kind === 'http') text = Buffer.concat(opening.rest).toString('latin1');
        socket.resume();
        next?.({ opening, bytes: () => text });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  /** Sends `parts` as separate writes and returns what the server decided. */
  async function send(parts: string[], waitMs = 300): Promise<Seen> {
    const decided = new Promise<Seen>((r) => (next = r));
    const c = connect({ port, host: '127.0.0.1' });
    c.setNoDelay(true);
    c.on('error', () => undefined);
    for (const p of parts) {
      c.write(p);
      await sleep(20);
    }
    const seen = await Promise.race([decided, sleep(waitMs * 5).then(() => undefined)]);
    await sleep(waitMs);
    c.destroy();
    assert.ok(seen, 'a decision was made');
    return seen;
  }

  it('replays every byte of an RTSP opening, even one split inside its first word', async () => {
    const req = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    for (const first of ['PLAY rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n', 'GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 2\r\n\r\n', req]) {
      const seen = await send([first.slice(0, 1), first.slice(1, 3), first.slice(3), req]);
      assert.equal(seen.opening.kind, 'rtsp');
      assert.equal(seen.bytes(), first + req);
    }
  });

  it('hands over an HTTP opening with the bytes after its head, whatever the split', async () => {
    const head = 'POST /a HTTP/1.0\r\nx-sessioncookie: abc\r\nContent-Length: 32767\r\n\r\n';
    const seen = await send([head.slice(0, 2), head.slice(2, 20), head.slice(20) + 'T1BU', 'SU9O']);
    assert.equal(seen.opening.kind, 'http');
    if (seen.opening.kind !== 'http') return;
    assert.equal(seen.opening.request.method, 'POST');
    assert.equal(seen.opening.request.headers.get('x-sessioncookie'), 'abc');
    assert.equal(seen.bytes(), 'T1BUSU9O');
  });

  it('drops a client that starts a head and does not finish it in time', async () => {
    next = () => assert.fail('no decision expected');
    const c = connect({ port, host: '127.0.0.1' });
    c.on('error', () => undefined);
    c.write('GET / HTT');
    c.resume();
    const t0 = Date.now();
    await new Promise<void>((r) => c.once('close', () => r()));
    const waited = Date.now() - t0;
    assert.ok(waited >= 300 && waited < 2000, `dropped after ${waited} ms`);
    next = undefined;
  });

  it('hands over an HTTP opening of any method under its own name, with its body in rest', async () => {
    for (const method of ['HEAD', 'PUT', 'DELETE', 'PATCH']) {
      const head = `${method} /a.mp4 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n`;
      const seen = await send([head.slice(0, 3), head.slice(3, 14), head.slice(14) + 'body'], 50);
      assert.equal(seen.opening.kind, 'http', method);
      if (seen.opening.kind !== 'http') return;
      assert.equal(seen.opening.request.method, method);
      assert.equal(seen.opening.request.uri, '/a.mp4');
      assert.equal(seen.opening.request.headers.get('host'), 'h');
      assert.equal(seen.bytes(), 'body');
    }
  });

  it('hands an RTSP opening to RTSP as soon as its first bytes rule HTTP out, before its line ends', async () => {
    // OPTIONS too, though HTTP has it: RTSP clients open with it, and its request timeout is RTSP's.
    for (const first of ['O', 'PL', 'DES', 'GET_', 'TEARD', '\x00\x01']) {
      const seen = await send([first], 50);
      assert.equal(seen.opening.kind, 'rtsp', first);
      assert.equal(seen.bytes(), first);
    }
  });

  it('replays an HTTP-looking opening whose first line is RTSP or too long to RTSP', async () => {
    for (const first of ['PUT rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n', `GET /${'a'.repeat(9000)}`]) {
      const seen = await send([first.slice(0, 2), first.slice(2)], 50);
      assert.equal(seen.opening.kind, 'rtsp');
      assert.equal(seen.bytes(), first);
    }
  });

  it('treats GET with an RTSP version as RTSP (the handler answers it)', async () => {
    const req = 'GET /a RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    const seen = await send([req]);
    assert.equal(seen.opening.kind, 'rtsp');
    assert.equal(seen.bytes(), req);
  });
});

describe('sniffOpening with a line protocol beside RTSP and HTTP', () => {
  const server = createServer();
  let port = 0;
  let next: ((o: Opening, replayed: () => string) => void) | undefined;
  before(async () => {
    server.on('connection', (socket: Socket) => {
      const opts = { maxHeaderBytes: 8192, maxBodyBytes: 65536, timeoutMs: 3000, lineOpening: (l: string) => /^\S+$/.test(l) };
      sniffOpening(socket, opts, (opening) => {
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.resume();
        next?.(opening, () => text);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  async function open(parts: string[]): Promise<{ opening: Opening; replayed: string }> {
    const decided = new Promise<{ opening: Opening; replayed: () => string }>((r) => (next = (opening, replayed) => r({ opening, replayed })));
    const c = connect({ port, host: '127.0.0.1' });
    c.on('error', () => undefined);
    for (const p of parts) {
      c.write(p);
      await sleep(20);
    }
    const got = await decided;
    await sleep(50);
    c.destroy();
    return { opening: got.opening, replayed: got.replayed() };
  }

  it('hands a password line to the line protocol with the bytes after it, even split', async () => {
    const { opening } = await open(['hack', 'me\r\nicy-name: x\r\n']);
    assert.equal(opening.kind, 'line');
    if (opening.kind !== 'line') return;
    assert.equal(opening.line, 'hackme');
    assert.equal(opening.rest.toString(), 'icy-name: x\r\n');
  });

  it('still sends RTSP methods, RTSP request lines of any method and binary openings to RTSP', async () => {
    for (const first of ['OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', 'FOO rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n', '$\x00\x00\x04abcd', 'two words\r\n']) {
      const { opening, replayed } = await open([first]);
      assert.equal(opening.kind, 'rtsp', JSON.stringify(first));
      assert.equal(replayed, first);
    }
  });
});
