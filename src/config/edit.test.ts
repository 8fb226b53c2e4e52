import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyToTree, configKeyPath, editConfigText, writeFileAtomic } from './edit.js';
import { loadConfig } from './load.js';

const FILE = `# Rivulet on the lobby screens
rtsp:
  ports: [8554] # the firewall opens this one
  bind: ["0.0.0.0"]

limits:
  # raised for the all-hands
  maxConnections: 40
paths:
  tv:
    playlist: tv.playlist # DSS file
`;

describe('configKeyPath', () => {
  it('splits group keys at dots, and keeps a path name whole up to its setting', () => {
    assert.deepEqual(configKeyPath('limits.maxConnections'), ['limits', 'maxConnections']);
    assert.deepEqual(configKeyPath('paths.tv.playlist'), ['paths', 'tv', 'playlist']);
    assert.deepEqual(configKeyPath('paths.cam.1.graceTime'), ['paths', 'cam.1', 'graceTime']);
    assert.deepEqual(configKeyPath('paths.~^live/.*$.publishAllow'), ['paths', '~^live/.*$', 'publishAllow']);
    assert.deepEqual(configKeyPath('paths.tv.playlist.mode'), ['paths', 'tv', 'playlist', 'mode']);
    assert.deepEqual(configKeyPath('paths.cam.1'), ['paths', 'cam.1']);
    assert.throws(() => configKeyPath('limits..x'), { name: 'ConfigError', key: 'limits..x' });
  });
});

