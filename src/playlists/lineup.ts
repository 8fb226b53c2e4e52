/** What a playlist channel plays next, in order: items inserted at run time (`.insertlist`)
 * first, then the picks drawn ahead from the list into a queue of `size` (DSS's
 * `max_upcoming_list_size`), so that `.upcoming` shows what will really play, weighted_random
 * included (DSS wrote "upcoming list not supported" there).
 *
 * Drawing ahead moves the picker past the current item, so each queued pick keeps the picker's
 * state as it was right after that pick: when the list changes (a `.replacelist`, a reload), the
 * queue is drawn again from the state after the item playing now, and the no-repeat history and
 * the place in the list carry over to the new list (found by file).
 *
 * The state exports as JSON for the channel's state file: the picker's state after the item
 * playing, the files queued after it (restored with `PlaylistPicker.pickFile`, so the queue after
 * a restart is the one `.upcoming` showed), the inserted files waiting, and a replacement list in
 * force with the configured list it replaced (dropped once the configured list changes). */
import { createHash } from 'node:crypto';
import { MAX_ENTRIES } from './playlist-file.js';
import { isPickerState, PlaylistPicker, type PickerItem, type PickerState } from './picker.js';
import { PlaylistError, type PlayMode } from './types.js';

/** Longest upcoming queue, whatever `max_upcoming_list_size` says. */
export const MAX_UPCOMING = 100;

/** The list a channel plays and how. */
export interface LineupList {
  items: readonly PickerItem[];
  mode: PlayMode;
  /** weighted_random's no-repeat window. */
  recent: number;
  /** Tells the configured list apart from an edited one (`listSignature`). */
  signature: string;
}

/** A Lineup's state, as JSON. */
export interface LineupState {
  /** The picker's state right after the pick playing now. */
  picker: PickerState;
  /** Files drawn ahead after it, in play order. */
  upcoming: string[];
  /** Inserted files waiting, in play order. */
  inserted: string[];
  /** A `.replacelist` in force, and the signature of the configured list it replaced. */
  replaced: { of: string; items: PickerItem[] } | null;
}

export interface LineupOptions {
  list: LineupList;
  /** How many picks are drawn ahead (max_upcoming_list_size; capped at MAX_UPCOMING). */
  size: number;
  /** A number in [0, 1) per call (default Math.random). */
  random?: () => number;
  /** A state exported earlier. Throws PlaylistError when it cannot be used. */
  state?: LineupState;
}

/** What to play next: a file of the list, or one inserted at run time. */
export interface LineupPick {
  file: string;
  inserted: boolean;
}

interface Queued {
  file: string;
  /** The picker's state right after this pick. */
  state: PickerState;
}

export class Lineup {
  readonly #random: (() => number) | undefined;
  #list: LineupList;
  #replaced: LineupState['replaced'] = null;
  #picker!: PlaylistPicker;
  #base!: PickerState;
  #queue: Queued[] = [];
  #inserted: string[] = [];
  #size: number;

