/** The server's Prometheus metrics (served at /metrics on the admin port). STUB: filled in by
 * the metrics work. */
import type { ClientDirectory, CoreEvents } from '../core/index.js';

export interface MetricsOptions {
  events: CoreEvents;
  clients: ClientDirectory;
}

export class Metrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  constructor(_opts: MetricsOptions) {}

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return Promise.resolve('');
  }

  close(): void {}
}
