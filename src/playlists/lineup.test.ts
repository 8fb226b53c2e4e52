import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lineup, listSignature, MAX_UPCOMING, type LineupList } from './lineup.js';
import type { PickerItem } from './picker.js';
import { seeded } from './test-helpers/seeded.js';
import type { PlayMode } from './types.js';

const file = (c: string) => `/m/${c}.mp4`;
const listOf = (names: string, mode: PlayMode = 'sequential_looped', recent = 0): LineupList => {
  const items: PickerItem[] = names.split('').map((c) => ({ file: file(c), weight: 10 }));
  return { items, mode, recent, signature: listSignature({ items, mode, recent }) };
};
const short = (files: readonly string[]) => files.map((f) => f.slice(3, 4)).join('');
const take = (l: Lineup, n: number) => short(Array.from({ length: n }, () => l.next()?.file ?? '/m/-'));

describe('Lineup', () => {
  it('draws ahead into a queue of its size: upcoming is what really plays, weighted_random too', () => {
    const l = new Lineup({ list: listOf('abcdef', 'weighted_random', 2), size: 4, random: seeded(3) });
    const shown = short(l.upcoming());
    assert.equal(shown.length, 4);
    assert.equal(take(l, 4), shown, 'the picks are the ones shown');
    const s = new Lineup({ list: listOf('abc'), size: 7 });
    assert.equal(short(s.upcoming()), 'abcabca');
    assert.equal(take(s, 2), 'ab');
    assert.equal(short(s.upcoming()), 'cabcabc');
  });

  it('plays inserted files first, then resumes the list where it was', () => {
    const l = new Lineup({ list: listOf('abcd'), size: 3 });
    assert.equal(take(l, 1), 'a');
    assert.equal(l.insert([file('x'), file('y')]), 2);
    assert.equal(short(l.upcoming()), 'xyb');
    assert.deepEqual(l.next(), { file: file('x'), inserted: true });
    assert.equal(take(l, 3), 'ybc');
  });

  it('a replacement list plays from its top from the next pick; the random history carries over', () => {
    const s = new Lineup({ list: listOf('abcd'), size: 2 });
    take(s, 2);
    s.replace(listOf('xyz').items);
    assert.equal(take(s, 4), 'xyzx');
    const r = new Lineup({ list: listOf('abcd', 'weighted_random', 2), size: 3, random: seeded(7) });
    const played = take(r, 1);
    const { recent } = r.replace(listOf('ab').items.concat(listOf('cd').items));
    assert.equal(recent, 2);
    assert.ok(!take(r, 1).includes(played), 'what just played is still held back');
    assert.equal(r.replace(listOf('pq').items).recent, 1, 'the window shrinks to fit a short replacement');
  });

  it('a reconfigured list applies from the next pick, its place found by file; the same list keeps the queue', () => {
    const l = new Lineup({ list: listOf('abcd'), size: 2 });
    assert.equal(take(l, 2), 'ab');
    const queued = l.upcoming();
    l.reconfigure(listOf('abcd'), 2);
    assert.deepEqual(l.upcoming(), queued, 'nothing changed');
    l.reconfigure(listOf('xbcd'), 3);
    assert.equal(short(l.upcoming()), 'cdx', 'after b comes c in the edited list too');
    assert.throws(() => l.reconfigure(listOf('ab', 'weighted_random', 5), 3), /window must be smaller/);
    assert.equal(short(l.upcoming()), 'cdx', 'a list that cannot be used changes nothing');
  });

  it('a smaller queue on reload keeps its first picks and draws the rest again: nothing is skipped', () => {
    for (const mode of ['sequential', 'sequential_looped'] as const) {
      const l = new Lineup({ list: listOf('abcdefgh', mode), size: 5 });
      assert.equal(take(l, 1), 'a');
      assert.equal(short(l.upcoming()), 'bcdef');
      l.reconfigure(listOf('abcdefgh', mode), 2);
      assert.equal(short(l.upcoming()), 'bc');
      assert.equal(take(l, 4), 'bcde', mode);
      assert.equal(short(l.exportState().upcoming), 'fg', 'the state saved agrees');
    }
  });

  it('a sequential list is done once everything queued has played', () => {
    const l = new Lineup({ list: listOf('ab', 'sequential'), size: 7 });
    assert.equal(short(l.upcoming()), 'ab');
    assert.equal(take(l, 2), 'ab');
    assert.equal(l.done, true);
    assert.equal(l.next(), undefined);
  });

  it('exports its state and continues from it: the same queue, inserts, replacement and history', () => {
    const a = new Lineup({ list: listOf('abcdef', 'weighted_random', 3), size: 3, random: seeded(11) });
    take(a, 2);
    a.insert([file('x')]);
    const state = JSON.parse(JSON.stringify(a.exportState())) as ReturnType<Lineup['exportState']>;
    const b = new Lineup({ list: listOf('abcdef', 'weighted_random', 3), size: 3, random: seeded(99), state });
    assert.deepEqual(b.upcoming(), a.upcoming());
    assert.equal(take(b, 4), take(a, 4), 'the queued picks play in the same order after the restore');

    const s = new Lineup({ list: listOf('abc'), size: 2 });
    s.replace(listOf('xyz').items);
    take(s, 1);
    const saved = s.exportState();
    assert.equal(take(new Lineup({ list: listOf('abc'), size: 2, state: saved }), 3), 'yzx', 'the replacement is kept');
    assert.equal(take(new Lineup({ list: listOf('abcd'), size: 2, state: saved }), 2), 'ab', 'an edited configured list drops it');
  });

  it('drops queued files no longer in the list and refuses a state it did not write', () => {
    const a = new Lineup({ list: listOf('abcd'), size: 3 });
    take(a, 1);
    const state = a.exportState();
    assert.equal(take(new Lineup({ list: listOf('acd'), size: 3, state }), 3), 'cda');
    assert.throws(() => new Lineup({ list: listOf('ab'), size: 3, state: { ...state, upcoming: 'x' } as never }), /not one a channel wrote/);
    assert.throws(() => new Lineup({ list: listOf('ab'), size: 3, state: { ...state, upcoming: Array.from({ length: MAX_UPCOMING + 1 }, () => '/m/a.mp4') } }), /not one/);
  });
});
