/** What an operator sees of and does to configured sources (`PathManager.sources`,
 * `startSource`, `stopSource`), protocol-neutral so the control socket of `rivulet playlist` and
 * the admin API answer from the same calls. */

/** Why an operator's request was refused: `unknown`, no source is configured at that path;
 * `conflict`, it is already in the state asked for (or changed while it was asked). Each front
 * end maps the kind to its status once (HTTP: 404 and 409). */
export class SourceControlError extends Error {
  override readonly name = 'SourceControlError';
  constructor(
    readonly kind: 'unknown' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/** running: its stream is live; stopped: the operator stopped it, or it ended for good (a
 * playlist's `.stoplist`, a sequential list played through, its scheduled end: `finished`
 * says which), and it stays stopped until started again or the config is reloaded (or the
 * server restarts: the hold is not kept); waiting: it is starting, or will be started at
 * `nextStart` (its schedule, or a retry after a failure); idle: nothing runs and nothing is
 * planned (an on-demand source without viewers): a viewer asking starts it. */
export type SourceState = 'running' | 'stopped' | 'waiting' | 'idle';

/** One configured source as the operator sees it, as plain JSON. */
export interface SourceInfo {
  /** The path it feeds (stream key). */
  path: string;
  /** `source` (paths.<path>.source) or `playlist`. */
  setting: 'source' | 'playlist';
  /** The config key it comes from: `paths.<path>.<setting>` or `playlists.folder`. */
  origin: string;
  /** Its value as written (a playlist's file, or its list as JSON). */
  text: string;
  /** It starts at its first viewer (else with the server, and again when it fails). */
  onDemand: boolean;
  state: SourceState;
  /** stopped because it ended for good: why (Source.finished). */
  finished?: string;
  /** waiting: what for. */
  waiting?: 'start' | 'schedule' | 'retry';
  /** waiting for its schedule or a retry: when it is started next (ISO 8601). */
  nextStart?: string;
  /** running: since when its stream has been live (ISO 8601). */
  since?: string;
  /** Readers of its stream now (0 unless running). */
  readers: number;
  /** running: what the source says it is doing (`Source.status`: a playlist's current and
   * upcoming items). */
  status?: Record<string, unknown>;
}
