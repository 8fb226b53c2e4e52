/** What starting a playlist channel takes (`startPlaylistSource`); the channel keeps part of it. */
import type { PathPlaylist } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import type { ReadCache } from '../../media/mp4/read-cache.js';
import type { StreamRegistry } from '../../core/stream-registry.js';

export interface PlaylistSourceOptions {
  key: string;
  playlist: PathPlaylist;
  /** Real path of the media folder: relative items and `.playlist` files are read from it. */
  mediaRoot: string;
  registry: StreamRegistry;
  log: Logger;
  /** Seconds to go on with no viewers; absent, it runs until closed or played through. */
  idleTimeout?: number;
  graceTime: number;
  maxFrameBytes?: number;
  /** Seconds each item's packets are sent ahead of their time (default 0.25, as files). */
  sendAhead?: number;
  /** Movie data shared with every other viewer of the items' files (vod.readCacheBytes).
   * Default: none (the items are read through windows of their own). */
  readCache?: ReadCache;
  /** Unix ms the playlist was configured: what a schedule's `*N` counts from. */
  configuredAt: number;
  /** state.folder (absolute): the channel's state file goes in its `playlists/` folder. */
  stateFolder: string;
  /** logs.folder (absolute): the channel's play log goes there. A function is asked at each
   * write, so the log follows logs.folder when a reload changes it. */
  logFolder: string | (() => string);
  /** weighted_random's random source (default Math.random), for tests. */
  random?: () => number;
}
