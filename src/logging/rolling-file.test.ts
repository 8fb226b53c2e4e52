import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createdOnLine } from './log-time.js';
import { RollingFile, type RollingFileOptions, type RollingFileProblem } from './rolling-file.js';

const scratch = mkdtempSync(join(tmpdir(), 'rivulet-rolling-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const freshFolder = () => join(scratch, `f${++n}`);

/** A file on a fake clock, recording what it reports. */
function rig(
  opts: Partial<RollingFileOptions> & { folder: string },
  start = new Date(2024, 0, 10, 15, 0, 0).getTime(),
) {
  const clock = { now: start };
  const problems: RollingFileProblem[] = [];
  const file = new RollingFile({
    name: 'Test',
    now: () => clock.now,
    onProblem: (p) => problems.push(p),
    retryMs: 20,
    ...opts,
  });
  return { file, clock, problems };
}

const read = (folder: string, name = 'Test.log') => readFileSync(join(folder, name), 'utf8');
const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('RollingFile', () => {
  it('starts a new file with the creation line and the header, then the lines in order', async () => {
    const folder = freshFolder();
    const { file, clock } = rig({ folder, header: () => '#Head\n' });
    for (let i = 0; i < 100; i++) file.write(`line ${i}\n`);
    await file.close();
    const text = read(folder);
    const lines = text.split('\n');
    assert.equal(lines[0], createdOnLine(clock.now).trimEnd());
    assert.equal(lines[1], '#Head');
    assert.deepEqual(
      lines.slice(2, -1),
      Array.from({ length: 100 }, (_, i) => `line ${i}`),
    );
  });

  it('appends to an existing file without a new header', async () => {
    const folder = freshFolder();
    const first = rig({ folder, header: () => '#Head\n' });
    first.file.write('a\n');
    await first.file.close();
    const second = rig({ folder, header: () => '#Head\n' });
    second.file.write('b\n');
    await second.file.close();
    assert.equal(read(folder).split('\n').slice(1).join('\n'), '#Head\na\nb\n');
  });

  it('rolls past rollSize to <name>.<yymmdd><NNN>.log, the first number free', async () => {
    const folder = freshFolder();
    const { file, clock } = rig({ folder, rollSize: 100 });
    // 100 bytes are passed during the fourth 30-byte line: the fifth starts a new file.
    const line = (i: number) => `${String(i).padStart(28, '0')}\n`;
    clock.now = new Date(2024, 0, 12, 9, 0, 0).getTime();
    for (let i = 0; i < 4; i++) file.write(line(i));
    await file.flush();
    // 240112000 is taken by someone else: the roll takes 001.
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'Test.240112000.log'), 'not ours\n');
    file.write(line(4));
    await file.close();
    assert.deepEqual(readdirSync(folder).sort(), ['Test.240112000.log', 'Test.240112001.log', 'Test.log']);
    assert.equal(read(folder, 'Test.240112000.log'), 'not ours\n');
    const rolled = read(folder, 'Test.240112001.log');
    assert.match(rolled, /^#Log File Created On: /);
    assert.equal(rolled.split('\n').length - 2, 4, 'four lines before the roll');
    assert.equal(read(folder).split('\n').slice(1).join('\n'), line(4), 'the fifth opens the new file');
  });

  it('rolls rollDays after midnight of the creation day, not before', async () => {
    const folder = freshFolder();
    const { file, clock } = rig({ folder, rollDays: 1 }); // created 2024-01-10 15:00 local
    file.write('a\n');
    await file.flush();
    clock.now = new Date(2024, 0, 10, 23, 59, 59).getTime();
    file.write('b\n');
    await file.flush();
    assert.deepEqual(readdirSync(folder), ['Test.log']);
    clock.now = new Date(2024, 0, 11, 0, 0, 1).getTime();
    file.write('c\n');
    await file.close();
    assert.deepEqual(readdirSync(folder).sort(), ['Test.240111000.log', 'Test.log']);
    assert.match(read(folder, 'Test.240111000.log'), /\na\nb\n$/);
    assert.equal(read(folder), `${createdOnLine(clock.now)}c\n`);
  });

  it("reads an existing file's age from its first line", async () => {
    const folder = freshFolder();
    mkdirSync(folder);
    writeFileSync(join(folder, 'Test.log'), `${createdOnLine(new Date(2024, 0, 1, 12).getTime())}old\n`);
    const { file } = rig({ folder, rollDays: 7 }); // now: 2024-01-10, past 2024-01-08 00:00
    file.write('new\n');
    await file.close();
    assert.match(read(folder, 'Test.240110000.log'), /\nold\n$/);
    assert.match(read(folder), /^#Log File Created On: 01\/10\/2024 15:00:00\nnew\n$/);
  });

  it('never rolls by age a file whose first line gives no date', async () => {
    const folder = freshFolder();
    mkdirSync(folder);
    writeFileSync(join(folder, 'Test.log'), 'no header\n');
    const { file } = rig({ folder, rollDays: 1 });
    file.write('x\n');
    await file.close();
    assert.deepEqual(readdirSync(folder), ['Test.log']);
  });

  it('reopen() writes a new file where logrotate moved the old one away', async () => {
    const folder = freshFolder();
    const { file } = rig({ folder, header: () => '#Head\n' });
    file.write('before\n');
    await file.flush();
    renameSync(join(folder, 'Test.log'), join(folder, 'Test.log.1'));
    file.reopen();
    file.write('after\n');
    await file.close();
    assert.match(read(folder, 'Test.log.1'), /#Head\nbefore\n$/);
    assert.match(read(folder), /^#Log File Created On: .*\n#Head\nafter\n$/);
  });

  it('an unwritable folder is reported once, never throws, bounds what waits, and is written when it can be', async () => {
    const blocker = join(scratch, `blocker${++n}`);
    writeFileSync(blocker, 'a regular file where a folder should be');
    const folder = join(blocker, 'logs'); // ENOTDIR, even for root
    const { file, problems } = rig({ folder, maxPendingBytes: 40 });
    for (let i = 0; i < 5; i++) file.write(`line ${i}\n`); // 7 bytes each: 5 fit
    await waitFor(() => problems.length > 0);
    for (let i = 5; i < 20; i++) file.write(`line ${i}\n`);
    await new Promise((r) => setTimeout(r, 100)); // a few quiet retries
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0].kind, 'failed');
    assert.match((problems[0] as { error: Error }).error.message, /ENOTDIR|EEXIST/);
    assert.equal(file.dropped, 15);
    rmSync(blocker);
    await waitFor(() => problems.length === 2);
    assert.deepEqual(problems[1], { kind: 'recovered', path: join(folder, 'Test.log'), dropped: 15 });
    await file.close();
    assert.deepEqual(read(folder).split('\n').slice(1, -1), [
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
    ]);
  });

  it('closes while the folder cannot be written: one last try, and what waited is counted as dropped', async () => {
    const blocker = join(scratch, `blocker${++n}`);
    writeFileSync(blocker, '');
    const { file, problems } = rig({ folder: join(blocker, 'logs') });
    file.write('a\n');
    file.write('b\n');
    await file.close();
    assert.equal(problems.length, 1);
    assert.equal(file.dropped, 2);
  });

  it('drops what is past the bound when the disk lags, says so once, and counts it when it catches up', async () => {
    const folder = freshFolder();
    const { file, problems } = rig({ folder, maxPendingBytes: 70 });
    for (let i = 0; i < 30; i++) file.write(`line ${i}\n`); // 7 bytes each: 10 fit before the first write
    await file.close();
    assert.deepEqual(problems, [
      { kind: 'overflow', path: join(folder, 'Test.log') },
      { kind: 'recovered', path: join(folder, 'Test.log'), dropped: 20 },
    ]);
    assert.equal(file.dropped, 20);
    assert.equal(read(folder).split('\n').length - 2, 10);
  });

  it('lines queued before a reopen or a new folder go to the old file, those after to the new one', async () => {
    const folder = freshFolder();
    const other = freshFolder();
    const { file } = rig({ folder });
    file.write('a\n');
    file.write('b\n');
    file.write('c\n');
    file.set({ folder: other });
    file.write('d\n');
    file.write('e\n');
    file.reopen();
    file.write('f\n');
    await file.close();
    assert.match(read(folder), /^#Log File Created On: [^\n]+\na\nb\nc\n$/);
    assert.match(read(other), /^#Log File Created On: [^\n]+\nd\ne\nf\n$/);
  });

  it('turned off, it writes nothing and closes; a new folder takes the next line', async () => {
    const folder = freshFolder();
    const other = freshFolder();
    const { file } = rig({ folder });
    file.write('one\n');
    file.set({ folder, enabled: false });
    file.write('ignored\n');
    await file.flush();
    file.set({ folder: other });
    file.write('two\n');
    await file.close();
    file.write('after close\n');
    assert.match(read(folder), /\none\n$/);
    assert.match(read(other), /^#Log File Created On: .*\ntwo\n$/);
    assert.equal(existsSync(join(other, 'Test.log')), true);
  });
});
