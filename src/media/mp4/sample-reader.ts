/** Reads sample bytes of one file for one viewer. Samples of a track are stored in runs (chunks),
 * and a streaming viewer asks for them nearly in file order, so one disk read serves dozens of
 * consecutive samples. Two ways: with a shared `ReadCache` (vod.readCacheBytes), every viewer of
 * a file shares its handle and its blocks; without one, each reader has its own handle and
 * read-ahead window (vod.readAhead). */
import { open, type FileHandle } from 'node:fs/promises';
import { readFully, type CachedFile, type ReadCache } from './read-cache.js';
import { Mp4Error, type SampleInfo, type SampleReader } from './types.js';

export const DEFAULT_READ_AHEAD = 256 * 1024;

export interface SampleReaderOptions {
  /** Bytes read per disk access without a cache (default 256 KiB). Samples larger than this are
   * read on their own. */
  readAhead?: number;
  /** Shared blocks and file handles; used when its size is above 0 as the reader is made.
   * Default: none (the reader has its own handle and window). */
  cache?: ReadCache;
}

export function createSampleReader(path: string, opts: SampleReaderOptions = {}): SampleReader {
  if (opts.cache && opts.cache.maxBytes > 0) return new CachedSampleReader(path, opts.cache);
  return new FileSampleReader(path, opts.readAhead ?? DEFAULT_READ_AHEAD);
}

function beyondEnd(index: number): Mp4Error {
  return new Mp4Error(`sample ${index} beyond end of file`);
}

/** What both readers share: the checks on a sample's description, and closing only once the
 * reads in flight are done (closing under one would turn its result into EBADF). */
abstract class BaseSampleReader implements SampleReader {
  protected readonly path: string;
  #closed = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(path: string) {
    this.path = path;
  }

  read(info: SampleInfo): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error(`sample reader for ${this.path} is closed`));
    const { offset, size, index } = info;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
      return Promise.reject(new Mp4Error(`sample ${index} has invalid offset ${offset} / size ${size}`));
    }
    if (size === 0) return Promise.resolve(Buffer.alloc(0));
    const p = this.readSample(offset, size, index);
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  readNow(info: SampleInfo): Buffer | undefined {
    const { offset, size } = info;
    // Anything unusual (closed, invalid, empty, not in memory) takes the checked path of `read`.
    if (this.#closed || !(size > 0) || !(offset >= 0)) return undefined;
    return this.sampleNow(offset, size);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
    await this.release();
  }

  /** `size` (> 0) bytes at `offset` if they are in memory now. */
  protected abstract sampleNow(offset: number, size: number): Buffer | undefined;
  /** `size` (> 0) bytes at `offset` (both checked). */
  protected abstract readSample(offset: number, size: number, index: number): Promise<Buffer>;
  /** Lets go of the file once no read is in flight. */
  protected abstract release(): Promise<void>;
}

class FileSampleReader extends BaseSampleReader {
  readonly #readAhead: number;
  #handle: Promise<FileHandle> | undefined;
  /** A fresh buffer per fill: samples handed out are views into it and must stay valid after the
   * window moves on (a packetizer may still be holding them). */
  #window: Buffer = Buffer.alloc(0);
  #windowStart = 0;
  /** File size as last seen; 0 until the file is opened. */
  #fileSize = 0;

  constructor(path: string, readAhead: number) {
    if (!Number.isSafeInteger(readAhead) || readAhead < 0) throw new RangeError(`invalid readAhead ${readAhead}`);
    super(path);
    this.#readAhead = readAhead;
  }

  protected async release(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#window = Buffer.alloc(0);
    if (!handle) return;
    let fh: FileHandle;
    try {
      fh = await handle;
    } catch {
      return; // never opened: nothing to close, and the open error was reported to its reader
    }
    await fh.close();
  }

  protected sampleNow(offset: number, size: number): Buffer | undefined {
    const rel = offset - this.#windowStart;
    return rel >= 0 && rel + size <= this.#window.length ? this.#window.subarray(rel, rel + size) : undefined;
  }

