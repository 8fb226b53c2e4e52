/** Hostile clients on the RTSP port's other paths: clients that pipeline requests and never read
 * the answers (plain and tunnelled) are throttled and then closed; HTTP reference movies are
 * authorized as DESCRIBE and reveal no other files; a GET on the TLS port points at rtsps://;
 * SIGHUP reloads every limits.* key in the real `rivulet serve`. */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RtspConnection } from '../../src/rtsp/server/connection.js';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { run } from '../helpers/run.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');
const CLIP = 'h264-aac-faststart.mp4';
const BOUND = 65536;
const STALL_S = 3;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** About `bytes` of pipelined OPTIONS requests. */
function pipelinedOptions(bytes: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  for (let cseq = 1; n < bytes; cseq++) {
    const r = `OPTIONS * RTSP/1.0\r\nCSeq: ${cseq}\r\n\r\n`;
    parts.push(r);
    n += r.length;
  }
  return Buffer.from(parts.join(''));
}

/** Watches the server side of a connection until it is gone: the most it had unsent, and whether
 * reading from it was ever paused. */
async function watch(
  srv: TestServer,
  find: () => RtspConnection | undefined,
  timeoutMs: number,
): Promise<{ maxUnsent: number; throttled: boolean; seen: boolean; closedAfterMs: number }> {
  let maxUnsent = 0;
  let throttled = false;
  let seen = false;
  let throttledAt = 0;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const c = find();
    if (c) {
      seen = true;
      maxUnsent = Math.max(maxUnsent, c.writableLength);
      if (c.throttled && !throttled) {
        throttled = true;
        throttledAt = Date.now();
      }
    } else if (seen) break;
    await sleep(10);
  }
  return { maxUnsent, throttled, seen, closedAfterMs: throttledAt ? Date.now() - throttledAt : -1 };
}

function closed(s: Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

describe('clients that never read their answers', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = tempDir('rivulet-noread-');
    srv = await startServer({
      mediaDir: media.dir,
      // A high pending limit, so it is the unsent-bytes bound that acts, not the 503.
      sets: ['limits.maxPendingRequests=10000', `limits.maxUnsentBytes=${BOUND}`, `limits.sendStallTimeout=${STALL_S}`],
    });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  it('stops reading past limits.maxUnsentBytes, closes after sendStallTimeout, serves others meanwhile', async () => {
    const bad = await open(srv.port);
    bad.pause(); // never reads
    bad.on('error', () => undefined);
    const port = bad.localPort;
    bad.write(pipelinedOptions(2 * 1024 * 1024));
    const find = () => [...srv.server.connections].find((c) => c.socket.remotePort === port);
    const watching = watch(srv, find, (STALL_S + 10) * 1000);
    // Another client is answered at once while the hostile one is held.
    await sleep(500);
    const good = await RawRtspClient.connect(srv.port);
    for (let i = 0; i < 5; i++) {
      assert.equal((await good.request('OPTIONS', '*')).status, 200);
      await sleep(200);
    }
    // Answered while the hostile connection was still held (paused, not yet closed): it delays
    // nobody. No time bound here: a loaded machine may be slow, which is not what is tested.
    assert.ok(find()?.throttled, 'the hostile connection is still held while the other is served');
    const w = await watching;
    assert.ok(w.seen, 'the connection was seen');
    assert.ok(w.throttled, 'reading from it was paused');
    // One answer may go over before reading stops.
    assert.ok(w.maxUnsent <= BOUND + 1024, `unsent bytes stayed bounded: ${w.maxUnsent}`);
    assert.ok(w.closedAfterMs >= STALL_S * 1000 - 200, `closed after the stall timeout, not before (${w.closedAfterMs} ms)`);
    // The client sees the close once it reads again.
    bad.resume();
    await closed(bad);
    assert.ok(srv.logs.some((l) => /closing the connection: the client does not read/.test(l) && /limits\.sendStallTimeout/.test(l)));
    assert.equal((await good.request('OPTIONS', '*')).status, 200, 'the other client is still served');
    good.close();
  });

  it('does the same through an HTTP tunnel whose GET is never read', async () => {
    const cookie = `noread${Date.now()}`;
    const get = await open(srv.port);
    get.on('error', () => undefined);
    get.write(`GET / HTTP/1.0\r\nx-sessioncookie: ${cookie}\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n`);
    get.pause();
    const post = await open(srv.port);
    post.on('error', () => undefined);
    post.write(`POST / HTTP/1.0\r\nx-sessioncookie: ${cookie}\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n`);
    post.write(pipelinedOptions(2 * 1024 * 1024).toString('base64'));
    const port = get.localPort;
    const find = () => [...srv.server.connections].find((c) => c.socket.remotePort === port);
    const w = await watch(srv, find, (STALL_S + 10) * 1000);
    assert.ok(w.seen && w.throttled, 'the tunnel was paired and throttled');
    assert.ok(w.maxUnsent <= BOUND + 1024, `unsent bytes stayed bounded: ${w.maxUnsent}`);
    assert.ok(w.closedAfterMs >= STALL_S * 1000 - 200);
    get.resume();
    await Promise.all([closed(get), closed(post)]);
  });
});

