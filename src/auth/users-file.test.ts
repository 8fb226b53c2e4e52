import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { verifyCrypt } from './crypt.js';
import { GroupsFileDoc, parseGroupsFile } from './groups-file.js';
import { ha1Md5, ha1Sha256, parseUsersFile, UsersFileDoc } from './users-file.js';

/** What DSS's qtpasswd writes on Linux: DES crypt (glibc) and the MD5 of user:realm:password. */
const DSS_USERS = [
  'realm Streaming Server',
  `aladdin:XyuaA1mUbfVDs:${ha1Md5('aladdin', 'Streaming Server', 'open sesame')}`,
  `mufasa:$1$Zz9/aB.c$1t5sy0cfuLbZCoVYYE51f0:${ha1Md5('mufasa', 'Streaming Server', 'Circle Of Life')}`,
  '',
].join('\n');

describe('users file', () => {
  it('reads a DSS qtusers file', () => {
    const f = parseUsersFile(DSS_USERS);
    assert.equal(f.realm, 'Streaming Server');
    assert.deepEqual([...f.users.keys()], ['aladdin', 'mufasa']);
    const a = f.users.get('aladdin')!;
    assert.ok(verifyCrypt('open sesame', a.crypt));
    assert.equal(a.ha1, '72888632545af8e9e907c51d20d327f4');
    assert.equal(a.ha1Sha256, undefined);
    assert.equal(f.allSha256, false);
    assert.deepEqual(f.issues, []);
  });

  it('skips comments, blank lines and CRs, and takes the first line of a duplicated user', () => {
    const f = parseUsersFile(
      `# made by hand\r\n\r\n  realm   My Realm  \r\nbob:x:${'A'.repeat(32)}\r\n# note\r\nbob:y:${'b'.repeat(32)}\r\n`,
    );
    assert.equal(f.realm, 'My Realm');
    assert.equal(f.users.get('bob')!.crypt, 'x');
    assert.equal(f.users.get('bob')!.ha1, 'a'.repeat(32), 'hex is compared lower-case');
  });

  it('reports lines it cannot use by number, without their content', () => {
    const f = parseUsersFile('bob:secrethash:nothex\nnocolon\n');
    assert.equal(f.realm, undefined);
    assert.deepEqual(
      f.issues.map((i) => i.line),
      [1, 1, 2],
    );
    assert.ok(f.issues.every((i) => !i.message.includes('secrethash')));
    assert.equal(f.users.get('bob')!.ha1, undefined, 'Digest is impossible without a digest hash');
  });

  it('writes users with crypt, MD5 and SHA-256 hashes, and edits keep the other lines', () => {
    const doc = UsersFileDoc.parse(`# header\n${DSS_USERS}`);
    doc.setPassword('carol', 'pw1');
    doc.setPassword('aladdin', 'new one');
    assert.ok(doc.delete('mufasa'));
    assert.ok(!doc.delete('nobody'));
    const text = doc.toString();
    assert.ok(text.startsWith('# header\nrealm Streaming Server\naladdin:$1$'));
    const f = parseUsersFile(text);
    assert.deepEqual([...f.users.keys()], ['aladdin', 'carol']);
    assert.ok(verifyCrypt('new one', f.users.get('aladdin')!.crypt));
    assert.equal(f.users.get('carol')!.ha1, ha1Md5('carol', 'Streaming Server', 'pw1'));
    assert.equal(f.users.get('carol')!.ha1Sha256, ha1Sha256('carol', 'Streaming Server', 'pw1'));
    assert.ok(f.allSha256);
  });

  it('ignores a SHA-256 hash left behind when another tool changed the password', () => {
    const doc = UsersFileDoc.create('R');
    doc.setPassword('dave', 'old');
    // DSS's qtpasswd rewrites the user line and keeps our comment line as it is.
    const text = doc.toString().replace(/^dave:.*$/m, `dave:x:${ha1Md5('dave', 'R', 'new')}`);
    const f = parseUsersFile(text);
    assert.equal(f.users.get('dave')!.ha1Sha256, undefined);
    assert.equal(f.allSha256, false);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (t) => {
        const f = parseUsersFile(t);
        for (const u of f.users.values()) assert.ok(u.name.length > 0 && !u.name.includes(':'));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'realm x',
            'a:b:c',
            '#sha-256 a:',
            ':::',
            'a:$1$:' + 'f'.repeat(32),
            '\r',
            '#',
            ' ',
          ),
          { maxLength: 20 },
        ),
        (ls) => {
          parseUsersFile(ls.join('\n'));
        },
      ),
    );
  });
});

describe('groups file', () => {
  it('reads `group: user user` lines', () => {
    const g = parseGroupsFile('# groups\nadmin: alice\nbroadcaster: bob  carol\n\nempty:\nbroken line\n');
    assert.deepEqual([...g.groups.get('broadcaster')!], ['bob', 'carol']);
    assert.deepEqual([...g.groups.get('empty')!], []);
    assert.deepEqual(
      g.issues.map((i) => i.line),
      [6],
    );
  });

  it('edits groups and members, keeping other lines', () => {
    const doc = GroupsFileDoc.parse('# keep me\nadmin: alice bob\n');
    assert.ok(doc.addMember('broadcaster', 'bob'), 'adding creates the group');
    assert.ok(!doc.addMember('broadcaster', 'bob'));
    assert.ok(doc.createGroup('viewers'));
    assert.ok(!doc.createGroup('viewers'));
    assert.ok(doc.removeMember('admin', 'alice'));
    assert.ok(!doc.removeMember('admin', 'alice'));
    doc.removeEverywhere('bob');
    assert.ok(doc.deleteGroup('viewers'));
    assert.ok(!doc.deleteGroup('viewers'));
    assert.equal(doc.toString(), '# keep me\nadmin:\nbroadcaster:\n');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => void parseGroupsFile(t)),
      { numRuns: 500 },
    );
  });
});
