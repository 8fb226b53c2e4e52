/** Reads sample bytes through one lazily opened file handle and a read-ahead window. Samples of a
 * track are stored in runs (chunks), and a streaming viewer asks for them nearly in file order, so
 * one disk read of a few hundred KiB serves dozens of consecutive samples. */
import { open, type FileHandle } from 'node:fs/promises';
import { Mp4Error, type SampleInfo, type SampleReader } from './types.js';

export const DEFAULT_READ_AHEAD = 256 * 1024;

export interface SampleReaderOptions {
  /** Bytes read per disk access (default 256 KiB). Samples larger than this are read on their own. */
  readAhead?: number;
}

export function createSampleReader(path: string, opts: SampleReaderOptions = {}): SampleReader {
  return new FileSampleReader(path, opts.readAhead ?? DEFAULT_READ_AHEAD);
}

class FileSampleReader implements SampleReader {
  readonly #path: string;
  readonly #readAhead: number;
  #handle: Promise<FileHandle> | undefined;
  #closed = false;
  /** A fresh buffer per fill: samples handed out are views into it and must stay valid after the
   * window moves on (a packetizer may still be holding them). */
  #window: Buffer = Buffer.alloc(0);
  #windowStart = 0;
  /** File size as last seen; 0 until the file is opened. */
  #fileSize = 0;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(path: string, readAhead: number) {
    if (!Number.isSafeInteger(readAhead) || readAhead < 0) throw new RangeError(`invalid readAhead ${readAhead}`);
    this.#path = path;
    this.#readAhead = readAhead;
  }

  read(info: SampleInfo): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error(`sample reader for ${this.#path} is closed`));
    const p = this.#read(info);
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Closing under an in-flight read would turn its result into EBADF; let reads finish first.
    await Promise.allSettled([...this.#inflight]);
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

  async #read(info: SampleInfo): Promise<Buffer> {
    const { offset, size, index } = info;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
      throw new Mp4Error(`sample ${index} has invalid offset ${offset} / size ${size}`);
    }
    if (size === 0) return Buffer.alloc(0);
    const rel = offset - this.#windowStart;
    if (rel >= 0 && rel + size <= this.#window.length) return this.#window.subarray(rel, rel + size);

    const fh = await this.#open();
    // Checked against the file size before allocating, so a corrupt index claiming a gigabyte
    // sample, or a truncated file, costs a stat instead of a huge buffer. The size is refreshed
    // once in case the file grew since it was opened.
    if (offset + size > this.#fileSize) this.#fileSize = (await fh.stat()).size;
    if (offset + size > this.#fileSize) throw new Mp4Error(`sample ${index} beyond end of file`);
    const length = Math.max(size, Math.min(this.#readAhead, this.#fileSize - offset));
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < size) throw new Mp4Error(`sample ${index} beyond end of file`);
    // An oversized sample is not worth keeping as the window: the next sample starts past it.
    if (size < got) {
      this.#window = buf.subarray(0, got);
      this.#windowStart = offset;
    }
    return buf.subarray(0, size);
  }

  #open(): Promise<FileHandle> {
    if (!this.#handle) {
      const p = open(this.#path, 'r').then(async (fh) => {
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
