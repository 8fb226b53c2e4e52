import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../logging/index.js';
import { HttpRouter, type HttpRequestHead, type HttpRoute } from './router.js';

function request(method: string, uri: string, headers: Record<string, string> = {}): HttpRequestHead {
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, uri, headers: { get: (n) => h.get(n.toLowerCase()), has: (n) => h.has(n.toLowerCase()) } };
}

interface Answer {
  status: number;
  head: string;
  body: string;
}

function parse(text: string): Answer {
  const i = text.indexOf('\r\n\r\n');
  const head = i < 0 ? text : text.slice(0, i);
  return {
    status: Number(/^HTTP\/1\.0 (\d{3}) /.exec(head)?.[1] ?? 0),
    head,
    body: i < 0 ? '' : text.slice(i + 4),
  };
}

const header = (a: Answer, name: string) => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(a.head)?.[1];

describe('HttpRouter', () => {
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  let router: HttpRouter;
  let pending: HttpRequestHead;
  let port: number;
  const server = createServer((socket: Socket) => router.serve(socket, pending, []));

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  beforeEach(() => {
    logs.length = 0;
    router = new HttpRouter({ log, serverHeader: 'Test/1' });
  });

  /** Serves `req` over a real connection; what the client read before the server closed it. */
  async function ask(req: HttpRequestHead): Promise<Answer> {
    pending = req;
    const c = connect({ port, host: '127.0.0.1' });
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    await new Promise<void>((resolve, reject) => {
      c.once('close', () => resolve());
      c.once('error', reject);
    });
    return parse(text);
  }

  const answering = (name: string, methods: string[], prefix: string, body = name): HttpRoute => ({
    name,
    methods,
    matches: (req) => req.uri.startsWith(prefix),
    handle: (ex) => ex.reply(200, { body }),
  });

  it('serves a request with the first route that matches its target and method, in registration order', async () => {
    router.add(
      { ...answering('tunnel', ['GET'], '/', 'tunnel'), matches: (req) => req.headers.has('x-cookie') },
      answering('first', ['GET'], '/a', 'first'),
      answering('second', ['GET'], '/a', 'second'),
    );
    const a = await ask(request('GET', '/a/b'));
    assert.equal(a.status, 200);
    assert.equal(a.body, 'first');
    assert.equal(header(a, 'Server'), 'Test/1');
    assert.equal((await ask(request('GET', '/a', { 'X-Cookie': '1' }))).body, 'tunnel');
    assert.deepEqual(
      router.routes.map((r) => r.name),
      ['tunnel', 'first', 'second'],
    );
  });

  it('answers 405 with Allow naming every method served at the target, and logs the refusal once', async () => {
    router.add(
      answering('movies', ['GET', 'HEAD'], '/'),
      answering('upload', ['POST', 'GET'], '/in/'),
      answering('admin', ['DELETE'], '/admin'),
    );
    const a = await ask(request('PUT', '/in/x'));
    assert.equal(a.status, 405);
    assert.equal(header(a, 'Allow'), 'GET, HEAD, POST');
    assert.equal(a.body, '');
    const refusals = logs.filter((l) => l.includes('refused'));
    assert.equal(refusals.length, 1, logs.join(''));
    assert.match(refusals[0], /HTTP PUT refused \(405\): movies, upload serve only GET, HEAD, POST/);
    assert.match(refusals[0], /uri=\/in\/x/);
  });

  it('answers 404 when no route serves the target, and logs it once', async () => {
    router.add(answering('admin', ['GET'], '/admin'));
    const a = await ask(request('GET', '/movie.mp4'));
    assert.equal(a.status, 404);
    assert.equal(header(a, 'Allow'), undefined);
    assert.equal(
      logs.filter((l) => /HTTP GET refused \(404\): no route serves this target/.test(l)).length,
      1,
      logs.join(''),
    );
    assert.equal((await ask(request('GET', '/x'))).status, 404, 'an empty table refuses everything too');
  });

  it('answers HEAD with the head a GET gets, Content-Length included, and no body', async () => {
    router.add(answering('movies', ['GET', 'HEAD'], '/', 'rtsptext\r\nrtsp://h/a.mp4\r\n'));
    const get = await ask(request('GET', '/a.mp4'));
    const head = await ask(request('HEAD', '/a.mp4'));
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(header(head, 'Content-Length'), String(get.body.length));
    assert.equal(header(head, 'Content-Type'), header(get, 'Content-Type'));
  });

  it('answers 500 for a route that throws, rejects or whose predicate throws, logs it, and goes on serving', async () => {
    router.add(
      {
        name: 'throws',
        methods: ['GET'],
        matches: (r) => r.uri === '/sync',
        handle: () => {
          throw new Error('boom sync');
        },
      },
      {
        name: 'rejects',
        methods: ['GET'],
        matches: (r) => r.uri === '/async',
        handle: async () => {
          await Promise.resolve();
          throw new Error('boom async');
        },
      },
      {
        name: 'bad predicate',
        methods: ['GET'],
        matches: (r) => {
          if (r.uri === '/pred') throw new Error('boom predicate');
          return false;
        },
        handle: () => undefined,
      },
      answering('fine', ['GET'], '/'),
    );
    for (const [uri, route, message] of [
      ['/sync', 'throws', 'boom sync'],
      ['/async', 'rejects', 'boom async'],
      ['/pred', 'bad predicate', 'boom predicate'],
    ]) {
      logs.length = 0;
      const a = await ask(request('GET', uri));
      assert.equal(a.status, 500, uri);
      const failures = logs.filter((l) => l.includes(`HTTP route "${route}" failed`));
      assert.equal(failures.length, 1, logs.join(''));
      assert.match(failures[0], /ERROR/);
      assert.ok(failures[0].includes(message));
    }
    assert.equal((await ask(request('GET', '/ok'))).body, 'fine');
  });

  it('closes, without a 500 after it, a connection whose route began its own answer and then failed', async () => {
    router.add({
      name: 'half',
      methods: ['GET'],
      matches: () => true,
      handle: async ({ socket }) => {
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n');
        await Promise.resolve();
        throw new Error('lost its partner');
      },
    });
    const a = await ask(request('GET', '/'));
    assert.equal(a.status, 200);
    assert.doesNotMatch(a.head + a.body, /500/);
    assert.equal(logs.filter((l) => l.includes('HTTP route "half" failed')).length, 1);
  });

  it('keeps the first answer of a route that replies twice or fails after replying', async () => {
    router.add({
      name: 'twice',
      methods: ['GET'],
      matches: () => true,
      handle: (ex) => {
        ex.reply(200, { body: 'one' });
        ex.reply(404);
        throw new Error('after the answer');
      },
    });
    const a = await ask(request('GET', '/'));
    assert.equal(a.status, 200);
    assert.equal(a.body, 'one');
  });
});
