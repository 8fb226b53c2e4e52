/** Plain HTTP on the shared ports goes through one router (src/http/router.ts): curl against the
 * real server sees reference movies for GET and HEAD, 405 with Allow for a method no route
 * serves, and RTSP still answered on the same ports. The tunnel halves are the router's too; their
 * tests are in tunnel.test.ts and hostile-http.test.ts. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mediaDirWith } from '../helpers/media.js';
import { run } from '../helpers/run.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FILE = 'h264-aac-faststart.mp4';

interface CurlAnswer {
  status: number;
  head: string;
  body: string;
  header(name: string): string | undefined;
}

async function curl(args: string[]): Promise<CurlAnswer> {
  const r = await run('curl', ['-s', '-i', '--max-time', '10', ...args], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, r.stderr);
  const i = r.stdout.indexOf('\r\n\r\n');
  const head = i < 0 ? r.stdout : r.stdout.slice(0, i);
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
    head,
    body: i < 0 ? '' : r.stdout.slice(i + 4),
    header: (name) => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(head)?.[1],
  };
}

describe('the HTTP router on the shared ports', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let ports: number[];

  before(async () => {
    media = await mediaDirWith([FILE]);
    srv = await startServer({ mediaDir: media.dir, sets: ['rtsp.httpPorts=0'] });
    ports = [srv.port, srv.server.httpPorts[0]];
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  it('still serves a reference movie to GET, and its head alone to HEAD', async () => {
    for (const p of ports) {
      const get = await curl([`http://127.0.0.1:${p}/${FILE}`]);
      assert.equal(get.status, 200, get.head);
      assert.equal(get.body, `rtsptext\r\nrtsp://127.0.0.1:${srv.port}/${FILE}\r\n`);
      const head = await curl(['-I', `http://127.0.0.1:${p}/${FILE}`]);
      assert.equal(head.status, 200, head.head);
      assert.equal(head.header('Content-Type'), 'video/quicktime');
      assert.equal(head.header('Content-Length'), String(get.body.length));
      assert.equal(head.body, '');
      assert.equal((await curl(['-I', `http://127.0.0.1:${p}/missing.mp4`])).status, 404);
    }
    assert.ok(srv.logs.some((l) => /reference movie served/.test(l) && /method=HEAD/.test(l)));
  });

  it('answers a method no route serves with 405 and Allow, logged once, not with RTSP', async () => {
    const cases: [string[], string][] = [
      [['-X', 'DELETE', '-d', 'a body to drop'], 'GET, HEAD'],
      [['-X', 'PATCH'], 'GET, HEAD'],
      // A POST is only a tunnel half with its cookie; without one a GET would do.
      [['-X', 'POST', '-d', 'x=1'], 'GET, HEAD'],
      [['-X', 'PATCH', '-H', 'x-sessioncookie: abc'], 'GET, POST, HEAD'],
    ];
    for (const [args, allow] of cases) {
      const before = srv.logs.length;
      const r = await curl([...args, `http://127.0.0.1:${srv.port}/${FILE}`]);
      assert.equal(r.status, 405, `${args.join(' ')}:\n${r.head}`);
      assert.match(r.head, /^HTTP\/1\.0 405 Method Not Allowed/);
      assert.equal(r.header('Allow'), allow, args.join(' '));
      assert.equal(r.body, '');
      const method = args[1];
      const refusals = srv.logs.slice(before).filter((l) => l.includes(`HTTP ${method} refused (405)`));
      assert.equal(refusals.length, 1, srv.logs.slice(before).join(''));
      assert.match(refusals[0], /reference movie/);
    }
  });

  it('takes a PUT as an Icecast source, which needs a login', async () => {
    const r = await curl(['-X', 'PUT', '-H', 'Content-Type: audio/mpeg', '-d', 'x', `http://127.0.0.1:${srv.port}/${FILE}`]);
    assert.equal(r.status, 401);
    assert.match(r.header('WWW-Authenticate') ?? '', /^Basic /);
  });

  it('keeps answering RTSP on the same ports, OPTIONS included', async () => {
    for (const p of ports) {
      const c = await RawRtspClient.connect(p);
      const r = await c.request('OPTIONS', '*');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('public') ?? '', /DESCRIBE/);
      assert.equal((await c.request('DESCRIBE', srv.url(FILE), { Accept: 'application/sdp' })).status, 200);
      c.close();
    }
  });
});
