import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAccessFile } from './qtaccess.js';

describe('qtaccess', () => {
  it('reads the keywords of a DSS access file', () => {
    const f = parseAccessFile(
      [
        '# members only',
        'AuthName "Members Only Area"',
        'AuthUserFile /etc/streaming/qtusers',
        'AuthGroupFile "/etc/streaming/my groups"',
        'AuthScheme basic',
        'require user alice bob',
        'require group staff',
        '',
      ].join('\r\n'),
    );
    assert.deepEqual(f.issues, []);
    assert.equal(f.authName, 'Members Only Area');
    assert.equal(f.userFile, '/etc/streaming/qtusers');
    assert.equal(f.groupFile, '/etc/streaming/my groups');
    assert.equal(f.scheme, 'basic');
    assert.deepEqual(f.read, [
      { kind: 'user', names: ['alice', 'bob'] },
      { kind: 'group', names: ['staff'] },
    ]);
    assert.deepEqual(f.write, []);
  });

  it('puts rules into READ, WRITE or both by <Limit> block; rules outside a block are READ', () => {
    const f = parseAccessFile(
      [
        'require valid-user',
        '<Limit WRITE>',
        '  require group encoders',
        '</Limit>',
        '<Limit READ>',
        '  require user viewer',
        '</Limit>',
        '<limit read write >',
        '  require user admin',
        '</limit>',
        'require any-user',
      ].join('\n'),
    );
    assert.deepEqual(f.issues, []);
    assert.deepEqual(
      f.read.map((r) => `${r.kind}:${r.names.join(',')}`),
      ['valid-user:', 'user:viewer', 'user:admin', 'any-user:'],
    );
    assert.deepEqual(
      f.write.map((r) => `${r.kind}:${r.names.join(',')}`),
      ['group:encoders', 'user:admin'],
    );
  });

  it('reports every malformed line with its number', () => {
    const cases: [string, number][] = [
      ['Require valid-user\nAllow from all', 2],
      ['require', 1],
      ['require user', 1],
      ['require valid-user bob', 1],
      ['require everyone', 1],
      ['AuthScheme ntlm', 1],
      ['AuthName', 1],
      ['AuthUserFile', 1],
      ['<Limit>', 1],
      ['<Limit READ', 1],
      ['<Limit PLAY>\n</Limit>', 1],
      ['</Limit>', 1],
      ['\n<Limit WRITE>\nrequire user x', 2],
      ['<Limit READ>\n<Limit WRITE>\n</Limit>', 2],
      ['AuthName "unterminated', 1],
      ['require user a\u0000b', 1],
    ];
    for (const [text, line] of cases) {
      const f = parseAccessFile(text);
      assert.ok(f.issues.length > 0, `${JSON.stringify(text)} is malformed`);
      assert.equal(f.issues[0].line, line, JSON.stringify(text));
    }
  });

  it('never throws on arbitrary text, and any rule it returns is well formed', () => {
    const piece = fc.constantFrom(
      'require',
      'user',
      'group',
      'valid-user',
      'any-user',
      '<Limit',
      'READ',
      'WRITE',
      '>',
      '</Limit>',
      'AuthName',
      '"',
      'x',
      ' ',
      '\n',
      '#',
      '\r\n',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.array(piece, { maxLength: 40 }).map((a) => a.join('')),
        ),
        (t) => {
          const f = parseAccessFile(t);
          for (const r of [...f.read, ...f.write]) {
            assert.ok(['user', 'group', 'valid-user', 'any-user'].includes(r.kind));
            if (r.kind === 'user' || r.kind === 'group') assert.ok(r.names.length > 0);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
