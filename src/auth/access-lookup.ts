/** Which access file governs a path: the nearest one walking up from the folder the path is in
 * (after symlinks, so a link cannot move a protected file out from under its qtaccess) to the
 * media folder. */
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

const inside = (root: string, p: string) =>
  p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real folder whose access file applies to `segments` (a file, or a live path that exists
 * nowhere on disk: then its deepest existing folder), or null when the path leads outside
 * `mediaRoot` (itself a real path). */
export async function governingFolder(mediaRoot: string, segments: string[]): Promise<string | null> {
  if (segments.length === 0) return mediaRoot;
  try {
    const real = await realpath(join(mediaRoot, ...segments));
    if (!inside(mediaRoot, real)) return null;
    return real === mediaRoot ? mediaRoot : dirname(real);
  } catch {
    // Not on disk: a live path, or a name standing for an .sdp file beside it.
  }
  for (let depth = segments.length - 1; depth >= 0; depth--) {
    try {
      const real = await realpath(join(mediaRoot, ...segments.slice(0, depth)));
      if (!inside(mediaRoot, real)) return null;
      if ((await stat(real)).isDirectory()) return real;
      // A file where a folder would be: the path names nothing; its parent governs.
      return real === mediaRoot ? mediaRoot : dirname(real);
    } catch {
      continue;
    }
  }
  return mediaRoot;
}

/** The nearest file called `name` from `folder` up to `mediaRoot`, or undefined. */
export async function nearestAccessFile(
  mediaRoot: string,
  folder: string,
  name: string,
): Promise<string | undefined> {
  let dir = folder;
  for (;;) {
    const candidate = join(dir, name);
    try {
      await stat(candidate);
      return candidate;
    } catch {
      // none here: look one folder up
    }
    if (dir === mediaRoot || !inside(mediaRoot, dir)) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
