/** The admin port (admin.port) of a real server driven with curl, as scripts and operators do:
 * nothing answers without an administrator; HTTP Basic, Digest (curl --digest) and a bearer
 * token let scripts in, a user outside admin.group gets 403; a browser-style session (sign-in
 * form, cookie jar) reads the API and changes settings only with its X-CSRF-Token; a cross-site
 * form post or change is refused; an ffmpeg viewer is listed and DELETE ends the ffmpeg process;
 * /metrics answers Prometheus text; the OpenAPI document validates and every GET answers what it
 * documents; failed logins are refused and held back longer and longer. Then: with no
 * administrator every page is the setup page; over HTTPS the cookie is Secure; a port in use
 * fails the start naming admin.port. Users are made with the real `rivulet passwd`. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { answerChecker, assertValidDocument, getPaths } from '../../src/admin/test-helpers/openapi-check.js';
import { adminSets, passwd } from '../helpers/admin.js';
import { repoRoot } from '../helpers/fixtures.js';
import { spawnPublisher, type Publisher } from '../helpers/publish.js';
import { run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';
import { missingTool } from '../helpers/tools.js';

const TOKEN = 'script-token-0123456789';
const ALICE = ['alice', 'wonder land'] as const;
const PAGES = ['/', '/users', '/relays', '/playlists', '/settings', '/logs'];

interface Answer {
  status: number;
  /** Header lines of the last answer, names lower-cased. */
  headers: [string, string][];
  header(name: string): string | undefined;
  body: string;
  ms: number;
}

/** curl ARGS URL; with --digest curl prints the challenge and then the final answer: the last counts. */
async function curl(args: string[]): Promise<Answer> {
  const started = Date.now();
  const r = await run('curl', ['-s', '-i', '--max-time', '20', '-k', ...args], { timeoutMs: 30_000 });
  const ms = Date.now() - started;
  assert.equal(r.code, 0, `curl ${args.join(' ')}: ${r.stderr}`);
  const blocks = r.stdout.split(/(?=^HTTP\/[\d.]+ \d{3})/m);
  const last = blocks[blocks.length - 1];
  const end = last.indexOf('\r\n\r\n');
  const lines = last.slice(0, end).split('\r\n');
  const headers = lines
    .slice(1)
    .map((l): [string, string] => [
      l.slice(0, l.indexOf(':')).toLowerCase(),
      l.slice(l.indexOf(':') + 1).trim(),
    ]);
  return {
    status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(lines[0])?.[1] ?? 0),
    headers,
    header: (n) => headers.find(([k]) => k === n)?.[1],
    body: last.slice(end + 4),
    ms,
  };
}

const json = <T>(a: Answer): T => JSON.parse(a.body) as T;

/** The tools these tests drive; a missing one skips (fails in CI). */
async function hasTools(t: TestContext, tools: ('curl' | 'ffmpeg')[]): Promise<boolean> {
  for (const tool of tools) {
    const ok = await run(tool, [tool === 'curl' ? '--version' : '-version'], { timeoutMs: 20_000 }).then(
      (r) => r.code === 0,
      () => false,
    );
    if (!ok) {
      missingTool(t, tool, 'the admin tests drive the server with it');
      return false;
    }
  }
  return true;
}

