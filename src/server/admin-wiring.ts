/** Starts the web admin, REST API and metrics on admin.port. STUB: filled in by the admin work. */
import type { Metrics } from '../metrics/index.js';
import type { LogFiles } from './log-files.js';
import type { ManagedServer } from './running.js';

export interface AdminHandle {
  /** The port listened on. */
  readonly port: number;
  close(): Promise<void>;
}

export function startAdmin(_server: ManagedServer, _parts: { metrics: Metrics; logFiles: LogFiles }): Promise<AdminHandle | undefined> {
  return Promise.resolve(undefined);
}
