import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerChallenge, MAX_PASSWORD, UsersFileDoc } from '../auth/index.js';
import { loadConfig } from '../config/index.js';
import { silentLogger } from '../logging/index.js';
import { AdminAuth, crossSiteReason, setupCommands, type AuthOutcome } from './auth.js';
import { AdminSessions } from './sessions.js';

const TOKEN = 'a-token-of-20-chars!';
/** Longer than any password may be (rivulet passwd refuses it). */
const LONG_PASSWORD = 'p'.repeat(MAX_PASSWORD + 20);

describe('AdminAuth', () => {
  let dir: string;
  let users: string;
  let groups: string;
  let now = 1_000_000;
  const config = () =>
    loadConfig({
      sets: [
        `auth.usersFile=${users}`,
        `auth.groupsFile=${groups}`,
        `admin.tokens=${TOKEN}`,
        'auth.failuresBeforeDelay=2',
        'auth.maxFailureDelay=4',
      ],
    });
  let cfg: ReturnType<typeof config>;
  let auth: AdminAuth;
  const ask = (o: Partial<Parameters<AdminAuth['authenticate']>[0]>) =>
    auth.authenticate({ method: 'GET', url: '/api/v1/server', address: '10.0.0.1', quiet: false, ...o });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const refused = (o: AuthOutcome) => {
    assert.equal(o.ok, false);
    return o;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-admin-auth-'));
    users = join(dir, 'qtusers');
    groups = join(dir, 'qtgroups');
    const doc = UsersFileDoc.create('Streaming Server');
    doc.setPassword('alice', 'wonder land');
    doc.setPassword('bob', 'builder');
    // Made by hand: no tool writes a password this long.
    doc.setPassword('carol', LONG_PASSWORD);
    writeFileSync(users, doc.toString());
    writeFileSync(groups, 'admin: alice ghost carol\nbroadcaster: bob\n');
    cfg = config();
    auth = new AdminAuth({ config: () => cfg, log: silentLogger(), now: () => now });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('knows the admins: members of admin.group with a password (a member without one is nobody)', async () => {
    const a = await auth.admins();
    assert.deepEqual([...a.names], ['alice', 'carol']);
    assert.equal(a.usersFileExists, true);
  });

  it('takes Basic of an admin, refuses a non-admin with 403 and no credentials with challenges', async () => {
    const ok = await ask({ authorization: basic('alice', 'wonder land') });
    assert.deepEqual(ok, { ok: true, caller: { user: 'alice', via: 'basic' } });
    const bob = refused(await ask({ authorization: basic('bob', 'builder') }));
    assert.equal(bob.status, 403);
    const none = refused(await ask({}));
    assert.equal(none.status, 401);
    assert.deepEqual(
      none.challenges.map((c) => c.split(' ')[0]),
      ['Digest', 'Digest', 'Basic'],
    );
    assert.match(none.challenges[0], /algorithm=SHA-256/);
    assert.deepEqual(refused(await ask({ quiet: true })).challenges, [], "a page's fetch gets no challenge");
  });

  it('takes a Digest answer (MD5 and SHA-256) for the URI it covers, once per nonce count', async () => {
    for (const i of [0, 1]) {
      const challenge = refused(await ask({})).challenges[i];
      const authorization = answerChallenge(challenge, {
        user: 'alice',
        password: 'wonder land',
        method: 'GET',
        uri: '/api/v1/server',
      });
      assert.deepEqual(await ask({ authorization }), { ok: true, caller: { user: 'alice', via: 'digest' } });
      assert.equal(refused(await ask({ authorization })).status, 401, 'a replay is refused');
      const other = answerChallenge(challenge, {
        user: 'alice',
        password: 'wonder land',
        method: 'GET',
        uri: '/api/v1/paths',
        nc: 2,
      });
      assert.equal(
        refused(await ask({ authorization: other })).status,
        401,
        'an answer for another URI is refused',
      );
    }
  });

  it('takes a bearer token of admin.tokens and nothing else', async () => {
    assert.deepEqual(await ask({ authorization: `Bearer ${TOKEN}` }), {
      ok: true,
      caller: { user: 'token', via: 'bearer' },
    });
    assert.equal(refused(await ask({ authorization: `Bearer ${TOKEN}x`, address: '10.0.0.9' })).status, 401);
  });

  it('refuses a Basic password longer than any may be, as a wrong one, without hashing it', async () => {
    const r = refused(await ask({ address: '10.0.0.8', authorization: basic('carol', LONG_PASSWORD) }));
    assert.equal(r.status, 401);
    assert.equal(r.error, 'wrong user name or password');
  });

  it('shuts an address out after the free failures, longer each time: 429 at once, credentials unchecked', async () => {
    const address = '10.0.0.2';
    const guess = () => ask({ address, authorization: basic('alice', 'guess') });
    for (let i = 0; i < 2; i++)
      assert.equal(refused(await guess()).status, 401, 'auth.failuresBeforeDelay are free');
    const shutFor: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.equal(refused(await guess()).status, 401, 'a failure is answered at once');
      const shut = refused(await ask({ address, authorization: basic('alice', 'wonder land') }));
      assert.equal(shut.status, 429, 'even the right password waits');
      assert.deepEqual(shut.challenges, []);
      assert.match(shut.error, /too many failed logins, try again in \d+ s/);
      shutFor.push(shut.retryAfterS ?? 0);
      // Until the address may try again.
      now += shut.retryAfterS! * 1000;
    }
    // 250 ms doubling, auth.maxFailureDelay=4 s; Retry-After in whole seconds.
    assert.deepEqual(shutFor, [1, 1, 1, 2, 4]);
    assert.equal((await guess()).ok, false);
    const form = await auth.signIn('alice', 'wonder land', address);
    assert.ok(!form.ok && form.retryAfterS === 4, 'the sign-in form counts on the same record');
    assert.equal(form.error, 'too many failed sign-ins, try again in 4 s');
    assert.equal(
      refused(await ask({ address: '10.0.0.3', authorization: basic('alice', 'guess') })).status,
      401,
    );
    assert.equal(
      (await ask({ address: '10.0.0.3', authorization: basic('alice', 'wonder land') })).ok,
      true,
      'another address is not shut out',
    );
    now += 4000;
    assert.equal((await ask({ address, authorization: basic('alice', 'wonder land') })).ok, true);
  });

  it('counts an IPv6 /64 as one address', async () => {
    for (const host of ['1', '2', 'a:b:c']) {
      const r = refused(await ask({ address: `2001:db8:5:6::${host}`, authorization: `Bearer ${TOKEN}x` }));
      assert.equal(r.status, 401);
    }
    const shut = refused(await ask({ address: '2001:db8:5:6:ffff::9', authorization: `Bearer ${TOKEN}` }));
    assert.equal(shut.status, 429, 'a new address of the same /64 is shut out');
    assert.equal(
      (await ask({ address: '2001:db8:5:7::1', authorization: `Bearer ${TOKEN}` })).ok,
      true,
      'the next /64 is not',
    );
    now += 1000;
  });

  it('signs in admins only, with a new session each time, which ends when the user leaves the group', async () => {
    assert.equal((await auth.signIn('bob', 'builder', '10.0.0.4')).ok, false, 'bob is no admin');
    const a = await auth.signIn('alice', 'wonder land', '10.0.0.4');
    const b = await auth.signIn('alice', 'wonder land', '10.0.0.4');
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.session.id, b.session.id);
    assert.notEqual(a.session.csrfToken, b.session.csrfToken);
    const via = await ask({ session: a.session.id });
    assert.ok(via.ok);
    assert.deepEqual(via.caller, { user: 'alice', via: 'session', csrfToken: a.session.csrfToken });
    writeFileSync(groups, 'admin: ghost\n# alice left\n');
    assert.equal(refused(await ask({ session: b.session.id })).status, 401);
    writeFileSync(groups, 'admin: alice\n');
    assert.equal((await ask({ session: b.session.id })).ok, false, 'her sessions ended with her membership');
  });

  it('says how to make the first admin when there is none', async () => {
    const none = new AdminAuth({
      config: () => ({
        ...cfg,
        auth: { ...cfg.auth, usersFile: join(dir, 'missing') },
        admin: { ...cfg.admin, tokens: [] },
      }),
      log: silentLogger(),
    });
    const r = refused(await none.authenticate({ method: 'GET', url: '/', address: '10.0.0.5', quiet: true }));
    assert.match(
      r.error,
      new RegExp(`rivulet passwd -c -f ${join(dir, 'missing')} -g ${groups} -A admin NAME`),
    );
    assert.deepEqual(setupCommands({ usersFile: '/etc/my users', groupsFile: '/g', group: 'admin' }), {
      add: "rivulet passwd -f '/etc/my users' -g /g -A admin NAME",
      create: "rivulet passwd -c -f '/etc/my users' -g /g -A admin NAME",
    });
  });
});

