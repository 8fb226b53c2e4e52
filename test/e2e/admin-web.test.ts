/** The web admin in a real browser (Debian's headless Chromium through playwright-core) against a
 * real server with two playlist channels, administrators made with the real `rivulet passwd`, and
 * ffmpeg viewers: signing in (and a wrong password refused), the Snapshot showing a viewer appear
 * and its bytes grow, Connected users disconnecting it, playlists stopped, started, created and
 * refused with the key named, max connections lowered in Settings refusing the next viewer with
 * 453, cross-site form posts refused, nothing answered without signing in, the Logs page, signing
 * out, and the setup page of a server without administrators. Each page is kept as a screenshot
 * at 1280×800 (and at phone width) under test-artifacts/admin/. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminSets, passwd } from '../helpers/admin.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { repoRoot } from '../helpers/fixtures.js';
import { clipSet, makeClip } from '../helpers/media.js';
import { ffmpegDecode } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { skipUnlessCI } from '../helpers/tools.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts/admin');
const USER = 'alice';
const PASSWORD = 'wonder land 42';
/** Waits on what the page shows; generous, for a busy machine. */
const SHOWN_MS = 30_000;

const missing = chromiumMissing() || spawnSync('ffmpeg', ['-version']).status !== 0;
const skip = skipUnlessCI(missing, 'needs /usr/bin/chromium (Debian chromium) and ffmpeg');

/** A long-running ffmpeg viewer over TCP; `exited` resolves with its code and what it said. */
interface Viewer {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const viewers = new Set<ChildProcess>();

function watch(url: string): Viewer {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', url, '-map', '0:v', '-f', 'null', '-'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  viewers.add(child);
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 1_000_000) err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      viewers.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stderr: () => err, exited };
}

/** Resolves with the value, or rejects after `ms` saying what never came. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The machine-readable value of a `<data>` the page shows. */
async function shownNumber(page: Page, selector: string): Promise<number> {
  const v = await page.locator(selector).getAttribute('value', { timeout: SHOWN_MS });
  return Number(v);
}

/** Waits until `read()` (what the page shows) passes `ok`, and returns it. Polled from here: the
 * admin's CSP forbids the string evaluation page.waitForFunction would need. */