  constructor(opts: LineupOptions) {
    this.#random = opts.random;
    this.#list = opts.list;
    this.#size = clampSize(opts.size);
    const s = opts.state;
    if (s !== undefined && !isLineupState(s)) throw new PlaylistError('the saved lineup is not one a channel wrote');
    let picker = s?.picker;
    if (s?.replaced && s.replaced.of === opts.list.signature) this.#replaced = s.replaced;
    // The place was in a replacement the edited list drops: it plays from its top.
    else if (s?.replaced && picker) picker = { ...picker, next: 0, nextFile: null };
    this.#picker = this.#makePicker(picker);
    this.#base = this.#picker.exportState();
    for (const f of s?.upcoming ?? []) {
      if (this.#picker.pickFile(f)) this.#queue.push({ file: f, state: this.#picker.exportState() });
    }
    this.#inserted = (s?.inserted ?? []).slice(0, MAX_ENTRIES);
    this.#fill();
  }

  /** The next item to play; undefined once a sequential list has played through and nothing
   * inserted waits. */
  next(): LineupPick | undefined {
    const inserted = this.#inserted.shift();
    if (inserted !== undefined) return { file: inserted, inserted: true };
    this.#fill();
    const q = this.#queue.shift() ?? this.#draw();
    if (!q) return undefined;
    this.#base = q.state;
    this.#fill();
    return { file: q.file, inserted: false };
  }

  /** What plays after the current item, as far as `size` reaches: inserted files, then the
   * queue. */
  upcoming(): string[] {
    return [...this.#inserted.slice(0, this.#size), ...this.#queue.map((q) => q.file)].slice(0, this.#size);
  }

  /** Files to play next, before the list resumes (after any inserted earlier). Returns how many
   * were taken: the waiting list stops at MAX_ENTRIES (the caller says what was dropped). */
  insert(files: readonly string[]): number {
    const room = Math.max(0, MAX_ENTRIES - this.#inserted.length);
    this.#inserted.push(...files.slice(0, room));
    return Math.min(room, files.length);
  }

  /** A `.replacelist`: `items` replace the list from the next pick; mode kept, the no-repeat
   * window too (made smaller when the new list is too short for it, which the result says),
   * the sequential modes start the new list from its top. Throws PlaylistError for an empty
   * list. */
  replace(items: readonly PickerItem[]): { recent: number } {
    if (items.length === 0) throw new PlaylistError('the replacement list has no items');
    this.#replaced = { of: this.#list.signature, items: [...items] };
    this.#restart({ ...this.#base, next: 0, nextFile: null });
    return { recent: this.#recent() };
  }

  /** The configured list, mode or window changed (a reload): it plays from the next pick, the
   * place in it found by file and the history kept; a replacement in force is dropped. A list
   * with the same signature changes nothing but the queue's size. Throws PlaylistError when the
   * window does not fit the list. */
  reconfigure(list: LineupList, size: number): void {
    this.#size = clampSize(size);
    if (list.signature === this.#list.signature) {
      // A smaller queue keeps its first picks, and the picker goes back to the state after the
      // last one kept: the picks cut are drawn again, not skipped.
      if (this.#queue.length > this.#size) {
        this.#queue.splice(this.#size);
        this.#picker = this.#makePicker(this.#queue.at(-1)?.state ?? this.#base);
      }
      this.#fill();
      return;
    }
    const before = this.#list;
    this.#list = list;
    this.#replaced = null;
    try {
      this.#restart(this.#base);
    } catch (e) {
      this.#list = before;
      throw e;
    }
  }

  /** Whether the list in force holds `file`. */
  has(file: string): boolean {
    return (this.#replaced?.items ?? this.#list.items).some((i) => i.file === file);
  }

  /** Inserted files waiting. */
  get inserted(): number {
    return this.#inserted.length;
  }

  /** True once a sequential list has played through: nothing is queued or inserted. */
  get done(): boolean {
    return this.#inserted.length === 0 && this.#queue.length === 0 && this.#picker.done;
  }

  get mode(): PlayMode {
    return this.#list.mode;
  }

  /** Entries of the list in force (a replacement's when one is). */
  get items(): number {
    return (this.#replaced?.items ?? this.#list.items).length;
  }

  /** Different files in the list in force: a pass that failed this many has tried every one. */
  get files(): number {
    return new Set((this.#replaced?.items ?? this.#list.items).map((i) => i.file)).size;
  }

  exportState(): LineupState {
    return {
      picker: this.#base,
      upcoming: this.#queue.map((q) => q.file),
      inserted: [...this.#inserted],
      replaced: this.#replaced,
    };
  }

  /** The no-repeat window: the configured one, made smaller for a replacement too short for it. */
  #recent(): number {
    const r = this.#replaced;
    return r ? Math.min(this.#list.recent, new Set(r.items.map((i) => i.file)).size - 1) : this.#list.recent;
  }

  #makePicker(state: PickerState | undefined): PlaylistPicker {
    const items = this.#replaced?.items ?? this.#list.items;
    return new PlaylistPicker({ items, mode: this.#list.mode, recent: this.#recent(), random: this.#random, state });
  }

  /** A new picker from `state`, and the queue drawn again from it. */
  #restart(state: PickerState): void {
    this.#picker = this.#makePicker(state);
    this.#base = this.#picker.exportState();
    this.#queue = [];
    this.#fill();
  }

  #draw(): Queued | undefined {
    const item = this.#picker.pick();
    return item && { file: item.file, state: this.#picker.exportState() };
  }

  #fill(): void {
    while (this.#queue.length < this.#size) {
      const q = this.#draw();
      if (!q) return;
      this.#queue.push(q);
    }
  }
}

function clampSize(n: number): number {
  return Math.max(0, Math.min(MAX_UPCOMING, Math.floor(n) || 0));
}

/** A short stable digest of a list, its mode and window: equal signatures, same list. */
export function listSignature(list: Omit<LineupList, 'signature'>): string {
  const text = JSON.stringify([list.mode, list.recent, list.items.map((i) => [i.file, i.weight])]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

const isStrings = (v: unknown, max: number): v is string[] => Array.isArray(v) && v.length <= max && v.every((f) => typeof f === 'string');

function isLineupState(s: unknown): s is LineupState {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  const r = o.replaced as Record<string, unknown> | null;
  const replacedOk =
    r === null ||
    (typeof r === 'object' &&
      typeof r.of === 'string' &&
      Array.isArray(r.items) &&
      r.items.length > 0 &&
      r.items.length <= MAX_ENTRIES &&
      r.items.every((i: unknown) => {
        const it = i as Record<string, unknown>;
        return typeof it === 'object' && it !== null && typeof it.file === 'string' && typeof it.weight === 'number' && it.weight > 0 && Number.isFinite(it.weight);
      }));
  return isPickerState(o.picker) && isStrings(o.upcoming, MAX_UPCOMING) && isStrings(o.inserted, MAX_ENTRIES) && replacedOk;
}
