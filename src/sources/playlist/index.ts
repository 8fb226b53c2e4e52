/** The playlist source: a playlist broadcast as a live channel (`source.ts` starts one,
 * `channel.ts` runs it, `timeline.ts` keeps its items on one timeline, `item.ts` says which
 * items can play, `setup.ts` reads its configuration). */
export { PlaylistSourceError, startPlaylistSource, type PlaylistSourceOptions } from './source.js';
export { audioShape, fmtpText, IN_BAND, mismatch, nowPlaying, openItem, type Opened } from './item.js';