/** Runs `rivulet passwd` as users do. */
function passwdCli(args: string[]): number | null {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'passwd', ...args], { cwd: repoRoot, timeout: 30_000 }).status;
}

async function curl(args: string[]): Promise<{ status: number; head: string; body: string }> {
  const r = await run('curl', ['-s', '-i', '--max-time', '10', ...args], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, r.stderr);
  // With --digest curl prints the 401 and then the final answer.
  const blocks = r.stdout.split(/(?=^HTTP\/1\.[01] )/m);
  const last = blocks[blocks.length - 1];
  const i = last.indexOf('\r\n\r\n');
  const head = last.slice(0, i);
  return { status: Number(/^HTTP\/1\.[01] (\d+)/.exec(head)?.[1] ?? 0), head, body: last.slice(i + 4) };
}

describe('HTTP reference movies are authorized as DESCRIBE', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let etc: { dir: string; cleanup: () => void };
  let certs: { dir: string; cleanup: () => void };
  let tlsPort: number;
  const url = (p: string) => `http://127.0.0.1:${srv.port}/${p}`;

  before(async () => {
    media = tempDir('rivulet-refauth-');
    etc = tempDir('rivulet-refauth-etc-');
    certs = tempDir('rivulet-refauth-tls-');
    const clip = await fixture(CLIP);
    mkdirSync(join(media.dir, 'protected'));
    mkdirSync(join(media.dir, 'folder'));
    copyFileSync(clip, join(media.dir, CLIP));
    copyFileSync(clip, join(media.dir, 'protected', CLIP));
    writeFileSync(join(media.dir, 'protected', 'qtaccess'), 'AuthName "Members"\nrequire valid-user\n');
    writeFileSync(join(media.dir, 'notes.txt'), 'not a movie\n');
    writeFileSync(join(media.dir, 'folder', 'qtgroups'), 'broadcaster: enc\n');
    const users = join(etc.dir, 'qtusers');
    assert.equal(passwdCli(['-c', '-f', users, '-p', 'wonder land', 'alice']), 0);
    // A copy of the users file inside the media folder, under another name.
    copyFileSync(users, join(media.dir, 'folder', 'members'));
    const tls = await selfSigned(certs.dir);
    srv = await startServer({
      mediaDir: media.dir,
      sets: [
        `auth.usersFile=${users}`,
        `auth.groupsFile=${join(media.dir, 'folder', 'members')}`,
        'auth.failuresBeforeDelay=100',
        `tls.cert=${tls.cert}`,
        `tls.key=${tls.key}`,
        'tls.ports=0',
      ],
    });
    tlsPort = srv.server.tlsPorts[0];
  });
  after(async () => {
    await srv.close();
    media.cleanup();
    etc.cleanup();
    certs.cleanup();
  });

  it('challenges where DESCRIBE challenges, and serves the movie to a Digest login (curl)', async () => {
    const none = await curl([url(`protected/${CLIP}`)]);
    assert.equal(none.status, 401);
    assert.match(none.head, /\r\nWWW-Authenticate: Digest realm="[^"]+", nonce="[^"]+"/i);
    assert.equal(none.body, '');
    // RTSP says the same for the same path.
    const c = await RawRtspClient.connect(srv.port);
    assert.equal((await c.request('DESCRIBE', srv.url(`protected/${CLIP}`), { Accept: 'application/sdp' })).status, 401);
    c.close();

    const ok = await curl(['--digest', '-u', 'alice:wonder land', url(`protected/${CLIP}`)]);
    assert.equal(ok.status, 200, ok.head);
    assert.equal(ok.body, `rtsptext\r\nrtsp://127.0.0.1:${srv.port}/protected/${CLIP}\r\n`);
    // HEAD logs in as GET does: Digest signs the method the client used.
    const head = await curl(['-I', '--digest', '-u', 'alice:wonder land', url(`protected/${CLIP}`)]);
    assert.equal(head.status, 200, head.head);
    assert.equal(head.body, '');
    const wrong = await curl(['--digest', '-u', 'alice:guess', url(`protected/${CLIP}`)]);
    assert.equal(wrong.status, 401);
    assert.ok(srv.logs.some((l) => /authentication failed: wrong password/.test(l) && /user=alice/.test(l)));
    // Whether a file exists inside the protected folder is not told before the login.
    assert.equal((await curl([url('protected/missing.mp4')])).status, 401);
    assert.equal((await curl(['--digest', '-u', 'alice:wonder land', url('protected/missing.mp4')])).status, 404);
  });

  it('answers 404 for access, users and groups files and for what is not servable media', async () => {
    for (const p of ['protected/qtaccess', 'folder/qtgroups', 'folder/members', 'notes.txt', 'folder', 'folder/', 'missing.mp4']) {
      assert.equal((await curl([url(p)])).status, 404, p);
    }
    // Not even with a valid login.
    assert.equal((await curl(['--digest', '-u', 'alice:wonder land', url('protected/qtaccess')])).status, 404);
    assert.equal((await curl([url(CLIP)])).status, 200, 'an open movie is still served');
  });

  it('refuses paths that leave the media folder with 403', async () => {
    for (const p of ['../../etc/passwd', '%2e%2e/%2e%2e/etc/passwd', 'folder/%2E%2E/%2e%2e/etc/passwd']) {
      const r = await curl(['--path-as-is', url(p)]);
      assert.equal(r.status, 403, p);
      assert.equal(r.body, '');
    }
  });

  it('points a GET on the TLS port at rtsps:// on that port (curl -k)', async () => {
    const r = await curl(['-k', `https://127.0.0.1:${tlsPort}/${CLIP}`]);
    assert.equal(r.status, 200, r.head);
    assert.equal(r.body, `rtsptext\r\nrtsps://127.0.0.1:${tlsPort}/${CLIP}\r\n`);
    const named = await curl(['-k', '-H', 'Host: media.example.org', `https://127.0.0.1:${tlsPort}/${CLIP}`]);
    assert.equal(named.body, `rtsptext\r\nrtsps://media.example.org:${tlsPort}/${CLIP}\r\n`);
    // Protected over TLS as in the clear.
    assert.equal((await curl(['-k', `https://127.0.0.1:${tlsPort}/protected/${CLIP}`])).status, 401);
    const plain = await curl([url(CLIP)]);
    assert.equal(plain.body, `rtsptext\r\nrtsp://127.0.0.1:${srv.port}/${CLIP}\r\n`);
  });
});

