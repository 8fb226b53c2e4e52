import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { verifyCrypt } from '../auth/crypt.js';
import { parseGroupsFile } from '../auth/groups-file.js';
import { ha1Md5, parseUsersFile } from '../auth/users-file.js';
import { passwd } from './passwd.js';

async function call(args: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin.end(input);
  const code = await passwd(args, { stdin, stdout, stderr });
  return { code, out, err };
}

describe('rivulet passwd', () => {
  let dir: string;
  let u: string;
  let g: string;
  const users = () => parseUsersFile(readFileSync(u, 'utf8'));
  const groups = () => parseGroupsFile(readFileSync(g, 'utf8')).groups;
  const f = (...a: string[]) => ['-f', u, '-g', g, ...a];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rivulet-passwd-'));
    u = join(dir, 'qtusers');
    g = join(dir, 'qtgroups');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a users file with a realm, and refuses to work on a missing one without -c', async () => {
    assert.equal((await call(f('-p', 'x', 'alice'))).code, 1);
    const r = await call(f('-c', '-r', 'My Realm', '-p', 'wonderland', 'alice'));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'Added user alice\n');
    const file = users();
    assert.equal(file.realm, 'My Realm');
    const a = file.users.get('alice')!;
    assert.ok(verifyCrypt('wonderland', a.crypt));
    assert.equal(a.ha1, ha1Md5('alice', 'My Realm', 'wonderland'));
    assert.ok(a.ha1Sha256);
    assert.equal(statSync(u).mode & 0o777, 0o640, 'new files are not world-readable');
  });

  it('asks twice for the password on standard input, and refuses a mismatch', async () => {
    const r = await call(f('bob'), 'builder\nbuilder\n');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /New password for bob: \nRe-type new password: \n/);
    assert.ok(!r.err.includes('builder') && !r.out.includes('builder'), 'the password is never printed');
    assert.ok(verifyCrypt('builder', users().users.get('bob')!.crypt));
    const bad = await call(f('bob'), 'one\ntwo\n');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /don't match/);
    assert.ok(verifyCrypt('builder', users().users.get('bob')!.crypt), 'unchanged');
  });

  it('changes a password from -P, keeping the file mode and leaving no temp file', async () => {
    chmodSync(u, 0o600);
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, 'new-one\r\nignored\n');
    const r = await call(f('-P', pwFile, 'alice'));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'Changed the password of alice\n');
    assert.ok(verifyCrypt('new-one', users().users.get('alice')!.crypt));
    assert.equal(statSync(u).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.tmp')),
      [],
    );
  });

  it('manages groups: -A (creating the group), -D, -C, -R', async () => {
    assert.equal((await call(f('-A', 'broadcaster', 'bob'))).code, 0);
    assert.equal((await call(f('-A', 'staff', 'alice'))).code, 0);
    assert.equal((await call(f('-A', 'staff', 'bob'))).code, 0);
    assert.deepEqual([...groups().get('staff')!], ['alice', 'bob']);
    assert.equal((await call(f('-D', 'staff', 'alice'))).code, 0);
    assert.deepEqual([...groups().get('staff')!], ['bob']);
    assert.equal((await call(f('-D', 'staff', 'alice'))).code, 1, 'not a member');
    assert.equal((await call(f('-C', 'viewers'))).code, 0);
    assert.ok(groups().has('viewers'));
    assert.equal((await call(f('-R', 'viewers'), 'n\n')).code, 1, 'not confirmed');
    assert.equal((await call(f('-R', 'viewers'), 'y\n')).code, 0);
    assert.ok(!groups().has('viewers'));
    assert.equal((await call(f('-R', 'viewers', '-F'))).code, 1, 'no such group');
    assert.equal((await call(f('-D', 'staff', 'nobody'))).code, 1);
  });

  it('adds a new user named by -A, asking for a password', async () => {
    const r = await call(f('-A', 'broadcaster', 'enc'), 'oder\noder\n');
    assert.equal(r.code, 0, r.err);
    assert.ok(verifyCrypt('oder', users().users.get('enc')!.crypt));
    assert.ok(groups().get('broadcaster')!.has('enc'));
  });

  it('deletes a user from the users file and every group, after confirmation (or -F)', async () => {
    assert.equal((await call(f('-d', 'bob'), 'no\n')).code, 1);
    assert.ok(users().users.has('bob'));
    const r = await call(f('-d', 'bob'), 'y\n');
    assert.equal(r.code, 0, r.err);
    assert.ok(!users().users.has('bob'));
    assert.ok(!groups().get('staff')!.has('bob'));
    assert.ok(!groups().get('broadcaster')!.has('bob'));
    assert.equal((await call(f('-d', '-F', 'bob'))).code, 1, 'already gone');
  });

  it('asks before replacing a file with -c', async () => {
    assert.equal((await call(f('-c', '-p', 'x', 'zed'), 'n\n')).code, 1);
    assert.ok(users().users.has('alice'));
  });

  it('edits a DSS-made file in place, keeping its other lines, and writes through a symlink', async () => {
    const dss = join(dir, 'dssusers');
    writeFileSync(
      dss,
      `# made by qtpasswd\nrealm Streaming Server\nold:XyuaA1mUbfVDs:${ha1Md5('old', 'Streaming Server', 'open sesame')}\n`,
    );
    const link = join(dir, 'link');
    symlinkSync(dss, link);
    assert.equal((await call(['-f', link, '-p', 'pw', 'new'])).code, 0);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
    const text = readFileSync(dss, 'utf8');
    assert.ok(text.startsWith(`# made by qtpasswd\nrealm Streaming Server\nold:XyuaA1mUbfVDs:`));
    assert.ok(verifyCrypt('open sesame', parseUsersFile(text).users.get('old')!.crypt));
    assert.ok(parseUsersFile(text).users.has('new'));
  });

  it('refuses bad names, bad passwords and bad option mixes', async () => {
    for (const args of [
      f('-p', 'x', 'a:b'),
      f('-p', 'x', 'a b'),
      f('-p', 'x', ''),
      f('-A', 'a:b', 'alice'),
      f('-r', 'R', '-p', 'x', 'alice'),
      f('-p', 'x', '-P', 'y', 'alice'),
      f('-d', '-p', 'x', 'alice'),
      f(),
      f('a', 'b'),
    ]) {
      assert.equal((await call(args)).code, 2, args.join(' '));
    }
    assert.equal((await call(f('-p', 'x'.repeat(81), 'alice'))).code, 1);
    assert.equal((await call(f('alice'), '\n\n')).code, 1, 'empty password');
    assert.equal((await call(f('alice'), '')).code, 1, 'no input at all');
    assert.equal((await call(['--bogus'])).code, 2);
    assert.equal((await call(['-h'])).code, 0);
  });
});
