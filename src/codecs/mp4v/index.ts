export { Mp4vPacketizer } from './packetizer.js';
export type { Mp4vPacketizerOptions } from './packetizer.js';
export { Mp4vDepacketizer } from './depacketizer.js';
export { FrameAssembler, type VideoFrame } from '../common/frame-assembler.js';
export { mp4vFormat, mp4vProfileLevel } from './format.js';
export type { Mp4vFormatOptions } from './format.js';
