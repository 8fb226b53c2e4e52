export { H265Packetizer, H265_AP, H265_FU } from './packetizer.js';
export type { H265PacketizerOptions } from './packetizer.js';
export { H265Depacketizer } from './depacketizer.js';
export { h265Format, parseHevcDecoderConfig } from './format.js';
export type { H265FormatOptions, HevcDecoderConfig } from './format.js';
