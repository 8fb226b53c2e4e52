/** Chooses what a playlist broadcast plays next, in DSS's three modes:
 *
 * - `sequential`: the items in order, once; then `pick()` answers undefined and `done` is true;
 * - `sequential_looped`: the items in order, again and again;
 * - `weighted_random`: each pick draws among the items not played in the last `recent` picks,
 *   each with probability proportional to its weight (weight 10 plays twice as often as
 *   weight 5). DSS drew a minimum weight first and then uniformly among the items at or above
 *   it, which favours heavy items by an amount that depends on the mix; the manual only promised
 *   that heavier items play more often, so the plain reading of a weight is used.
 *
 * Items are told apart by their file: a file listed twice counts once in the no-repeat window,
 * so the window must be smaller than the number of different files (DSS's manual: "make sure
 * the number is less than the number of media files in the playlist"); otherwise no item would
 * be left to pick, and the constructor throws PlaylistError saying so.
 *
 * The state (position, recent picks, the last pick) exports as a plain JSON object and can be
 * handed back to a new picker, so a broadcast continues where it was after a restart, even if
 * the list was edited meanwhile (positions are found again by file). The random source is
 * injectable so tests run with a fixed seed. */
import { PlaylistError, type PlayMode } from './types.js';

export interface PickerItem {
  file: string;
  /** Relative likelihood in weighted_random; any positive number. */
  weight: number;
}

/** A picker's state, as JSON. */
export interface PickerState {
  mode: PlayMode;
  /** Index of the next item in the sequential modes (items.length: a sequential list is done). */
  next: number;
  /** The file at `next` when the state was taken, to find the place again in an edited list. */
  nextFile: string | null;
  /** Files of the latest picks, oldest first; at most the no-repeat window. */
  recent: string[];
  /** The file picked last (what was playing), or null before the first pick. */
  last: string | null;
  /** Picks made so far. */
  picks: number;
}

export interface PickerOptions {
  items: readonly PickerItem[];
  mode: PlayMode;
  /** weighted_random: how many of the latest picks may not be picked again (default 0). */
  recent?: number;
  /** A number in [0, 1) per call (default Math.random). */
  random?: () => number;
  /** A state exported earlier, to continue from. */
  state?: PickerState;
}

export class PlaylistPicker {
  readonly #items: readonly PickerItem[];
  readonly #mode: PlayMode;
  readonly #window: number;
  readonly #random: () => number;
  #next = 0;
  #recent: string[] = [];
  #last: string | null = null;
  #picks = 0;

  constructor(opts: PickerOptions) {
    const { items, mode } = opts;
    if (items.length === 0) throw new PlaylistError('the playlist has no items to play');
    for (const i of items) {
      if (!(i.weight > 0) || !Number.isFinite(i.weight)) throw new PlaylistError(`${i.file}: weight ${i.weight} is not a positive number`);
    }
    const window = mode === 'weighted_random' ? (opts.recent ?? 0) : 0;
    if (!Number.isInteger(window) || window < 0) {
      throw new PlaylistError(`recent_movies_list_size ${opts.recent} is not a whole number of items (0 or more)`);
    }
    const files = new Set(items.map((i) => i.file)).size;
    if (window >= files) {
      throw new PlaylistError(
        `recent_movies_list_size is ${window} but the playlist has ${files} different item${files === 1 ? '' : 's'}: ` +
          `the window must be smaller than that (at most ${files - 1}), or after ${files} picks nothing is left to play`,
      );
    }
    this.#items = items;
    this.#mode = mode;
    this.#window = window;
    this.#random = opts.random ?? Math.random;
    if (opts.state) this.#restore(opts.state);
  }

  /** The next item to play; undefined once a sequential list has played through. */
  pick(): PickerItem | undefined {
    const item = this.#mode === 'weighted_random' ? this.#pickWeighted() : this.#pickSequential();
    if (item) this.#record(item);
    return item;
  }

  /** Records `file` as the next pick, as if it had been drawn: a broadcast restoring the picks
   * it had drawn ahead (its upcoming queue) from a state file. In the sequential modes the place
   * moves to just after that file (its next occurrence, else its first). Undefined when the list
   * does not hold the file. */
  pickFile(file: string): PickerItem | undefined {
    const items = this.#items;
    let at = items.findIndex((i, n) => n >= this.#next && i.file === file);
    if (at < 0) at = items.findIndex((i) => i.file === file);
    if (at < 0) return undefined;
    if (this.#mode !== 'weighted_random') this.#next = at + 1;
    this.#record(items[at]);
    return items[at];
  }

  #record(item: PickerItem): void {
    this.#picks++;
    this.#last = item.file;
    if (this.#window > 0) {
      this.#recent.push(item.file);
      if (this.#recent.length > this.#window) this.#recent.shift();
    }
  }

  /** True once a `sequential` list has played through (never in the other modes). */
  get done(): boolean {
    return this.#mode === 'sequential' && this.#next >= this.#items.length;
  }

  exportState(): PickerState {
    return {
      mode: this.#mode,
      next: this.#next,
      nextFile: this.#items[this.#next]?.file ?? null,
      recent: [...this.#recent],
      last: this.#last,
      picks: this.#picks,
    };
  }

  #pickSequential(): PickerItem | undefined {
    if (this.#next >= this.#items.length) {
      if (this.#mode === 'sequential') return undefined;
      this.#next = 0;
    }
    return this.#items[this.#next++];
  }

  #pickWeighted(): PickerItem {
    const recent = this.#recent;
    let total = 0;
    for (const i of this.#items) if (!recent.includes(i.file)) total += i.weight;
    let r = this.#random() * total;
    let chosen: PickerItem | undefined;
    for (const i of this.#items) {
      if (recent.includes(i.file)) continue;
      chosen = i;
      r -= i.weight;
      if (r < 0) break;
    }
    // The window is smaller than the number of files, so some item is always eligible; the last
    // eligible one also absorbs rounding at the top of the range.
    return chosen!;
  }

  #restore(s: PickerState): void {
    if (!isPickerState(s)) throw new PlaylistError('the saved playlist state is not one a picker wrote');
    const items = this.#items;
    let next = Math.min(s.next, items.length);
    if (s.nextFile !== null && items[next]?.file !== s.nextFile) {
      const after = items.findIndex((i, n) => n >= next && i.file === s.nextFile);
      const any = after >= 0 ? after : items.findIndex((i) => i.file === s.nextFile);
      if (any >= 0) next = any;
    }
    this.#next = next;
    const present = new Set(items.map((i) => i.file));
    this.#recent = this.#window > 0 ? s.recent.filter((f) => present.has(f)).slice(-this.#window) : [];
    this.#last = s.last;
    this.#picks = s.picks;
  }
}

/** Whether `s` has the shape of an exported PickerState (a state file is outside input). */
export function isPickerState(s: unknown): s is PickerState {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  return (
    Number.isInteger(o.next) &&
    (o.next as number) >= 0 &&
    (o.nextFile === null || typeof o.nextFile === 'string') &&
    Array.isArray(o.recent) &&
    o.recent.every((f) => typeof f === 'string') &&
    (o.last === null || typeof o.last === 'string') &&
    Number.isInteger(o.picks)
  );
}
