/** Movie data shared by every viewer of a file (vod.readCacheBytes). A thousand viewers of one
 * lecture would otherwise each open the file and read it on their own; here they share one file
 * handle per file and one copy of each block they read, so the file is read from disk about once
 * and the memory is bounded by the cache, not by the number of viewers.
 *
 * Blocks have one fixed size at aligned offsets (64 KiB by default: the default vod.readAhead, a
 * couple of reads per second for a 1 Mbit/s movie, and small enough that a sample handed out as a
 * view of its block keeps little else alive in a player's queue). They are keyed by the file's
 * identity (device, inode, size and mtime), so a replaced or rewritten file is never served from
 * blocks of its former self; blocks of a file everyone left stay until evicted, for the next
 * viewer. Eviction is least recently used, by bytes. Concurrent misses of one block make one disk
 * read; failed reads are not kept. */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

export const DEFAULT_BLOCK_SIZE = 64 * 1024;

/** What makes a file the same file: a change of any of these is a new file for the cache. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** What the cache uses of an open file (node's FileHandle; tests wrap one to count reads). */
export interface CacheFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<FileIdentity>;
  close(): Promise<void>;
}

/** File access the cache goes through (default node:fs/promises). */
export interface ReadCacheFs {
  open(path: string): Promise<CacheFileHandle>;
  stat(path: string): Promise<FileIdentity>;
}

export interface ReadCacheOptions {
  /** Bytes of blocks kept at most (vod.readCacheBytes); 0 keeps none. Settable later (`maxBytes`). */
  maxBytes: number;
  /** Block size in bytes, fixed for the cache's life (default 64 KiB). */
  blockSize?: number;
  /** File access (default node:fs/promises), for tests. */
  fs?: ReadCacheFs;
}

export interface ReadCacheStats {
  /** Bytes of blocks kept now (never above maxBytes). */
  bytes: number;
  maxBytes: number;
  blocks: number;
  /** Block requests served without a disk read (kept, or joining a read in flight). */
  hits: number;
  /** Block requests that read the disk. */
  misses: number;
  /** File handles open now (one per file, whatever the number of its readers). */
  openFiles: number;
}

const NODE_FS: ReadCacheFs = { open: (path) => open(path, 'r'), stat: (path) => stat(path) };

