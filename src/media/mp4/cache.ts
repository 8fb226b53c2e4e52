/** Parsed movies shared between viewers. Every lookup stats the file so that a replaced or
 * re-encoded file is re-parsed, and a concurrent burst of requests for one file parses it once. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openMovie } from './reader.js';
import { Mp4Error, type Mp4Movie } from './types.js';

export const MOVIE_CACHE_SIZE = 64;

interface Entry {
  size: number;
  mtimeMs: number;
  movie: Promise<Mp4Movie>;
}

/** Map iteration order is insertion order, so re-inserting on a hit makes the first key the least
 * recently used one. */
const entries = new Map<string, Entry>();

/** The parsed movie for `path` (resolved to an absolute path, which is also the movie's `path`).
 * Files whose index is broken stay cached as failures until they change, so a bad file in a
 * playlist is not re-parsed on every request; I/O errors are not cached. */
export async function getMovie(path: string): Promise<Mp4Movie> {
  const key = resolve(path);
  const st = await stat(key);
  const hit = entries.get(key);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
    entries.delete(key);
    entries.set(key, hit);
    return hit.movie;
  }
  const entry: Entry = { size: st.size, mtimeMs: st.mtimeMs, movie: openMovie(key) };
  entry.movie.catch((e: unknown) => {
    if (!(e instanceof Mp4Error) && entries.get(key) === entry) entries.delete(key);
  });
  entries.delete(key);
  entries.set(key, entry);
  while (entries.size > MOVIE_CACHE_SIZE) {
    const oldest = entries.keys().next().value;
    if (oldest === undefined) break;
    entries.delete(oldest);
  }
  return entry.movie;
}

/** Drops every cached movie (tests, or an operator's "reload media" command). */
export function clearMovieCache(): void {
  entries.clear();
}

/** Number of cached entries, for tests and metrics. */
export function movieCacheSize(): number {
  return entries.size;
}
