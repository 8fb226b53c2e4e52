/** Playlists as DSS's PlaylistBroadcaster defined them: its `.playlist` and `.config` files and
 * the picker of what plays next. Protocol-neutral; the broadcaster source builds on it. */
export { broadcastTimeMs, NTP_UNIX_OFFSET, parsePlaylistConfig, readPlaylistConfig } from './config-file.js';
export type { BroadcastTime, ParsedPlaylistConfig, PlaylistConfig } from './config-file.js';
export { MAX_FILE_BYTES } from './dss-text.js';
export { PlaylistPicker, type PickerItem, type PickerOptions, type PickerState } from './picker.js';
export {
  DEFAULT_WEIGHT,
  MAX_ENTRIES,
  MAX_NESTING,
  MAX_WEIGHT,
  parsePlaylistText,
  PLAYLIST_HEADER,
  readPlaylist,
  type Playlist,
  type PlaylistEntry,
  type PlaylistLine,
} from './playlist-file.js';
export { formatIssue, PLAY_MODES, PlaylistError, type PlaylistIssue, type PlayMode } from './types.js';
