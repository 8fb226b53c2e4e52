/** Small text files (users, groups, qtaccess) parsed once and parsed again when they change on
 * disk: each use costs one stat, and a file replaced by rename (new inode) or edited in place
 * (new mtime or size) is noticed at the next request, without restarting the server. */
import { readFile, stat } from 'node:fs/promises';

/** Files bigger than this are refused rather than read (a users file of a million users is not
 * what these formats are for, and a huge file named by a qtaccess must not eat memory). */
export const MAX_AUTH_FILE_BYTES = 16 * 1024 * 1024;

export type Loaded<T> = { ok: true; value: T } | { ok: false; missing: boolean; error: string };

interface Entry<T> {
  key: string;
  result: Loaded<T>;
}

export class WatchedFiles<T> {
  readonly #parse: (text: string, path: string) => T;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #pending = new Map<string, Promise<Loaded<T>>>();
  readonly #maxEntries: number;

  constructor(parse: (text: string, path: string) => T, maxEntries = 10_000) {
    this.#parse = parse;
    this.#maxEntries = maxEntries;
  }

  /** The parsed content of `path` as it is on disk now. */
  get(path: string): Promise<Loaded<T>> {
    let p = this.#pending.get(path);
    if (!p) {
      p = this.#load(path).finally(() => this.#pending.delete(path));
      this.#pending.set(path, p);
    }
    return p;
  }

  async #load(path: string): Promise<Loaded<T>> {
    let key: string;
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) return { ok: false, missing: false, error: 'not a regular file' };
      key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      size = st.size;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.#entries.delete(path);
      return {
        ok: false,
        missing: err.code === 'ENOENT' || err.code === 'ENOTDIR',
        error: err.code ?? err.message,
      };
    }
    const cached = this.#entries.get(path);
    if (cached && cached.key === key) return cached.result;
    let result: Loaded<T>;
    if (size > MAX_AUTH_FILE_BYTES)
      result = { ok: false, missing: false, error: `larger than ${MAX_AUTH_FILE_BYTES} bytes` };
    else {
      try {
        result = { ok: true, value: this.#parse(await readFile(path, 'utf8'), path) };
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        result = { ok: false, missing: err.code === 'ENOENT', error: err.code ?? err.message };
      }
    }
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    this.#entries.set(path, { key, result });
    return result;
  }
}
