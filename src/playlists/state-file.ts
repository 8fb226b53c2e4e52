/** What a playlist channel keeps across restarts, one small JSON file per channel in
 * `<state.folder>/playlists/`, named after its path (`channelFileBase`):
 *
 * ```json
 * { "version": 1, "key": "tv/one", "savedAt": "2026-01-01T12:00:00.000Z",
 *   "current": { "file": "/media/b.mp4", "inserted": false, "position": 12.4 },
 *   "lineup": { "picker": { …PickerState }, "upcoming": ["/media/c.mp4"], "inserted": [],
 *               "replaced": null } }
 * ```
 *
 * `current` is the item playing when it was written and the media second it had reached (null
 * when unknown); `lineup` is `LineupState`. Written atomically (`atomic-file.ts`) at each item
 * start, every few seconds while one plays, and as the channel closes; read once as it starts.
 * A file of another version or written for another path is refused with the reason, as is one
 * that is not JSON or not this shape: the caller logs it and starts from the top. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readDssFile } from './dss-text.js';
import type { LineupState } from './lineup.js';

export const STATE_VERSION = 1;

export interface ChannelState {
  version: typeof STATE_VERSION;
  /** The path (stream key) it was written for. */
  key: string;
  /** When it was written (ISO 8601), for people reading it. */
  savedAt: string;
  /** The item playing, and the media second reached in it (null: unknown). */
  current: { file: string; inserted: boolean; position: number | null } | null;
  lineup: LineupState;
}

/** Longest file name base derived from a path; longer ones are cut and a digest added. */
const MAX_BASE = 160;

/** A file name base for the channel at path `key`, safe in any folder: the key
 * percent-encoded (no `/`, so no way out of the folder), cut with a digest when long. */
export function channelFileBase(key: string): string {
  const enc = encodeURIComponent(key);
  if (enc.length <= MAX_BASE) return enc;
  return `${enc.slice(0, MAX_BASE - 17)}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** The folder of channel state files (and of native playlists' control files). */
export function channelStateFolder(stateFolder: string): string {
  return join(stateFolder, 'playlists');
}

/** The state file of the channel at `key`. */
export function channelStateFile(stateFolder: string, key: string): string {
  return join(channelStateFolder(stateFolder), `${channelFileBase(key)}.json`);
}

export function formatChannelState(s: ChannelState): string {
  return `${JSON.stringify(s, null, 1)}\n`;
}

/** The state in `text` if it was written for `key` in this version, else why not. */
export function parseChannelState(text: string, key: string): ChannelState | string {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return 'not a channel state';
  const o = j as Record<string, unknown>;
  if (o.version !== STATE_VERSION) return `version ${String(o.version)} is not ${STATE_VERSION}`;
  if (o.key !== key) return `written for the path '${String(o.key).slice(0, 200)}', not '${key}'`;
  const c = o.current as Record<string, unknown> | null;
  const currentOk =
    c === null ||
    (typeof c === 'object' &&
      typeof c.file === 'string' &&
      typeof c.inserted === 'boolean' &&
      (c.position === null || (typeof c.position === 'number' && Number.isFinite(c.position) && c.position >= 0)));
  if (!currentOk) return 'its current item is not a file and a position';
  if (typeof o.lineup !== 'object' || o.lineup === null) return 'it has no lineup';
  // The lineup's own shape is checked by the Lineup it is handed to.
  return { version: STATE_VERSION, key, savedAt: String(o.savedAt), current: c as ChannelState['current'], lineup: o.lineup as LineupState };
}

/** The state saved for `key` in `file`: undefined when there is none, a string saying why it
 * cannot be used (unreadable, corrupt, foreign). Never throws. */
export async function readChannelState(file: string, key: string): Promise<ChannelState | string | undefined> {
  try {
    await stat(file);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : `cannot read ${file}: ${(e as Error).message}`;
  }
  try {
    return parseChannelState(await readDssFile(file), key);
  } catch (e) {
    return (e as Error).message;
  }
}

/** `s` without the files it would play that `allowed` refuses, and those files: the item playing
 * when it was inserted (one of the list is checked against the list as it resumes), the inserted
 * files waiting, and the items of a replacement list (none left: the replacement goes). A state
 * file is outside input, trusted no more than the list: anything in it that names a file
 * elsewhere is dropped. Parts not of the expected shape are left for the Lineup to refuse. */
export function keepAllowedFiles(s: ChannelState, allowed: (file: string) => boolean): { state: ChannelState; dropped: string[] } {
  const dropped: string[] = [];
  const ok = (f: unknown) => {
    if (typeof f !== 'string' || allowed(f)) return true;
    dropped.push(f);
    return false;
  };
  const current = s.current && (!s.current.inserted || ok(s.current.file)) ? s.current : null;
  const lineup = { ...s.lineup };
  if (Array.isArray(lineup.inserted)) lineup.inserted = lineup.inserted.filter(ok);
  const r = lineup.replaced;
  if (r && Array.isArray(r.items)) {
    const items = r.items.filter((i: unknown) => typeof i !== 'object' || i === null || ok((i as { file?: unknown }).file));
    lineup.replaced = items.length > 0 ? { ...r, items } : null;
  }
  return { state: { ...s, current, lineup }, dropped };
}
