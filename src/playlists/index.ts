/** Playlists as DSS's PlaylistBroadcaster defined them: its `.playlist` and `.config` files and
 * the picker of what plays next. Protocol-neutral; the broadcaster source builds on it. */
export { broadcastTimeMs, NTP_UNIX_OFFSET, parsePlaylistConfig, readPlaylistConfig } from './config-file.js';
export type { BroadcastTime, ParsedPlaylistConfig, PlaylistConfig } from './config-file.js';
export { MAX_FILE_BYTES } from './dss-text.js';
export { isPickerState, PlaylistPicker, type PickerItem, type PickerOptions, type PickerState } from './picker.js';
export { LatestFileWriter, writeFileAtomic, writeFileAtomicSync } from './atomic-file.js';
export {
  CONTROL_KINDS,
  controlPaths,
  describeTaken,
  formatCurrent,
  formatUpcoming,
  quotePlaylistPath,
  takeControlFiles,
  type ControlKind,
  type ControlPaths,
  type RefusedControl,
  type TakenControl,
} from './control-files.js';
export { Lineup, listSignature, MAX_UPCOMING, type LineupList, type LineupOptions, type LineupPick, type LineupState } from './lineup.js';
export { formatInfoLine, formatLogDate, formatPlayLine, PlayLog, playLogFile, playLogName } from './play-log.js';
export {
  notActiveMessage,
  resolveSchedule,
  sameScheduleTime,
  scheduleState,
  scheduleTimeMs,
  type Schedule,
  type ScheduleState,
  type ScheduleTime,
} from './schedule.js';
export {
  channelFileBase,
  channelStateFile,
  channelStateFolder,
  formatChannelState,
  keepAllowedFiles,
  parseChannelState,
  readChannelState,
  STATE_VERSION,
  type ChannelState,
} from './state-file.js';
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
export { scanPlaylistFolder, type FolderPlaylist, type FolderScan } from './folder.js';
