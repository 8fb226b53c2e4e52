/** Protocol-neutral sources: what feeds a live stream without an encoder pushing to it. */
export { SOURCE_STARTERS } from './kinds.js';
export { mismatch, openItem, PlaylistSourceError, startPlaylistSource, type PlaylistSourceOptions } from './playlist/index.js';
export { allowedSources, SdpSourceError, startSdpSource, type SdpSourceOptions } from './sdp-file-source.js';
export { SourceError } from './source-error.js';
