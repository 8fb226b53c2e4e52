import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsersFileDoc } from '../auth/index.js';
import { ConfigError, loadConfig } from '../config/index.js';
import {
  ClientDirectory,
  CoreEvents,
  StreamRegistry,
  StreamTrack,
  type RelayStatus,
  type SourceInfo,
} from '../core/index.js';
import { AAC, FakePublisher, FakeViewer, H264 } from '../core/test-helpers/fakes.js';
import { silentLogger } from '../logging/index.js';
import type { ConfigUpdateResult, ManagedServer } from '../server/running.js';
import { mediaFiles, redactedConfig, REDACTED, tailLines } from './api.js';
import { buildAdminApp, type AdminApp } from './app.js';
import { AdminPages } from './pages.js';
import { configJsonSchema } from './schemas.js';
import { answerChecker, assertValidDocument, getPaths } from './test-helpers/openapi-check.js';

const TOKEN = 'bearer-token-for-tests';

/** A GET as a script outside a browser sends it (or with `headers`, as a browser's navigation
 * does, which fetch() cannot say): status and headers. */
function plainGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers))
        for (const x of [v ?? []].flat()) headers.append(k, x);
      resolve({ status: res.statusCode ?? 0, headers });
    }).on('error', reject);
  });
}

/** A server with a live path, a configured playlist (and one of playlists.folder), a connected
 * client and a relay leg; updateConfig records what it was asked and refuses what the test says. */
function fakeServer(dir: string) {
  const config = loadConfig({
    sets: [
      `media.dir=${dir}/media`,
      `logs.folder=${dir}/logs`,
      `admin.tokens=${TOKEN}`,
      `auth.usersFile=${dir}/qtusers`,
      `auth.groupsFile=${dir}/qtgroups`,
    ],
  });
  config.paths = {
    tv: { playlist: { items: ['a.mp4'], mode: 'sequential_looped', recent: 0, autostart: true } },
    cam: { source: 'rtsp://user:pw@origin/cam' },
  };
  const events = new CoreEvents();
  const clients = new ClientDirectory();
  const closed: string[] = [];
  clients.add({
    kind: 'rtsp-live',
    protocol: 'rtsp',
    address: '192.0.2.7',
    url: 'rtsp://host/tv',
    path: 'tv',
    transport: 'UDP',
    userAgent: 'Lavf61',
    figures: () => ({ bytesSent: 1000, packetsSent: 10, bytesReceived: 50, packetsLost: 1 }),
    close: (why) => closed.push(why),
  });
  const live = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger(), events });
  const stream = live.publish(
    'tv',
    [new StreamTrack({ id: 0, format: H264 }), new StreamTrack({ id: 1, format: AAC })],
    new FakePublisher('playlist tv'),
    5,
  );
  stream.addReader(new FakeViewer());
  const info = (path: string, over: Partial<SourceInfo>): SourceInfo => ({
    path,
    setting: 'playlist',
    origin: `paths.${path}.playlist`,
    text: '{}',
    onDemand: false,
    state: 'running',
    readers: 0,
    ...over,
  });
  const sources: SourceInfo[] = [
    info('tv', { readers: 1, since: new Date().toISOString() }),
    info('news', { origin: 'playlists.folder', text: '/p/news.playlist', state: 'stopped' }),
    info('cam', {
      setting: 'source',
      origin: 'paths.cam.source',
      text: 'rtsp://user:pw@origin/cam',
      state: 'idle',
      onDemand: true,
    }),
  ];
  const relay: RelayStatus = {
    path: 'cam',
    role: 'source',
    target: 'rtsp://origin/cam',
    state: 'retrying',
    nextAttemptAt: Date.now() + 1000,
    reconnects: 2,
    lastError: 'refused',
    bytesIn: 0,
    bytesOut: 0,
    packetsLost: 0,
    bitrateKbps: 0,
  };
  const updates: Record<string, unknown>[] = [];
  const server = {
    config,
    configFile: undefined,
    log: silentLogger(),
    events,
    clients,
    startedAt: Date.now() - 5000,
    version: '9.9.9',
    addresses: [{ address: '127.0.0.1', port: 8554, family: 'IPv4', kind: 'rtsp' }],
    paths: {
      sources: () => sources,
      startSource: (key: string) =>
        Promise.resolve({ ...sources.find((s) => s.path === key)!, state: 'running' }),
      stopSource: (key: string) => ({ ...sources.find((s) => s.path === key)!, state: 'stopped' }),
    },
    live,
    load: { connections: 1, bandwidthKbps: 300 },
    relays: new Map([['source cam rtsp://origin/cam', relay]]),
    multicastGroups: () => [
      { path: 'tv', address: '239.255.42.0', port: 5004, ttl: 1, members: 2, playing: 2, sending: true, packets: 900 },
      // A group whose stream has ended since: not a path of its own.
      { path: 'gone', address: '239.255.42.1', port: 5008, ttl: 1, members: 0, playing: 0, sending: false, packets: 10 },
    ],
    updateConfig: (changes: Record<string, unknown>): Promise<ConfigUpdateResult> => {
      updates.push(changes);
      const bad = Object.entries(changes).find(([, v]) => JSON.stringify(v).includes('"bad"'));
      if (bad) return Promise.reject(new ConfigError(`${bad[0]}: expected a number`, bad[0]));
      return Promise.resolve({
        applied: Object.keys(changes),
        later: [],
        saved: true,
        file: '/etc/rivulet.yaml',
      });
    },
  } as unknown as ManagedServer;
  return { server, closed, updates, live };
}