/** Reads `buf.length` bytes at `position` unless the file ends first; the bytes read. */
export async function readFully(fh: Pick<CacheFileHandle, 'read'>, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** One open file shared by its readers (`ReadCache.acquire`/`release`). */
export class CachedFile {
  /** Readers holding it; the handle closes when the last one lets go. */
  refs = 0;
  #id: FileIdentity;
  #key: string;

  constructor(
    readonly path: string,
    readonly handle: CacheFileHandle,
    id: FileIdentity,
  ) {
    this.#id = id;
    this.#key = `${id.dev}:${id.ino}:${id.size}:${id.mtimeMs}`;
  }

  /** Bytes in the file as last seen. */
  get size(): number {
    return this.#id.size;
  }

  /** Names its blocks in the cache. */
  get key(): string {
    return this.#key;
  }

  get identity(): FileIdentity {
    return this.#id;
  }

  /** The file grew or changed under its handle: its blocks from now on are a new file's. */
  update(id: FileIdentity): void {
    if (sameFile(id, this.#id)) return;
    this.#id = id;
    this.#key = `${id.dev}:${id.ino}:${id.size}:${id.mtimeMs}`;
  }
}

export class ReadCache {
  readonly blockSize: number;
  readonly #fs: ReadCacheFs;
  #maxBytes = 0;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #openFiles = 0;
  /** Map order is insertion order: re-inserting on a hit makes the first key the least recently
   * used block. */
  readonly #blocks = new Map<string, Buffer>();
  /** Disk reads in flight by block key, joined by concurrent misses of the same block. */
  readonly #pending = new Map<string, Promise<Buffer>>();
  /** The handle new readers of a path share (older ones of a replaced file stay with their readers). */
  readonly #files = new Map<string, CachedFile>();
  /** Opens in flight by path: a thousand viewers pressing play at once open the file once. */
  readonly #opening = new Map<string, Promise<CachedFile>>();

  constructor(opts: ReadCacheOptions) {
    this.blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize < 512) throw new RangeError(`invalid blockSize ${this.blockSize}`);
    this.#fs = opts.fs ?? NODE_FS;
    this.maxBytes = opts.maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** A new bound applies at once: shrinking evicts the least recently used blocks. */
  set maxBytes(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid read cache size ${n}`);
    this.#maxBytes = n;
    this.#evict();
  }

  stats(): ReadCacheStats {
    return { bytes: this.#bytes, maxBytes: this.#maxBytes, blocks: this.#blocks.size, hits: this.#hits, misses: this.#misses, openFiles: this.#openFiles };
  }

  /** The shared handle of the file now at `path`, opened if needed; hand it back with `release`.
   * The path is stat'ed each time, so a replaced or rewritten file gets a handle of its own. */
  async acquire(path: string): Promise<CachedFile> {
    const key = resolve(path);
    const now = await this.#fs.stat(key);
    const current = this.#files.get(key);
    if (current && sameFile(current.identity, now)) {
      current.refs++;
      return current;
    }
    let opening = this.#opening.get(key);
    if (!opening) {
      const p = this.#open(key);
      opening = p;
      this.#opening.set(key, p);
      // A failed open is not remembered: the next reader tries again.
      const done = (): void => void (this.#opening.get(key) === p && this.#opening.delete(key));
      p.then(done, done);
    }
    const file = await opening;
    file.refs++;
    return file;
  }

  /** A reader is done with `file`: the last one closes the handle. */
  async release(file: CachedFile): Promise<void> {
    if (--file.refs > 0) return;
    if (this.#files.get(file.path) === file) this.#files.delete(file.path);
    this.#openFiles--;
    await file.handle.close();
  }

  /** Looks at the file again through its handle (it may have grown since it was opened). */
  async refresh(file: CachedFile): Promise<void> {
    file.update(await file.handle.stat());
  }

  /** Block `index` of `file` when it is in memory, else undefined (then `block`). */
  peek(file: CachedFile, index: number): Buffer | undefined {
    const key = `${file.key}:${index}`;
    const kept = this.#blocks.get(key);
    if (!kept) return undefined;
    this.#blocks.delete(key);
    this.#blocks.set(key, kept);
    this.#hits++;
    return kept;
  }

  /** Block `index` of `file`: blockSize bytes, fewer at the end of the file (or if it shrank). */
  block(file: CachedFile, index: number): Promise<Buffer> {
    const kept = this.peek(file, index);
    if (kept) return Promise.resolve(kept);
    const key = `${file.key}:${index}`;
    const pending = this.#pending.get(key);
    if (pending) {
      this.#hits++;
      return pending;
    }
    this.#misses++;
    const p = this.#load(file, index, key);
    this.#pending.set(key, p);
    const done = (): void => void (this.#pending.get(key) === p && this.#pending.delete(key));
    p.then(done, done);
    return p;
  }

  async #load(file: CachedFile, index: number, key: string): Promise<Buffer> {
    const start = index * this.blockSize;
    const length = Math.min(this.blockSize, file.size - start);
    if (length <= 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(length);
    const got = await readFully(file.handle, buf, start);
    // Short: the file shrank under its identity. Handed out (the reader reports what is
    // missing) but not kept.
    if (got < length) return buf.subarray(0, got);
    this.#keep(key, buf);
    return buf;
  }

  #keep(key: string, buf: Buffer): void {
    if (buf.length > this.#maxBytes) return;
    this.#blocks.set(key, buf);
    this.#bytes += buf.length;
    this.#evict();
  }

  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#blocks.entries().next().value;
      if (oldest === undefined) break;
      this.#blocks.delete(oldest[0]);
      this.#bytes -= oldest[1].length;
    }
  }

  async #open(path: string): Promise<CachedFile> {
    const fh = await this.#fs.open(path);
    let id: FileIdentity;
    try {
      // The handle's own identity, not the path's: the file may have been replaced since the stat.
      id = await fh.stat();
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    const file = new CachedFile(path, fh, id);
    this.#openFiles++;
    // The former handle of a replaced file stays open for its readers until they close.
    this.#files.set(path, file);
    return file;
  }
}