async function untilPage<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + SHOWN_MS;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (the page shows ${String(v)})`);
    await sleep(200);
  }
}

/** Waits until the number the page shows at `selector` (a `<data>`'s value) passes `ok`. */
const untilShown = (page: Page, selector: string, ok: (n: number) => boolean, what: string) =>
  untilPage(
    async () =>
      Number(
        await page
          .locator(selector)
          .first()
          .getAttribute('value', { timeout: SHOWN_MS })
          .catch(() => null),
      ),
    ok,
    what,
  );

/** How far the page is wider than the window (0: no sideways scrolling). */
const overflowX = (page: Page) =>
  page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

/** A viewport screenshot (the window as the user sees it), from the top of the page unless
 * `where` is 'here' (a result the page scrolled to). */
async function screenshot(page: Page, name: string, where: 'top' | 'here' = 'top'): Promise<void> {
  if (where === 'top') await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** A web server of its own (another origin) serving `html` at /, on a free port. */
async function otherOrigin(html: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  // Every address (IPv4 and IPv6), so `localhost` reaches it whichever the browser tries first.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A page that posts a form to `action` as soon as it loads, as a hostile site would. */
const autoPost = (
  action: string,
  fields: Record<string, string>,
  enctype = 'application/x-www-form-urlencoded',
) =>
  `<!doctype html><title>Win a prize</title><form method="post" action="${action}" enctype="${enctype}">${Object.entries(
    fields,
  )
    .map(([k, v]) => `<input type="hidden" name='${k}' value='${v}'>`)
    .join('')}</form><script>document.forms[0].submit()</script>`;

describe('web admin in Chromium', { skip }, () => {
  let media: { dir: string; cleanup: () => void };
  let srv: TestServer;
  let admin: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  /** Console errors and uncaught exceptions of the signed-in pages (a CSP violation is one). */
  const pageErrors: string[] = [];
  const others: Server[] = [];

  const sources = () => srv.server.paths?.sources() ?? [];
  const stateOf = (path: string) => sources().find((s) => s.path === path)?.state;
  const pathEntry = (name: string) => srv.server.config.paths[name];
  /** The page says where the change was saved: the config file, comments kept. */
  const assertSaidSaved = (said: string, written: RegExp) => {
    const file = srv.server.configFile;
    assert.ok(file !== undefined, 'the server knows its config file');
    assert.ok(said.includes(`Saved to ${file}`), `the page says where it saved: ${said}`);
    const text = readFileSync(file, 'utf8');
    assert.match(text, written);
    assert.match(text, /# The admin test config/, 'its comments are kept');
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    media = tempDir('rivulet-admin-web-');
    for (const c of clipSet('clip', 2, 4)) await makeClip(media.dir, c);
    const users = join(media.dir, 'qtusers');
    const groups = join(media.dir, 'qtgroups');
    passwd('-c', '-f', users, '-g', groups, '-p', PASSWORD, '-A', 'admin', USER);
    // A user who is no administrator.
    passwd('-f', users, '-g', groups, '-p', 'viewer pw', 'bob');
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(
      config,
      [
        '# The admin test config: Settings saves here, comments kept.',
        'paths:',
        '  channel:',
        '    playlist:',
        '      items: [clip1.mp4, clip2.mp4]',
        '      mode: sequential_looped',
        '  promo:',
        '    playlist:',
        '      items: [clip2.mp4]',
        '      mode: sequential_looped',
        '',
      ].join('\n'),
    );
    const { port, sets } = await adminSets(users, groups);
    srv = await startServer({ mediaDir: media.dir, configFile: config, manageConfigFile: true, sets });
    assert.equal(srv.server.adminPort, port, 'the admin listens on the port asked for');
    admin = `http://127.0.0.1:${port}`;
    assert.ok(
      await until(() => stateOf('channel') === 'running' && stateOf('promo') === 'running', 30_000),
      `both channels run: ${JSON.stringify(sources())}`,
    );
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await ctx.newPage();
    page.on('console', (m) => {
      // Refusals the tests ask for (401, 400) are logged by the browser as failed loads.
      if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text()))
        pageErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  });

  after(async () => {
    for (const v of viewers) v.kill('SIGKILL');
    for (const s of others) s.close();
    await browser?.close();
    await srv?.close();
    media?.cleanup();
  });

  it('answers no page and no API call without signing in', async () => {
    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      for (const path of ['/', '/users', '/relays', '/playlists', '/settings', '/logs']) {
        await p.goto(`${admin}${path}`);
        assert.equal(new URL(p.url()).pathname, '/signin', `${path} sends an unsigned browser to sign in`);
        assert.ok(await p.locator('form#signin input[name=password]').isVisible());
      }
      const statuses = await p.evaluate(async () => {
        const out: Record<string, number> = {};
        for (const u of [
          '/api/v1/server',
          '/api/v1/sessions',
          '/api/v1/config',
          '/api/v1/session',
          '/metrics',
        ])
          out[u] = (await fetch(u)).status;
        for (const u of [
          '/ui/app.js',
          '/ui/users.js',
          '/ui/app.html',
          '/ui/app.css',
          '/ui/signin.js',
          '/ui/favicon.svg',
        ])
          out[u] = (await fetch(u)).status;
        out['PATCH /api/v1/config'] = (
          await fetch('/api/v1/config', {
            method: 'PATCH',
            headers: { 'Content-Type': 'application/json' },
            body: '{"limits.maxConnections":1}',
          })
        ).status;
        return out;
      });
      const publicFiles = ['/ui/app.css', '/ui/signin.js', '/ui/favicon.svg'];
      for (const u of publicFiles) assert.equal(statuses[u], 200, `${u}: the sign-in page loads it`);
      for (const [u, s] of Object.entries(statuses).filter(([u]) => !publicFiles.includes(u)))
        assert.ok(s === 401 || s === 403, `${u} answers ${s} without signing in`);
      assert.equal(statuses['/api/v1/server'], 401);
      assert.equal(statuses['/ui/app.js'], 401, "the app's scripts need signing in");
      assert.equal(srv.server.config.limits.maxConnections, 0, 'nothing changed');
      // The sign-in page's script runs: it says why the browser was sent there.
      await p.goto(`${admin}/signin?error=expired`);
      await p.locator('#signin-error', { hasText: 'Your session ended' }).waitFor({ timeout: SHOWN_MS });
      await p.goto(`${admin}/signin?error=${encodeURIComponent('Your account is locked: call +1 555 0100')}`);
      await p.locator('form#signin').waitFor({ timeout: SHOWN_MS });
      // The script has run once the page's modules are loaded.
      await p.waitForLoadState('load');
      assert.equal(await p.locator('#signin-error').isVisible(), false, 'a text of the link is not shown');
      assert.doesNotMatch(await p.locator('body').innerText(), /locked|555/);
      await p.goto(`${admin}/signin`);
      await screenshot(p, 'signin');
    } finally {
      await anon.close();
    }
  });

  it('refuses a wrong password, and a user who is no administrator: the page says so, no cookie', async () => {
    for (const [user, password] of [
      [USER, 'not the password'],
      ['bob', 'viewer pw'],
    ]) {
      await page.goto(`${admin}/signin`);
      await page.fill('#user', user);
      await page.fill('#password', password);
      await Promise.all([
        page.waitForResponse((r) => r.url() === `${admin}/signin` && r.request().method() === 'POST'),
        page.click('button[type=submit]'),
      ]);
      const error = page.locator('#signin-error');
      await error.waitFor({ state: 'visible', timeout: SHOWN_MS });
      assert.match(await error.innerText(), /wrong user name or password/i);
      assert.equal(await page.inputValue('#user'), user, 'the name typed is kept');
      assert.equal(new URL(page.url()).pathname, '/signin');
      assert.equal(
        (await ctx.cookies()).filter((c) => c.name === 'rivulet_admin' && c.value !== '').length,
        0,
        'no session cookie',
      );
    }
    await screenshot(page, 'signin-refused');
  });

  it('signs in: the Snapshot with the user named, the cookie HttpOnly and SameSite=Strict', async () => {
    await page.goto(`${admin}/signin`);
    await page.fill('#user', USER);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${admin}/`), page.click('button[type=submit]')]);
    await page.locator('h1', { hasText: 'Snapshot' }).waitFor({ timeout: SHOWN_MS });
    await page.locator('#who', { hasText: USER }).waitFor({ timeout: SHOWN_MS });
    const cookie = (await ctx.cookies()).find((c) => c.name === 'rivulet_admin');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.locator('nav a[aria-current=page]').innerText(), 'Snapshot');
  });

  let viewer: Viewer;

  it('Snapshot: an ffmpeg viewer appears, its path is listed with it, and the bytes served grow', async () => {
    await page.selectOption('#f-snapshot-refresh', '2');
    viewer = watch(srv.url('channel'));
    await untilShown(page, '#stat-connections data', (n) => n >= 1, 'a connection on the Snapshot');
    const row = page.locator('#live-paths tr[data-path="channel"]');
    await untilShown(
      page,
      '#live-paths tr[data-path="channel"] td:last-child data',
      (n) => n >= 1,
      'a viewer of /channel',
    );
    assert.match(await row.innerText(), /live/);
    assert.match(await row.innerText(), /H264/);
    const first = await shownNumber(page, '#stat-bytes data');
    const second = await untilShown(page, '#stat-bytes data', (n) => n > first, 'the bytes served to grow');
    assert.ok(second > first, `total bytes served grew: ${first} → ${second}`);
    assert.match(await page.locator('#stat-status').innerText(), /running/);
    await screenshot(page, 'snapshot');
  });

  it('Connected users lists the viewer, a page at a time from the server; Disconnect ends the ffmpeg process', async () => {
    const asked: string[] = [];
    const onRequest = (r: { url: () => string }) => {
      if (r.url().includes('/api/v1/sessions?')) asked.push(new URL(r.url()).search);
    };
    page.on('request', onRequest);
    await page.click('nav a[href="/users"]');
    await page.waitForURL(`${admin}/users`);
    const row = page.locator('#sessions tr', { hasText: '/channel' });
    await row.first().waitFor({ timeout: SHOWN_MS });
    assert.equal(await row.count(), 1);
    await page.selectOption('#f-page-size', '10');
    await untilPage(
      async () => asked.join(' '),
      (a) => /limit=10&offset=0/.test(a),
      'a request for a page of 10',
    );
    await page.fill('#f-filter', 'no such client');
    await page
      .locator('#sessions', { hasText: 'Nobody connected matches the filter' })
      .waitFor({ timeout: SHOWN_MS });
    assert.ok(
      asked.some((q) => q.includes('q=no+such+client')),
      `the filter is the server's: ${asked.join(' ')}`,
    );
    await page.fill('#f-filter', '');
    await row.first().waitFor({ timeout: SHOWN_MS });
    page.off('request', onRequest);
    assert.ok(
      asked.every((q) => /limit=\d+/.test(q)),
      `every request names its page: ${asked.join(' ')}`,
    );
    const text = await row.innerText();
    assert.match(text, /RTSP live/);
    assert.match(text, /127\.0\.0\.1/);
    assert.match(text, /TCP/);
    await screenshot(page, 'users');
    await row.getByRole('button', { name: /Disconnect/ }).click();
    const end = await within(viewer.exited, 30_000, 'ffmpeg to end after Disconnect');
    assert.equal(end.signal, null, 'ffmpeg ended by itself, not killed');
    await page
      .locator('#sessions tr', { hasText: '/channel' })
      .waitFor({ state: 'detached', timeout: SHOWN_MS });
    await page.locator('#sessions', { hasText: 'Nobody is connected' }).waitFor({ timeout: SHOWN_MS });
  });

  it('Playlists: stop and start a channel, its state changing on the page and in the server', async () => {
    await page.click('nav a[href="/playlists"]');
    const row = page.locator('#playlists tr[data-playlist="promo"]');
    await row.locator('.badge.state', { hasText: 'running' }).waitFor({ timeout: SHOWN_MS });
    await row.getByRole('button', { name: 'Stop promo' }).click();
    await row.locator('.badge.state', { hasText: 'stopped' }).waitFor({ timeout: SHOWN_MS });
    assert.equal(stateOf('promo'), 'stopped');
    assert.equal(stateOf('channel'), 'running', 'the other channel plays on');
    await row.getByRole('button', { name: 'Start promo' }).click();
    await row.locator('.badge.state', { hasText: 'running' }).waitFor({ timeout: SHOWN_MS });
    assert.equal(stateOf('promo'), 'running');
    await page
      .locator('#playlists tr[data-playlist="channel"]')
      .getByRole('button', { name: 'Log of channel' })
      .click();
    await page.locator('#playlist-log pre', { hasText: 'PLAY' }).waitFor({ timeout: SHOWN_MS });
    await screenshot(page, 'playlists');
  });

  it('Playlists: creates one from the media folder; a wrong value is refused naming its key', async () => {
    await page.getByRole('button', { name: 'New playlist' }).click();
    const form = page.locator('#playlist-editor form');
    await form.waitFor();
    await form.locator('#pl-name').fill('fresh');
    await form.getByRole('button', { name: 'Add clip1.mp4' }).click();
    await form.locator('#pl-mode').selectOption('weighted_random');
    await form.locator('#pl-recent').fill('1');
    await screenshot(page, 'playlist-editor', 'here');
    await form.getByRole('button', { name: 'Create playlist' }).click();
    const error = form.locator('.form-error');
    await error.locator('.notice.error').waitFor({ timeout: SHOWN_MS });
    assert.match(await error.innerText(), /paths\.fresh\.playlist(\.recent)?/);
    assert.match(await error.innerText(), /recent|smaller/);
    assert.equal(pathEntry('fresh'), undefined, 'nothing saved');
    await form.locator('#pl-recent').fill('0');
    await form.getByRole('button', { name: 'Create playlist' }).click();
    const result = page.locator('#playlist-result');
    await result.locator('.notice.ok').waitFor({ timeout: SHOWN_MS });
    assert.match(await result.innerText(), /Created playlist fresh/);
    assertSaidSaved(await result.innerText(), /fresh:/);
    const saved = pathEntry('fresh')?.playlist;
    assert.ok(saved && typeof saved === 'object', 'paths.fresh.playlist is in the running config');
    assert.equal(saved.mode, 'weighted_random');
    await page
      .locator('#playlists tr[data-playlist="fresh"] .badge.state', { hasText: 'running' })
      .waitFor({ timeout: SHOWN_MS });
  });

  it('Settings: lowering max connections is applied at once, and the next viewer is refused with 453', async () => {
    const holder = watch(srv.url('channel'));
    assert.ok(await until(() => srv.server.load.connections >= 1, 30_000), 'a viewer holds a connection');
    await page.click('nav a[href="/settings"]');
    await page.waitForURL(`${admin}/settings`);
    const field = page.locator('#s-limits-maxConnections');
    await untilPage(
      () => field.inputValue(),
      (v) => v === '0',
      'the form to show the running value',
    );
    await field.fill('1');
    await page.getByRole('button', { name: 'Save' }).click();
    const result = page.locator('#settings-result');
    await result.locator('.notice.ok').waitFor({ timeout: SHOWN_MS });
    const said = await result.innerText();
    assert.match(said, /Applied now:[^.]*limits\.maxConnections/);
    assert.equal(srv.server.config.limits.maxConnections, 1);
    assertSaidSaved(said, /maxConnections: 1/);
    await screenshot(page, 'settings-saved', 'here');

    const { r: refused } = await ffmpegDecode(srv.url('promo'), {
      frames: 5,
      transport: 'tcp',
      timeoutMs: 30_000,
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /453/, 'ffmpeg was refused with 453');
    assert.equal(holder.child.exitCode, null, 'the viewer already playing plays on');

    // A wrong value is refused at its field, nothing changed.
    await field.fill('-3');
    await page.getByRole('button', { name: 'Save' }).click();
    await result.locator('.notice.error').waitFor({ timeout: SHOWN_MS });
    assert.match(await result.innerText(), /limits\.maxConnections/);
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(srv.server.config.limits.maxConnections, 1);
    await screenshot(page, 'settings-refused', 'here');

    holder.child.kill('SIGINT');
    await within(holder.exited, 30_000, 'the holding viewer to stop');
    await field.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await result.locator('.notice.ok').waitFor({ timeout: SHOWN_MS });
    assert.equal(srv.server.config.limits.maxConnections, 0);
  });

  it('refuses cross-site form posts, whatever cookie the browser sends along', async () => {
    const api = (path: string) => page.evaluate(async (p) => (await fetch(p)).status, path);
    // Another port of the same host: the same site, so the SameSite=Strict cookie goes along.
    const sameSite = await otherOrigin(autoPost(`${admin}/api/v1/playlists/promo/stop`, { really: 'yes' }));
    // Another host name: another site (the cookie stays home).
    const crossSite = await otherOrigin(autoPost(`${admin}/signout`, { csrfToken: 'guess' }));
    const asJson = await otherOrigin(
      autoPost(`${admin}/api/v1/config`, { '{"limits.maxConnections":1,"x":"': '"}' }, 'text/plain'),
    );
    others.push(sameSite.server, crossSite.server, asJson.server);
    const attacker = await ctx.newPage();
    try {
      for (const [url, target] of [
        [`http://127.0.0.1:${sameSite.port}/`, '/api/v1/playlists/promo/stop'],
        [`http://localhost:${crossSite.port}/`, '/signout'],
        [`http://127.0.0.1:${asJson.port}/`, '/api/v1/config'],
      ]) {
        const answer = attacker.waitForResponse(
          (r) => r.url() === `${admin}${target}` && r.request().method() === 'POST',
          { timeout: SHOWN_MS },
        );
        await attacker.goto(url);
        const r = await answer;
        assert.equal(r.status(), 403, `${target} posted from ${url} is refused`);
      }
    } finally {
      await attacker.close();
    }
    assert.equal(stateOf('promo'), 'running', 'the playlist still runs');
    assert.equal(srv.server.config.limits.maxConnections, 0, 'the config is unchanged');
    assert.equal(await api('/api/v1/session'), 200, 'still signed in');
  });

  it('Relays and Logs: the pages load; the access history counts the viewers and resets', async () => {
    await page.click('nav a[href="/relays"]');
    await page.locator('#relays', { hasText: 'No relay is configured' }).waitFor({ timeout: SHOWN_MS });
    await screenshot(page, 'relays');
    await page.click('nav a[href="/logs"]');
    await page.waitForURL(`${admin}/logs`);
    await page.locator('#error-log', { hasText: /client disconnected/ }).waitFor({ timeout: SHOWN_MS });
    const row = page.locator('#access-history tr[data-file="channel"]');
    await row.waitFor({ timeout: SHOWN_MS });
    assert.ok(
      (await shownNumber(page, '#access-history tr[data-file="channel"] data')) >= 2,
      'both viewers of the channel are counted',
    );
    await screenshot(page, 'logs');
    const reset = page.locator('#reset-access');
    await reset.click();
    await reset.click();
    await page
      .locator('#access-history', { hasText: 'Nothing requested since the counts were reset' })
      .waitFor({ timeout: SHOWN_MS });
  });

  it('every page fits 1280×800 and a 390px phone without sideways scrolling; screenshots of each', async () => {
    const pages = [
      ['/', 'Snapshot', '#live-paths table'],
      ['/users', 'Connected users', '#sessions table'],
      ['/relays', 'Relays', '#relays table'],
      ['/playlists', 'Playlists', '#playlists table'],
      ['/settings', 'Settings', '#listening:has-text("Listening now")'],
      ['/logs', 'Logs', '#access-history table'],
    ] as const;
    for (const [width, height, suffix] of [
      [1280, 800, ''],
      [390, 844, '-phone'],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [path, title, ready] of pages) {
        await page.goto(`${admin}${path}`);
        await page.locator('h1', { hasText: title }).waitFor({ timeout: SHOWN_MS });
        await page.locator(ready).first().waitFor({ timeout: SHOWN_MS });
        assert.equal(await overflowX(page), 0, `${path} at ${width}px scrolls sideways`);
        await screenshot(page, `page-${title.toLowerCase().replace(/ /g, '-')}${suffix}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out: back to the sign-in page, and the pages need signing in again', async () => {
    await page.goto(`${admin}/`);
    await page.locator('#who', { hasText: USER }).waitFor({ timeout: SHOWN_MS });
    await Promise.all([page.waitForURL(/\/signin/), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.locator('#signin-error', { hasText: /signed out/i }).waitFor({ timeout: SHOWN_MS });
    await page.goto(`${admin}/settings`);
    assert.equal(new URL(page.url()).pathname, '/signin');
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/server')).status), 401);
    assert.deepEqual(pageErrors, [], 'no script error or blocked resource on any page');
  });
});

describe(
  'web admin without an administrator',
  { skip: skipUnlessCI(chromiumMissing(), 'needs /usr/bin/chromium (Debian chromium)') },
  () => {
    it('every page says how to make one, with the files the server reads, and nothing else', async () => {
      const scratch = tempDir('rivulet-admin-setup-');
      const users = join(scratch.dir, 'my users');
      const groups = join(scratch.dir, 'qtgroups');
      passwd('-c', '-f', users, '-g', groups, '-p', 'pw', 'bob');
      const { port, sets } = await adminSets(users, groups);
      const srv = await startServer({ mediaDir: scratch.dir, sets });
      const browser = await launchChromium();
      try {
        mkdirSync(ARTIFACTS, { recursive: true });
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        for (const path of ['/', '/signin', '/settings']) {
          await page.goto(`http://127.0.0.1:${port}${path}`);
          const command = await page.locator('#create-admin').innerText();
          assert.match(command, /^rivulet passwd .*-A admin NAME$/);
          assert.ok(
            command.includes(`-f '${users}'`) || command.includes(`-f "${users}"`),
            `the users file is named: ${command}`,
          );
          assert.ok(command.includes(`-g ${groups}`), `the groups file is named: ${command}`);
          assert.equal(await page.locator('form').count(), 0, 'no form: nothing else is served');
        }
        await screenshot(page, 'setup');
        assert.equal(await page.evaluate(async () => (await fetch('/api/v1/server')).status), 401);
      } finally {
        await browser.close();
        await srv.close();
        scratch.cleanup();
      }
    });
  },
);
