/** `rivulet inspect` as a user runs it: a child process, its output and its exit status. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { mediaDirWith } from '../helpers/media.js';
import { run } from '../helpers/run.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');
const rivulet = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeoutMs: 60_000 });

describe('rivulet inspect (command line)', () => {
  let media: { dir: string; cleanup: () => void };
  before(async () => {
    media = await mediaDirWith(['h263-aac.3gp', 'tone.mp3', 'pcm-f32.mov']);
  });
  after(() => media.cleanup());

  it('exits 0 when every file named can be streamed', async () => {
    const r = await rivulet('inspect', join(media.dir, 'h263-aac.3gp'), join(media.dir, 'tone.mp3'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /h263-aac\.3gp\n {2}container: 3gp, 6\.000 s/);
    assert.match(r.stdout, /2 files inspected; all can be streamed/);
  });

  it('exits 1 for a folder holding a file that cannot be streamed, saying why', async () => {
    const r = await rivulet('inspect', media.dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /pcm-f32\.mov[\s\S]*?can stream: no — no playable track: track 1 \(fl32\): floating-point PCM has no RTP payload format/,
    );
    assert.match(r.stdout, /3 files inspected; some cannot be streamed/);
  });

  it('is listed in the usage text', async () => {
    const r = await rivulet('--help');
    assert.match(r.stdout, /inspect {2}tell what media files hold and whether they can be streamed/);
  });
});
