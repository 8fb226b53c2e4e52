/** What the metrics read of a running server, narrowed to what they use: the composition root's
 * `RivuletServer` (and `RunningServer`) satisfies it structurally, so this layer never imports
 * `src/server` (which starts it: that would be a cycle). */
import type { Config } from '../config/index.js';
import type { ClientRow, CoreEvents, RelayStatus } from '../core/index.js';

/** A row of the client directory, with the RTCP jitter when the adapter measures it. */
export interface MetricsClientRow extends ClientRow {
  /** Interarrival jitter the client's RTCP reports give, in milliseconds. */
  jitter?: number;
}

/** A live stream as the metrics see it. */
export interface MetricsStream {
  readonly state: string;
  /** What feeds it now (none while it waits for a publisher to return). */
  readonly source: { readonly kind: string } | undefined;
}

export interface MetricsServer {
  readonly events: CoreEvents;
  readonly clients: {
    list(): MetricsClientRow[];
    /** Clients ever added since the server started. */
    readonly totalConnections: number;
    /** Bytes sent to every client since the server started. */
    readonly totalBytesSent: number;
  };
  /** The running config, read at each scrape (a reload replaces its values). */
  readonly config: Pick<Config, 'limits' | 'paths' | 'media'>;
  /** Unix ms. */
  readonly startedAt: number;
  readonly version: string;
  /** Live streams by path (undefined before the server started). */
  readonly live: { readonly streams: ReadonlyMap<string, MetricsStream> } | undefined;
  /** What counts against limits.maxConnections and limits.maxBandwidthKbps now. */
  readonly load: { connections: number; bandwidthKbps: number };
  /** The latest state of each relay leg. */
  readonly relays: ReadonlyMap<string, RelayStatus>;
  /** Internet radio now: ICY listeners, Icecast/SHOUTcast sources, and listeners dropped since
   * the start for falling behind (radio.maxFlowControlTime). */
  radioStats(): MetricsRadioStats;
  /** The multicast groups live streams send to now, with their viewers. */
  multicastGroups(): readonly { readonly members: number }[];
}

export interface MetricsRadioStats {
  listeners: number;
  sources: number;
  listenersDropped: number;
}
