/** What applies at a path: the `paths:` config section (exact names or `~regex` keys) laid over
 * the global `live:` settings. Protocol-neutral: a path is the stream key (`live/cam1`, no
 * leading slash, no `.sdp`), whoever asks. Later issues resolve a path's presentation and its
 * configured source (playlist, relay) here too. */
import { pathPattern, type Config } from '../config/index.js';

/** The live settings that apply at one path. */
export interface PathSettings {
  /** Addresses/CIDRs that may publish here without credentials. */
  publishAllow: string[];
  /** Seconds viewers wait for a vanished publisher before BYE. */
  graceTime: number;
  /** A second publisher takes the path over (else it is refused). */
  takeover: boolean;
  /** The `paths:` key that matched (`live/cam1` or `~^live/.*$`), for logs; undefined when only
   * the global `live:` settings apply. */
  entry?: string;
}

/** The config key a setting came from, for logs: `paths.<entry>.<name>` or `live.<name>`. */
export function settingName(s: PathSettings, name: 'publishAllow' | 'graceTime' | 'takeover'): string {
  return s.entry === undefined ? `live.${name}` : `paths.${s.entry}.${name}`;
}

export interface PathManagerOptions {
  /** The running config, read at each use so a reload that replaces `paths` reaches new
   * publishers at once. */
  config: () => Pick<Config, 'live' | 'paths'>;
}

type Entry = Config['paths'][string];

interface Compiled {
  source: Config['paths'];
  exact: Map<string, Entry>;
  patterns: { key: string; re: RegExp; entry: Entry }[];
}

export class PathManager {
  readonly #config: PathManagerOptions['config'];
  /** The regexes of the `paths` object last seen, compiled once per config (not per request). */
  #compiled: Compiled | undefined;

  constructor(opts: PathManagerOptions) {
    this.#config = opts.config;
  }

  /** The settings for `path`: an exact `paths:` key wins, else the first `~regex` key (in file
   * order) that matches, else none; its keys override the global `live:` ones. */
  settingsFor(path: string): PathSettings {
    const { live, paths } = this.#config();
    const found = this.#match(paths, path);
    const e = found?.entry;
    return {
      publishAllow: e?.publishAllow ?? live.publishAllow,
      graceTime: e?.graceTime ?? live.graceTime,
      takeover: e?.takeover ?? live.takeover,
      entry: found?.key,
    };
  }

  #match(paths: Config['paths'], path: string): { key: string; entry: Entry } | undefined {
    const c = this.#compile(paths);
    const exact = c.exact.get(path);
    if (exact) return { key: path, entry: exact };
    const hit = c.patterns.find((p) => p.re.test(path));
    return hit && { key: hit.key, entry: hit.entry };
  }

  #compile(paths: Config['paths']): Compiled {
    if (this.#compiled?.source === paths) return this.#compiled;
    const exact = new Map<string, Entry>();
    const patterns: Compiled['patterns'] = [];
    // Object key order is insertion (file) order for non-integer keys; a path name that is an
    // integer ("7") would come first, which only matters among regexes, and those start with ~.
    for (const [key, entry] of Object.entries(paths)) {
      const re = pathPattern(key);
      if (re) patterns.push({ key, re, entry });
      else exact.set(key, entry);
    }
    this.#compiled = { source: paths, exact, patterns };
    return this.#compiled;
  }
}
