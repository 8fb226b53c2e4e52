/** The Prometheus metrics of a running server. */
export { Metrics, type MetricsOptions } from './metrics.js';
export type { MetricsClientRow, MetricsRadioStats, MetricsServer, MetricsStream } from './server-view.js';
