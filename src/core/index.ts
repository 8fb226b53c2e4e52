/** The protocol-neutral core: paths and what lives there, streams with their tracks and frames,
 * the Source and Reader interfaces, and the events logs, metrics and the admin subscribe to. */
export { Admission, type AdmissionAnswer, type AdmissionClient, type AdmissionLimits, type AdmissionOptions } from './admission.js';
export {
  PathManager,
  settingName,
  type PathManagerOptions,
  type PathSettings,
  type PathTarget,
  type SourceStart,
  type SourceStarter,
  type SourceStarters,
} from './path-manager.js';
export { ClientDirectory, MAX_CLIENTS, type ClientFigures, type ClientHandle, type ClientInfo, type ClientKind, type ClientRecord, type ClientRow } from './clients.js';
export { CoreEvents, readerAdded, readerRemoved, type CoreEventMap, type PartyInfo, type RelayState, type RelayStatus } from './events.js';
export { Frame, type FrameForm } from './frame.js';
export type { CountedReader, Reader, ReaderStats, TrackReader } from './reader.js';
export type { Source } from './source.js';
export { SourceControlError, type SourceInfo, type SourceState } from './source-control.js';
export { Stream, type StreamMetadata, type StreamState } from './stream.js';
export { StreamRegistry, streamKey } from './stream-registry.js';
export { StreamTrack, type StreamTrackOptions } from './stream-track.js';