describe('the admin API on admin.port', () => {
  let srv: TestServer;
  let base: string;
  const media = tempDir('rivulet-admin-media-');
  const etc = tempDir('rivulet-admin-etc-');
  const users = join(etc.dir, 'qtusers');
  const groups = join(etc.dir, 'qtgroups');
  const viewers: Publisher[] = [];
  const asAlice = ['-u', ALICE.join(':')];

  /** ffmpeg playing a 48 s file over TCP (it outlasts the test), its client row once listed. */
  async function viewer(): Promise<{ p: Publisher; id: string }> {
    const known = new Set(srv.server.clients.list().map((c) => c.id));
    const p = spawnPublisher('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-rtsp_transport',
      'tcp',
      '-i',
      srv.url('long.mp4'),
      '-f',
      'null',
      '-',
    ]);
    viewers.push(p);
    let id: string | undefined;
    const listed = await until(() => {
      id = srv.server.clients
        .list()
        .find((c) => c.path === 'long.mp4' && c.bytesSent > 0 && !known.has(c.id))?.id;
      return id !== undefined;
    }, 20_000);
    assert.ok(listed && id, `the viewer is listed: ${p.log().slice(-1000)}`);
    return { p, id };
  }

  before(async () => {
    copyFileSync(join(repoRoot, 'media/sample.mp4'), join(media.dir, 'sample.mp4'));
    const loop = spawnSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-stream_loop',
      '3',
      '-i',
      join(repoRoot, 'media/sample.mp4'),
      '-c',
      'copy',
      join(media.dir, 'long.mp4'),
    ]);
    if (loop.status !== 0) copyFileSync(join(repoRoot, 'media/sample.mp4'), join(media.dir, 'long.mp4'));
    passwd('-c', '-f', users, '-g', groups, '-p', ALICE[1], '-A', 'admin', ALICE[0]);
    passwd('-f', users, '-g', groups, '-p', 'builder', 'bob');
    const config = join(etc.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      'paths:\n  tv:\n    playlist:\n      items: [sample.mp4]\n      mode: sequential_looped\n',
    );
    const admin = await adminSets(users, groups);
    const port = admin.port;
    srv = await startServer({
      mediaDir: media.dir,
      configFile: config,
      sets: [
        ...admin.sets,
        `admin.tokens=${TOKEN}`,
        'auth.failuresBeforeDelay=1',
        'auth.maxFailureDelay=2',
      ],
    });
    assert.equal(srv.server.adminPort, port);
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    for (const v of viewers) await v.stop();
    await srv?.close();
    media.cleanup();
    etc.cleanup();
  });

  it('answers nothing without an administrator: 401 with Basic and Digest challenges, pages send to the sign-in page', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    for (const p of [
      '/api/v1/server',
      '/api/v1/paths',
      '/api/v1/sessions',
      '/api/v1/config',
      '/api/v1/openapi.json',
      '/api/v1/playlists/tv',
      '/metrics',
    ]) {
      const a = await curl([`${base}${p}`]);
      assert.equal(a.status, 401, p);
      assert.match(json<{ error: string }>(a).error, /sign in/);
      const challenges = a.headers.filter(([k]) => k === 'www-authenticate').map(([, v]) => v.split(' ')[0]);
      assert.ok(
        challenges.includes('Digest') && challenges.includes('Basic'),
        `${p}: ${challenges.join(', ')}`,
      );
      assert.ok(!a.body.includes(srv.server.version), 'no data in the refusal');
    }
    for (const [method, p] of [
      ['PATCH', '/api/v1/config'],
      ['DELETE', '/api/v1/sessions/1'],
      ['POST', '/api/v1/playlists/tv/stop'],
    ]) {
      assert.equal(
        (await curl(['-X', method, '-H', 'Content-Type: application/json', '-d', '{}', `${base}${p}`]))
          .status,
        401,
        `${method} ${p}`,
      );
    }
    for (const p of PAGES) {
      const a = await curl([`${base}${p}`]);
      assert.equal(a.status, 303, p);
      assert.equal(a.header('location'), '/signin');
    }
    const signin = await curl([`${base}/signin`]);
    assert.equal(signin.status, 200);
    assert.match(signin.body, /<form[^>]*action="\/signin"/);
    assert.equal(signin.header('x-frame-options'), 'DENY');
    assert.match(signin.header('content-security-policy') ?? '', /default-src 'self'/);
  });

  it('lets scripts in with Basic, Digest and a bearer token; a user outside admin.group gets 403', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    for (const how of [
      asAlice,
      ['--digest', '-u', ALICE.join(':')],
      ['-H', `Authorization: Bearer ${TOKEN}`],
    ]) {
      const a = await curl([...how, `${base}/api/v1/server`]);
      assert.equal(a.status, 200, `${how.join(' ')}: ${a.body}`);
      assert.equal(a.header('cache-control'), 'no-store');
      const s = JSON.parse(a.body) as {
        name: string;
        version: string;
        ports: { rtsp: number[]; admin: number };
      };
      assert.equal(s.name, 'Rivulet');
      assert.equal(s.version, srv.server.version);
      assert.deepEqual(s.ports.rtsp, [srv.port]);
      assert.equal(s.ports.admin, srv.server.adminPort);
    }
    const bob = await curl(['-u', 'bob:builder', `${base}/api/v1/server`]);
    assert.equal(bob.status, 403);
    assert.match(json<{ error: string }>(bob).error, /not an administrator/);
  });

  it('a browser session: sign in with the form, then the pages and the API; changes need the X-CSRF-Token; sign out', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    const jar = join(etc.dir, 'jar.txt');
    const signin = await curl([
      '-c',
      jar,
      '--data-urlencode',
      `user=${ALICE[0]}`,
      '--data-urlencode',
      `password=${ALICE[1]}`,
      `${base}/signin`,
    ]);
    assert.equal(signin.status, 303, signin.body);
    assert.equal(signin.header('location'), '/');
    const cookie = signin.header('set-cookie') ?? '';
    assert.match(cookie, /^rivulet_admin=[\w-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/, 'not over plain HTTP');
    for (const p of PAGES) {
      const page = await curl(['-b', jar, `${base}${p}`]);
      assert.equal(page.status, 200, p);
      assert.match(page.header('content-type') ?? '', /^text\/html/);
      assert.match(page.body, /Rivulet/);
    }
    const session = JSON.parse((await curl(['-b', jar, `${base}/api/v1/session`])).body) as {
      user: string;
      csrfToken: string;
    };
    assert.equal(session.user, 'alice');
    const change = [
      '-b',
      jar,
      '-X',
      'PATCH',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"limits.maxConnections": 77}',
      `${base}/api/v1/config`,
    ];
    const before = srv.server.config.limits.maxConnections;
    const without = await curl(change);
    assert.equal(without.status, 403);
    assert.match(json<{ error: string }>(without).error, /X-CSRF-Token/);
    assert.equal((await curl(['-H', 'X-CSRF-Token: not-the-token', ...change])).status, 403);
    assert.equal(srv.server.config.limits.maxConnections, before, 'nothing changed');
    const with_ = await curl(['-H', `X-CSRF-Token: ${session.csrfToken}`, ...change]);
    assert.equal(with_.status, 200, with_.body);
    assert.ok((JSON.parse(with_.body) as { applied: string[] }).applied.includes('limits.maxConnections'));
    assert.equal(srv.server.config.limits.maxConnections, 77, 'applied live');
    const wrong = await curl([
      '-b',
      jar,
      '-H',
      `X-CSRF-Token: ${session.csrfToken}`,
      '-X',
      'PATCH',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"limits.maxConnections": "many"}',
      `${base}/api/v1/config`,
    ]);
    assert.equal(wrong.status, 400);
    assert.equal(json<{ key?: string }>(wrong).key, 'limits.maxConnections');
    const out = await curl([
      '-b',
      jar,
      '-c',
      jar,
      '-H',
      `X-CSRF-Token: ${session.csrfToken}`,
      '-X',
      'POST',
      `${base}/signout`,
    ]);
    assert.equal(out.status, 303);
    assert.equal((await curl(['-b', jar, `${base}/api/v1/session`])).status, 401, 'signed out');
    assert.equal(
      (
        await curl([
          '-b',
          `rivulet_admin=${/rivulet_admin=([\w-]+)/.exec(cookie)![1]}`,
          `${base}/api/v1/session`,
        ])
      ).status,
      401,
      'the old cookie is dead',
    );
  });

  it('refuses cross-site requests: a form post to /signin and changes from another origin, whatever the credentials', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    const evil = ['-H', 'Origin: http://evil.example'];
    const jar = join(etc.dir, 'jar-cross.txt');
    /** Alice's sign-in form, sent with `extra`. */
    const signIn = (extra: string[]) =>
      curl([
        ...extra,
        '-d',
        `user=${ALICE[0]}`,
        '--data-urlencode',
        `password=${ALICE[1]}`,
        `${base}/signin`,
      ]);
    const form = await signIn([...evil, '-c', jar]);
    assert.equal(form.status, 403);
    assert.equal(form.header('set-cookie'), undefined, 'not signed in');
    assert.equal((await signIn(['-H', 'Referer: http://evil.example/page.html'])).status, 403);
    assert.equal(
      (await signIn(['-c', jar, '-H', `Origin: ${base}`])).status,
      303,
      'from this origin it works',
    );
    const { csrfToken } = JSON.parse((await curl(['-b', jar, `${base}/api/v1/session`])).body) as {
      csrfToken: string;
    };
    const patch = (extra: string[]) =>
      curl([
        ...extra,
        '-X',
        'PATCH',
        '-H',
        'Content-Type: application/json',
        '-d',
        '{"limits.maxConnections": 55}',
        `${base}/api/v1/config`,
      ]);
    assert.equal((await patch([...evil, '-b', jar, '-H', `X-CSRF-Token: ${csrfToken}`])).status, 403);
    assert.equal((await patch([...evil, ...asAlice])).status, 403);
    assert.equal((await patch(['-H', 'Sec-Fetch-Site: cross-site', ...asAlice])).status, 403);
    assert.equal(
      (await curl([...evil, ...asAlice, '-X', 'DELETE', `${base}/api/v1/sessions/1`])).status,
      403,
    );
    assert.notEqual(srv.server.config.limits.maxConnections, 55);
    assert.equal(
      (await patch(['-H', `Origin: ${base}`, '-b', jar, '-H', `X-CSRF-Token: ${csrfToken}`])).status,
      200,
    );
    assert.equal(srv.server.config.limits.maxConnections, 55);
  });

  it('lists an ffmpeg viewer in /api/v1/sessions, and DELETE ends the ffmpeg process', async (t) => {
    if (!(await hasTools(t, ['curl', 'ffmpeg']))) return;
    const { p, id } = await viewer();
    const list = JSON.parse((await curl([...asAlice, `${base}/api/v1/sessions`])).body) as {
      sessions: { id: string; kind: string; path: string; address: string; bytesSent: number }[];
    };
    const row = list.sessions.find((s) => s.id === id);
    assert.ok(row, JSON.stringify(list));
    assert.equal(row.kind, 'rtsp-file');
    assert.equal(row.address, '127.0.0.1');
    assert.equal(json<{ id: string }>(await curl([...asAlice, `${base}/api/v1/sessions/${id}`])).id, id);
    const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
    const del = await curl([...asAlice, '-X', 'DELETE', `${base}/api/v1/sessions/${id}`]);
    assert.equal(del.status, 204);
    assert.equal(del.body, '');
    const exited = await Promise.race([
      gone.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 15_000).unref()),
    ]);
    assert.ok(exited || p.child.exitCode !== null, `ffmpeg ends once disconnected:\n${p.log().slice(-1500)}`);
    assert.ok(await until(() => srv.server.clients.get(id) === undefined, 10_000));
    assert.equal((await curl([...asAlice, `${base}/api/v1/sessions/${id}`])).status, 404);
    assert.equal((await curl([...asAlice, '-X', 'DELETE', `${base}/api/v1/sessions/${id}`])).status, 404);
  });

  it('answers /metrics in the Prometheus text format', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    const a = await curl(['-H', `Authorization: Bearer ${TOKEN}`, `${base}/metrics`]);
    assert.equal(a.status, 200);
    assert.match(a.header('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(a.body, /^# (HELP|TYPE) \w+/m);
  });

  it('serves a valid OpenAPI document, and every GET route answers what the document says', async (t) => {
    if (!(await hasTools(t, ['curl', 'ffmpeg']))) return;
    const doc = JSON.parse((await curl([...asAlice, `${base}/api/v1/openapi.json`])).body) as Record<
      string,
      unknown
    >;
    await assertValidDocument(doc);
    const check = answerChecker(doc);
    assert.ok(
      await until(() => srv.server.live?.get('tv')?.state === 'active', 20_000),
      'the playlist is live',
    );
    const { id } = await viewer();
    const concrete: Record<string, string> = { '{path}': 'tv', '{id}': id, '{name}': 'tv' };
    const gets = getPaths(doc);
    for (const p of [
      '/api/v1/server',
      '/api/v1/paths/{path}',
      '/api/v1/sessions/{id}',
      '/api/v1/relays',
      '/api/v1/playlists/{name}/log',
      '/api/v1/media',
      '/api/v1/config',
      '/api/v1/logs/error',
      '/api/v1/logs/access',
      '/metrics',
    ]) {
      assert.ok(gets.includes(p), `${p} is documented`);
    }
    for (const template of gets) {
      const url = template.replace(/\{\w+\}/g, (x) => encodeURIComponent(concrete[x]));
      const how = template === '/api/v1/session' ? ['-b', `rivulet_admin=none`, ...asAlice] : asAlice;
      const a = await curl([...how, `${base}${url}`]);
      assert.equal(check('GET', template, a.status, a.header('content-type') ?? '', a.body), undefined);
      if (template !== '/api/v1/session') assert.equal(a.status, 200, `${url}: ${a.body.slice(0, 300)}`);
    }
    const paths = JSON.parse((await curl([...asAlice, `${base}/api/v1/paths/tv`])).body) as {
      live: boolean;
      tracks: { media: string; codec: string }[];
    };
    assert.equal(paths.live, true);
    assert.deepEqual(paths.tracks.map((x) => x.codec).sort(), ['H264', 'MPEG4-GENERIC']);
    const mediaList = JSON.parse((await curl([...asAlice, `${base}/api/v1/media`])).body) as {
      files: { path: string }[];
    };
    assert.deepEqual(
      mediaList.files.map((f) => f.path),
      ['long.mp4', 'sample.mp4'],
    );
  });

  // Last: the failures it makes shut this address out.
  it('refuses a wrong password with 401, then shuts the address out: 429 with Retry-After at once, API and form alike; then lets the right one in', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    const url = `${base}/api/v1/server`;
    // auth.failuresBeforeDelay=1, then 250 ms doubling up to auth.maxFailureDelay=2 s: the 5th
    // failure shuts the address out for 2 s.
    let failures = 0;
    let shutUntil = 0;
    const shut: Answer[] = [];
    for (let sent = 0; failures < 5 && sent < 60; sent++) {
      const at = Date.now();
      const a = await curl(['-u', 'alice:guess', url]);
      if (a.status === 401) {
        failures++;
        // The server started the wait after `at`: it lasts at least until then.
        shutUntil = at + 2000;
        continue;
      }
      assert.equal(a.status, 429, a.body);
      shut.push(a);
      await sleep(100);
    }
    assert.equal(failures, 5);
    assert.ok(shut.length > 0, 'tries while shut out are refused');
    for (const a of shut) {
      assert.match(a.header('retry-after') ?? '', /^[12]$/);
      assert.match(json<{ error: string }>(a).error, /^too many failed logins, try again in [12] s$/);
      assert.equal(a.header('www-authenticate'), undefined);
    }
    const form = await curl([
      '-d',
      'user=alice',
      '--data-urlencode',
      `password=${ALICE[1]}`,
      `${base}/signin`,
    ]);
    const api = await curl([...asAlice, url]);
    if (Date.now() < shutUntil) {
      assert.equal(form.status, 429, 'the form is refused unchecked too, the right password with it');
      assert.match(form.header('retry-after') ?? '', /^[12]$/);
      assert.match(form.body, /role="alert"[^>]*>Too many failed sign-ins, try again in [12] s\./);
      assert.equal(form.header('set-cookie'), undefined);
      assert.equal(api.status, 429, 'the right password waits too');
    } else t.diagnostic('the machine was too slow to ask within the 2 s shut-out; not checked');
    let status = 0;
    for (const end = Date.now() + 15_000; status !== 200 && Date.now() < end; await sleep(250))
      status = (await curl([...asAlice, url])).status;
    assert.equal(status, 200, 'the right password works once the address may try again');
    assert.ok(
      srv.logs.some((l) => /admin: basic login refused: wrong password/.test(l)),
      'the failures are logged',
    );
    assert.ok(
      srv.logs.some((l) => /admin: login refused unchecked \(429\)/.test(l)),
      'the refusals are logged',
    );
  });
});

