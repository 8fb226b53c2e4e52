import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseAuthorization } from '../../auth/index.js';
import { digestResponse } from '../../auth/digest.js';
import { ha1Md5, ha1Sha256 } from '../../auth/users-file.js';
import type { RtspRequest } from '../message/index.js';
import { RtspClientConnection } from './connection.js';
import { RtspClientError } from './errors.js';
import { fakeServer, type FakeServer } from './test-helpers/fake-server.js';

const USER = 'alice';
const PASSWORD = 'p@ss word';

/** Checks Basic or Digest (MD5 or SHA-256, with qop or without) against USER/PASSWORD. */
function verify(req: RtspRequest, nonce: string): { ok: boolean; nc?: string; algorithm?: string; qop?: string; scheme?: string } {
  const raw = req.headers.get('authorization');
  if (raw === undefined) return { ok: false };
  const c = parseAuthorization(raw);
  if (c.scheme === 'basic') return { ok: c.user === USER && c.password === PASSWORD, scheme: 'basic' };
  if (c.scheme !== 'digest') return { ok: false };
  const algorithm = c.algorithm === 'SHA-256' ? 'SHA-256' : 'MD5';
  const ha1 = (algorithm === 'MD5' ? ha1Md5 : ha1Sha256)(USER, c.realm, PASSWORD);
  const expected = digestResponse({ algorithm, ha1, method: req.method, uri: c.uri, nonce: c.nonce, qop: c.qop, nc: c.nc, cnonce: c.cnonce });
  return { ok: c.user === USER && c.nonce === nonce && c.uri === req.uri && expected === c.response, nc: c.nc, algorithm, qop: c.qop, scheme: 'digest' };
}

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** A fake server that challenges with several WWW-Authenticate lines. */
async function challenging(challenges: (nonce: string) => string[], opts: { staleFirst?: boolean } = {}) {
  let nonce = 'n1';
  let staleSent = false;
  const seen: ReturnType<typeof verify>[] = [];
  const s = await fakeServer((req, c) => {
    const v = verify(req, nonce);
    seen.push(v);
    let values = challenges(nonce);
    if (opts.staleFirst === true && v.ok && !staleSent) {
      // The first right answer is refused as stale: a new nonce, same credentials.
      staleSent = true;
      nonce = 'n2';
      values = challenges(nonce).map((x) => (x.startsWith('Digest') ? `${x}, stale=true` : x));
    } else if (v.ok) return c.reply(req, 200);
    const cseq = req.headers.get('cseq') ?? '0';
    c.raw(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\n${values.map((x) => `WWW-Authenticate: ${x}\r\n`).join('')}\r\n`);
  });
  servers.push(s);
  return { s, seen };
}

const withCreds = (url: string, user = USER, pw = PASSWORD) =>
  url.replace('rtsp://', `rtsp://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@`);

async function authError(p: Promise<unknown>): Promise<RtspClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RtspClientError && e.code === 'auth', String(e));
    return e;
  }
  assert.fail('expected an auth error');
}

describe('RtspClientConnection authentication', () => {
  it('answers Basic with percent-decoded credentials from the URL', async () => {
    const { s, seen } = await challenging(() => ['Basic realm="r"']);
    const conn = await RtspClientConnection.connect(withCreds(s.url()));
    assert.equal((await conn.request('DESCRIBE', s.url())).status, 200);
    assert.deepEqual(seen.map((v) => v.ok), [false, true]);
    assert.equal(seen[1].scheme, 'basic');
    conn.close();
  });

  it('answers Digest MD5 with qop=auth, counting nc up on later requests without a new 401', async () => {
    const { s, seen } = await challenging((n) => [`Digest realm="r", nonce="${n}", qop="auth"`]);
    const conn = await RtspClientConnection.connect(s.url(), { credentials: { user: USER, password: PASSWORD } });
    assert.equal((await conn.request('DESCRIBE', s.url())).status, 200);
    assert.equal((await conn.request('SETUP', s.url('stream/trackID=1'))).status, 200);
    assert.equal((await conn.request('PLAY', s.url())).status, 200);
    assert.deepEqual(seen.map((v) => [v.ok, v.nc]), [[false, undefined], [true, '00000001'], [true, '00000002'], [true, '00000003']]);
    assert.equal(seen[1].algorithm, 'MD5');
    conn.close();
  });

  it('answers Digest without qop (RFC 2069 style)', async () => {
    const { s, seen } = await challenging((n) => [`Digest realm="r", nonce="${n}"`]);
    const conn = await RtspClientConnection.connect(withCreds(s.url()));
    assert.equal((await conn.request('DESCRIBE', s.url())).status, 200);
    assert.equal(seen[1].qop, undefined);
    assert.ok(seen[1].ok);
    conn.close();
  });

  it('prefers Digest SHA-256 over MD5 over Basic, skipping what it cannot answer', async () => {
    const { s, seen } = await challenging((n) => [
      'Basic realm="r"',
      `Digest realm="r", nonce="${n}", algorithm=SHA-512-256, qop="auth"`,
      `Digest realm="r", nonce="${n}", algorithm=MD5, qop="auth"`,
      `Digest realm="r", nonce="${n}", algorithm=SHA-256, qop="auth"`,
      'Bearer realm="x"',
    ]);
    const conn = await RtspClientConnection.connect(withCreds(s.url()));
    assert.equal((await conn.request('DESCRIBE', s.url())).status, 200);
    assert.equal(seen[1].algorithm, 'SHA-256');
    conn.close();
  });

  it('answers again once when the server says the nonce was stale', async () => {
    const { s, seen } = await challenging((n) => [`Digest realm="r", nonce="${n}", qop="auth"`], { staleFirst: true });
    const conn = await RtspClientConnection.connect(withCreds(s.url()));
    assert.equal((await conn.request('DESCRIBE', s.url())).status, 200);
    assert.deepEqual(seen.map((v) => v.ok), [false, true, true], 'no answer, the stale one, the new nonce');
    conn.close();
  });

  it('says the credentials are wrong, naming the URL and user but not the password', async () => {
    const { s, seen } = await challenging((n) => [`Digest realm="r", nonce="${n}", qop="auth"`]);
    const conn = await RtspClientConnection.connect(withCreds(s.url(), USER, 'guess-secret'));
    const e = await authError(conn.request('DESCRIBE', s.url()));
    assert.equal(e.message, `wrong credentials for user "alice" at rtsp://alice@127.0.0.1:${s.port}/stream (401 Unauthorized)`);
    assert.equal(seen.length, 2, 'one answer, not a loop');
    assert.ok(!conn.closed, 'a refusal keeps the connection');
    conn.close();
  });

  it('says credentials are needed when it has none, or cannot answer the challenge', async () => {
    const { s } = await challenging(() => ['Bearer realm="x"']);
    const conn = await RtspClientConnection.connect(s.url());
    assert.match((await authError(conn.request('DESCRIBE', s.url()))).message, /needs credentials \(401 Unauthorized\)/);
    conn.close();
    const c2 = await RtspClientConnection.connect(withCreds(s.url()));
    assert.match((await authError(c2.request('DESCRIBE', s.url()))).message, /cannot answer \(Bearer\)/);
    c2.close();
  });
});