describe('SIGHUP reloads every limits.* key (rivulet serve)', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
  });

  /** Sends `n` pipelined OPTIONS in one write; the statuses answered before the server closed. */
  async function pipeline(c: RawRtspClient, n: number): Promise<number[]> {
    let text = '';
    for (let i = 1; i <= n; i++) text += `OPTIONS * RTSP/1.0\r\nCSeq: ${100 + i}\r\n\r\n`;
    c.raw(text);
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await c.next(3000);
        statuses.push(r.status);
        if (r.headers.get('connection')?.toLowerCase() === 'close') break;
      } catch {
        break;
      }
    }
    return statuses;
  }

  it('applies changed limits.maxPendingRequests and maxConnectionsPerIp to new and open connections', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.dir, 'rivulet.yaml');
      const write = (pending: number, perIp: number) =>
        writeFileSync(
          cfg,
          `rtsp:\n  ports: [0]\n  bind: ["127.0.0.1"]\nmedia:\n  dir: ${join(repoRoot, 'media')}\nlimits:\n  maxPendingRequests: ${pending}\n  maxConnectionsPerIp: ${perIp}\n`,
        );
      write(32, 1000);
      const srv = serveCli(['--config', cfg]);
      const child = srv.child;
      children.push(child);
      const port = await srv.port;

      const before = await RawRtspClient.connect(port);
      assert.deepEqual(await pipeline(before, 8), Array(8).fill(200), 'eight pipelined requests are answered');
      const second = await RawRtspClient.connect(port);
      assert.equal((await second.request('OPTIONS', '*')).status, 200);

      write(2, 2);
      child.kill('SIGHUP');
      assert.ok(
        await until(() => /admission limits changed: .*limits\.maxPendingRequests 32 → 2.*limits\.maxConnectionsPerIp 1000 → 2/.test(srv.out()), 5000),
        srv.out(),
      );
      // Two connections are open from 127.0.0.1: a third is closed at once.
      const third = await open(port);
      third.on('error', () => undefined);
      third.write('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
      let answered = '';
      third.on('data', (d: Buffer) => (answered += d.toString()));
      await closed(third);
      assert.equal(answered, '', 'the third connection from the address got no answer');
      assert.ok(await until(() => /too many from this address \(limits\.maxConnectionsPerIp\)/.test(srv.out()), 3000), srv.out());

      // The open connection obeys the new pending limit too.
      const got = await pipeline(second, 8);
      assert.deepEqual(got.slice(0, 2), [200, 200]);
      assert.equal(got[got.length - 1], 503, `503 past two pending: ${got.join(',')}`);
      assert.ok(got.length < 8);
      before.close();
      second.close();
      await sleep(200);
      // With a slot free again, a new connection gets the same.
      const next = await RawRtspClient.connect(port);
      const n = await pipeline(next, 8);
      assert.equal(n[n.length - 1], 503, n.join(','));
      next.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    } finally {
      t.cleanup();
    }
  });
});
