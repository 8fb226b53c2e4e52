/** What the operator's tools (the web admin and REST API, the metrics, the log files) read of a
 * running server, as an interface so they need not import the composition root (which starts
 * them). `RivuletServer` implements it. */
import type { Config } from '../config/index.js';
import type { ClientDirectory, CoreEvents, PathManager, RelayStatus, StreamRegistry } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { MulticastGroupInfo } from '../readers/multicast-group.js';
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
  /** The multicast groups live streams send to now. */
  multicastGroups(): MulticastGroupInfo[];
}

/** What saving changed settings did. */
export interface ConfigUpdateResult extends ReloadResult {
  /** Whether the changes were written to the config file (comments kept). */
  saved: boolean;
  /** The file written, or why nothing was (no --config file). */
  file?: string;
  note?: string;
}

/** What the admin may change, beyond reading. */
export interface ManagedServer extends RunningServer {
  /** Validates dotted keys (`limits.maxConnections`) with their new values (ConfigError naming
   * the key when one is wrong: nothing is changed then), saves them to the config file with its
   * comments kept, and applies what can apply live. A value of `null` removes the key (back to
   * its default; for `paths.<name>` the entry). */
  updateConfig(changes: Record<string, unknown>): Promise<ConfigUpdateResult>;
}
