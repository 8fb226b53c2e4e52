/** The protocol-neutral core: paths and what lives there, streams with their tracks and frames,
 * the Source and Reader interfaces, and the events logs, metrics and the admin subscribe to. */
export { PathManager, settingName, type PathManagerOptions, type PathSettings } from './path-manager.js';
export { CoreEvents, type CoreEventMap, type PartyInfo } from './events.js';
export { Frame, type FrameForm } from './frame.js';
export type { Reader, ReaderStats, TrackReader } from './reader.js';
export type { Source } from './source.js';
export { Stream, type StreamState } from './stream.js';
export { StreamRegistry, streamKey } from './stream-registry.js';
export { StreamTrack, type StreamTrackOptions } from './stream-track.js';
