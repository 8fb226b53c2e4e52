import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { missingTool } from '../../test/helpers/tools.js';
import { cryptKind, hashPassword, verifyCrypt } from './crypt.js';
import { desCrypt } from './des-crypt.js';
import { md5Crypt } from './md5-crypt.js';

// Reference values from glibc's crypt(3) (perl -e 'print crypt(...)') and openssl passwd -apr1.
const DES: [string, string, string][] = [
  ['password', 'ab', 'abJnggxhB/yWI'],
  ['open sesame', 'Xy', 'XyuaA1mUbfVDs'],
  ['12345678extra', 'a.', 'a.15yiPJnbs/U'],
  ['', '..', '..X8NBuQ4l6uQ'],
];

describe('DES crypt(3)', () => {
  it('matches glibc on known values', () => {
    for (const [pw, salt, want] of DES) assert.equal(desCrypt(pw, salt), want, `${pw}/${salt}`);
  });

  it('uses only the first 8 characters, as every Unix did', () => {
    assert.equal(desCrypt('12345678', 'a.'), desCrypt('12345678extra', 'a.'));
    assert.ok(verifyCrypt('12345678anything', 'a.15yiPJnbs/U'));
  });

  it('refuses salts outside the crypt alphabet', () => {
    assert.equal(desCrypt('x', '!a'), null);
    assert.equal(desCrypt('x', 'a'), null);
  });

  it('agrees with the system crypt(3) on random passwords and salts (when perl is installed)', (t) => {
    if (spawnSync('perl', ['-e', '1']).status !== 0) return missingTool(t, 'perl', 'the reference crypt(3)');
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c)),
          maxLength: 12,
        }),
        fc.stringMatching(/^[./0-9A-Za-z]{2}$/),
        fc.stringMatching(/^[./0-9A-Za-z]{0,8}$/),
        (pw, salt, salt8) => {
          const r = spawnSync(
            'perl',
            ['-e', 'print crypt($ENV{P},$ENV{S}),qq(\\n),crypt($ENV{P},q($1$).$ENV{T}.q($))'],
            {
              env: { P: pw, S: salt, T: salt8 },
            },
          );
          const [des, md5] = r.stdout.toString().split('\n');
          assert.equal(desCrypt(pw, salt), des);
          assert.equal(md5Crypt(pw, salt8), md5);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('MD5 crypt', () => {
  it('matches glibc ($1$) and openssl (-apr1) on known values', () => {
    assert.equal(md5Crypt('password', 'saltsalt'), '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/');
    assert.equal(md5Crypt('Circle Of Life', 'Zz9/aB.c'), '$1$Zz9/aB.c$1t5sy0cfuLbZCoVYYE51f0');
    assert.equal(md5Crypt('secret', 'abcdefgh', '$apr1$'), '$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/');
    assert.equal(md5Crypt('Circle Of Life', 'r4nd0m', '$apr1$'), '$apr1$r4nd0m$EPGgzGW.t5ZLkS19phbWV/');
  });

  it('reads the salt up to 8 characters or a $', () => {
    assert.equal(md5Crypt('password', 'saltsalt$rest'), '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/');
    assert.equal(md5Crypt('password', 'saltsaltTOOLONG'), '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/');
  });
});

describe('verifyCrypt / hashPassword', () => {
  it('tells the stored flavours apart', () => {
    assert.equal(cryptKind('abJnggxhB/yWI'), 'des');
    assert.equal(cryptKind('$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'), 'md5');
    assert.equal(cryptKind('$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/'), 'apr1');
    assert.equal(cryptKind('$6$x$y'), undefined);
    assert.equal(cryptKind(''), undefined);
  });

  it('verifies every flavour and refuses wrong passwords and unknown hashes', () => {
    assert.ok(verifyCrypt('password', 'abJnggxhB/yWI'));
    assert.ok(!verifyCrypt('Password', 'abJnggxhB/yWI'));
    assert.ok(verifyCrypt('password', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'));
    assert.ok(!verifyCrypt('passwor', '$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/'));
    assert.ok(verifyCrypt('secret', '$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/'));
    assert.ok(!verifyCrypt('', ''));
    assert.ok(!verifyCrypt('x', '$6$salt$whatever'));
  });

  it('new hashes verify with their password only', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (pw, other) => {
        const h = hashPassword(pw);
        assert.equal(cryptKind(h), 'md5');
        assert.ok(verifyCrypt(pw, h));
        if (other !== pw) assert.ok(!verifyCrypt(other, h));
      }),
      { numRuns: 30 },
    );
    const des = hashPassword('abc', 'des');
    assert.equal(cryptKind(des), 'des');
    assert.ok(verifyCrypt('abc', des));
  });
});
