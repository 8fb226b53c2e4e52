import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { readHttpHead, type HeadResult } from './head-reader.js';

const OPTS = { maxHeaderBytes: 1024, maxHeaderCount: 8, timeoutMs: 2000 };

/** What the server side reads when a client sends `chunks` (each written separately). */
async function opening(chunks: (string | Buffer)[], opts = OPTS): Promise<HeadResult> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<HeadResult>((resolve) => server.once('connection', (s: Socket) => readHttpHead(s, opts, (r) => {
    resolve(r);
    s.destroy();
  })));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => undefined);
  for (const c of chunks) {
    client.write(c);
    await new Promise((r) => setTimeout(r, 5));
  }
  try {
    return await got;
  } finally {
    client.destroy();
    server.close();
  }
}

describe('readHttpHead', () => {
  it('reads a head split anywhere, headers case-insensitive, and hands over the bytes after it', async () => {
    const r = await opening(['SOURCE /radio HT', 'TP/1.0\r\nAuthorization: Basic eDp5\r\nice-name: A', ' B\r\n\r\n', Buffer.from([0xff, 0xfb])]);
    assert.equal(r.kind, 'http');
    if (r.kind !== 'http') return;
    assert.equal(r.head.method, 'SOURCE');
    assert.equal(r.head.uri, '/radio');
    assert.equal(r.head.headers.get('ICE-NAME'), 'A B');
    assert.equal(r.head.headers.get('authorization'), 'Basic eDp5');
  });

  it('gives back a first line that is not an HTTP request line (a SHOUTcast password)', async () => {
    const r = await opening(['hackme\r\nicy-name: x\r\n']);
    assert.deepEqual(r.kind === 'line' ? [r.line, r.rest.toString()] : r, ['hackme', 'icy-name: x\r\n']);
    const a = await opening(['SOURCE pw /live\n']);
    assert.equal(a.kind === 'line' && a.line, 'SOURCE pw /live');
  });

  it('refuses heads too large, with too many fields or malformed, and silent clients', async () => {
    assert.equal((await opening([`GET /${'a'.repeat(2000)}`])).kind, 'bad');
    const many = Array.from({ length: 9 }, (_, i) => `X-${i}: y\r\n`).join('');
    const r = await opening([`GET / HTTP/1.1\r\n${many}\r\n`]);
    assert.deepEqual(r.kind === 'bad' && r.status, 431);
    const bad = await opening(['GET / HTTP/1.1\r\nno colon here\r\n\r\n']);
    assert.deepEqual(bad.kind === 'bad' && bad.status, 400);
    const slow = await opening(['GET / HTTP/1.1\r\n'], { ...OPTS, timeoutMs: 50 });
    assert.deepEqual(slow.kind === 'bad' && slow.status, 408);
  });
});
