/** `playlists.folder`: a folder of DSS playlists, each broadcast at a path of its own, as the QTSS
 * admin kept them. Two layouts, side by side:
 *
 * - `NAME.playlist` in the folder itself (with `NAME.config` beside it, if any);
 * - DSS's `NAME/NAME.playlist` (with `NAME/NAME.config`), where the broadcaster also kept its
 *   `.current`, `.upcoming` and log.
 *
 * The path is NAME, or the config's `destination_sdp_file` without `.sdp` (DSS's mount point,
 * relative to the media folder). Only the folder and its direct subfolders are looked at; other
 * files (configs, logs, media) are passed over. Names starting with `.` are skipped, the rest
 * taken in name order so two servers reading the same folder agree. Bounded: at most
 * MAX_FOLDER_NAMES names are read and MAX_FOLDER_PLAYLISTS playlists taken. A subfolder, playlist
 * or config that cannot be read is a problem in the result (the caller logs it), never an error:
 * the other playlists still broadcast. The folder is the admin's own, so links are followed. */
import { opendir, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative } from 'node:path';
import { parsePlaylistConfig } from './config-file.js';
import { readDssFile } from './dss-text.js';
import type { PlaylistIssue } from './types.js';

/** Playlists one folder may hold; the rest are left out with a problem saying so. */
export const MAX_FOLDER_PLAYLISTS = 1000;
/** Names read from the folder at most (media and other files count too). */
export const MAX_FOLDER_NAMES = 10_000;

export interface FolderPlaylist {
  /** The path it is broadcast at (stream key: no leading `/`, no `.sdp`). */
  key: string;
  /** Absolute path of its `.playlist`. */
  playlistFile: string;
  /** Absolute path of the `.config` of the same base name beside it, when there is one. */
  configFile?: string;
}

export interface FolderScan {
  /** In name order, one per path. */
  playlists: FolderPlaylist[];
  /** What was skipped and why. */
  problems: PlaylistIssue[];
}

export interface FolderScanOptions {
  /** Real path of the media folder: an absolute `destination_sdp_file` inside it names the path
   * relative to it (DSS admins wrote full paths). */
  mediaRoot?: string;
}

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** The path a `destination_sdp_file` names, or why it cannot name one. */
export function pathOfSdpName(value: string, mediaRoot?: string): string | { error: string } {
  let name = value.replace(/\\/g, '/');
  if (isAbsolute(name)) {
    const inside = mediaRoot === undefined ? undefined : relative(mediaRoot, name).replace(/\\/g, '/');
    if (inside === undefined || inside.startsWith('../') || inside === '..' || isAbsolute(inside)) {
      return { error: `destination_sdp_file ${value} is not inside the media folder` };
    }
    name = inside;
  }
  name = posix.normalize(name).replace(/^\.\//, '');
  if (name.toLowerCase().endsWith('.sdp')) name = name.slice(0, -4);
  const segments = name.split('/');
  if (name === '' || name === '.' || segments.some((s) => s === '' || s === '.' || s === '..') || name.includes('\0')) {
    return { error: `destination_sdp_file '${value}' names no path inside the media folder` };
  }
  return name;
}

/** The path a playlist is broadcast at: its config's destination_sdp_file, else its name. */
async function keyOf(name: string, configFile: string | undefined, mediaRoot: string | undefined, problems: PlaylistIssue[]): Promise<string> {
  if (!configFile) return name;
  let text: string;
  try {
    text = await readDssFile(configFile);
  } catch (e) {
    problems.push({ file: configFile, message: `${(e as Error).message}; broadcast at '${name}'` });
    return name;
  }
  const sdp = parsePlaylistConfig(text, configFile).config.destinationSdpFile;
  if (sdp === undefined) return name;
  const key = pathOfSdpName(sdp, mediaRoot);
  if (typeof key === 'string') return key;
  problems.push({ file: configFile, message: `${key.error}; broadcast at '${name}'` });
  return name;
}

/** Names in `folder` (sorted, dot names left out), at most MAX_FOLDER_NAMES. */
async function namesIn(folder: string, problems: PlaylistIssue[]): Promise<string[] | undefined> {
  const names: string[] = [];
  try {
    const dir = await opendir(folder);
    for await (const d of dir) {
      if (d.name.startsWith('.')) continue;
      if (names.length >= MAX_FOLDER_NAMES) {
        problems.push({ file: folder, message: `only the first ${MAX_FOLDER_NAMES} names read; the rest is left out` });
        break;
      }
      names.push(d.name);
    }
  } catch (e) {
    problems.push({ file: folder, message: `cannot read the playlists folder: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}` });
    return undefined;
  }
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The playlists in `folder` with the paths they are broadcast at. */
export async function scanPlaylistFolder(folder: string, opts: FolderScanOptions = {}): Promise<FolderScan> {
  const problems: PlaylistIssue[] = [];
  const playlists: FolderPlaylist[] = [];
  const names = await namesIn(folder, problems);
  if (!names) return { playlists, problems };
  const byKey = new Map<string, FolderPlaylist>();
  for (const name of names) {
    const here = join(folder, name);
    let st;
    try {
      st = await stat(here);
    } catch (e) {
      problems.push({ file: here, message: `skipped: ${(e as Error).message}` });
      continue;
    }
    let base: string;
    let dir: string;
    if (st.isDirectory()) {
      [base, dir] = [name, here];
      if (!(await isFile(join(dir, `${base}.playlist`)))) continue;
    } else if (st.isFile() && name.endsWith('.playlist') && name.length > '.playlist'.length) {
      [base, dir] = [name.slice(0, -'.playlist'.length), folder];
    } else continue;
    if (playlists.length >= MAX_FOLDER_PLAYLISTS) {
      problems.push({ file: folder, message: `only the first ${MAX_FOLDER_PLAYLISTS} playlists are broadcast; ${name} and the rest are left out` });
      break;
    }
    const playlistFile = join(dir, `${base}.playlist`);
    const config = join(dir, `${base}.config`);
    const configFile = (await isFile(config)) ? config : undefined;
    const key = await keyOf(base, configFile, opts.mediaRoot, problems);
    const taken = byKey.get(key);
    if (taken) {
      problems.push({ file: playlistFile, message: `skipped: path '${key}' is already broadcast from ${taken.playlistFile}` });
      continue;
    }
    const p: FolderPlaylist = configFile ? { key, playlistFile, configFile } : { key, playlistFile };
    byKey.set(key, p);
    playlists.push(p);
  }
  return { playlists, problems };
}
