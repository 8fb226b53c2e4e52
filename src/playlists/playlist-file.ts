/** DSS `.playlist` files, read as PlaylistBroadcaster read them (PickerFromFile.cpp), so lists
 * written by the QTSS admin or by hand for DSS work unchanged:
 *
 * - the first line starts with `*PLAY-LIST*` (leading blanks allowed), or the file is no playlist;
 * - then one entry per line: a path, in quotes if it has spaces (`""` for a quote), relative to
 *   the folder of the playlist it is written in (absolute paths stay as they are), and an
 *   optional weight, a whole number from 1 to 10 (default 10; DSS kept one pick bucket per
 *   weight, so nothing else ever worked there);
 * - an entry naming a folder adds the files in it and its subfolders, with the line's weight:
 *   names starting with `.` are skipped as DSS skipped them, the rest sorted by name (DSS took
 *   the order readdir gave, which differs between machines), and only files whose first bytes the
 *   media layer recognises (`sniffFile`: movies, MP3, WAV, AIFF, AU; not MIDI or AVI, which it
 *   refuses) — a folder also holds SDP files, images and the playlist itself;
 * - `+ other.playlist` reads another playlist there (or a folder's files, weight 10); a playlist
 *   already being read further up the chain is a loop, reported and skipped (including the same
 *   list twice from two places is fine);
 * - lines starting with `#` are comments; blank lines are skipped.
 *
 * Where DSS misread a line silently (an unquoted path with spaces became a name and a weight of 0;
 * an unterminated quote became a name ending in a newline), the line is skipped with an issue
 * naming the file and line. Text after the weight is ignored, as in DSS, with an issue.
 *
 * Bounded for hostile input: each file is read only up to MAX_FILE_BYTES, includes and
 * folders nest at most MAX_NESTING deep, and the list stops at MAX_ENTRIES entries. Files named
 * by entries are not opened here (whether they play is the caller's business: the broadcaster
 * skips them, `rivulet playlist check` reports them). */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { sniffFile } from '../media/open-media.js';
import { readDssFile, splitLines, splitWords } from './dss-text.js';
import { PlaylistError, type PlaylistIssue } from './types.js';

/** Entries a playlist may expand to, includes and folders counted. */
export const MAX_ENTRIES = 10_000;
/** How deep includes and folders may nest below the playlist named. */
export const MAX_NESTING = 16;
export const DEFAULT_WEIGHT = 10;
export const MAX_WEIGHT = 10;
export const PLAYLIST_HEADER = '*PLAY-LIST*';

export interface PlaylistEntry {
  /** Absolute path of the media file. */
  file: string;
  /** 1..10; used by weighted_random only. */
  weight: number;
  /** The playlist and line that put it in the list (a folder's files share their line). */
  from: { playlist: string; line: number };
}

export interface Playlist {
  /** Absolute path of the playlist read. */
  file: string;
  entries: PlaylistEntry[];
  issues: PlaylistIssue[];
}

/** One meaningful line of a playlist, before paths are resolved. */
export type PlaylistLine =
  | { kind: 'entry'; line: number; path: string; weight: number }
  | { kind: 'include'; line: number; path: string };

/** The entries and includes of one playlist's text, and what was wrong with its other lines.
 * Throws PlaylistError when the first line is not `*PLAY-LIST*`. */
export function parsePlaylistText(text: string, file: string): { lines: PlaylistLine[]; issues: PlaylistIssue[] } {
  const all = splitLines(text);
  if (!all[0]?.trimStart().startsWith(PLAYLIST_HEADER)) {
    throw new PlaylistError(`${file} is not a playlist: its first line must be ${PLAYLIST_HEADER}`);
  }
  const lines: PlaylistLine[] = [];
  const issues: PlaylistIssue[] = [];
  for (let i = 1; i < all.length; i++) {
    const line = i + 1;
    const raw = all[i].trimStart();
    if (raw === '' || raw.startsWith('#')) continue;
    const include = raw.startsWith('+');
    const words = splitWords(include ? raw.slice(1) : raw);
    if (!Array.isArray(words)) {
      issues.push({ file, line, message: `line skipped: ${words.error}` });
      continue;
    }
    if (words.length === 0) {
      issues.push({ file, line, message: 'line skipped: + names no playlist to include' });
      continue;
    }
    if (include) {
      if (words.length > 1) issues.push({ file, line, message: `text after the included name ignored: ${words.slice(1).join(' ')}` });
      lines.push({ kind: 'include', line, path: words[0] });
      continue;
    }
    let weight = DEFAULT_WEIGHT;
    if (words.length > 1) {
      const w = words[1];
      if (!/^\d+$/.test(w) || Number(w) < 1 || Number(w) > MAX_WEIGHT) {
        const hint = /^\d+$/.test(w) ? '' : ' (a path with spaces must be in quotes)';
        issues.push({ file, line, message: `line skipped: '${w}' is not a weight from 1 to ${MAX_WEIGHT}${hint}` });
        continue;
      }
      weight = Number(w);
    }
    if (words.length > 2) issues.push({ file, line, message: `text after the weight ignored: ${words.slice(2).join(' ')}` });
    lines.push({ kind: 'entry', line, path: words[0], weight });
  }
  return { lines, issues };
}

