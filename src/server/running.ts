/** What the operator's tools (the web admin and REST API, the metrics, the log files) read of a
 * running server, as an interface so they need not import the composition root (which starts
 * them). `RivuletServer` implements it. */
import type { Config } from '../config/index.js';
import type { ClientDirectory, CoreEvents, PathManager, RelayStatus, StreamRegistry } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { ListeningAddress } from './listeners.js';

/** What applying a configuration did: keys applied at once, keys that wait for a restart. */
export interface ReloadResult {
  applied: string[];
  later: string[];
}

export interface RunningServer {
  /** The running configuration (read it at each use: a reload replaces its values). */
  readonly config: Config;
  /** The config file the server was started with, if any (Settings saves there). */
  readonly configFile: string | undefined;
  readonly log: Logger;
  readonly events: CoreEvents;
  /** Every connected client, whatever protocol. */
  readonly clients: ClientDirectory;
  /** Unix ms when the server started. */
  readonly startedAt: number;
  readonly version: string;
  readonly addresses: ListeningAddress[];
  readonly paths: PathManager | undefined;
  readonly live: StreamRegistry | undefined;
  /** What counts against limits.maxConnections and limits.maxBandwidthKbps now. */
  readonly load: { connections: number; bandwidthKbps: number };
  /** The latest state of each relay leg, keyed `role path target`. */
  readonly relays: ReadonlyMap<string, RelayStatus>;
}
