import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UnsafePathError, writeInside } from './safe-write.js';

describe('writeInside', () => {
  let base: string;
  let root: string;
  let outside: string;

  before(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-safe-write-')));
    root = join(base, 'media');
    outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    mkdirSync(join(root, 'real'));
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    writeFileSync(join(outside, 'victim.sdp'), 'precious');
    symlinkSync(join(outside, 'victim.sdp'), join(root, 'link.sdp'));
    symlinkSync(join(outside, 'new.sdp'), join(root, 'dangling.sdp'));
    symlinkSync(join(outside, 'nodir'), join(root, 'gone'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const refused = (segments: string[]) => assert.rejects(writeInside(root, segments, 'x'), UnsafePathError);

  it('writes a file, making missing folders, and replaces it whole', async () => {
    assert.equal(await writeInside(root, ['a', 'b', 'cam.sdp'], 'one'), join(root, 'a', 'b', 'cam.sdp'));
    await writeInside(root, ['a', 'b', 'cam.sdp'], 'two');
    assert.equal(readFileSync(join(root, 'a', 'b', 'cam.sdp'), 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(root, 'a', 'b')), ['cam.sdp'], 'no temporary file left');
  });

  it('follows a folder symlink that stays inside the media folder', async () => {
    await writeInside(root, ['alias', 'in.sdp'], 'ok');
    assert.equal(readFileSync(join(root, 'real', 'in.sdp'), 'utf8'), 'ok');
  });

  it('refuses a folder symlink leading outside, and writes nothing there', async () => {
    await refused(['out', 'cam.sdp']);
    await refused(['out', 'deeper', 'cam.sdp']);
    await assert.rejects(writeInside(root, ['gone', 'cam.sdp'], 'x'));
    assert.deepEqual(readdirSync(outside), ['victim.sdp']);
    assert.equal(existsSync(join(outside, 'nodir')), false);
  });

  it('never writes through a symlinked file, dangling or not', async () => {
    await refused(['link.sdp']);
    await refused(['dangling.sdp']);
    assert.equal(readFileSync(join(outside, 'victim.sdp'), 'utf8'), 'precious');
    assert.equal(existsSync(join(outside, 'new.sdp')), false);
  });

  it('refuses traversal and odd names', async () => {
    await refused(['..', 'outside', 'x.sdp']);
    await refused(['a', '..', '..', 'x.sdp']);
    await refused(['.', 'x.sdp']);
    await refused(['a/b.sdp']);
    await refused(['', 'x.sdp']);
    await refused(['x\0.sdp']);
    await refused([]);
  });
});
