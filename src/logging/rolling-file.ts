/** One DSS-style rolling log file (QTSSRollingLog): `<folder>/<name>.log`, whose first line is
 * `#Log File Created On: MM/DD/YYYY HH:MM:SS`, renamed to `<name>.<yymmdd><NNN>.log` (the first
 * NNN free from 000 to 999, the date of the roll) when it grows past `rollSize` bytes or when
 * `rollDays` days have passed since midnight of its creation day (0 turns either off). An
 * existing file is appended to, its age read from its first line.
 *
 * Writing never blocks and never throws: lines wait in memory (at most `maxPendingBytes`; more
 * are dropped and counted) and one async write at a time appends all that waits. When the disk
 * is full or the folder cannot be written, the first failure is reported through `onProblem`,
 * the lines keep waiting (within the bound) and the write is tried again every `retryMs`,
 * quietly, until it works ('recovered', with what was lost). `reopen()` closes the file so the
 * next line opens `<name>.log` afresh (logrotate moved it). */
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createdOnLine, parseCreatedOn, rollDueAt, rollStamp } from './log-time.js';

/** What went wrong, or right again, with a log file. */
export type RollingFileProblem =
  /** The first failure of a run of failures (later ones are quiet). */
  | { kind: 'failed'; path: string; error: Error }
  /** Lines were dropped: the disk could not keep up or was failing (first drop of a run). */
  | { kind: 'overflow'; path: string }
  /** Written again after failures or drops; `dropped` lines were lost meanwhile. */
  | { kind: 'recovered'; path: string; dropped: number }
  /** The file could not be renamed to roll: it goes on growing, and rolling is tried again later. */
  | { kind: 'roll-failed'; path: string; error: Error };

/** What can change while the file is in use (`set`). */
export interface RollingFileSettings {
  /** Folder of the file, made when needed. A change takes effect at the next line. */
  folder: string;
  /** Roll past this many bytes; 0 never (default 0). */
  rollSize?: number;
  /** Roll this many days after the creation day began; 0 never (default 0). */
  rollDays?: number;
  /** false: lines are ignored and the file is closed (default true). */
  enabled?: boolean;
}

export interface RollingFileOptions extends RollingFileSettings {
  /** Base name: `Error` writes Error.log, rolled to Error.yymmddNNN.log. */
  name: string;
  /** Lines written at the top of each new file, after the creation line (default none). */
  header?: (now: number) => string;
  /** Hears of failures, drops and recoveries (default: nobody). */
  onProblem?: (p: RollingFileProblem) => void;
  /** The clock (default Date.now). */
  now?: () => number;
  /** Bytes that may wait for the disk (default 1 MiB). */
  maxPendingBytes?: number;
  /** Wait before trying again after a failure, ms (default 10 s). */
  retryMs?: number;
}

/** How often an idle file is checked for its age (DSS: hourly). */
const AGE_CHECK_MS = 3600_000;
/** Bytes of the first line read back to learn an existing file's age. */
const HEAD_BYTES = 500;

export class RollingFile {
  readonly name: string;
  #folder: string;
  #rollSize: number;
  #rollDays: number;
  #enabled: boolean;
  readonly #header: (now: number) => string;
  readonly #onProblem: (p: RollingFileProblem) => void;
  readonly #now: () => number;
  readonly #maxPending: number;
  readonly #retryMs: number;

