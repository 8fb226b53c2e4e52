/** DSS's error log (QTSSErrorLogModule), `Error.log`: one line per message,
 *
 *     2024-05-01 12:00:03: WARNING: [rtsp] bad request status=400
 *     2024-05-01 12:00:09: --last message repeated 4 times
 *     # Streaming SHUTDOWN 2024-05-01 12:10:00
 *
 * the date in local time as DSS wrote it; a message is written when its level is at most the
 * verbosity (0 FATAL, 1 WARNING, 2 INFO, 3 ASSERT, 4 DEBUG); a message equal to the one before
 * is counted, not written, and the count is written before the next different message (and at
 * shutdown). The newest lines are kept in memory too (the admin's Error Log view), starting
 * with the tail of the file found at start. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { formatDateTime } from './log-time.js';
import { formatFields, type LogEntry } from './logger.js';
import { RollingFile, type RollingFileOptions, type RollingFileSettings } from './rolling-file.js';

/** DSS's levels, by their verbosity number. */
const ERROR_LEVELS = ['FATAL', 'WARNING', 'INFO', 'ASSERT', 'DEBUG'] as const;

/** The DSS level of a pino level: fatal FATAL, error and warn WARNING, info INFO, debug and
 * trace DEBUG (pino has no ASSERT). */
export function errorLevelOf(pinoLevel: number): number {
  if (pinoLevel >= 60) return 0;
  if (pinoLevel >= 40) return 1;
  if (pinoLevel >= 30) return 2;
  return 4;
}

/** The lowest pino level a verbosity writes (the logger's `teeLevel`). */
export function pinoLevelFor(verbosity: number): string {
  return ['fatal', 'warn', 'info', 'info', 'debug'][Math.max(0, Math.min(4, Math.trunc(verbosity)))];
}

/** Longest message written; the rest is cut (DSS cut at 2 KiB too). */
const MAX_MESSAGE = 1000;

/** A message on one line (a line break would forge a log line), cut to MAX_MESSAGE. */
function oneLine(s: string): string {
  const flat = s.replace(/[\r\n]+/g, ' ');
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 3)}...` : flat;
}

/** The Error.log message of an application log record: `[component] message key=value ...`. */
export function errorMessage(e: LogEntry): string {
  const fields = formatFields(e.fields);
  return oneLine(`${e.component ? `[${e.component}] ` : ''}${e.msg}${fields ? ` ${fields}` : ''}`);
}

/** `YYYY-MM-DD HH:MM:SS: LEVEL: message` with its line break. */
export function formatErrorLine(ms: number, level: number, message: string): string {
  return `${formatDateTime(ms, false)}: ${ERROR_LEVELS[level] ?? 'FATAL'}: ${message}\n`;
}

export interface ErrorLogSettings extends RollingFileSettings {
  /** Highest level written (DSS error_logfile_verbosity; default 2, INFO). */
  verbosity?: number;
}

export interface ErrorLogOptions
  extends ErrorLogSettings, Pick<RollingFileOptions, 'onProblem' | 'now' | 'maxPendingBytes' | 'retryMs'> {
  /** Lines kept in memory for `lines()` (default 1000). */
  keepLines?: number;
}

/** Bytes of an existing Error.log read at start for the lines kept in memory. */
const TAIL_BYTES = 64 * 1024;

export class ErrorLog {
  readonly file: RollingFile;
  #verbosity: number;
  readonly #now: () => number;
  readonly #keep: number;
  #ring: string[] = [];
  #last: string | undefined;
  #repeats = 0;

  constructor(opts: ErrorLogOptions) {
    this.#verbosity = opts.verbosity ?? 2;
    this.#now = opts.now ?? Date.now;
    this.#keep = Math.max(1, opts.keepLines ?? 1000);
    this.file = new RollingFile({ ...opts, name: 'Error' });
    if (this.file.enabled)
      this.#ring = readTail(join(opts.folder, 'Error.log'), TAIL_BYTES).slice(-this.#keep);
  }

  /** Writes `message` at DSS `level` (0–4) if the verbosity lets it through. */
  log(level: number, message: string, at = this.#now()): void {
    if (level > this.#verbosity || !this.file.enabled) return;
    const msg = oneLine(message);
    if (msg === this.#last) {
      this.#repeats++;
      return;
    }
    this.#flushRepeats(at);
    this.#last = msg;
    this.#emit(formatErrorLine(at, level, msg));
  }

  /** An application log record, at its DSS level. */
  entry(e: LogEntry): void {
    const level = errorLevelOf(e.level);
    if (level <= this.#verbosity) this.log(level, errorMessage(e), e.time);
  }

  startup(at = this.#now()): void {
    this.#mark('STARTUP', at);
  }

  shutdown(at = this.#now()): void {
    this.#mark('SHUTDOWN', at);
  }

  /** The newest `limit` lines, oldest first, without line breaks. */
  lines(limit: number): string[] {
    const n = Math.max(0, Math.min(Math.trunc(limit), this.#keep));
    return n === 0 ? [] : this.#ring.slice(-n);
  }

  set(s: ErrorLogSettings): void {
    this.#verbosity = s.verbosity ?? 2;
    this.file.set(s);
  }

  #mark(what: string, at: number): void {
    if (!this.file.enabled) return;
    this.#flushRepeats(at);
    this.#emit(`# Streaming ${what} ${formatDateTime(at, false)}\n`);
  }

  #flushRepeats(at: number): void {
    if (this.#repeats === 0) return;
    const n = this.#repeats;
    this.#repeats = 0;
    this.#emit(`${formatDateTime(at, false)}: --last message repeated ${n} times\n`);
  }

  #emit(line: string): void {
    this.file.write(line);
    this.#ring.push(line.slice(0, -1));
    // Trimmed in batches: one copy per `keep` lines, not per line.
    if (this.#ring.length >= 2 * this.#keep) this.#ring = this.#ring.slice(-this.#keep);
  }
}

/** The whole lines in the last `bytes` of `path` ([] when it cannot be read). Read at start
 * only, before anyone streams. */
function readTail(path: string, bytes: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (size > len) lines.shift();
    return lines.filter((l) => l !== '');
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
