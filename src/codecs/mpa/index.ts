export { MpaPacketizer } from './packetizer.js';
export type { MpaPacketizerOptions } from './packetizer.js';
export { MpaDepacketizer } from './depacketizer.js';
export type { MpaFrame } from './depacketizer.js';
export { mpaFormat, MPA_PAYLOAD_TYPE } from './format.js';
export { parseMpegAudioHeader, sameMpegAudioStream } from './header.js';
export type { MpegAudioHeader } from './header.js';
export { DEFAULT_MAX_PENDING_BYTES, MpegAudioFramer, SyncFramer } from './framer.js';
export type { AudioFrame, FramerOptions, SyncCodec } from './framer.js';