describe('editConfigText', () => {
  it('changes a value and keeps every comment, the key order and the flow lists', () => {
    const out = editConfigText(FILE, { 'limits.maxConnections': 5 }, 'rivulet.yaml');
    assert.equal(out, FILE.replace('maxConnections: 40', 'maxConnections: 5'));
  });

  it('keeps the comment after a value and the flow style of a list it replaces', () => {
    const out = editConfigText(FILE, { 'rtsp.ports': [554, 8554], 'paths.tv.playlist': 'news.playlist' }, 'f');
    assert.match(out, /^ {2}ports: \[554, 8554\] # the firewall opens this one$/m);
    assert.match(out, /^ {4}playlist: news\.playlist # DSS file$/m);
  });

  it('writes flow lists and maps with spaces inside the brackets when the file mostly does', () => {
    const text = 'rtsp: { ports: [ 1, 2 ], bind: [ "::" ] }\n';
    assert.equal(editConfigText(text, { 'limits.maxConnections': 1 }, 'f'), `${text}limits:\n  maxConnections: 1\n`);
  });

  it('creates nested keys, under an empty group too, and groups the file lacks', () => {
    const out = editConfigText(FILE.replace('paths:', 'logs:\npaths:'), { 'logs.accessRollDays': 3, 'auth.realm': 'Lobby', 'paths.news/1.playlist': { items: ['a.mp4', { file: 'b.mp4', weight: 2 }], mode: 'weighted_random' } }, 'f');
    const tree = parse(out) as Record<string, Record<string, unknown>>;
    assert.deepEqual(tree.logs, { accessRollDays: 3 });
    assert.deepEqual(tree.auth, { realm: 'Lobby' });
    assert.deepEqual(tree.paths['news/1'], { playlist: { items: ['a.mp4', { file: 'b.mp4', weight: 2 }], mode: 'weighted_random' } });
    assert.match(out, /^# Rivulet on the lobby screens\n/);
    assert.match(out, /# raised for the all-hands\n {2}maxConnections: 40\n/);
    assert.match(out, /playlist: tv\.playlist # DSS file/);
  });

  it('writes into an empty file', () => {
    assert.deepEqual(parse(editConfigText('', { 'limits.maxConnections': 2 }, 'f')), { limits: { maxConnections: 2 } });
    assert.deepEqual(parse(editConfigText('# nothing yet\n', { 'limits.maxConnections': 2 }, 'f')), { limits: { maxConnections: 2 } });
  });

  it('removes a key given null, and a whole path entry; removing what is absent changes nothing', () => {
    const out = editConfigText(FILE, { 'limits.maxConnections': null, 'paths.tv': null, 'auth.realm': null }, 'f');
    const tree = parse(out) as Record<string, unknown>;
    assert.deepEqual(tree.limits, {});
    assert.deepEqual(tree.paths, {});
    assert.equal(tree.auth, undefined);
    assert.match(out, /ports: \[8554\] # the firewall opens this one/);
  });

  it('refuses a wrong value with a ConfigError naming the key, whatever the input', () => {
    assert.throws(() => editConfigText(FILE, { 'limits.maxConnections': -1 }, 'f'), { name: 'ConfigError', key: 'limits.maxConnections' });
    assert.throws(() => editConfigText(FILE, { 'limits.maxConnection': 3 }, 'f'), { name: 'ConfigError', key: 'limits.maxConnection' });
    assert.throws(() => editConfigText(FILE, { 'paths.tv.playlist.mode': 'shuffle' }, 'f'), { name: 'ConfigError', key: 'paths.tv.playlist.mode' });
    assert.throws(() => editConfigText(FILE, { 'logs.errorVerbosity': '2' }, 'f'), { name: 'ConfigError', key: 'logs.errorVerbosity' });
    assert.throws(() => editConfigText(FILE, { 'limits.maxConnections.x': 3 }, 'f'), { name: 'ConfigError', key: 'limits.maxConnections.x', message: /limits\.maxConnections holds a value/ });
    assert.throws(() => editConfigText(FILE, { limits: 3 }, 'f'), { name: 'ConfigError', key: 'limits' });
    assert.throws(() => editConfigText(FILE, {}, 'f'), { name: 'ConfigError', message: /no keys/ });
  });

  it('refuses a file that is not YAML', () => {
    assert.throws(() => editConfigText('limits: [1\n', { 'limits.maxConnections': 1 }, 'f.yaml'), { name: 'ConfigError', message: /^f\.yaml line \d+: invalid YAML/ });
  });
});

describe('applyToTree', () => {
  it('sets, creates and removes keys of a copy; a parsed config read again is itself', () => {
    const running = loadConfig({ flags: { limits: { maxConnections: 4 }, paths: { tv: { graceTime: 3 } } } });
    assert.deepEqual(loadConfig({ flags: applyToTree(running, { 'logs.gmt': false }) }), {
      ...running,
      logs: { ...running.logs, gmt: false },
    });
    const tree = applyToTree(running, { 'limits.maxConnections': null, 'paths.news.playlist': { items: ['a.mp4'] } });
    assert.equal(running.limits.maxConnections, 4, 'the original is untouched');
    const next = loadConfig({ flags: tree });
    assert.equal(next.limits.maxConnections, 0, 'back to its default');
    assert.deepEqual(Object.keys(next.paths), ['tv', 'news']);
  });

  it('walks own keys only: an inherited name is a new key, and removing below a missing key removes nothing', () => {
    assert.deepEqual(applyToTree({ a: {} }, { 'a.toString.x': 1 }), { a: { toString: { x: 1 } } });
    assert.deepEqual(applyToTree({ a: { c: 1 } }, { 'a.b.c': null }), { a: { c: 1 } });
  });
});

describe('keys that reach a prototype', () => {
  const polluted = () =>
    ['polluted', 'playlist', 'x'].filter((k) => Object.hasOwn(Object.prototype, k) || k in ({} as Record<string, unknown>));
  const attempts: Record<string, unknown>[] = [
    { '__proto__.polluted': 1 },
    { 'limits.__proto__.polluted': 1 },
    { 'paths.__proto__.playlist': { items: ['a.mp4'] } },
    { 'paths.__proto__': null },
    { 'constructor.prototype.polluted': 1 },
    { 'paths.tv.constructor.prototype.x': 1 },
    { 'paths.tv.playlist': JSON.parse('{"items":["a.mp4"],"__proto__":{"polluted":1}}') as unknown },
  ];
  it('are refused with a ConfigError naming the key, and Object.prototype stays clean', () => {
    for (const changes of attempts) {
      const key = Object.keys(changes)[0];
      assert.throws(() => applyToTree({ limits: {}, paths: { tv: {} } }, changes), { name: 'ConfigError', key }, key);
      assert.throws(() => editConfigText(FILE, changes, 'rivulet.yaml'), { name: 'ConfigError', key }, key);
      assert.deepEqual(polluted(), [], key);
    }
    assert.throws(() => configKeyPath('paths.prototype.graceTime'), { name: 'ConfigError', message: /'prototype' may not name a key/ });
  });
});

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-edit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, keeps its mode, and leaves no temporary file', () => {
    const file = join(dir, 'rivulet.yaml');
    writeFileSync(file, FILE);
    chmodSync(file, 0o640);
    const before = statSync(file).ino;
    writeFileAtomic(file, 'limits:\n  maxConnections: 1\n');
    assert.equal(readFileSync(file, 'utf8'), 'limits:\n  maxConnections: 1\n');
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.notEqual(statSync(file).ino, before, 'a new file renamed over the old one');
    assert.deepEqual(readdirSync(dir), ['rivulet.yaml']);
  });

  it('leaves the old file as it was when the new one cannot be written', () => {
    const file = join(dir, 'missing-folder', 'rivulet.yaml');
    assert.throws(() => writeFileAtomic(file, 'x: 1\n'), /ENOENT/);
    assert.deepEqual(readdirSync(dir), ['rivulet.yaml']);
  });
});
