/** The files through which DSS's PlaylistBroadcaster talked with people and scripts while it
 * ran, all `<base>.<suffix>` in one folder (beside a DSS `.playlist`, named after it; for a
 * native playlist, in the state folder named after its path):
 *
 * - written by the channel at each item start: `.current` (`u=<file>`, the line DSS wrote) and
 *   `.upcoming` (a playlist: `*PLAY-LIST*`, then one quoted path per line), replaced atomically;
 * - read by the channel at each item change, then deleted: `.insertlist` (its entries play
 *   next, then the list resumes), `.replacelist` (its entries replace the list), `.stoplist`
 *   (the broadcast stops after the item playing; entries in it, if it is a playlist, play
 *   first, as in DSS). The first two are playlists in the `.playlist` format, read with the
 *   same bounds (`readPlaylist`); one that cannot be read or has no `*PLAY-LIST*` line is
 *   renamed `<name>.bad` (so it is reported once, and kept for whoever wrote it) and not taken.
 *
 * Write a control file whole (to a temporary name, then rename it), as the channel writes its
 * own: one caught half written is taken as it is. */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PLAYLIST_HEADER, readPlaylist, type PlaylistEntry } from './playlist-file.js';
import { formatIssue, type PlaylistIssue } from './types.js';

export const CONTROL_KINDS = ['replacelist', 'insertlist', 'stoplist'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

export interface ControlPaths {
  current: string;
  upcoming: string;
  insertlist: string;
  replacelist: string;
  stoplist: string;
}

export function controlPaths(folder: string, base: string): ControlPaths {
  const p = (suffix: string) => join(folder, `${base}.${suffix}`);
  return { current: p('current'), upcoming: p('upcoming'), insertlist: p('insertlist'), replacelist: p('replacelist'), stoplist: p('stoplist') };
}

/** `.current` as DSS wrote it: `u=` and the absolute path of the file playing. */
export function formatCurrent(file: string): string {
  return `u=${file}\n`;
}

/** A path as a playlist line: quoted, a quote doubled (the `.playlist` word grammar). */
export function quotePlaylistPath(file: string): string {
  return `"${file.replace(/"/g, '""')}"`;
}

/** `.upcoming`: a playlist of what plays next. */
export function formatUpcoming(files: readonly string[]): string {
  return [PLAYLIST_HEADER, ...files.map(quotePlaylistPath), ''].join('\n');
}

/** A control file taken (and deleted). */
export interface TakenControl {
  kind: ControlKind;
  file: string;
  entries: PlaylistEntry[];
  /** Lines skipped or other things wrong in it, for the log. */
  issues: PlaylistIssue[];
}

/** A control file not taken, and why (it was renamed `.bad`, or could not be removed). */
export interface RefusedControl {
  kind: ControlKind;
  file: string;
  error: string;
}

/** Reads, in this order, the `.replacelist`, `.insertlist` and `.stoplist` present, and deletes
 * each one taken. `root`: the folder relative entries are read from (default the control
 * files' own). `stop`: once it says true (the channel closed), nothing more is taken or
 * deleted; what was read is left for the next start. Never throws. */
export async function takeControlFiles(paths: ControlPaths, root?: string, stop: () => boolean = () => false): Promise<{ taken: TakenControl[]; refused: RefusedControl[] }> {
  const taken: TakenControl[] = [];
  const refused: RefusedControl[] = [];
  for (const kind of CONTROL_KINDS) {
    if (stop()) break;
    const file = paths[kind];
    const st = await stat(file).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error && st.code === 'ENOENT') continue;
    let read: { entries: PlaylistEntry[]; issues: PlaylistIssue[] };
    try {
      if (st instanceof Error) throw st;
      // A FIFO or a device would never end (or block the read); a folder cannot be read.
      if (!st.isFile()) throw new Error('it is not a regular file');
      read = await readPlaylist(file, root);
    } catch (e) {
      const why = (e as Error).message;
      if (kind === 'stoplist') {
        // A stop needs no list: DSS stopped on an empty .stoplist too.
        const empty = !(st instanceof Error) && st.isFile() && st.size === 0;
        read = { entries: [], issues: empty ? [] : [{ file, message: `its content is not a playlist, so only the stop is taken (${why})` }] };
      } else {
        const bad = `${file}.bad`;
        const moved = await rename(file, bad).then(
          () => `; renamed ${bad}`,
          (r: Error) => `; it could not be renamed either (${r.message})`,
        );
        refused.push({ kind, file, error: `${why}${moved}` });
        continue;
      }
    }
    if (stop()) break;
    try {
      await rm(file, { force: true });
    } catch (e) {
      // Taken but left in place, it would be taken again at every change.
      refused.push({ kind, file, error: `cannot delete it, so it is not taken: ${(e as Error).message}` });
      continue;
    }
    taken.push({ kind, file, ...read });
  }
  return { taken, refused };
}

/** Issues named in a control file's log line; the rest are counted. */
const MAX_ISSUES_SHOWN = 5;

/** One log line for a control file taken: what it asked for. */
export function describeTaken(t: TakenControl): string {
  const n = t.entries.length;
  const items = `${n} item${n === 1 ? '' : 's'}`;
  const what =
    t.kind === 'insertlist' ? `${items} inserted to play next` : t.kind === 'replacelist' ? `the list replaced by ${items}` : n ? `${items} to play, then the broadcast stops` : 'the broadcast stops after the current item';
  const shown = t.issues.slice(0, MAX_ISSUES_SHOWN).map(formatIssue);
  if (t.issues.length > MAX_ISSUES_SHOWN) shown.push(`${t.issues.length - MAX_ISSUES_SHOWN} more`);
  const issues = shown.length ? ` (${shown.join('; ')})` : '';
  return `took ${t.file}: ${what}${issues}`;
}