describe('crossSiteReason', () => {
  const host = '127.0.0.1:1220';
  it('lets requests of this origin and non-browser requests through', () => {
    assert.equal(crossSiteReason({ host }, 'http'), undefined);
    assert.equal(crossSiteReason({ host, origin: 'http://127.0.0.1:1220' }, 'http'), undefined);
    assert.equal(crossSiteReason({ host, referer: 'http://127.0.0.1:1220/settings' }, 'http'), undefined);
    assert.equal(
      crossSiteReason({ host, origin: 'http://127.0.0.1:1220', 'sec-fetch-site': 'same-origin' }, 'http'),
      undefined,
    );
  });
  it('refuses another origin, scheme or port, an opaque origin, and what the browser says is another site', () => {
    for (const h of [
      { host, origin: 'http://evil.example' },
      { host, origin: 'https://127.0.0.1:1220' },
      { host, origin: 'http://127.0.0.1:1221' },
      { host, origin: 'null' },
      { host, referer: 'http://evil.example/form.html' },
      { host, 'sec-fetch-site': 'cross-site' },
      { host, 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1220' },
    ]) {
      assert.notEqual(crossSiteReason(h, 'http'), undefined, JSON.stringify(h));
    }
  });
});

describe('AdminSessions', () => {
  it('expires sessions unused for the timeout, keeps used ones, and holds at most maxSessions', () => {
    let now = 0;
    const s = new AdminSessions({ timeoutMs: () => 1000, maxSessions: 3, now: () => now });
    const a = s.create('a');
    now = 900;
    assert.equal(s.use(a.id)?.user, 'a');
    now = 1800;
    assert.equal(s.use(a.id)?.user, 'a', 'use keeps it alive');
    now = 2801;
    assert.equal(s.use(a.id), undefined, 'expired');
    const made = [s.create('b'), s.create('c'), s.create('d')];
    assert.equal(s.use(made[0].id)?.user, 'b');
    s.create('e');
    assert.equal(s.size, 3);
    assert.equal(s.use(made[1].id), undefined, 'the least recently used went');
    assert.equal(s.use(made[0].id)?.user, 'b');
    assert.equal(s.use('not a token'), undefined);
    assert.equal(s.use(undefined), undefined);
  });
});
