/** The server process's CPU load for the Snapshot: its user and system time over the wall time
 * since the previous reading, as a share of all the machine's CPUs. Readings closer together
 * than `minIntervalMs` return the last figure, so a page polling often does not see noise. */
import { availableParallelism } from 'node:os';

export class CpuLoad {
  #at = performance.now();
  #usage = process.cpuUsage();
  #percent = 0;
  readonly #minIntervalMs: number;
  readonly #cpus = Math.max(1, availableParallelism());

  /** `minIntervalMs`: default 1000. */
  constructor(minIntervalMs = 1000) {
    this.#minIntervalMs = minIntervalMs;
  }

  /** Percent (0–100, one decimal). */
  percent(): number {
    const now = performance.now();
    const elapsedMs = now - this.#at;
    if (elapsedMs >= this.#minIntervalMs) {
      const d = process.cpuUsage(this.#usage);
      const usedMs = (d.user + d.system) / 1000;
      this.#percent = Math.min(100, Math.round((1000 * usedMs) / elapsedMs / this.#cpus) / 10);
      this.#at = now;
      this.#usage = process.cpuUsage();
    }
    return this.#percent;
  }
}
