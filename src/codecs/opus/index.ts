export { OpusPacketizer } from './packetizer.js';
export { opusFormat, parseDOps } from './format.js';
export type { OpusConfig, OpusFormatOptions } from './format.js';