describe('the admin without an administrator, over HTTPS, on a port in use', () => {
  const etc = tempDir('rivulet-admin-etc2-');
  const users = join(etc.dir, 'qtusers');
  const groups = join(etc.dir, 'qtgroups');
  const sets = async () => (await adminSets(users, groups)).sets;
  before(() => passwd('-c', '-f', users, '-g', groups, '-p', 'builder', 'bob'));
  after(() => etc.cleanup());

  it('shows only how to make the first administrator while there is none, and lets one in once made', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    writeFileSync(groups, '');
    const srv = await startServer({ mediaDir: join(repoRoot, 'media'), sets: await sets() });
    try {
      const base = `http://127.0.0.1:${srv.server.adminPort}`;
      for (const p of [...PAGES, '/signin']) {
        const a = await curl([`${base}${p}`]);
        assert.equal(a.status, 200, p);
        assert.match(a.body, new RegExp(`rivulet passwd -f ${users} -g ${groups} -A admin NAME`), p);
      }
      const form = await curl(['-d', 'user=bob', '-d', 'password=builder', `${base}/signin`]);
      assert.equal(form.status, 403);
      assert.equal(form.header('set-cookie'), undefined);
      const api = await curl(['-u', 'bob:builder', `${base}/api/v1/server`]);
      assert.equal(api.status, 403);
      assert.match(json<{ error: string }>(await curl([`${base}/api/v1/server`])).error, /rivulet passwd/);
      passwd('-f', users, '-g', groups, '-A', 'admin', 'bob');
      assert.equal(
        (await curl(['-u', 'bob:builder', `${base}/api/v1/server`])).status,
        200,
        'the new administrator is in at once',
      );
      assert.equal((await curl([`${base}/`])).status, 303);
    } finally {
      await srv.close();
    }
  });

  it('refuses keys that would reach Object.prototype, naming them, on a server without --config', async () => {
    writeFileSync(groups, 'admin: bob\n');
    const srv = await startServer({
      mediaDir: join(repoRoot, 'media'),
      sets: [...(await sets()), `admin.tokens=${TOKEN}`],
    });
    try {
      assert.equal(srv.server.configFile, undefined);
      const send = (method: string, path: string, body: unknown) =>
        fetch(`http://127.0.0.1:${srv.server.adminPort}/api/v1${path}`, {
          method,
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      for (const [method, path, body, key] of [
        ['PATCH', '/config', { '__proto__.polluted': 1 }, '__proto__.polluted'],
        [
          'PATCH',
          '/config',
          { 'limits.constructor.prototype.polluted': 1 },
          'limits.constructor.prototype.polluted',
        ],
        [
          'PUT',
          '/playlists/__proto__',
          { items: ['sample.mp4'], mode: 'sequential' },
          'paths.__proto__.playlist',
        ],
      ] as const) {
        const res = await send(method, path, body);
        const answer = (await res.json()) as { error: string; key?: string };
        assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(answer)}`);
        assert.equal(answer.key, key);
        assert.match(answer.error, /may not name a key/);
      }
      const clean = {} as Record<string, unknown>;
      assert.equal(clean.polluted, undefined, 'Object.prototype is untouched');
      assert.equal(clean.playlist, undefined, 'Object.prototype is untouched');
      assert.equal((await send('PATCH', '/config', { 'limits.maxConnections': 9 })).status, 200);
      assert.equal(srv.server.config.limits.maxConnections, 9, 'a good change still applies');
    } finally {
      await srv.close();
    }
  });

  it('a reload that removes a bearer token refuses it at once; admin.group changes at once too', async () => {
    const other = 'second-token-0123456789';
    writeFileSync(groups, 'admin: bob\n');
    const config = join(etc.dir, 'tokens.yaml');
    writeFileSync(config, `admin:\n  tokens: [${TOKEN}, ${other}]\n`);
    const srv = await startServer({
      mediaDir: join(repoRoot, 'media'),
      configFile: config,
      manageConfigFile: true,
      sets: await sets(),
    });
    try {
      const status = async (authorization: string) =>
        (
          await fetch(`http://127.0.0.1:${srv.server.adminPort}/api/v1/server`, {
            headers: { Authorization: authorization },
          })
        ).status;
      const bob = `Basic ${Buffer.from('bob:builder').toString('base64')}`;
      assert.deepEqual(
        [await status(`Bearer ${TOKEN}`), await status(`Bearer ${other}`), await status(bob)],
        [200, 200, 200],
      );
      writeFileSync(config, `admin:\n  tokens: [${other}]\n  group: ops\n`);
      // As SIGHUP does (the server may have seen the file change already).
      await srv.server.rereadConfig('test');
      assert.deepEqual(srv.server.config.admin.tokens, [other]);
      assert.ok(
        srv.logs.some((l) => /config reloaded .*applied admin\.group, admin\.tokens/.test(l)),
        'the reload says both applied',
      );
      assert.equal(await status(`Bearer ${TOKEN}`), 401, 'the revoked token is refused');
      assert.equal(await status(`Bearer ${other}`), 200, 'the one kept still works');
      assert.equal(await status(bob), 403, 'bob is not in the new group');
    } finally {
      await srv.close();
    }
  });

  it('serves HTTPS with admin.tls, the session cookie Secure', async (t) => {
    if (!(await hasTools(t, ['curl']))) return;
    const { cert, key } = await selfSigned(etc.dir);
    writeFileSync(groups, 'admin: bob\n');
    const srv = await startServer({
      mediaDir: join(repoRoot, 'media'),
      sets: [...(await sets()), `admin.tls.cert=${cert}`, `admin.tls.key=${key}`],
    });
    try {
      const base = `https://127.0.0.1:${srv.server.adminPort}`;
      const a = await curl(['-d', 'user=bob', '-d', 'password=builder', `${base}/signin`]);
      assert.equal(a.status, 303);
      assert.match(a.header('set-cookie') ?? '', /; Secure/);
      assert.equal((await curl(['-u', 'bob:builder', `${base}/api/v1/server`])).status, 200);
      const plain = await fetch(`http://127.0.0.1:${srv.server.adminPort}/api/v1/server`).then(
        (r) => r.status,
        () => 0,
      );
      assert.notEqual(plain, 200, 'no plain HTTP on the TLS port');
    } finally {
      await srv.close();
    }
  });

  it('fails the start with a sentence naming admin.port when the port is in use', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      await assert.rejects(
        startServer({
          mediaDir: join(repoRoot, 'media'),
          sets: [`admin.port=${port}`, 'admin.bind=127.0.0.1'],
        }),
        (e: Error) =>
          e.name === 'StartupError' &&
          e.message.includes(`port ${port}`) &&
          /in use/.test(e.message) &&
          e.message.includes('admin.port'),
      );
    } finally {
      busy.close();
    }
  });
});
