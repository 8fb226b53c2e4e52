/** A channel's log of what played and when: DSS PlaylistBroadcaster's playlist log
 * (BroadcastLog), one line per event, the date and time in the server's local time as DSS
 * wrote them (`2026-01-31 20:00:05`):
 *
 *     2026-01-31 20:00:05 /media/news.mp4 PLAY
 *     2026-01-31 20:00:35 /media/broken.mp4 Error:missing (no such file)
 *     # 2026-01-31 20:00:00 broadcast started: station
 *
 * An item that starts is `<date> <time> <path> PLAY` (DSS's start line), one skipped is
 * `<path> Error:<reason>` (DSS's line for a movie that failed), and other news (the broadcast
 * started, resumed, stopped; a control file taken) is a `#` comment line, as DSS's LogInfo.
 * Lines are appended in order, one write at a time; a write that fails is reported once (until
 * one succeeds again) and never stops the broadcast. At most MAX_PENDING lines wait: a disk that
 * hangs costs lines, not memory. The file may be asked for at each write, so that a log in
 * logs.folder follows that folder when it changes while the channel runs.
 *
 * The log lives in logs.folder beside the server's own Error.log and StreamingServer.log:
 * `playLogName` keeps a channel at path `Error` (or a log_file named so) out of them. */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { channelFileBase } from './state-file.js';

/** Lines waiting to be written; more are dropped (and counted in the next line written). */
export const MAX_PENDING = 1000;

const two = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` in local time (DSS's FormatDate with its GMT flag off). */
export function formatLogDate(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A file name or reason on one line: a line break in it would forge a log line. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

/** An item's line: `PLAY` as it starts, `Error:<reason>` when it is skipped. */
export function formatPlayLine(at: Date, file: string, outcome: { error: string } | 'PLAY'): string {
  const end = outcome === 'PLAY' ? 'PLAY' : `Error:${oneLine(outcome.error)}`;
  return `${formatLogDate(at)} ${oneLine(file)} ${end}\n`;
}

/** A comment line: `# <date> <time> <text>`. */
export function formatInfoLine(at: Date, text: string): string {
  return `# ${formatLogDate(at)} ${oneLine(text)}\n`;
}

/** Names the server's own logs take in logs.folder (Error.log, StreamingServer.log, and rolled
 * `<name>.<yymmdd><NNN>.log`), in any case: a case-blind file system takes error.log for
 * Error.log. */
const SERVER_LOG = /^(error|streamingserver)(\.|$)/i;

/** A play log's file name in logs.folder from `name` (`<base>.log`, or the name a DSS log_file
 * gives): one the server's own logs use, or may once rolled, becomes `<base>.playlist.log`.
 * No other name maps there, since that name is itself one of the reserved. */
export function playLogFile(name: string): string {
  return SERVER_LOG.test(name) ? `${name.replace(/\.log$/i, '')}.playlist.log` : name;
}

/** The play log's file name in logs.folder of the channel at path `key`: what the channel writes
 * and the admin reads. */
export function playLogName(key: string): string {
  return playLogFile(`${channelFileBase(key)}.log`);
}

export class PlayLog {
  readonly #file: () => string;
  readonly #onError: (e: Error, file: string) => void;
  #pending: string[] = [];
  #dropped = 0;
  /** The write loop under way, if any. */
  #writing: Promise<void> | undefined;
  #failing = false;
  /** The folder made last; a file moved to another folder has it made too. */
  #madeFolder: string | undefined;

  /** `file`: the file, or a function asked at each write for the file to write then.
   * `onError` hears of the first failure of a run of failures. */
  constructor(file: string | (() => string), onError: (e: Error, file: string) => void) {
    this.#file = typeof file === 'string' ? () => file : file;
    this.#onError = onError;
  }

  /** The file written now. */
  get file(): string {
    return this.#file();
  }

  played(file: string, at = new Date()): void {
    this.#add(formatPlayLine(at, file, 'PLAY'));
  }

  skipped(file: string, reason: string, at = new Date()): void {
    this.#add(formatPlayLine(at, file, { error: reason }));
  }

  info(text: string, at = new Date()): void {
    this.#add(formatInfoLine(at, text));
  }

  /** Resolves when every line given so far has been written (or has failed). */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  #add(line: string): void {
    if (this.#pending.length >= MAX_PENDING) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#kick();
  }

  #kick(): void {
    if (this.#writing) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
      // Lines added between the loop's last check and here.
      if (this.#pending.length) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length) {
      const lines = this.#pending;
      this.#pending = [];
      if (this.#dropped) {
        lines.unshift(formatInfoLine(new Date(), `${this.#dropped} lines lost: the log could not keep up`));
        this.#dropped = 0;
      }
      const file = this.#file();
      try {
        const folder = dirname(file);
        if (this.#madeFolder !== folder) {
          await mkdir(folder, { recursive: true });
          this.#madeFolder = folder;
        }
        await appendFile(file, lines.join(''));
        this.#failing = false;
      } catch (e) {
        if (!this.#failing) this.#onError(e as Error, file);
        this.#failing = true;
      }
    }
  }
}
