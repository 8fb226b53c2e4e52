export { Mp4vPacketizer } from './packetizer.js';
export type { Mp4vPacketizerOptions } from './packetizer.js';
export { Mp4vDepacketizer, FrameAssembler } from './depacketizer.js';
export type { VideoFrame } from './depacketizer.js';
export { mp4vFormat, mp4vProfileLevel } from './format.js';
export type { Mp4vFormatOptions } from './format.js';
