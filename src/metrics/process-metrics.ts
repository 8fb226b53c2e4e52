/** The process and Node.js metrics (CPU, memory, event loop lag, GC, handles) under their
 * standard names, in one registry per process shared by every server in it. They describe the
 * process, not a server, and prom-client's collector installs a GC observer and an event-loop
 * monitor that nothing can remove: one per server would pile up in a process that starts many
 * (tests) and each server's registry would report the same figures anyway. */
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Gauges prom-client names like counters; `promtool check metrics` refuses them. Each is the sum
 * of a gauge kept beside it by type (`nodejs_active_handles{type}`...). */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

let shared: Registry | undefined;

/** The process's registry, made at first use. */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
    for (const name of MISNAMED) shared.removeSingleMetric(name);
  }
  return shared;
}
