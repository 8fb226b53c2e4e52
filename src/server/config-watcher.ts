/** Calls back when a file changes. The file's folder is watched, not the file: editors save by
 * writing a new file and renaming it over the old one, which a watch on the old file would not
 * see. Events come in bursts (a write, a rename, a chmod), so the callback runs once the file
 * has been quiet for `debounceMs`; while it runs, further changes make at most one more run
 * afterwards (one pending, never a queue). */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../logging/index.js';

export interface ConfigWatcherOptions {
  file: string;
  /** Runs after a change (what it throws is logged). */
  changed: () => Promise<unknown>;
  log: Logger;
  /** Quiet time before `changed` runs, ms (default 300). */
  debounceMs?: number;
}

export class ConfigWatcher {
  readonly #o: ConfigWatcherOptions;
  readonly #name: string;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #pending = false;
  #closed = false;

  /** Starts watching; a folder that cannot be watched (gone, no inotify watches left) is logged
   * and the server runs on without it (SIGHUP still reloads). */
  constructor(opts: ConfigWatcherOptions) {
    this.#o = opts;
    this.#name = basename(opts.file);
    try {
      this.#watcher = watch(dirname(opts.file), { persistent: false }, (_event, name) => {
        // Some platforms give no name: any change in the folder may be the file's.
        if (name === null || name === this.#name) this.#schedule();
      });
      this.#watcher.on('error', (e) => {
        opts.log.warn({ file: opts.file, err: e.message }, 'stopped watching the config file; SIGHUP still reloads it');
        this.close();
      });
    } catch (e) {
      opts.log.warn({ file: opts.file, err: (e as Error).message }, 'cannot watch the config file; SIGHUP reloads it');
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), this.#o.debounceMs ?? 300);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    const failed = (e: unknown) => this.#o.log.error({ file: this.#o.file, err: (e as Error).stack ?? String(e) }, 'config reload failed');
    this.#running = this.#o.changed().catch(failed).finally(() => {
      this.#running = undefined;
      if (this.#pending) {
        this.#pending = false;
        this.#run();
      }
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