/** Whether a folder walk takes this file: the media layer recognises its first bytes. */
async function isMediaFile(path: string): Promise<boolean> {
  const kind = await sniffFile(path).catch(() => 'unknown');
  return kind !== 'unknown' && kind !== 'midi' && kind !== 'avi';
}

const realOrResolved = (p: string) => realpath(p).catch(() => resolve(p));

class Reader {
  readonly entries: PlaylistEntry[] = [];
  readonly issues: PlaylistIssue[] = [];
  #full = false;

  /** False once the entry cap is reached (reported once). */
  add(entry: PlaylistEntry): boolean {
    if (this.entries.length >= MAX_ENTRIES) {
      if (!this.#full) {
        this.#full = true;
        this.issues.push({ ...entryWhere(entry), message: `the list stops at ${MAX_ENTRIES} entries; the rest is left out` });
      }
      return false;
    }
    this.entries.push(entry);
    return true;
  }

  /** Reads one playlist file; `chain` holds the real paths of the playlists and folders being
   * read above it, for loop detection. */
  async playlist(file: string, chain: string[], here = dirname(file)): Promise<void> {
    const text = await readDssFile(file);
    const { lines, issues } = parsePlaylistText(text, file);
    this.issues.push(...issues);
    for (const l of lines) {
      if (this.#full) return;
      const target = isAbsolute(l.path) ? l.path : join(here, l.path);
      const from = { playlist: file, line: l.line };
      if (l.kind === 'entry') {
        const st = await stat(target).catch(() => undefined);
        if (st?.isDirectory()) await this.folder(target, l.weight, from, chain);
        else this.add({ file: target, weight: l.weight, from });
        continue;
      }
      await this.include(target, from, chain);
    }
  }

  async include(target: string, from: PlaylistEntry['from'], chain: string[]): Promise<void> {
    const where = { file: from.playlist, line: from.line };
    const real = await realOrResolved(target);
    if (chain.includes(real)) {
      this.issues.push({ ...where, message: `include skipped: ${target} is already being read (an include loop)` });
      return;
    }
    if (chain.length > MAX_NESTING) {
      this.issues.push({ ...where, message: `include skipped: includes and folders nest more than ${MAX_NESTING} deep` });
      return;
    }
    const st = await stat(target).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      const why = st.code === 'ENOENT' ? 'no such file' : st.message;
      this.issues.push({ ...where, message: `include skipped: cannot read ${target}: ${why}` });
      return;
    }
    if (st.isDirectory()) return this.folder(target, DEFAULT_WEIGHT, from, chain);
    try {
      await this.playlist(target, [...chain, real]);
    } catch (e) {
      this.issues.push({ ...where, message: `include skipped: ${(e as Error).message}` });
    }
  }

  async folder(dir: string, weight: number, from: PlaylistEntry['from'], chain: string[]): Promise<void> {
    const real = await realOrResolved(dir);
    const where = { file: from.playlist, line: from.line };
    if (chain.includes(real)) {
      this.issues.push({ ...where, message: `folder skipped: ${dir} is inside itself (a link loop)` });
      return;
    }
    if (chain.length > MAX_NESTING) {
      this.issues.push({ ...where, message: `folder skipped: ${dir} nests more than ${MAX_NESTING} deep` });
      return;
    }
    let names: Dirent[];
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      this.issues.push({ ...where, message: `folder skipped: cannot read ${dir}: ${(e as Error).message}` });
      return;
    }
    const sorted = names.filter((d) => !d.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of sorted) {
      if (this.#full) return;
      const path = join(dir, d.name);
      const isDir = d.isDirectory() || (d.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory());
      if (isDir) await this.folder(path, weight, from, [...chain, real]);
      else if (await isMediaFile(path)) this.add({ file: path, weight, from });
    }
  }
}

function entryWhere(e: PlaylistEntry): { file: string; line: number } {
  return { file: e.from.playlist, line: e.from.line };
}

/** Reads the playlist at `file` with its includes and folders. Throws PlaylistError when the
 * file itself cannot be read or is not a playlist; everything else is an issue in the result.
 * `root`: the folder its relative entries are read from (default its own; a native channel's
 * control files name media files relative to the media folder). */
export async function readPlaylist(file: string, root?: string): Promise<Playlist> {
  const abs = resolve(file);
  const r = new Reader();
  await r.playlist(abs, [await realOrResolved(abs)], root === undefined ? undefined : resolve(root));
  return { file: abs, entries: r.entries, issues: r.issues };
}
