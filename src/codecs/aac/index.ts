export { AacPacketizer, AAC_MAX_AU_SIZE } from './packetizer.js';
export type { AacPacketizerOptions, AacPayload } from './packetizer.js';
export { AacDepacketizer } from './depacketizer.js';
export type { AacAccessUnit, AacDepacketizerOptions } from './depacketizer.js';
export { aacFormat, parseAudioSpecificConfig } from './format.js';
export type { AacFormatOptions, AudioSpecificConfig } from './format.js';
export { AdtsFramer, adtsAudioSpecificConfig, adtsHeader } from './adts.js';
export type { AdtsConfig, AdtsFrame } from './adts.js';
