/** Writes a file inside the media folder without ever following a link out of it: live.writeSdp
 * names the file after a client's URL, and a symlink planted in the media folder must not turn
 * that into a write anywhere the server can reach. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';

export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** The real path of folder `name` in the real folder `dir`, made if missing; refused when it is
 * not a folder or resolves outside `root`. */
async function enterFolder(root: string, dir: string, name: string): Promise<string> {
  const p = join(dir, name);
  try {
    await mkdir(p);
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
  }
  const real = await realpath(p);
  if (!inside(root, real)) throw new UnsafePathError(`${p} leads outside the media folder`);
  if (!(await lstat(real)).isDirectory()) throw new UnsafePathError(`${p} is not a folder`);
  return real;
}

/** Writes `text` to `segments` (folders then file name) under `root`, itself a real path.
 * Missing folders are made. Refused (UnsafePathError) when a name is empty, `.`, `..` or holds a
 * separator, when a folder resolves outside `root`, or when the file exists as anything but a
 * regular file (a symlink is never written through, wherever it points). The text goes to a new
 * temporary file (O_EXCL|O_NOFOLLOW) in the checked real folder and is renamed over the target,
 * so a reader never sees half a file. */
export async function writeInside(root: string, segments: string[], text: string): Promise<string> {
  if (segments.length === 0) throw new UnsafePathError('no file name');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0')) {
      throw new UnsafePathError(`'${s.slice(0, 64)}' is not a plain file or folder name`);
    }
  }
  let dir = await realpath(root);
  if (dir !== root) throw new UnsafePathError('the media folder path is not a real path');
  for (const name of segments.slice(0, -1)) dir = await enterFolder(root, dir, name);
  const file = join(dir, segments[segments.length - 1]);
  try {
    const st = await lstat(file);
    if (st.isSymbolicLink()) throw new UnsafePathError(`${file} is a symbolic link`);
    if (!st.isFile()) throw new UnsafePathError(`${file} is not a regular file`);
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
  }
  const tmp = join(dir, `.${segments[segments.length - 1]}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return file;
}
