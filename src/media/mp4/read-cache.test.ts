import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, open, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ReadCache, type ReadCacheFs } from './read-cache.js';
import { createSampleReader } from './sample-reader.js';
import { Mp4Error, type SampleInfo } from './types.js';

const BLOCK = 4096;

/** Real files, with every open, read and close counted; `failReads` makes the next reads fail. */
function countingFs() {
  const c = { opens: 0, closes: 0, reads: 0, failReads: 0, readsAt: [] as number[] };
  const fs: ReadCacheFs = {
    stat: (p) => stat(p),
    async open(p) {
      const fh = await open(p, 'r');
      c.opens++;
      return {
        read: (buf, off, len, pos) => {
          c.reads++;
          c.readsAt.push(pos);
          if (c.failReads > 0) {
            c.failReads--;
            return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
          }
          return fh.read(buf, off, len, pos);
        },
        stat: () => fh.stat(),
        close: async () => {
          c.closes++;
          await fh.close();
        },
      };
    },
  };
  return { c, fs };
}

function sample(offset: number, size: number, index = 0): SampleInfo {
  return { index, offset, size, dts: 0, cts: 0, sync: true };
}

describe('ReadCache', () => {
  let dir: string;
  let file: string;
  let bytes: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rivulet-read-cache-'));
  });
  beforeEach(async () => {
    // Ten and a half blocks: the last block is short.
    bytes = randomBytes(BLOCK * 10 + BLOCK / 2);
    file = join(dir, 'movie.mp4');
    await writeFile(file, bytes);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('two readers of one file read each block from disk once and share one handle', async () => {
    const { c, fs } = countingFs();
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK, fs });
    const a = createSampleReader(file, { cache });
    const b = createSampleReader(file, { cache });
    for (const r of [a, b]) {
      for (let off = 0; off + 1000 <= bytes.length; off += 1000) {
        assert.ok((await r.read(sample(off, 1000))).equals(bytes.subarray(off, off + 1000)), `${off}`);
      }
    }
    assert.equal(c.reads, 11, 'one read per block');
    assert.deepEqual(
      c.readsAt,
      Array.from({ length: 11 }, (_, i) => i * BLOCK),
    );
    assert.equal(c.opens, 1);
    assert.equal(cache.stats().openFiles, 1);
    await a.close();
    assert.equal(c.closes, 0, 'b still holds the handle');
    assert.ok((await b.read(sample(5, 10))).equals(bytes.subarray(5, 15)), 'b reads on after a closed');
    await b.close();
    assert.equal(c.closes, 1, 'the last reader closes it');
    assert.equal(cache.stats().openFiles, 0);
    // Blocks outlive the handle: the next viewer reopens the file but reads nothing again.
    const d = createSampleReader(file, { cache });
    assert.ok((await d.read(sample(BLOCK * 3, 10))).equals(bytes.subarray(BLOCK * 3, BLOCK * 3 + 10)));
    assert.equal(c.reads, 11);
    assert.equal(c.opens, 2);
    await d.close();
  });

  it('a sample inside a block is a view of it; one spanning blocks is assembled', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK });
    const r = createSampleReader(file, { cache });
    const x = await r.read(sample(100, 200));
    const y = await r.read(sample(400, 200));
    assert.equal(x.buffer, y.buffer, 'both views of one block');
    assert.equal(x.buffer.byteLength, BLOCK);
    const span = await r.read(sample(BLOCK - 10, BLOCK * 3));
    assert.ok(span.equals(bytes.subarray(BLOCK - 10, BLOCK * 4 - 10)));
    const tail = await r.read(sample(bytes.length - 300, 300));
    assert.ok(tail.equals(bytes.subarray(bytes.length - 300)));
    await r.close();
  });

  it('returns exactly the file bytes for any sample, in any order, at any cache size', async () => {
    const samples: SampleInfo[] = [];
    for (let off = 0, i = 0; off < bytes.length; i++) {
      const size = Math.min(bytes.length - off, 1 + ((i * 2654435761) % (BLOCK * 3)));
      samples.push(sample(off, size, i));
      off += size;
    }
    for (const maxBytes of [BLOCK, BLOCK * 3, 1 << 20]) {
      const cache = new ReadCache({ maxBytes, blockSize: BLOCK });
      const r = createSampleReader(file, { cache });
      const order = samples.map((_, i) => i).sort(() => Math.random() - 0.5);
      const got = await Promise.all(order.map((i) => r.read(samples[i])));
      order.forEach((i, k) => assert.ok(got[k].equals(bytes.subarray(samples[i].offset, samples[i].offset + samples[i].size)), `maxBytes ${maxBytes} sample ${i}`));
      assert.ok(cache.stats().bytes <= maxBytes);
      await r.close();
    }
  });

  it('keeps to its byte bound, evicts the least recently used block, and evicts when shrunk', async () => {
    const { c, fs } = countingFs();
    const cache = new ReadCache({ maxBytes: BLOCK * 3, blockSize: BLOCK, fs });
    const r = createSampleReader(file, { cache });
    for (let i = 0; i < 10; i++) {
      await r.read(sample(i * BLOCK, 10));
      assert.ok(cache.stats().bytes <= BLOCK * 3, `after block ${i}`);
    }
    assert.equal(cache.stats().blocks, 3);
    // Blocks 7, 8 and 9 are kept; touching 7 makes 8 the oldest.
    const before = c.reads;
    await r.read(sample(7 * BLOCK + 20, 10));
    await r.read(sample(9 * BLOCK + 20, 10));
    assert.equal(c.reads, before, 'kept blocks are not read again');
    await r.read(sample(2 * BLOCK, 10));
    await r.read(sample(7 * BLOCK + 30, 10));
    assert.equal(c.reads, before + 1, 'block 7 was kept, block 8 went');
    cache.maxBytes = BLOCK;
    assert.deepEqual([cache.stats().bytes, cache.stats().blocks], [BLOCK, 1]);
    cache.maxBytes = 0;
    assert.deepEqual([cache.stats().bytes, cache.stats().blocks], [0, 0]);
    // A reader made before the cache was emptied goes on reading, keeping nothing.
    assert.ok((await r.read(sample(BLOCK * 5 + 1, BLOCK))).equals(bytes.subarray(BLOCK * 5 + 1, BLOCK * 6 + 1)));
    assert.equal(cache.stats().bytes, 0);
    await r.close();
    assert.throws(() => (cache.maxBytes = -1), RangeError);
  });

  it('concurrent misses of one block make one disk read', async () => {
    const { c, fs } = countingFs();
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK, fs });
    const readers = Array.from({ length: 20 }, () => createSampleReader(file, { cache }));
    const got = await Promise.all(readers.map((r, i) => r.read(sample(BLOCK * 2 + i * 10, 10))));
    got.forEach((b, i) => assert.ok(b.equals(bytes.subarray(BLOCK * 2 + i * 10, BLOCK * 2 + i * 10 + 10))));
    assert.equal(c.reads, 1);
    assert.equal(c.opens, 1, 'the file was opened once for all twenty');
    assert.deepEqual([cache.stats().misses, cache.stats().hits], [1, 19]);
    await Promise.all(readers.map((r) => r.close()));
    assert.equal(c.closes, 1);
  });

  it('a failed read is not kept: the next read goes to disk and succeeds', async () => {
    const { c, fs } = countingFs();
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK, fs });
    const r = createSampleReader(file, { cache });
    c.failReads = 1;
    await assert.rejects(r.read(sample(10, 10)), /EIO/);
    assert.equal(cache.stats().blocks, 0);
    assert.ok((await r.read(sample(10, 10))).equals(bytes.subarray(10, 20)));
    assert.equal(c.reads, 2);
    await r.close();
    assert.equal(c.closes, 1);
  });

  it('a failed open is retried by the next read', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK });
    const missing = join(dir, 'later.mp4');
    const r = createSampleReader(missing, { cache });
    await assert.rejects(r.read(sample(0, 10)), /ENOENT/);
    await writeFile(missing, bytes);
    assert.ok((await r.read(sample(0, 10))).equals(bytes.subarray(0, 10)));
    await r.close();
    assert.equal(cache.stats().openFiles, 0);
  });

  it('a replaced or rewritten file gives its new bytes to new readers; old readers keep theirs', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK });
    const old = createSampleReader(file, { cache });
    assert.ok((await old.read(sample(0, 100))).equals(bytes.subarray(0, 100)));
    // Replaced by rename (a new inode), as an upload tool does.
    const next = randomBytes(bytes.length + 10);
    await writeFile(join(dir, 'new.tmp'), next);
    await rename(join(dir, 'new.tmp'), file);
    const fresh = createSampleReader(file, { cache });
    assert.ok((await fresh.read(sample(0, 100))).equals(next.subarray(0, 100)));
    assert.ok((await old.read(sample(BLOCK, 100))).equals(bytes.subarray(BLOCK, BLOCK + 100)), 'the old handle reads the old file');
    assert.equal(cache.stats().openFiles, 2);
    // Rewritten in place with the same size: only the mtime tells.
    const third = randomBytes(next.length);
    await writeFile(file, third);
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const later = createSampleReader(file, { cache });
    assert.ok((await later.read(sample(0, 100))).equals(third.subarray(0, 100)));
    await Promise.all([old.close(), fresh.close(), later.close()]);
    assert.equal(cache.stats().openFiles, 0);
  });

  it('a sample beyond the end or in a truncated file is the same Mp4Error as without a cache; a grown file is read', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK });
    const r = createSampleReader(file, { cache });
    await assert.rejects(r.read(sample(10, 3e9, 7)), (e: Error) => e instanceof Mp4Error && e.message === 'sample 7 beyond end of file');
    await assert.rejects(r.read(sample(bytes.length - 5, 10, 8)), (e: Error) => e instanceof Mp4Error && e.message === 'sample 8 beyond end of file');
    await assert.rejects(r.read(sample(-1, 10, 9)), Mp4Error);
    assert.equal((await r.read(sample(0, 0))).length, 0);
    // Appended to while open: the reader looks again before giving up.
    const more = randomBytes(BLOCK);
    const fh = await open(file, 'a');
    await fh.write(more);
    await fh.close();
    assert.ok((await r.read(sample(bytes.length - 5, 10))).equals(Buffer.concat([bytes.subarray(-5), more.subarray(0, 5)])));
    // Cut short under an open handle whose identity is already known.
    await truncate(file, BLOCK * 2 + 10);
    await assert.rejects(r.read(sample(BLOCK * 6, 10, 11)), (e: Error) => e instanceof Mp4Error && e.message === 'sample 11 beyond end of file');
    await r.close();
  });

  it('a reader closed while another reads leaves it working; reads after close reject', async () => {
    const cache = new ReadCache({ maxBytes: 1 << 20, blockSize: BLOCK });
    const a = createSampleReader(file, { cache });
    const b = createSampleReader(file, { cache });
    const pending = a.read(sample(BLOCK * 4, 10));
    const bPending = b.read(sample(BLOCK * 6, BLOCK * 2));
    await a.close();
    assert.ok((await pending).equals(bytes.subarray(BLOCK * 4, BLOCK * 4 + 10)), 'a read in flight completes');
    await assert.rejects(a.read(sample(0, 1)), /closed/);
    assert.ok((await bPending).equals(bytes.subarray(BLOCK * 6, BLOCK * 8)));
    assert.ok((await b.read(sample(BLOCK * 9, 10))).equals(bytes.subarray(BLOCK * 9, BLOCK * 9 + 10)));
    await b.close();
    await b.close();
    assert.equal(cache.stats().openFiles, 0);
  });

  it('a cache of size 0 when the reader is made leaves the reader as it was without one', async () => {
    const cache = new ReadCache({ maxBytes: 0, blockSize: BLOCK });
    const r = createSampleReader(file, { cache, readAhead: 100 });
    assert.ok((await r.read(sample(10, 10))).equals(bytes.subarray(10, 20)));
    assert.deepEqual([cache.stats().misses, cache.stats().openFiles], [0, 0]);
    await r.close();
  });

  it('fifty viewers of one file hold one file descriptor (without the cache, fifty)', { skip: process.platform !== 'linux' && 'needs /proc/self/fd' }, async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    for (const cache of [new ReadCache({ maxBytes: 1 << 20 }), undefined]) {
      const base = fds();
      const readers = Array.from({ length: 50 }, () => createSampleReader(file, { cache }));
      await Promise.all(readers.map((r, i) => r.read(sample(i * 100, 100))));
      const held = fds() - base;
      await Promise.all(readers.map((r) => r.close()));
      assert.equal(held, cache ? 1 : 50, cache ? 'with the cache' : 'without it');
      assert.equal(fds(), base, 'all closed');
    }
  });
});
