import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlaylistPicker, type PickerItem } from './picker.js';
import { seeded } from './test-helpers/seeded.js';
import { PlaylistError } from './types.js';

const items = (weights: number[]): PickerItem[] => weights.map((weight, i) => ({ file: `/m/${String.fromCharCode(97 + i)}.mp4`, weight }));
const names = (picks: (PickerItem | undefined)[]) => picks.map((p) => p?.file.slice(3, 4) ?? '-').join('');
const pickN = (p: PlaylistPicker, n: number) => Array.from({ length: n }, () => p.pick());

/** Long-run share of each item under the no-repeat rule: the picker is a Markov chain over its
 * last `window` picks, whose stationary distribution is found by iterating it. */
function expectedShares(list: PickerItem[], window: number): number[] {
  if (window === 0) {
    const total = list.reduce((s, i) => s + i.weight, 0);
    return list.map((i) => i.weight / total);
  }
  let dist = new Map<string, number>();
  // Start from every ordered tuple of `window` distinct items, equally likely.
  const tuples = (k: number): number[][] =>
    k === 0 ? [[]] : tuples(k - 1).flatMap((t) => list.map((_, i) => i).filter((i) => !t.includes(i)).map((i) => [...t, i]));
  for (const t of tuples(window)) dist.set(t.join(','), 1);
  const norm = [...dist.values()].reduce((a, b) => a + b, 0);
  for (const [k, v] of dist) dist.set(k, v / norm);
  for (let round = 0; round < 500; round++) {
    const next = new Map<string, number>();
    for (const [k, p] of dist) {
      const recent = k.split(',').map(Number);
      const eligible = list.map((_, i) => i).filter((i) => !recent.includes(i));
      const total = eligible.reduce((s, i) => s + list[i].weight, 0);
      for (const i of eligible) {
        const to = [...recent.slice(1), i].join(',');
        next.set(to, (next.get(to) ?? 0) + (p * list[i].weight) / total);
      }
    }
    dist = next;
  }
  const shares = list.map(() => 0);
  for (const [k, p] of dist) shares[Number(k.split(',').at(-1))] += p;
  return shares;
}

/** Checks the picks of each item against the expected shares: each count within 4 standard
 * deviations of a binomial count, sqrt(n p (1-p)), so with 200 picks a share of 0.25 may be
 * 50 ± 24.5 (a binomial count leaves that band about once in 15,000). Without a window the picks
 * are independent draws and the bound is exact; with one they form a Markov chain, for which the
 * binomial spread is a yardstick rather than a theorem (holding back what just played makes the
 * counts more even, not less). The random source is seeded, so the test cannot flake. */
function assertShares(list: PickerItem[], picks: PickerItem[], shares: number[]): void {
  const n = picks.length;
  for (let i = 0; i < list.length; i++) {
    const count = picks.filter((p) => p.file === list[i].file).length;
    const mean = n * shares[i];
    const sd = Math.sqrt(n * shares[i] * (1 - shares[i]));
    assert.ok(Math.abs(count - mean) <= 4 * sd, `${list[i].file} (weight ${list[i].weight}) picked ${count} times in ${n}, expected ${mean.toFixed(1)} ± ${(4 * sd).toFixed(1)}`);
  }
}

