import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../logging/index.js';
import { answerChallenge } from './digest-client.js';
import { Authorizer, type AccessDecision, type AccessRequest } from './authorizer.js';
import { GroupsFileDoc } from './groups-file.js';
import { ha1Md5, UsersFileDoc } from './users-file.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('Authorizer', () => {
  let root: string;
  let etc: string;
  const logs: string[] = [];

  before(() => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-auth-')));
    root = join(base, 'media');
    etc = join(base, 'etc');
    mkdirSync(etc);
    for (const d of [
      'open',
      'members/inner',
      'members/public',
      'staff',
      'broken',
      'live',
      'vip',
      'writers',
      'local',
      'dss',
    ])
      mkdirSync(join(root, d), { recursive: true });
    const users = UsersFileDoc.create('Streaming Server');
    users.setPassword('alice', 'wonderland');
    users.setPassword('bob', 'builder');
    users.setPassword('enc', 'oder');
    writeFileSync(join(etc, 'qtusers'), users.toString());
    // As DSS's qtpasswd wrote it: DES crypt, MD5 digest, no SHA-256.
    writeFileSync(
      join(etc, 'dssusers'),
      `realm Streaming Server\ndss:XyuaA1mUbfVDs:${ha1Md5('dss', 'Streaming Server', 'open sesame')}\n`,
    );
    const groups = GroupsFileDoc.create();
    groups.addMember('staff', 'bob');
    groups.addMember('broadcaster', 'enc');
    writeFileSync(join(etc, 'qtgroups'), groups.toString());
    const local = UsersFileDoc.create('Local');
    local.setPassword('zed', 'zzz');
    writeFileSync(join(root, 'local', 'users'), local.toString());

    writeFileSync(join(root, 'members', 'qtaccess'), 'AuthName "Members"\nrequire valid-user\n');
    writeFileSync(join(root, 'members', 'public', 'qtaccess'), 'require any-user\n');
    writeFileSync(join(root, 'staff', 'qtaccess'), 'AuthScheme basic\nrequire group staff\n');
    writeFileSync(join(root, 'broken', 'qtaccess'), 'require valid-user\nrequire everybody\n');
    writeFileSync(
      join(root, 'vip', 'qtaccess'),
      'require user alice\n<Limit WRITE>\nrequire user bob\n</Limit>\n',
    );
    writeFileSync(join(root, 'writers', 'qtaccess'), '<Limit WRITE>\nrequire any-user\n</Limit>\n');
    writeFileSync(
      join(root, 'dss', 'qtaccess'),
      `AuthName "Old"\nAuthUserFile ${join(etc, 'dssusers')}\nrequire valid-user\n`,
    );
    writeFileSync(
      join(root, 'local', 'qtaccess'),
      'AuthUserFile users\nAuthScheme basic\nrequire valid-user\n',
    );
    for (const f of [
      'open/a.mp4',
      'members/a.mp4',
      'members/inner/a.mp4',
      'members/public/a.mp4',
      'staff/a.mp4',
      'broken/a.mp4',
      'vip/a.mp4',
      'local/a.mp4',
      'dss/a.mp4',
    ]) {
      writeFileSync(join(root, f), 'x');
    }
    // A link from an open folder to a protected movie must not open it.
    symlinkSync(join(root, 'members', 'a.mp4'), join(root, 'open', 'link.mp4'));
    symlinkSync(join(etc, 'qtusers'), join(root, 'open', 'outside.mp4'));
  });
  after(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  function make(sets: string[] = [], now?: () => number): Authorizer {
    const config = loadConfig({
      sets: [
        `auth.usersFile=${join(etc, 'qtusers')}`,
        `auth.groupsFile=${join(etc, 'qtgroups')}`,
        'live.publishAllow=127.0.0.1/32',
        ...sets,
      ],
    });
    const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
    return new Authorizer({
      auth: config.auth,
      publishAllow: () => ({ addresses: config.live.publishAllow, setting: 'live.publishAllow' }),
      mediaRoot: root,
      log,
      now,
    });
  }

  const req = (path: string, extra: Partial<AccessRequest> = {}): AccessRequest => ({
    access: 'read',
    segments: path.split('/').filter((s) => s),
    method: 'DESCRIBE',
    uri: `rtsp://127.0.0.1:8554/${path}`,
    address: '10.1.2.3',
    ...extra,
  });

  const status = (d: AccessDecision) => (d.allowed ? 200 : d.status);

  /** Answers a Digest challenge as a client would. */
  async function digestLogin(
    a: Authorizer,
    path: string,
    user: string,
    pw: string,
    opts: { qop?: boolean; sha?: boolean; method?: string } = {},
  ): Promise<AccessDecision> {
    const first = await a.authorize(req(path, { method: opts.method ?? 'DESCRIBE' }));
    assert.equal(status(first), 401);
    if (first.allowed) throw new Error('unreachable');
    const ch = first.challenges.find((c) => c.includes(opts.sha ? 'SHA-256' : 'MD5'))!;
    const authorization = answerChallenge(ch, {
      user,
      password: pw,
      method: opts.method ?? 'DESCRIBE',
      uri: `rtsp://127.0.0.1:8554/${path}`,
      qop: opts.qop,
    });
    return a.authorize(req(path, { method: opts.method ?? 'DESCRIBE', authorization }));
  }

  it('checks a radio publisher: the shared source password, or a broadcaster-group login; address lists do not let it in', async () => {
    const a = make();
    const login = (user: string | undefined, password: string, sharedPassword = 'hackme') =>
      a.checkPublisherLogin({ user, password, address: '127.0.0.1', sharedUser: 'source', sharedPassword });
    assert.deepEqual(await login('source', 'hackme'), { ok: true, user: 'source' });
    assert.deepEqual(await login(undefined, 'hackme'), { ok: true, user: 'source' });
    assert.equal((await login('source', 'wrong')).ok, false, 'publishAllow 127.0.0.1 is no password');
    assert.equal((await login('source', '', '')).ok, false, 'no shared password set: none accepted');
    assert.deepEqual(await login('enc', 'oder'), { ok: true, user: 'enc' });
    const bob = await login('bob', 'builder');
    assert.equal(bob.ok, false);
    assert.match(bob.ok ? '' : bob.reason, /not in group broadcaster/);
    assert.equal((await login('enc', 'wrong')).ok, false);
  });

  it('lets everyone play where no access file is found (auth.allowGuestDefault)', async () => {
    assert.equal(status(await make().authorize(req('open/a.mp4'))), 200);
    assert.equal(status(await make().authorize(req('nothing/here.mp4'))), 200);
    const strict = make(['auth.allowGuestDefault=false']);
    assert.equal(status(await strict.authorize(req('open/a.mp4'))), 401);
    assert.equal(
      status(await strict.authorize(req('open/a.mp4', { authorization: basic('alice', 'wonderland') }))),
      401,
      'Basic is not accepted where Digest is asked',
    );
    assert.equal(status(await digestLogin(strict, 'open/a.mp4', 'alice', 'wonderland')), 200);
  });

  it('challenges with SHA-256 and MD5 Digest (MD5 last) in the users-file realm', async () => {
    const d = await make().authorize(req('members/a.mp4'));
    assert.ok(!d.allowed && d.status === 401);
    if (d.allowed) return;
    assert.equal(d.challenges.length, 2);
    assert.match(
      d.challenges[0],
      /^Digest realm="Streaming Server", nonce="[0-9a-f]{64}", algorithm=SHA-256, qop="auth"$/,
    );
    assert.match(
      d.challenges[1],
      /^Digest realm="Streaming Server", nonce="[0-9a-f]{64}", algorithm=MD5, qop="auth"$/,
    );
  });

  it('accepts Digest MD5 with and without qop, and SHA-256, for the nearest access file', async () => {
    const a = make();
    assert.deepEqual(await digestLogin(a, 'members/a.mp4', 'alice', 'wonderland', { qop: true }), {
      allowed: true,
      user: 'alice',
      realm: 'Streaming Server',
    });
    assert.deepEqual(await digestLogin(a, 'members/inner/a.mp4', 'bob', 'builder', { qop: false }), {
      allowed: true,
      user: 'bob',
      realm: 'Streaming Server',
    });
    assert.deepEqual(await digestLogin(a, 'members/a.mp4', 'alice', 'wonderland', { sha: true, qop: true }), {
      allowed: true,
      user: 'alice',
      realm: 'Streaming Server',
    });
    assert.deepEqual(
      await digestLogin(a, 'dss/a.mp4', 'dss', 'open sesame'),
      { allowed: true, user: 'dss', realm: 'Streaming Server' },
      'a user made by DSS qtpasswd',
    );
    assert.equal(status(await digestLogin(a, 'members/a.mp4', 'alice', 'wrong')), 401);
    assert.equal(status(await digestLogin(a, 'members/a.mp4', 'nobody', 'x')), 401);
    // The nearest file decides, with no merging: public/ is open although members/ is not.
    assert.equal(status(await a.authorize(req('members/public/a.mp4'))), 200);
  });

  it('does not offer SHA-256 when some user has no SHA-256 hash', async () => {
    const d = await make().authorize(req('dss/a.mp4'));
    assert.ok(!d.allowed && d.challenges.length === 1 && d.challenges[0].includes('algorithm=MD5'));
  });

  it('refuses a Digest response for another URI or method, or replayed', async () => {
    const a = make();
    const first = await a.authorize(req('members/a.mp4'));
    if (first.allowed) throw new Error('unreachable');
    const auth = answerChallenge(first.challenges[1], {
      user: 'alice',
      password: 'wonderland',
      method: 'DESCRIBE',
      uri: 'rtsp://127.0.0.1:8554/members/a.mp4',
      qop: true,
    });
    assert.equal(
      status(await a.authorize(req('members/inner/a.mp4', { authorization: auth }))),
      401,
      'other URI',
    );
    assert.equal(
      status(await a.authorize(req('members/a.mp4', { authorization: auth, method: 'SETUP' }))),
      401,
      'other method',
    );
    assert.equal(status(await a.authorize(req('members/a.mp4', { authorization: auth }))), 200);
    assert.equal(
      status(await a.authorize(req('members/a.mp4', { authorization: auth }))),
      401,
      'the same nc again',
    );
    assert.ok(
      logs.some(
        (l) =>
          /authentication failed: replayed nonce count/.test(l) &&
          l.includes('user=alice') &&
          l.includes('client=10.1.2.3'),
      ),
    );
  });

  it('answers an expired nonce with stale=true, without counting a failure', async () => {
    let now = Date.now();
    const a = make(['auth.nonceLifetime=10', 'auth.failuresBeforeDelay=0'], () => now);
    const first = await a.authorize(req('members/a.mp4'));
    if (first.allowed) throw new Error('unreachable');
    now += 11_000;
    const auth = answerChallenge(first.challenges[1], {
      user: 'alice',
      password: 'wonderland',
      method: 'DESCRIBE',
      uri: 'rtsp://127.0.0.1:8554/members/a.mp4',
      qop: true,
    });
    const d = await a.authorize(req('members/a.mp4', { authorization: auth }));
    assert.ok(!d.allowed && d.status === 401);
    if (d.allowed) return;
    assert.ok(d.challenges.every((c) => c.endsWith('stale=true')));
    assert.equal(d.delayMs, 0, 'not a failure');
  });

  it('Basic: checks the stored crypt hash (MD5-crypt and DSS DES), uses AuthName as realm, checks groups', async () => {
    const a = make();
    const d = await a.authorize(req('staff/a.mp4'));
    assert.ok(!d.allowed && d.challenges[0] === 'Basic realm="Streaming Server"');
    assert.deepEqual(await a.authorize(req('staff/a.mp4', { authorization: basic('bob', 'builder') })), {
      allowed: true,
      user: 'bob',
      realm: 'Streaming Server',
    });
    assert.equal(
      status(await a.authorize(req('staff/a.mp4', { authorization: basic('alice', 'wonderland') }))),
      403,
      'not in group staff',
    );
    assert.equal(status(await a.authorize(req('staff/a.mp4', { authorization: basic('bob', 'nope') }))), 401);
    const basicAll = make(['auth.scheme=basic']);
    const c = await basicAll.authorize(req('members/a.mp4'));
    assert.ok(!c.allowed && c.challenges[0] === 'Basic realm="Members"', 'AuthName is the Basic realm');
    assert.equal(
      status(await basicAll.authorize(req('dss/a.mp4', { authorization: basic('dss', 'open sesame') }))),
      200,
    );
    assert.equal(
      status(
        await basicAll.authorize(req('dss/a.mp4', { authorization: basic('dss', 'open sesame, and more') })),
      ),
      200,
      'DES reads 8 characters',
    );
    assert.equal(
      status(await basicAll.authorize(req('dss/a.mp4', { authorization: basic('dss', 'open Sesame') }))),
      401,
    );
  });

  it('reads AuthUserFile relative to the access file', async () => {
    const a = make();
    assert.equal(status(await a.authorize(req('local/a.mp4', { authorization: basic('zed', 'zzz') }))), 200);
    assert.equal(
      status(await a.authorize(req('local/a.mp4', { authorization: basic('alice', 'wonderland') }))),
      401,
    );
  });

  it('closes a folder whose access file is malformed, and logs the file and line', async () => {
    const d = await make().authorize(req('broken/a.mp4', { authorization: basic('alice', 'wonderland') }));
    assert.equal(status(d), 403);
    assert.ok(logs.some((l) => l.includes(join(root, 'broken', 'qtaccess')) && /line=2/.test(l)));
  });

  it('follows symlinks to the real folder, and refuses ones leading outside', async () => {
    const a = make();
    assert.equal(
      status(await a.authorize(req('open/link.mp4'))),
      401,
      'the linked movie keeps its protection',
    );
    assert.equal(status(await a.authorize(req('open/outside.mp4'))), 403);
    assert.equal(status(await a.authorize(req('members/qtaccess'))), 403, 'access files are never served');
  });

  it('re-reads the users and access files when they change', async () => {
    const a = make(['auth.scheme=basic']);
    const creds = { authorization: basic('alice', 'changed') };
    assert.equal(status(await a.authorize(req('members/a.mp4', creds))), 401);
    const doc = UsersFileDoc.create('Streaming Server');
    doc.setPassword('alice', 'changed');
    const file = join(etc, 'qtusers2');
    writeFileSync(file, doc.toString());
    writeFileSync(join(root, 'members', 'inner', 'qtaccess'), `AuthUserFile ${file}\nrequire valid-user\n`);
    assert.equal(status(await a.authorize(req('members/inner/a.mp4', creds))), 200);
    writeFileSync(join(root, 'members', 'inner', 'qtaccess'), `AuthUserFile ${file}\nrequire user nobody\n`);
    assert.equal(status(await a.authorize(req('members/inner/a.mp4', creds))), 403);
    rmSync(join(root, 'members', 'inner', 'qtaccess'));
  });

  describe('broadcasting (WRITE)', () => {
    const w = (path: string, address: string, authorization?: string) =>
      req(path, { access: 'write', method: 'ANNOUNCE', address, authorization });

    it('needs no login from live.publishAllow addresses', async () => {
      assert.equal(status(await make().authorize(w('live/cam', '127.0.0.1'))), 200);
      assert.equal(status(await make().authorize(w('live/cam', '::ffff:127.0.0.1'))), 200);
    });

    it('asks others to log in, and lets the broadcaster group in', async () => {
      const a = make(['auth.scheme=basic']);
      assert.equal(status(await a.authorize(w('live/cam', '127.0.0.2'))), 401);
      assert.equal(status(await a.authorize(w('live/cam', '127.0.0.2', basic('enc', 'oder')))), 200);
      assert.equal(
        status(await a.authorize(w('live/cam', '127.0.0.2', basic('alice', 'wonderland')))),
        403,
        'a valid user outside the group',
      );
      const empty = make(['auth.scheme=basic', 'live.publishAllow=']);
      assert.equal(
        status(await empty.authorize(w('live/cam', '127.0.0.1'))),
        401,
        'an empty allow-list means everyone logs in',
      );
    });

    it('adds <Limit WRITE> rules; READ rules do not grant WRITE', async () => {
      const a = make(['auth.scheme=basic']);
      assert.equal(status(await a.authorize(w('vip/stream', '10.0.0.9', basic('bob', 'builder')))), 200);
      assert.equal(status(await a.authorize(w('vip/stream', '10.0.0.9', basic('alice', 'wonderland')))), 403);
      assert.equal(
        status(await a.authorize(w('vip/stream', '10.0.0.9', basic('enc', 'oder')))),
        200,
        'broadcasters anywhere',
      );
      assert.equal(
        status(await a.authorize(w('writers/x', '10.0.0.9'))),
        200,
        'require any-user in <Limit WRITE>',
      );
      assert.equal(
        status(await a.authorize(req('vip/a.mp4', { authorization: basic('bob', 'builder') }))),
        403,
        'WRITE rules do not grant READ',
      );
    });

    it('with auth.scheme none, refuses with 403 instead of asking', async () => {
      const d = await make(['auth.scheme=none']).authorize(w('live/cam', '127.0.0.2'));
      assert.equal(status(d), 403);
      assert.equal(status(await make(['auth.scheme=none']).authorize(req('members/a.mp4'))), 403);
    });
  });

  it('slows down repeated failures from one address, one after another, and a login resets it', async () => {
    let now = 1_000_000;
    const a = make(['auth.scheme=basic', 'auth.failuresBeforeDelay=2', 'auth.maxFailureDelay=2'], () => now);
    const guess = async (i: number, address = '10.9.9.9') => {
      const d = await a.authorize(
        req('members/a.mp4', { address, authorization: basic('alice', `guess${i}`) }),
      );
      return d.allowed ? -1 : d.delayMs;
    };
    const spaced: number[] = [];
    for (let i = 0; i < 5; i++) {
      spaced.push(await guess(i));
      now += 10_000;
    }
    assert.deepEqual(spaced, [0, 0, 250, 500, 1000], 'answered before the next');
    // Arriving together, each waits for the one before it (2 s cap per failure).
    assert.deepEqual([await guess(5), await guess(6), await guess(7)], [2000, 4000, 6000]);
    assert.equal(await guess(0, '10.9.9.8'), 0, 'another address is not slowed');
    const other = await a.authorize(req('members/a.mp4', { address: '10.9.9.8' }));
    assert.equal(!other.allowed && other.delayMs, 0, 'a bare challenge is not held');
    now += 10_000;
    assert.equal(
      status(
        await a.authorize(
          req('members/a.mp4', { address: '10.9.9.9', authorization: basic('alice', 'wonderland') }),
        ),
      ),
      200,
    );
    assert.equal(await guess(8), 0, 'after a login, the next failure is not delayed');
  });

  it('refuses unchecked while too many failures from the address are held', async () => {
    const a = make(['auth.scheme=basic', 'auth.failuresBeforeDelay=0', 'auth.maxFailureDelay=60'], () => 0);
    for (let i = 0; i < 32; i++)
      await a.authorize(
        req('members/a.mp4', { address: '10.7.7.7', authorization: basic('alice', `g${i}`) }),
      );
    const d = await a.authorize(
      req('members/a.mp4', { address: '10.7.7.7', authorization: basic('alice', 'wonderland') }),
    );
    assert.ok(!d.allowed && d.status === 401 && d.delayMs === 0, 'refused at once, even the right password');
    assert.ok(logs.some((l) => /login refused unchecked/.test(l) && l.includes('client=10.7.7.7')));
  });

  it('refuses over-long credentials before hashing, and logs it', async () => {
    const a = make(['auth.scheme=basic']);
    const long = await a.authorize(
      req('members/a.mp4', { address: '10.6.6.6', authorization: basic('alice', 'x'.repeat(300)) }),
    );
    assert.equal(status(long), 401);
    assert.ok(logs.some((l) => /Basic password of 300 bytes is over the 256-byte limit/.test(l)));
    const huge = await a.authorize(
      req('members/a.mp4', { address: '10.6.6.6', authorization: basic('alice', 'x'.repeat(6000)) }),
    );
    assert.equal(status(huge), 401);
    assert.ok(logs.some((l) => /Authorization: value of \d+ bytes is over the 4096-byte limit/.test(l)));
    const d = make();
    const first = await d.authorize(req('members/a.mp4'));
    if (first.allowed) throw new Error('unreachable');
    const auth = answerChallenge(first.challenges[1], {
      user: 'a'.repeat(300),
      password: 'x',
      method: 'DESCRIBE',
      uri: 'rtsp://127.0.0.1:8554/members/a.mp4',
    });
    assert.equal(status(await d.authorize(req('members/a.mp4', { authorization: auth }))), 401);
    assert.ok(logs.some((l) => /Digest username of 300 bytes is over the 256-byte limit/.test(l)));
  });

  it('binds Digest nonces to the connection and address: a no-qop answer replayed elsewhere is refused', async () => {
    const a = make();
    const on = { address: '10.1.1.1', binding: 'rtsp:1' };
    const first = await a.authorize(req('members/a.mp4', on));
    if (first.allowed) throw new Error('unreachable');
    const auth = answerChallenge(first.challenges[1], {
      user: 'alice',
      password: 'wonderland',
      method: 'DESCRIBE',
      uri: 'rtsp://127.0.0.1:8554/members/a.mp4',
      qop: false,
    });
    assert.ok(!auth.includes('qop'));
    assert.equal(status(await a.authorize(req('members/a.mp4', { ...on, authorization: auth }))), 200);
    assert.equal(
      status(await a.authorize(req('members/a.mp4', { ...on, authorization: auth }))),
      200,
      'RFC 2069 clients reuse the nonce on their connection',
    );
    for (const elsewhere of [
      { address: '10.1.1.1', binding: 'rtsp:2' },
      { address: '10.1.1.2', binding: 'rtsp:1' },
      { address: '10.1.1.1' },
    ]) {
      const d = await a.authorize(req('members/a.mp4', { ...elsewhere, authorization: auth }));
      assert.ok(!d.allowed && d.status === 401, JSON.stringify(elsewhere));
      if (d.allowed) return;
      assert.ok(d.challenges.every((c) => c.endsWith('stale=true')));
    }
    assert.ok(
      logs.some(
        (l) => /nonce issued to another connection or address/.test(l) && l.includes('client=10.1.1.2'),
      ),
    );
  });

  it('names the realm of a login: in a 401, a 403 after login, and an allowed login', async () => {
    const a = make();
    const challenged = await a.authorize(req('local/a.mp4'));
    assert.ok(!challenged.allowed && challenged.status === 401);
    assert.equal(challenged.realm, 'Local', 'the users file of the access file names it');
    assert.deepEqual(await a.authorize(req('local/a.mp4', { authorization: basic('zed', 'zzz') })), {
      allowed: true,
      user: 'zed',
      realm: 'Local',
    });
    const refused = await a.authorize(req('staff/a.mp4', { authorization: basic('alice', 'wonderland') }));
    assert.ok(!refused.allowed && refused.status === 403);
    assert.equal(refused.realm, 'Streaming Server');
    const open = await a.authorize(req('open/a.mp4'));
    assert.deepEqual(open, { allowed: true }, 'no login, no realm');
  });

  it('reads auth.scheme and auth.realm from the running settings at each request', async () => {
    const config = loadConfig({
      sets: [`auth.usersFile=${join(etc, 'qtusers')}`, `auth.groupsFile=${join(etc, 'qtgroups')}`, 'auth.allowGuestDefault=false'],
    });
    const a = new Authorizer({
      auth: () => config.auth,
      publishAllow: () => ({ addresses: [], setting: 'live.publishAllow' }),
      mediaRoot: root,
      log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    });
    const challenge = async () => {
      const d = await a.authorize(req('open/a.mp4'));
      assert.ok(!d.allowed && d.status === 401);
      return d.challenges.at(-1) ?? '';
    };
    assert.match(await challenge(), /^Digest realm="Streaming Server"/);
    config.auth.scheme = 'basic';
    assert.equal(await challenge(), 'Basic realm="Streaming Server"');
    // The whole section replaced, with a users file that names no realm: auth.realm is used.
    config.auth = { ...config.auth, scheme: 'digest', realm: 'Elsewhere', usersFile: join(etc, 'none') };
    assert.match(await challenge(), /^Digest realm="Elsewhere"/);
    config.auth = { ...config.auth, scheme: 'none' };
    assert.equal(status(await a.authorize(req('open/a.mp4'))), 403);
  });
});
