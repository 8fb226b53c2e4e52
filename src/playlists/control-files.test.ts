import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlPaths, describeTaken, formatCurrent, formatUpcoming, takeControlFiles } from './control-files.js';
import { parsePlaylistText } from './playlist-file.js';

const root = mkdtempSync(join(tmpdir(), 'rivulet-control-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = () => {
  const d = join(root, String(++n));
  mkdirSync(d);
  return d;
};

describe('playlist control files', () => {
  it('writes .current as DSS did and .upcoming as a playlist that reads back', () => {
    assert.equal(formatCurrent('/m/a b.mp4'), 'u=/m/a b.mp4\n');
    const text = formatUpcoming(['/m/a b.mp4', '/m/say "hi".mp4']);
    assert.equal(text, '*PLAY-LIST*\n"/m/a b.mp4"\n"/m/say ""hi"".mp4"\n');
    assert.deepEqual(
      parsePlaylistText(text, 'x.upcoming').lines.map((l) => l.path),
      ['/m/a b.mp4', '/m/say "hi".mp4'],
    );
  });

  it('takes each control file present, in order, deletes it, and says what it asked for', async () => {
    const d = folder();
    const p = controlPaths(d, 'jazz');
    writeFileSync(p.insertlist, '*PLAY-LIST*\nnews.mp4\n"ad break.mp4" 5\n');
    writeFileSync(p.replacelist, '*PLAY-LIST*\n/m/x.mp4\nbad line here\n');
    writeFileSync(p.stoplist, '');
    const { taken, refused } = await takeControlFiles(p);
    assert.deepEqual(refused, []);
    assert.deepEqual(taken.map((t) => t.kind), ['replacelist', 'insertlist', 'stoplist']);
    assert.deepEqual(taken[1].entries.map((e) => e.file), [join(d, 'news.mp4'), join(d, 'ad break.mp4')]);
    for (const f of [p.insertlist, p.replacelist, p.stoplist]) assert.equal(existsSync(f), false, `${f} deleted`);
    assert.equal(describeTaken(taken[1]), `took ${p.insertlist}: 2 items inserted to play next`);
    assert.match(describeTaken(taken[0]), new RegExp(`^took .*jazz\\.replacelist: the list replaced by 1 item \\(${p.replacelist}:3: line skipped: 'line' is not a weight`));
    assert.equal(describeTaken(taken[2]), `took ${p.stoplist}: the broadcast stops after the current item`);
    assert.deepEqual(await takeControlFiles(p), { taken: [], refused: [] }, 'nothing twice');
  });

  it('reads relative entries from the root it is given (a native channel: the media folder)', async () => {
    const p = controlPaths(folder(), 'tv%2Fone');
    writeFileSync(p.insertlist, '*PLAY-LIST*\nclip.mp4\n');
    const { taken } = await takeControlFiles(p, '/srv/media');
    assert.deepEqual(taken[0].entries.map((e) => e.file), ['/srv/media/clip.mp4']);
  });

  it('renames a list without *PLAY-LIST* to .bad and takes a stop whatever its content', async () => {
    const p = controlPaths(folder(), 'jazz');
    writeFileSync(p.insertlist, 'news.mp4\n');
    writeFileSync(p.stoplist, 'please stop\n');
    const { taken, refused } = await takeControlFiles(p);
    assert.equal(refused.length, 1);
    assert.match(refused[0].error, new RegExp(`is not a playlist: its first line must be \\*PLAY-LIST\\*; renamed ${p.insertlist}\\.bad`));
    assert.equal(readFileSync(`${p.insertlist}.bad`, 'utf8'), 'news.mp4\n');
    assert.equal(existsSync(p.insertlist), false);
    assert.equal(taken.length, 1);
    assert.equal(taken[0].kind, 'stoplist');
    assert.match(describeTaken(taken[0]), /the broadcast stops after the current item \(.*its content is not a playlist, so only the stop is taken/);
  });

  it('refuses a FIFO named as a control file, without waiting for a writer', async () => {
    const p = controlPaths(folder(), 'jazz');
    assert.equal(spawnSync('mkfifo', [p.insertlist, p.stoplist]).status, 0);
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000).unref());
    const r = await Promise.race([takeControlFiles(p), timeout]);
    if (r === 'hung') {
      // Release the reads blocked on them, so the test ends (and fails).
      for (const f of [p.insertlist, p.stoplist]) if (existsSync(f)) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      assert.fail('takeControlFiles waited on a FIFO');
    }
    assert.equal(r.refused.length, 1);
    assert.match(r.refused[0].error, new RegExp(`^it is not a regular file; renamed ${p.insertlist}\\.bad$`));
    assert.ok(lstatSync(`${p.insertlist}.bad`).isFIFO());
    assert.deepEqual(r.taken.map((t) => [t.kind, t.entries.length]), [['stoplist', 0]], 'a stop needs no list');
    assert.equal(existsSync(p.stoplist), false);
  });
});
