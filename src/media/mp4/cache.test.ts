import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { clearMovieCache, getMovie, MOVIE_CACHE_SIZE, movieCacheSize } from './cache.js';
import { ftyp } from './test-helpers/build-boxes.js';
import { Mp4Error } from './types.js';

describe('getMovie', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rivulet-cache-'));
  });
  after(async () => {
    clearMovieCache();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => clearMovieCache());

  it('returns the same parsed movie for the same unchanged file, under any spelling of the path', async () => {
    const file = await fixture('aac-only.m4a');
    const a = await getMovie(file);
    const b = await getMovie(relative(process.cwd(), file));
    assert.equal(a, b);
    assert.equal(a.path, file);
    assert.equal(movieCacheSize(), 1);
  });

  it('shares one parse between concurrent calls', async () => {
    const file = await fixture('h264-aac-faststart.mp4');
    const movies = await Promise.all(Array.from({ length: 10 }, () => getMovie(file)));
    for (const m of movies) assert.equal(m, movies[0]);
  });

  it('re-parses a file whose mtime or size changed', async () => {
    const file = join(dir, 'changing.mp4');
    await copyFile(await fixture('aac-only.m4a'), file);
    const first = await getMovie(file);
    await utimes(file, new Date(), new Date(Date.now() + 10_000));
    const second = await getMovie(file);
    assert.notEqual(second, first);
    assert.equal(await getMovie(file), second);
    await copyFile(await fixture('h264-aac.3gp'), file);
    const third = await getMovie(file);
    assert.equal(third.brand, '3gp');
  });

  it('caches broken files as failures until they change, but not missing files', async () => {
    const file = join(dir, 'broken.mp4');
    await writeFile(file, ftyp());
    const p1 = getMovie(file);
    await assert.rejects(p1, Mp4Error);
    const p2 = getMovie(file);
    await assert.rejects(p2, Mp4Error);
    assert.equal(movieCacheSize(), 1);
    await copyFile(await fixture('aac-only.m4a'), file);
    await utimes(file, new Date(), new Date(Date.now() + 20_000));
    assert.equal((await getMovie(file)).tracks.length, 1);
    await assert.rejects(getMovie(join(dir, 'nope.mp4')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('evicts the least recently used entry beyond its capacity', async () => {
    const src = await fixture('aac-only.m4a');
    const files: string[] = [];
    for (let i = 0; i <= MOVIE_CACHE_SIZE; i++) {
      const f = join(dir, `lru-${i}.m4a`);
      await copyFile(src, f);
      files.push(f);
    }
    const first = await getMovie(files[0]);
    const second = await getMovie(files[1]);
    for (let i = 2; i < MOVIE_CACHE_SIZE; i++) await getMovie(files[i]);
    assert.equal(await getMovie(files[0]), first, 'touching the oldest makes it recent');
    await getMovie(files[MOVIE_CACHE_SIZE]);
    assert.equal(movieCacheSize(), MOVIE_CACHE_SIZE);
    assert.equal(await getMovie(files[0]), first);
    assert.notEqual(await getMovie(files[1]), second, 'the least recently used entry was evicted');
  });
});