  #pending: string[] = [];
  #pendingBytes = 0;
  #fh: FileHandle | undefined;
  #size = 0;
  /** When the open file was created, from its first line (undefined: unknown, no roll by age). */
  #created: number | undefined;
  #pumping: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** A reopen is wanted once this many of the waiting lines (those queued before it was asked
   * for) are written to the file they were meant for. */
  #reopenAt: number | undefined;
  /** The folder from the next reopen on. */
  #nextFolder: string;
  #rollCheck = false;
  #rollBlockedUntil = 0;
  #rollFailing = false;
  /** A failure, or a drop, was reported and not yet its recovery. */
  #failReported = false;
  #dropReported = false;
  #droppedInRun = 0;
  #dropped = 0;
  #closed = false;
  readonly #ageTimer: NodeJS.Timeout;

  constructor(opts: RollingFileOptions) {
    this.name = opts.name;
    this.#folder = opts.folder;
    this.#nextFolder = opts.folder;
    this.#rollSize = opts.rollSize ?? 0;
    this.#rollDays = opts.rollDays ?? 0;
    this.#enabled = opts.enabled ?? true;
    this.#header = opts.header ?? (() => '');
    this.#onProblem = opts.onProblem ?? (() => {});
    this.#now = opts.now ?? Date.now;
    this.#maxPending = opts.maxPendingBytes ?? 1 << 20;
    this.#retryMs = opts.retryMs ?? 10_000;
    this.#ageTimer = setInterval(() => {
      this.#rollCheck = true;
      this.#kick();
    }, AGE_CHECK_MS);
    this.#ageTimer.unref();
  }

  /** `<folder>/<name>.log`. */
  get path(): string {
    return join(this.#folder, `${this.name}.log`);
  }

  get enabled(): boolean {
    return this.#enabled && !this.#closed;
  }

  /** Lines dropped since the file was made (bound reached while the disk lagged or failed). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues `text` (whole lines, with their line breaks). */
  write(text: string): void {
    if (!this.enabled) return;
    const bytes = Buffer.byteLength(text);
    if (this.#pendingBytes + bytes > this.#maxPending) {
      this.#dropped++;
      this.#droppedInRun++;
      // A failure already reported says why; else once per run.
      if (!this.#failReported && !this.#dropReported) this.#onProblem({ kind: 'overflow', path: this.path });
      this.#dropReported = true;
      return;
    }
    this.#pending.push(text);
    this.#pendingBytes += bytes;
    this.#kick();
  }

  /** Applies changed settings; a new folder (or turning it off) closes the file now. */
  set(s: RollingFileSettings): void {
    this.#rollSize = s.rollSize ?? 0;
    this.#rollDays = s.rollDays ?? 0;
    const enabled = s.enabled ?? true;
    if (s.folder !== this.#nextFolder || enabled !== this.#enabled) this.#cut();
    this.#nextFolder = s.folder;
    this.#enabled = enabled;
    // A smaller size or fewer days may make the file due at once.
    this.#rollCheck = true;
    this.#kick(true);
  }

  /** Closes the file; the next line opens `<name>.log` again, a new one if it was moved. */
  reopen(): void {
    this.#cut();
    this.#kick(true);
  }

  /** Resolves when what was written so far is on disk, or has failed. */
  async flush(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  /** Writes what waits (one last try if the disk was failing) and closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ageTimer);
    this.#kick(true);
    await this.flush();
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#closeHandle();
  }

  /** Starts the write loop unless it runs; `now` also cuts a retry wait short. */
  #kick(now = false): void {
    if (now && this.#retry) {
      clearTimeout(this.#retry);
      this.#retry = undefined;
    }
    if (this.#pumping || this.#retry) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      // Lines added after the loop's last look.
      if (this.#pending.length || this.#reopenAt !== undefined) this.#kick();
    });
  }

  /** Lines queued from now on go to the file opened after a reopen. */
  #cut(): void {
    this.#reopenAt = Math.min(this.#reopenAt ?? Infinity, this.#pending.length);
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        if (this.#reopenAt === 0) {
          this.#reopenAt = undefined;
          this.#folder = this.#nextFolder;
          await this.#closeHandle();
        }
        if (!this.#pending.length) {
          if (this.#rollCheck && this.#fh && !this.#closed) {
            this.#rollCheck = false;
            await this.#maybeRoll();
            continue;
          }
          if (!this.#enabled || this.#closed) await this.#closeHandle();
          return;
        }
        if (!this.#fh) await this.#open();
        await this.#maybeRoll();
        const count = Math.min(this.#pending.length, this.#reopenAt ?? Infinity);
        const chunk = count === 1 ? this.#pending[0] : this.#pending.slice(0, count).join('');
        const bytes = Buffer.byteLength(chunk);
        await this.#fh!.write(chunk);
        this.#pending.splice(0, count);
        this.#pendingBytes -= bytes;
        this.#size += bytes;
        if (this.#reopenAt !== undefined) this.#reopenAt -= count;
        if ((this.#failReported || this.#dropReported) && !this.#pending.length) {
          this.#failReported = this.#dropReported = false;
          this.#onProblem({ kind: 'recovered', path: this.path, dropped: this.#droppedInRun });
          this.#droppedInRun = 0;
        }
      }
    } catch (e) {
      if (!this.#failReported) this.#onProblem({ kind: 'failed', path: this.path, error: e as Error });
      this.#failReported = true;
      await this.#closeHandle();
      if (this.#closed) {
        // The last try failed: what waits is lost (and counted), not retried forever.
        this.#dropped += this.#pending.length;
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#reopenAt = undefined;
        return;
      }
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, this.#retryMs);
      this.#retry.unref();
    }
  }

  async #open(): Promise<void> {
    const path = this.path;
    await mkdir(this.#folder, { recursive: true });
    const fh = await open(path, 'a+');
    try {
      const { size } = await fh.stat();
      if (size > 0) {
        const head = Buffer.alloc(HEAD_BYTES);
        const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
        this.#created = parseCreatedOn(head.subarray(0, bytesRead).toString('latin1'));
        this.#size = size;
      } else {
        const now = this.#now();
        const text = createdOnLine(now) + this.#header(now);
        await fh.write(text);
        this.#created = now;
        this.#size = Buffer.byteLength(text);
      }
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    this.#fh = fh;
  }

  /** Rolls the open file when it is due; a roll that fails leaves the file growing. */
  async #maybeRoll(): Promise<void> {
    const now = this.#now();
    if (now < this.#rollBlockedUntil) return;
    const byAge =
      this.#rollDays > 0 && this.#created !== undefined && now >= rollDueAt(this.#created, this.#rollDays);
    const bySize = this.#rollSize > 0 && this.#size > this.#rollSize;
    if (!byAge && !bySize) return;
    await this.#closeHandle();
    try {
      const target = await this.#freeName(now);
      await rename(this.path, target);
      this.#rollFailing = false;
    } catch (e) {
      this.#rollBlockedUntil = now + this.#retryMs;
      if (!this.#rollFailing) this.#onProblem({ kind: 'roll-failed', path: this.path, error: e as Error });
      this.#rollFailing = true;
    }
    await this.#open();
  }

  /** `<name>.<yymmdd><NNN>.log`, the first NNN not taken. */
  async #freeName(now: number): Promise<string> {
    const base = join(this.#folder, `${this.name}.${rollStamp(now)}`);
    for (let n = 0; n < 1000; n++) {
      const candidate = `${base}${String(n).padStart(3, '0')}.log`;
      try {
        await stat(candidate);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
        throw e;
      }
    }
    throw new Error(`${base}000.log to 999.log are all taken`);
  }

  async #closeHandle(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh) await fh.close().catch(() => {});
  }
}