  protected async readSample(offset: number, size: number, index: number): Promise<Buffer> {
    const inWindow = this.sampleNow(offset, size);
    if (inWindow) return inWindow;

    const fh = await this.#open();
    // Checked against the file size before allocating, so a corrupt index claiming a gigabyte
    // sample, or a truncated file, costs a stat instead of a huge buffer. The size is refreshed
    // once in case the file grew since it was opened.
    if (offset + size > this.#fileSize) this.#fileSize = (await fh.stat()).size;
    if (offset + size > this.#fileSize) throw beyondEnd(index);
    const length = Math.max(size, Math.min(this.#readAhead, this.#fileSize - offset));
    const buf = Buffer.allocUnsafe(length);
    const got = await readFully(fh, buf, offset);
    if (got < size) throw beyondEnd(index);
    // An oversized sample is not worth keeping as the window: the next sample starts past it.
    if (size < got) {
      this.#window = buf.subarray(0, got);
      this.#windowStart = offset;
    }
    return buf.subarray(0, size);
  }

  #open(): Promise<FileHandle> {
    if (!this.#handle) {
      const p = open(this.path, 'r').then(async (fh) => {
        try {
          this.#fileSize = (await fh.stat()).size;
        } catch (e) {
          await fh.close();
          throw e;
        }
        return fh;
      });
      // A failed open is retried on the next read rather than cached as a permanent failure.
      p.catch(() => {
        if (this.#handle === p) this.#handle = undefined;
      });
      this.#handle = p;
    }
    return this.#handle;
  }
}

/** Samples spanning blocks and larger than this share of the cache are read on their own rather
 * than pushing a quarter of the cache out for one viewer. */
const DIRECT_SHARE = 4;

/** Reads through the shared cache: a sample inside one block is a view of it (no copy); one
 * spanning blocks is copied together from them. */
class CachedSampleReader extends BaseSampleReader {
  readonly #cache: ReadCache;
  #file: Promise<CachedFile> | undefined;
  /** The file once open, for samples in memory (`readNow`). */
  #ready: CachedFile | undefined;
  /** The block the last sample came from: the next samples are mostly in it, and it keeps
   * this reader efficient when the cache is set to keep nothing while it plays. */
  #last: { key: string; index: number; data: Buffer } | undefined;

  constructor(path: string, cache: ReadCache) {
    super(path);
    this.#cache = cache;
  }

  protected async release(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    this.#ready = undefined;
    this.#last = undefined;
    if (!file) return;
    let f: CachedFile;
    try {
      f = await file;
    } catch {
      return; // never opened
    }
    await this.#cache.release(f);
  }

  protected sampleNow(offset: number, size: number): Buffer | undefined {
    const f = this.#ready;
    if (!f || offset + size > f.size) return undefined;
    const bs = this.#cache.blockSize;
    const first = Math.floor(offset / bs);
    // A sample spanning blocks is assembled by `read`.
    if (first !== Math.floor((offset + size - 1) / bs)) return undefined;
    const last = this.#last;
    let block: Buffer | undefined;
    if (last && last.index === first && last.key === f.key) block = last.data;
    else {
      block = this.#cache.peek(f, first);
      if (block) this.#last = { key: f.key, index: first, data: block };
    }
    const rel = offset - first * bs;
    return block && block.length >= rel + size ? block.subarray(rel, rel + size) : undefined;
  }

  protected async readSample(offset: number, size: number, index: number): Promise<Buffer> {
    const f = await this.#acquire();
    if (offset + size > f.size) await this.#cache.refresh(f);
    if (offset + size > f.size) throw beyondEnd(index);
    const bs = this.#cache.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + size - 1) / bs);
    if (first === last) {
      const block = await this.#block(f, first);
      const rel = offset - first * bs;
      if (block.length < rel + size) throw beyondEnd(index);
      return block.subarray(rel, rel + size);
    }
    const out = Buffer.allocUnsafe(size);
    if (size > this.#cache.maxBytes / DIRECT_SHARE) {
      if ((await readFully(f.handle, out, offset)) < size) throw beyondEnd(index);
      return out;
    }
    const blocks = await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => this.#block(f, first + k)));
    let at = 0;
    for (const [k, block] of blocks.entries()) {
      const from = k === 0 ? offset - first * bs : 0;
      const want = Math.min(size - at, bs - from);
      if (block.length < from + want) throw beyondEnd(index);
      block.copy(out, at, from, from + want);
      at += want;
    }
    return out;
  }

  async #block(f: CachedFile, index: number): Promise<Buffer> {
    const last = this.#last;
    if (last && last.index === index && last.key === f.key) return last.data;
    const data = await this.#cache.block(f, index);
    this.#last = { key: f.key, index, data };
    return data;
  }

  #acquire(): Promise<CachedFile> {
    if (!this.#file) {
      const p = this.#cache.acquire(this.path);
      p.then(
        (f) => {
          if (this.#file === p) this.#ready = f;
        },
        () => undefined,
      );
      // A failed open is retried on the next read rather than cached as a permanent failure.
      p.catch(() => {
        if (this.#file === p) this.#file = undefined;
      });
      this.#file = p;
    }
    return this.#file;
  }
}
