/** Protocol-neutral sources: what feeds a live stream without an encoder pushing to it. */
export { SOURCE_STARTERS } from './kinds.js';
export { mismatch, openItem, PlaylistSourceError, startPlaylistSource, type PlaylistSourceOptions } from './playlist/index.js';
export { isMulticast, SdpSourceError, startRtpFeed, type FeedTrack, type RtpFeedOptions } from './rtp-feed.js';
export { allowedSources, startSdpSource, type SdpSourceOptions } from './sdp-file-source.js';
export { SourceError } from './source-error.js';
export { endWhenUnwatched } from './idle.js';
export { startUdpSource, type UdpSourceOptions } from './udp-source.js';
