export { AmrPacketizer } from './packetizer.js';
export type { AmrPacketizerOptions } from './packetizer.js';
export { AmrDepacketizer } from './depacketizer.js';
export type { AmrStorageFrame } from './depacketizer.js';
export { amrFormat, parseDamr } from './format.js';
export type { AmrConfig, AmrFormatOptions } from './format.js';
export { AMR_NB_FRAME_BYTES, AMR_WB_FRAME_BYTES, amrSamplesPerFrame, splitAmrFrames } from './frames.js';
export type { AmrFrame } from './frames.js';
