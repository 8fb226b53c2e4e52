import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthParams,
  parseAuthorization,
} from './authorization-header.js';
import { HeaderError } from '../net/index.js';

describe('Authorization', () => {
  it('parses Basic credentials (password may hold colons)', () => {
    const v = `Basic ${Buffer.from('alice:pa:ss wörd').toString('base64')}`;
    assert.deepEqual(parseAuthorization(v), { scheme: 'basic', user: 'alice', password: 'pa:ss wörd' });
    assert.deepEqual(parseAuthorization(`basic   ${Buffer.from(':').toString('base64')}`), {
      scheme: 'basic',
      user: '',
      password: '',
    });
  });

  it('parses what ffmpeg sends for Digest with qop', () => {
    const v =
      'Digest username="bob", realm="Streaming Server", nonce="abc123", uri="rtsp://127.0.0.1:8554/a.mp4", ' +
      'response="0123456789abcdef0123456789abcdef", algorithm="MD5", cnonce="f00d", nc=00000001, qop="auth"';
    assert.deepEqual(parseAuthorization(v), {
      scheme: 'digest',
      user: 'bob',
      realm: 'Streaming Server',
      nonce: 'abc123',
      uri: 'rtsp://127.0.0.1:8554/a.mp4',
      response: '0123456789abcdef0123456789abcdef',
      algorithm: 'MD5',
      cnonce: 'f00d',
      nc: '00000001',
      qop: 'auth',
    });
  });

  it('parses RFC 2069-style Digest (no qop), escaped quotes, commas inside quotes and username*', () => {
    const c = parseAuthorization('Digest username="a\\"b", realm="x, y", nonce="n", uri="/p", response="r"');
    assert.equal(c.scheme, 'digest');
    if (c.scheme !== 'digest') return;
    assert.equal(c.user, 'a"b');
    assert.equal(c.realm, 'x, y');
    assert.equal(c.qop, undefined);
    const star = parseAuthorization(
      "Digest username*=UTF-8''J%C3%A4s%C3%B8n, realm=r, nonce=n, uri=/p, response=r, userhash=false",
    );
    assert.equal(star.scheme === 'digest' && star.user, 'Jäsøn');
  });

  it('rejects malformed credentials with HeaderError', () => {
    const bad = [
      '',
      'Basic',
      'Basic !!!!',
      `Basic ${Buffer.from('nocolon').toString('base64')}`,
      'Digest realm="r", nonce="n", uri="/", response="x"',
      'Digest username="u", realm="r", nonce="n", uri="/"',
      'Digest username="u", username="v", realm="r", nonce="n", uri="/", response="x"',
      'Digest username="u, realm="r"',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=1, cnonce=c',
      'Digest username*=bad, realm=r, nonce=n, uri=/, response=x',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", junk',
    ];
    for (const v of bad) assert.throws(() => parseAuthorization(v), HeaderError, v);
  });

  it('refuses over-long credentials: user names, passwords and Digest fields over 256 bytes, values over 4 KiB', () => {
    const b64 = (t: string) => `Basic ${Buffer.from(t).toString('base64')}`;
    assert.equal(
      (parseAuthorization(b64(`u:${'é'.repeat(128)}`)) as { password: string }).password.length,
      128,
    );
    const tooLong: [string, RegExp][] = [
      [b64(`u:${'é'.repeat(129)}`), /Basic password of 258 bytes is over the 256-byte limit/],
      [b64(`${'u'.repeat(257)}:p`), /Basic user name of 257 bytes/],
      [b64(`u:${'x'.repeat(6000)}`), /value of 8010 bytes is over the 4096-byte limit/],
      [
        `Digest username="u", realm="r", nonce="${'n'.repeat(300)}", uri="/", response="x"`,
        /Digest nonce of 300 bytes/,
      ],
      [
        `Digest username*=UTF-8''${'%C3%A9'.repeat(200)}, realm=r, nonce=n, uri=/, response=x`,
        /Digest username\*? of \d+ bytes/,
      ],
    ];
    for (const [v, re] of tooLong)
      assert.throws(
        () => parseAuthorization(v),
        (e: Error) => e instanceof HeaderError && re.test(e.message),
      );
    const longUri = `Digest username="u", realm="r", nonce="n", uri="/${'a'.repeat(1000)}", response="x"`;
    assert.equal((parseAuthorization(longUri) as { uri: string }).uri.length, 1001, 'a long URI is fine');
  });

  it('returns other schemes as such', () => {
    assert.deepEqual(parseAuthorization('Bearer abc.def'), { scheme: 'other', name: 'Bearer' });
  });

  it('formats challenges with quoting and round-trips their parameters', () => {
    const d = formatDigestChallenge({
      realm: 'My "Realm"\r\n',
      nonce: 'abc',
      algorithm: 'SHA-256',
      qop: true,
      stale: true,
    });
    assert.equal(d, 'Digest realm="My \\"Realm\\"", nonce="abc", algorithm=SHA-256, qop="auth", stale=true');
    const p = parseAuthParams(d.slice('Digest '.length));
    assert.equal(p.get('realm'), 'My "Realm"');
    assert.equal(p.get('stale'), 'true');
    assert.equal(formatBasicChallenge('Streaming Server'), 'Basic realm="Streaming Server"');
  });

  it('only ever throws HeaderError, on any input', () => {
    const piece = fc.constantFrom(
      'Digest ',
      'Basic ',
      'username=',
      'realm=',
      'nonce=',
      'uri=',
      'response=',
      'qop=auth',
      'nc=00000001',
      'cnonce=x',
      '"',
      '\\',
      ',',
      '=',
      ' ',
      'a',
      "UTF-8''%",
      '*',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.array(piece, { maxLength: 30 }).map((a) => a.join('')),
        ),
        (v) => {
          try {
            const c = parseAuthorization(v);
            if (c.scheme === 'digest')
              assert.ok(typeof c.user === 'string' && typeof c.response === 'string');
          } catch (e) {
            assert.ok(e instanceof HeaderError, String(e));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips Basic credentials', () => {
    fc.assert(
      fc.property(
        fc.string().filter((u) => !u.includes(':')),
        fc.string(),
        (user, password) => {
          const v = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
          assert.deepEqual(parseAuthorization(v), { scheme: 'basic', user, password });
        },
      ),
    );
  });
});
