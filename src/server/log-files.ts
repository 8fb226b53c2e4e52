/** The DSS-format log files of a running server, in logs.folder: StreamingServer.log (the access
 * log, one line per 'client.ended' core event) and Error.log (the application log's messages at
 * DSS levels, teed from the server's logger), each rolling as DSS did; plus what the admin's
 * Logs page shows: the newest error lines and the access history (paths requested, with counts,
 * since start or the last reset). Nothing here throws into streaming: a folder that cannot be
 * written is reported once in the application log and tried again quietly. */
import { hostname, networkInterfaces } from 'node:os';
import { CpuLoad } from '../admin/cpu-load.js';
import type { ClientRecord } from '../core/index.js';
import { AccessLog, attachLogTee, ErrorLog, type RollingFileProblem } from '../logging/index.js';
import type { RunningServer } from './running.js';

/** Distinct paths counted in the access history; later ones are counted together under
 * OTHER_PATHS. */
const MAX_HISTORY_PATHS = 10_000;
const OTHER_PATHS = '(other paths)';
/** Lines of Error.log kept for errorLines(). */
const ERROR_LINES_KEPT = 1000;

export interface AccessHistory {
  /** Unix ms of the start, or of the last reset. */
  since: number;
  /** Paths requested and how many sessions each, most first. */
  files: { path: string; count: number }[];
}

export class LogFiles {
  readonly #server: RunningServer;
  readonly #access: AccessLog;
  readonly #error: ErrorLog;
  readonly #detachTee: () => void;
  readonly #onEnded = (r: ClientRecord) => {
    // Called from the code that ends a session: a malformed record must not reach it.
    try {
      this.#ended(r);
    } catch (e) {
      if (!this.#recordFailed)
        this.#server.log
          .child({ component: 'logs' })
          .warn({ err: (e as Error).message }, 'a session record could not be logged');
      this.#recordFailed = true;
    }
  };
  /** A record failed to format once (reported once). */
  #recordFailed = false;
  #history = new Map<string, number>();
  #historySince = Date.now();
  /** s-cpu-util, measured once a second at most. */
  readonly #cpu = new CpuLoad();
  /** s-ip, found once (networkInterfaces() asks the kernel each call) and again at apply() and
   * reopen(). */
  #serverIpCache: string | undefined;
  #closing: Promise<void> | undefined;

  private constructor(server: RunningServer) {
    this.#server = server;
    const onProblem = (p: RollingFileProblem) => this.#problem(p);
    const { access, error } = settings(server);
    this.#access = new AccessLog({
      ...access,
      software: `Rivulet ${server.version}`,
      onProblem,
    });
    this.#error = new ErrorLog({ ...error, keepLines: ERROR_LINES_KEPT, onProblem });
    this.#access.startup();
    this.#error.startup();
    this.#detachTee = attachLogTee(server.log, (e) => this.#error.entry(e));
    server.events.on('client.ended', this.#onEnded);
  }

  static open(server: RunningServer): LogFiles {
    return new LogFiles(server);
  }

  /** Reopens the files (SIGUSR1, after logrotate moved them). */
  reopen(): void {
    this.#serverIpCache = undefined;
    this.#access.file.reopen();
    this.#error.file.reopen();
    // The first line of the new Error.log: the operator sees the signal was taken.
    this.#server.log.child({ component: 'logs' }).info('log files reopened');
  }

  /** Takes changed logs.* keys at once: on/off, verbosity, roll size and days, gmt, folder. */
  apply(): void {
    this.#serverIpCache = undefined;
    const { access, error } = settings(this.#server);
    this.#access.set(access);
    this.#error.set(error);
  }

  /** The newest `limit` lines of Error.log, oldest first. */
  errorLines(limit: number): string[] {
    return this.#error.lines(limit);
  }

  /** Paths requested and their counts since start or the last reset (DSS's Access History). */
  accessHistory(): AccessHistory {
    const files = [...this.#history]
      .map(([path, count]) => ({ path, count }))
      .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
    return { since: this.#historySince, files };
  }

  resetAccessHistory(): void {
    this.#history = new Map();
    this.#historySince = Date.now();
  }

  /** Writes the shutdown lines and closes both files (what waits is written first). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#server.events.off('client.ended', this.#onEnded);
      this.#access.shutdown();
      this.#error.shutdown();
      this.#detachTee();
      await Promise.all([this.#access.file.close(), this.#error.file.close()]);
    })();
    return this.#closing;
  }

  #ended(r: ClientRecord): void {
    // A publisher feeds its path; the history counts what was asked for.
    if (r.kind !== 'publisher') {
      const key = this.#history.has(r.path) || this.#history.size < MAX_HISTORY_PATHS ? r.path : OTHER_PATHS;
      this.#history.set(key, (this.#history.get(key) ?? 0) + 1);
    }
    if (!this.#access.file.enabled) return;
    this.#access.record(r, {
      totalClients: this.#server.clients.size,
      cpuPercent: this.#cpu.percent(),
      serverIp: (this.#serverIpCache ??= serverIp(this.#server)),
      serverDns: hostname(),
    });
  }

  #problem(p: RollingFileProblem): void {
    const log = this.#server.log.child({ component: 'logs' });
    switch (p.kind) {
      case 'failed':
        log.warn(
          { file: p.path, err: p.error.message },
          'cannot write the log file; streaming goes on, the lines wait and writing is tried again',
        );
        break;
      case 'overflow':
        log.warn({ file: p.path }, 'the log file cannot keep up; lines are dropped');
        break;
      case 'recovered':
        log.info({ file: p.path, dropped: p.dropped }, 'writing the log file again');
        break;
      case 'roll-failed':
        log.warn({ file: p.path, err: p.error.message }, 'cannot roll the log file; it goes on growing');
        break;
    }
  }
}

/** s-ip: the address the RTSP server listens on when it names one, else the host's first
 * outside IPv4 address. (The admin and radio ports may be bound elsewhere: they do not say.) */
function serverIp(server: RunningServer): string {
  const named = server.addresses.find((a) => a.kind !== 'admin' && a.kind !== 'radio' && a.address !== '0.0.0.0' && a.address !== '::');
  if (named) return named.address;
  for (const list of Object.values(networkInterfaces())) {
    const found = list?.find((i) => i.family === 'IPv4' && !i.internal);
    if (found) return found.address;
  }
  return '-';
}

/** The settings of both files from the running logs.* keys. */
function settings(server: RunningServer) {
  const c = server.config.logs;
  return {
    access: {
      folder: c.folder,
      enabled: c.access,
      rollSize: c.accessRollSize,
      rollDays: c.accessRollDays,
      gmt: c.gmt,
    },
    error: {
      folder: c.folder,
      enabled: c.error,
      rollSize: c.errorRollSize,
      rollDays: c.errorRollDays,
      verbosity: c.errorVerbosity,
    },
  };
}