describe('the admin app over a fake server', () => {
  let dir: string;
  let fake: ReturnType<typeof fakeServer>;
  let app: AdminApp;
  let http: Server;
  let base: string;
  const logs = {
    errorLines: (n: number) => ['line 1', 'line 2'].slice(-n),
    accessHistory: () => ({ since: 0, files: [{ path: 'tv', count: 3 }] }),
    resetAccessHistory: () => undefined,
  };
  const metrics = {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    text: () => Promise.resolve('# TYPE up gauge\nup 1\n'),
  };
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      headers: { Authorization: `Bearer ${TOKEN}`, ...headers },
      redirect: 'manual',
    });
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-admin-api-'));
    mkdirSync(join(dir, 'media', 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'ui'));
    writeFileSync(join(dir, 'media', 'a.mp4'), 'x'.repeat(10));
    writeFileSync(join(dir, 'media', 'sub', 'deeper', 'b.MP3'), 'yy');
    writeFileSync(join(dir, 'media', 'notes.txt'), 'not media');
    writeFileSync(join(dir, 'media', '.hidden.mp4'), '');
    writeFileSync(
      join(dir, 'logs', 'tv.log'),
      '2026-01-01 00:00:00 /m/a.mp4 PLAY\n2026-01-01 00:00:10 /m/a.mp4 PLAY\n',
    );
    for (const f of ['app.css', 'favicon.svg', 'signin.js', 'app.html', 'setup.html', 'users.js'])
      writeFileSync(join(dir, 'ui', f), `/* ${f} */`);
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    const users = UsersFileDoc.create('Streaming Server');
    users.setPassword('alice', 'wonder land');
    writeFileSync(join(dir, 'qtusers'), users.toString());
    writeFileSync(join(dir, 'qtgroups'), 'admin: alice\n');
    fake = fakeServer(dir);
    let port = 0;
    app = await buildAdminApp({
      server: fake.server,
      metrics,
      logs,
      secure: false,
      port: () => port,
      log: silentLogger(),
      pages: new AdminPages(join(dir, 'ui')),
    });
    http = createServer(app.handler);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    port = (http.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await app.close();
    fake.live.close('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a valid OpenAPI document, and every GET answers what it documents', async () => {
    const doc = (await (await get('/api/v1/openapi.json')).json()) as Record<string, unknown>;
    assert.deepEqual(doc, app.document);
    await assertValidDocument(doc);
    const check = answerChecker(doc);
    const concrete: Record<string, string> = { '{path}': 'tv', '{id}': '1', '{name}': 'tv' };
    const paths = getPaths(doc);
    assert.ok(paths.length >= 15, `GET routes: ${paths.join(', ')}`);
    for (const template of paths) {
      const url = template.replace(/\{\w+\}/g, (p) => concrete[p]);
      const res = await get(url);
      const problem = check(
        'GET',
        template,
        res.status,
        res.headers.get('content-type') ?? '',
        await res.text(),
      );
      assert.equal(problem, undefined, `${url}: ${problem}`);
      if (template !== '/api/v1/session') assert.equal(res.status, 200, url);
    }
    for (const url of [
      '/api/v1/paths/nothing',
      '/api/v1/sessions/99',
      '/api/v1/playlists/cam',
      '/api/v1/logs/error?lines=x',
    ]) {
      const res = await get(url);
      const template = url.startsWith('/api/v1/logs')
        ? '/api/v1/logs/error'
        : url.replace(
            /\/[^/]+$/,
            url.includes('sessions') ? '/{id}' : url.includes('paths') ? '/{path}' : '/{name}',
          );
      assert.equal(
        check('GET', template, res.status, res.headers.get('content-type') ?? '', await res.text()),
        undefined,
        url,
      );
      assert.ok(res.status === 404 || res.status === 400, `${url}: ${res.status}`);
    }
  });

  it('answers paths with their tracks and configured sources (passwords hidden), clients, relays', async () => {
    const paths = (await (await get('/api/v1/paths')).json()) as {
      paths: {
        path: string;
        live: boolean;
        source: { kind: string; label: string } | null;
        state?: string;
        tracks: unknown[];
        readers: number;
      }[];
    };
    assert.deepEqual(
      paths.paths.map((p) => [p.path, p.live, p.source?.kind, p.state, p.tracks.length, p.readers]),
      [
        ['cam', false, 'rtsp', 'idle', 0, 0],
        ['news', false, 'playlist', 'stopped', 0, 0],
        ['tv', true, 'test', 'running', 2, 1],
      ],
    );
    assert.equal(paths.paths[0].source?.label, 'rtsp://user:***@origin/cam');
    const one = (await (await get('/api/v1/paths/tv')).json()) as { tracks: unknown[]; multicast?: unknown };
    assert.deepEqual(one.tracks, [
      { id: 0, media: 'video', codec: 'H264' },
      { id: 1, media: 'audio', codec: 'MPEG4-GENERIC' },
    ]);
    assert.deepEqual(one.multicast, { address: '239.255.42.0', port: 5004, ttl: 1, viewers: 2, sending: true, packets: 900 });
    assert.equal(((await (await get('/api/v1/paths/news')).json()) as { multicast?: unknown }).multicast, undefined);
    const s = (await (await get('/api/v1/sessions')).json()) as {
      sessions: { id: string; lossPercent: number }[];
      total: number;
    };
    assert.equal(s.sessions.length, 1);
    assert.equal(s.total, 1);
    assert.equal(s.sessions[0].lossPercent, 10);
    const r = (await (await get('/api/v1/relays')).json()) as { relays: { key: string; state: string }[] };
    assert.deepEqual(
      r.relays.map((x) => [x.key, x.state]),
      [['source cam rtsp://origin/cam', 'retrying']],
    );
    const server = (await (await get('/api/v1/server')).json()) as Record<string, unknown>;
    assert.equal(server.version, '9.9.9');
    assert.equal(server.connections, 1);
    assert.equal(server.totalBytesServed, 1000);
    assert.deepEqual(server.ports, { rtsp: [8554], http: [], tls: [], admin: Number(new URL(base).port) });
  });

  it('answers HEAD as GET without the body', async () => {
    const head = await send('HEAD', '/api/v1/server');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('disconnects a client with DELETE (204), 404 for one unknown', async () => {
    assert.equal((await send('DELETE', '/api/v1/sessions/1')).status, 204);
    assert.match(fake.closed[0], /administrator/);
    assert.equal((await send('DELETE', '/api/v1/sessions/42')).status, 404);
  });

  it('saves a playlist through updateConfig, a wrong value a 400 naming the key; refuses folder playlists', async () => {
    const body = {
      items: ['a.mp4', { file: 'sub/deeper/b.MP3', weight: 5 }],
      mode: 'weighted_random',
      recent: 1,
    };
    const res = await send('PUT', '/api/v1/playlists/live%2Fnew', body);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      applied: ['paths.live/new.playlist'],
      later: [],
      saved: true,
      file: '/etc/rivulet.yaml',
    });
    assert.deepEqual(fake.updates.pop(), { 'paths.live/new.playlist': body });
    const bad = await send('PUT', '/api/v1/playlists/tv', { items: ['a.mp4'], mode: 'bad' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: 'paths.tv.playlist: expected a number',
      key: 'paths.tv.playlist',
    });
    assert.equal(
      (await send('PUT', '/api/v1/playlists/tv', { items: ['a.mp4'], colour: 'red' })).status,
      400,
    );
    assert.equal((await send('PUT', '/api/v1/playlists/tv', [1])).status, 400);
    assert.equal((await send('PUT', '/api/v1/playlists/news', body)).status, 409);
    assert.equal((await send('DELETE', '/api/v1/playlists/news')).status, 409);
    assert.equal((await send('DELETE', '/api/v1/playlists/nothing')).status, 404);
    assert.equal((await send('DELETE', '/api/v1/playlists/tv')).status, 200);
    assert.deepEqual(fake.updates.pop(), { 'paths.tv.playlist': null });
    const patch = await send('PATCH', '/api/v1/config', { 'limits.maxConnections': 'bad' });
    assert.deepEqual(
      [patch.status, await patch.json()],
      [400, { error: 'limits.maxConnections: expected a number', key: 'limits.maxConnections' }],
    );
    assert.equal((await send('PATCH', '/api/v1/config', {})).status, 400);
    const form = await fetch(`${base}/api/v1/config`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'limits.maxConnections=3',
    });
    assert.equal(form.status, 415);
    assert.equal((await send('PATCH', '/api/v1/config', 'x'.repeat(300 * 1024))).status, 413);
  });

  it('serves logs, the playlist log, media files and the metrics', async () => {
    assert.deepEqual(await (await get('/api/v1/logs/error?lines=1')).json(), { lines: ['line 2'] });
    assert.deepEqual(await (await get('/api/v1/playlists/tv/log?lines=1')).json(), {
      lines: ['2026-01-01 00:00:10 /m/a.mp4 PLAY'],
    });
    assert.deepEqual(await (await get('/api/v1/logs/access')).json(), {
      since: '1970-01-01T00:00:00.000Z',
      files: [{ path: 'tv', count: 3 }],
    });
    assert.equal((await send('DELETE', '/api/v1/logs/access')).status, 204);
    assert.deepEqual(await (await get('/api/v1/media')).json(), {
      files: [
        { path: 'a.mp4', size: 10 },
        { path: 'sub/deeper/b.MP3', size: 2 },
      ],
    });
    const m = await get('/metrics');
    assert.equal(m.headers.get('content-type'), metrics.contentType);
    assert.equal(await m.text(), '# TYPE up gauge\nup 1\n');
  });

  it('hides tokens and URL passwords in the config, which still matches its schema', async () => {
    const c = (await (await get('/api/v1/config')).json()) as {
      admin: { tokens: string[] };
      paths: { cam: { source: string } };
    };
    assert.deepEqual(c.admin.tokens, [REDACTED]);
    assert.equal(c.paths.cam.source, 'rtsp://user:***@origin/cam');
    assert.ok(!JSON.stringify(c).includes(TOKEN));
    const check = answerChecker({
      paths: {
        '/c': {
          get: { responses: { 200: { content: { 'application/json': { schema: configJsonSchema() } } } } },
        },
      },
    });
    assert.equal(
      check('GET', '/c', 200, 'application/json', JSON.stringify(redactedConfig(fake.server.config))),
      undefined,
    );
  });

  it('refuses without credentials, and marks every answer with the security headers', async () => {
    // Not fetch(), which says Sec-Fetch-Mode: cors as a page's script would.
    const res = await plainGet(`${base}/api/v1/server`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Digest/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const quiet = await fetch(`${base}/api/v1/server`, { headers: { 'Sec-Fetch-Mode': 'cors' } });
    assert.equal(quiet.status, 401);
    assert.equal(quiet.headers.get('www-authenticate'), null, 'no browser dialog for a page script');
  });

  /** A session cookie of alice, signed in with the form. */
  const signIn = async (): Promise<string> => {
    const res = await fetch(`${base}/signin`, {
      method: 'POST',
      body: new URLSearchParams({ user: 'alice', password: 'wonder land' }),
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    return (res.headers.get('set-cookie') ?? '').split(';', 1)[0];
  };

  it('serves /ui/ files with an ETag, and nothing outside the folder', async () => {
    const css = await fetch(`${base}/ui/app.css`);
    assert.equal(css.status, 200);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    assert.equal((await fetch(`${base}/ui/app.css`, { headers: { 'If-None-Match': etag } })).status, 304);
    const cookie = await signIn();
    for (const p of ['/ui/..%2fsecret.txt', '/ui/%2e%2e/secret.txt', '/ui/missing.js', '/ui/'])
      assert.equal((await fetch(`${base}${p}`, { headers: { Cookie: cookie } })).status, 404, p);
  });

  it('serves under /ui/ without a session only what the sign-in and setup pages load', async () => {
    for (const f of ['app.css', 'favicon.svg', 'signin.js'])
      assert.equal((await fetch(`${base}/ui/${f}`)).status, 200, f);
    for (const f of ['app.html', 'setup.html', 'users.js', 'missing.js']) {
      const res = await fetch(`${base}/ui/${f}`);
      assert.equal(res.status, 401, f);
      assert.ok(!(await res.text()).includes(f), `${f} is not served`);
      const nav = await plainGet(`${base}/ui/${f}`, { 'Sec-Fetch-Mode': 'navigate' });
      assert.deepEqual([nav.status, nav.headers.get('location')], [303, '/signin'], f);
    }
    const cookie = await signIn();
    for (const f of ['app.html', 'setup.html', 'users.js']) {
      const res = await fetch(`${base}/ui/${f}`, { headers: { Cookie: cookie } });
      assert.equal(res.status, 200, f);
      assert.equal(await res.text(), `/* ${f} */`);
    }
  });

  it('pages the connected clients: limit, offset, q and sort, with the total matching', async () => {
    const added = ['198.51.100.1', '198.51.100.2', '203.0.113.3'].map((address, i) =>
      fake.server.clients.add({
        kind: 'rtsp-file',
        protocol: 'rtsp',
        address,
        url: `rtsp://host/clip${i}.mp4`,
        path: `clip${i}.mp4`,
        transport: 'TCP',
        figures: () => ({ bytesSent: 100 * (i + 1), packetsSent: 1, bytesReceived: 0, packetsLost: 0 }),
        close: () => undefined,
      }),
    );
    try {
      const page = async (q: string) => {
        const res = await get(`/api/v1/sessions?${q}`);
        assert.equal(res.status, 200, q);
        const b = (await res.json()) as { sessions: { address: string }[]; total: number };
        return [b.total, b.sessions.map((x) => x.address)];
      };
      const all = (await page('')) as [number, string[]];
      assert.equal(all[0], all[1].length);
      assert.ok(all[0] >= 3);
      assert.deepEqual(await page('q=198.51&sort=-bytesSent'), [2, ['198.51.100.2', '198.51.100.1']]);
      assert.deepEqual(await page('q=198.51&sort=bytesSent&limit=1'), [2, ['198.51.100.1']]);
      assert.deepEqual(await page('q=198.51&sort=bytesSent&limit=1&offset=1'), [2, ['198.51.100.2']]);
      assert.deepEqual(await page('q=198.51&offset=5'), [2, []]);
      assert.deepEqual(await page('q=CLIP2'), [1, ['203.0.113.3']]);
      assert.deepEqual(await page('limit=5000'), all, 'more than the most is the most');
      for (const q of ['limit=0', 'limit=x', 'offset=-1', 'sort=colour', 'limit='])
        assert.equal((await get(`/api/v1/sessions?${q}`)).status, 400, q);
    } finally {
      for (const id of added) fake.server.clients.end(id);
    }
  });

  it('answers the sign-in page (a fallback page when admin-ui has none), the pages only when signed in', async () => {
    const signin = await fetch(`${base}/signin`);
    assert.equal(signin.status, 200);
    assert.match(await signin.text(), /action="\/signin"/);
    const page = await fetch(`${base}/settings`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/signin');
  });

  // Last: it shuts this address out.
  it('answers an address shut out after failed logins 429 with Retry-After at once, API and form alike', async () => {
    const wrong = { Authorization: `Basic ${Buffer.from('alice:guess').toString('base64')}` };
    let res = await fetch(`${base}/api/v1/server`, { headers: wrong });
    // auth.failuresBeforeDelay (3) are free; the next one shuts the address out.
    for (let i = 0; i < 5 && res.status === 401; i++)
      res = await fetch(`${base}/api/v1/server`, { headers: wrong });
    assert.equal(res.status, 429);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const check = answerChecker(app.document);
    assert.equal(
      check('GET', '/api/v1/server', 429, res.headers.get('content-type') ?? '', await res.text()),
      undefined,
    );
    const right = await get('/api/v1/server');
    assert.equal(right.status, 429, 'a bearer token waits too: nothing is checked');
    const form = await fetch(`${base}/signin`, {
      method: 'POST',
      body: new URLSearchParams({ user: 'alice', password: 'wonder land' }),
      redirect: 'manual',
    });
    assert.equal(form.status, 429);
    assert.match(form.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.match(await form.text(), /Too many failed sign-ins, try again in \d+ s/);
    assert.equal(form.headers.get('set-cookie'), null);
  });
});

describe('admin API helpers', () => {
  it('reads the last lines of a log, of a big one from its tail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-tail-'));
    try {
      const big = join(dir, 'big.log');
      writeFileSync(big, Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
      assert.deepEqual(await tailLines(big, 2), ['line 99998', 'line 99999']);
      assert.equal((await tailLines(big, 1_000_000)).length < 100_000, true, 'bounded by the bytes read');
      assert.deepEqual(await tailLines(join(dir, 'none.log'), 5), []);
      assert.deepEqual((await mediaFiles(join(dir, 'no folder'))).files, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
