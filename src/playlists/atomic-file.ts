/** Files other programs read while the broadcast runs (a channel's state, `.current`,
 * `.upcoming`) are replaced whole, never seen half written: the text goes to a temporary file in
 * the same folder (a rename is atomic only within one file system) and is renamed over the old
 * one. A crash mid-write leaves the old file and, at worst, a stray `.<name>.<pid>.<n>.tmp`. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A temporary name beside `file`, unique within this process and across processes. */
function tempBeside(file: string): string {
  counter = (counter + 1) % 1_000_000;
  return join(dirname(file), `.${basename(file)}.${process.pid}.${counter}.tmp`);
}

/** Replaces `file` with `text` atomically, making its folder if needed. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempBeside(file);
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** The same, blocking: for the last write as a channel closes, which must land before the
 * process exits (shutdown does not wait for a source's promises). */
export function writeFileAtomicSync(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = tempBeside(file);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Keeps one file up to date with the latest text it is given: one write at a time, and texts
 * given while one is under way collapse into the newest (a burst of updates costs two writes,
 * and the file never goes back to an older text). A failure is reported through `onError`. */
export class LatestFileWriter {
  readonly file: string;
  readonly #onError: (e: Error) => void;
  #writing: Promise<void> | undefined;
  /** Text waiting for the write under way to finish; null: the file is to be removed. */
  #pending: string | null | undefined;

  constructor(file: string, onError: (e: Error) => void) {
    this.file = file;
    this.#onError = onError;
  }

  /** Writes `text` soon; resolves once it (or a newer text) is on disk or has failed. */
  write(text: string): Promise<void> {
    return this.#enqueue(text);
  }

  /** Removes the file soon (after any write under way). */
  remove(): Promise<void> {
    return this.#enqueue(null);
  }

  /** Writes `text` now, blocking; a write under way is overtaken (its rename may still land
   * after this one, so it is told to write this text again when it finishes). */
  writeNow(text: string): void {
    if (this.#writing) this.#pending = text;
    try {
      writeFileAtomicSync(this.file, text);
    } catch (e) {
      this.#onError(e as Error);
    }
  }

  /** Removes the file now, blocking. */
  removeNow(): void {
    if (this.#writing) this.#pending = null;
    try {
      rmSync(this.file, { force: true });
    } catch (e) {
      this.#onError(e as Error);
    }
  }

  async #enqueue(text: string | null): Promise<void> {
    this.#pending = text;
    this.#kick();
    while (this.#writing) await this.#writing;
  }

  #kick(): void {
    if (this.#writing) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
      // A text given between the loop's last check and here.
      if (this.#pending !== undefined) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending !== undefined) {
      const text = this.#pending;
      this.#pending = undefined;
      try {
        if (text === null) await rm(this.file, { force: true });
        else await writeFileAtomic(this.file, text);
      } catch (e) {
        this.#onError(e as Error);
      }
    }
  }
}
