import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LatestFileWriter, writeFileAtomic } from './atomic-file.js';
import { Lineup, listSignature } from './lineup.js';
import { channelFileBase, channelStateFile, formatChannelState, keepAllowedFiles, readChannelState, type ChannelState } from './state-file.js';

const dir = mkdtempSync(join(tmpdir(), 'rivulet-state-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const items = ['/m/a.mp4', '/m/b.mp4', '/m/c.mp4'].map((file) => ({ file, weight: 10 }));
const list = { items, mode: 'weighted_random' as const, recent: 1, signature: listSignature({ items, mode: 'weighted_random', recent: 1 }) };

describe('channel state file', () => {
  it('names the file after the path, safely: no way out of its folder, long keys cut with a digest', () => {
    assert.equal(channelFileBase('tv/one'), 'tv%2Fone');
    assert.equal(channelFileBase('../../etc/passwd'), '..%2F..%2Fetc%2Fpasswd');
    assert.equal(channelStateFile('/srv/state', 'radio'), '/srv/state/playlists/radio.json');
    const long = channelFileBase('x/'.repeat(200));
    assert.ok(long.length <= 160 && /-[0-9a-f]{16}$/.test(long), long);
    assert.notEqual(channelFileBase('x/'.repeat(200)), channelFileBase(`${'x/'.repeat(200)}y`));
  });

  it('round-trips: what is written is read back for the same path', async () => {
    const lineup = new Lineup({ list, size: 2, random: () => 0.5 });
    lineup.next();
    const state: ChannelState = {
      version: 1,
      key: 'tv/one',
      savedAt: new Date().toISOString(),
      current: { file: '/m/b.mp4', inserted: false, position: 12.5 },
      lineup: lineup.exportState(),
    };
    const file = channelStateFile(dir, 'tv/one');
    await writeFileAtomic(file, formatChannelState(state));
    assert.deepEqual(await readChannelState(file, 'tv/one'), state);
    assert.equal(await readChannelState(join(dir, 'none.json'), 'tv/one'), undefined, 'no file: nothing saved');
  });

  it('refuses a corrupt, foreign or other-version file with the reason, never throws', async () => {
    const file = join(dir, 'bad.json');
    const cases: [string, RegExp][] = [
      ['{"version":1,', /not JSON/],
      ['[1,2]', /not a channel state/],
      ['{"version":2,"key":"tv/one"}', /version 2 is not 1/],
      ['{"version":1,"key":"radio","current":null,"lineup":{}}', /written for the path 'radio', not 'tv\/one'/],
      ['{"version":1,"key":"tv/one","current":{"file":3},"lineup":{}}', /current item/],
    ];
    for (const [text, why] of cases) {
      writeFileSync(file, text);
      const r = await readChannelState(file, 'tv/one');
      assert.ok(typeof r === 'string' && why.test(r), `${text}: ${JSON.stringify(r)}`);
    }
  });
});

describe('atomic writes', () => {
  it('replaces a file whole through a temporary file in the same folder, leaving none behind', async () => {
    const file = join(dir, 'sub', 'x.current');
    await writeFileAtomic(file, 'one\n');
    await writeFileAtomic(file, 'two\n');
    assert.equal(readFileSync(file, 'utf8'), 'two\n');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.current']);
  });

  it('a writer keeps the newest text, reports a failure and goes on', async () => {
    const file = join(dir, 'w.upcoming');
    const errors: string[] = [];
    const w = new LatestFileWriter(file, (e) => errors.push(e.message));
    await Promise.all(['1', '2', '3', '4'].map((t) => w.write(t)));
    assert.equal(readFileSync(file, 'utf8'), '4');
    w.writeNow('5');
    assert.equal(readFileSync(file, 'utf8'), '5');
    await w.remove();
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('w.') || n.startsWith('.w.')), []);
    // A folder where the file should be: writing fails, is reported, and throws nothing.
    const blocked = new LatestFileWriter(join(dir, 'sub'), (e) => errors.push(e.message));
    await blocked.write('x');
    assert.equal(errors.length, 1, errors.join('\n'));
  });

  it('keeps only the files it would play that are allowed, and names the others', () => {
    const lineup = new Lineup({ list, size: 2, random: () => 0.5 }).exportState();
    const state: ChannelState = {
      version: 1,
      key: 'tv',
      savedAt: '',
      current: { file: '/etc/x.mp4', inserted: true, position: 1 },
      lineup: { ...lineup, inserted: ['/m/ok.mp4', '/etc/y.mp4'], replaced: { of: 'sig', items: [{ file: '/etc/z.mp4', weight: 10 }] } },
    };
    const { state: kept, dropped } = keepAllowedFiles(state, (f) => f.startsWith('/m/'));
    assert.deepEqual(dropped, ['/etc/x.mp4', '/etc/y.mp4', '/etc/z.mp4']);
    assert.equal(kept.current, null);
    assert.deepEqual(kept.lineup.inserted, ['/m/ok.mp4']);
    assert.equal(kept.lineup.replaced, null, 'a replacement with nothing left goes');
    assert.deepEqual(kept.lineup.picker, lineup.picker);
    const listed = { ...state, current: { file: '/elsewhere/a.mp4', inserted: false, position: 1 } };
    assert.equal(keepAllowedFiles(listed, () => false).state.current, listed.current, 'an item of the list is checked as it resumes');
  });
});