describe('PlaylistPicker', () => {
  it('sequential plays the list once, then is done', () => {
    const p = new PlaylistPicker({ items: items([10, 10, 10]), mode: 'sequential' });
    assert.equal(names(pickN(p, 5)), 'abc--');
    assert.equal(p.done, true);
  });

  it('sequential_looped starts over', () => {
    const p = new PlaylistPicker({ items: items([10, 10, 10]), mode: 'sequential_looped', recent: 99 });
    assert.equal(names(pickN(p, 8)), 'abcabcab');
    assert.equal(p.done, false);
  });

  it('weighted_random, no window: 200 picks share out as the weights say', () => {
    const list = items([10, 5, 3, 2]);
    const p = new PlaylistPicker({ items: list, mode: 'weighted_random', random: seeded(1) });
    const picks = pickN(p, 200) as PickerItem[];
    assertShares(list, picks, [0.5, 0.25, 0.15, 0.1]);
    // The bound has teeth: picking uniformly would put 'a' near 50, outside 100 ± 28.
    assert.throws(() => assertShares(list, list.flatMap((i) => Array<PickerItem>(50).fill(i)), [0.5, 0.25, 0.15, 0.1]));
  });

  it('weighted_random with a window of 2: never repeats inside it, and follows the weights', () => {
    const list = items([10, 10, 5, 5, 2, 1]);
    const p = new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 2, random: seeded(7) });
    const picks = pickN(p, 200) as PickerItem[];
    for (let i = 0; i < picks.length; i++) {
      assert.ok(!picks.slice(Math.max(0, i - 2), i).includes(picks[i]), `pick ${i} (${picks[i].file}) repeats within the last 2`);
    }
    const shares = expectedShares(list, 2);
    // Held back after playing, the heavy items get less than their 10/33 of plain weighting.
    assert.ok(shares[0] < 10 / 33 && shares[5] > 1 / 33);
    assertShares(list, picks, shares);
  });

  it('refuses a window not smaller than the number of different items, as DSS advises', () => {
    const list = [...items([10, 10, 10]), { file: '/m/a.mp4', weight: 3 }];
    assert.throws(
      () => new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 3 }),
      (e: Error) =>
        e instanceof PlaylistError &&
        e.message === 'recent_movies_list_size is 3 but the playlist has 3 different items: the window must be smaller than that (at most 2), or after 3 picks nothing is left to play',
    );
    // One less works: the picks then cycle through the three files.
    const p = new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 2, random: seeded(3) });
    const s = names(pickN(p, 9));
    assert.equal(s.slice(3), s.slice(0, 6));
    assert.throws(() => new PlaylistPicker({ items: [], mode: 'sequential' }), /no items/);
    assert.throws(() => new PlaylistPicker({ items: items([0]), mode: 'weighted_random' }), /weight 0 is not a positive number/);
  });

  it('exports its state as JSON and continues from it, sequential and random', () => {
    const list = items([10, 10, 10, 10]);
    const a = new PlaylistPicker({ items: list, mode: 'sequential_looped' });
    pickN(a, 2);
    const state = JSON.parse(JSON.stringify(a.exportState())) as ReturnType<PlaylistPicker['exportState']>;
    assert.deepEqual(state, { mode: 'sequential_looped', next: 2, nextFile: '/m/c.mp4', recent: [], last: '/m/b.mp4', picks: 2 });
    const b = new PlaylistPicker({ items: list, mode: 'sequential_looped', state });
    assert.equal(names(pickN(b, 3)), 'cda');

    const r1 = new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 3, random: seeded(5) });
    const first = names(pickN(r1, 3));
    const r2 = new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 3, random: seeded(9), state: r1.exportState() });
    // With three of four held back, the only item left is the one not yet played.
    assert.equal(names([r2.pick()]), 'abcd'.split('').find((c) => !first.includes(c)));
    assert.equal(r2.exportState().picks, 4);
  });

  it('finds its place again in an edited list, and refuses a state it did not write', () => {
    const before = items([10, 10, 10, 10]);
    const p = new PlaylistPicker({ items: before, mode: 'sequential' });
    pickN(p, 2);
    // 'a' was removed and 'x' added at the end: 'c', next before, moved from index 2 to 1.
    const edited = [...before.slice(1), { file: '/m/x.mp4', weight: 10 }];
    const q = new PlaylistPicker({ items: edited, mode: 'sequential', state: p.exportState() });
    assert.equal(names(pickN(q, 4)), 'cdx-');
    assert.throws(() => new PlaylistPicker({ items: before, mode: 'sequential', state: { next: 'x' } as never }), PlaylistError);
  });

  it('records a known file as the next pick (a restored queue), and refuses one not in the list', () => {
    const list = items([10, 10, 10, 10]);
    const s = new PlaylistPicker({ items: list, mode: 'sequential_looped' });
    assert.equal(s.pickFile('/m/c.mp4')?.file, '/m/c.mp4');
    assert.equal(names(pickN(s, 2)), 'da');
    assert.equal(s.pickFile('/m/zz.mp4'), undefined);
    assert.equal(s.exportState().picks, 3);
    const r = new PlaylistPicker({ items: list, mode: 'weighted_random', recent: 3, random: seeded(1) });
    for (const f of ['/m/a.mp4', '/m/b.mp4', '/m/c.mp4']) r.pickFile(f);
    assert.deepEqual(r.exportState().recent, ['/m/a.mp4', '/m/b.mp4', '/m/c.mp4']);
    assert.equal(names([r.pick()]), 'd', 'the window holds the files recorded');
  });
});
