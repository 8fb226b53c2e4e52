export { AacPacketizer, AAC_MAX_AU_SIZE } from './packetizer.js';
export type { AacPacketizerOptions, AacPayload } from './packetizer.js';
export { AacDepacketizer } from './depacketizer.js';
export type { AacAccessUnit, AacDepacketizerOptions } from './depacketizer.js';
export { aacFormat, parseAudioSpecificConfig } from './format.js';
export type { AacFormatOptions, AudioSpecificConfig } from './format.js';
