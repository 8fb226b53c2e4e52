/** The Prometheus metrics of a running server. */
export { Metrics, type MetricsOptions } from './metrics.js';
