/** What a playlist channel tells once per path and configuration, however often it is started
 * in between: an always-on channel that cannot start is tried again every few seconds, each try
 * a new Channel, so what a try logged is remembered here rather than in the Channel. */
export class OncePerConfiguration {
  readonly #told = new Map<string, { configuredAt: number; what: Set<string> }>();
  readonly #max: number;

  /** `max`: paths remembered, and things per path; past it they are forgotten all at once (and
   * told again), so a flood of paths or reasons costs lines, not memory. */
  constructor(max = 10_000) {
    this.#max = max;
  }

  /** True the first time `what` is told for the path `key` configured at `configuredAt` (Unix
   * ms: a new configuration tells everything again). */
  first(key: string, configuredAt: number, what: string): boolean {
    let t = this.#told.get(key);
    if (t?.configuredAt !== configuredAt) {
      this.#told.delete(key);
      if (this.#told.size >= this.#max) this.#told.clear();
      t = { configuredAt, what: new Set() };
      this.#told.set(key, t);
    }
    if (t.what.has(what)) return false;
    if (t.what.size >= this.#max) t.what.clear();
    t.what.add(what);
    return true;
  }
}
