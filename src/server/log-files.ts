/** The DSS-format log files of a running server: StreamingServer.log (access) and Error.log.
 * STUB: filled in by the logging work. */
import type { RunningServer } from './running.js';

export class LogFiles {
  static open(_server: RunningServer): LogFiles {
    return new LogFiles();
  }

  /** Reopens the files (SIGUSR1, after logrotate moved them). */
  reopen(): void {}

  /** Takes changed logs.* keys at once. */
  apply(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
