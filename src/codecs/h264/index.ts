export { H264Packetizer, H264_FU_A, H264_STAP_A } from './packetizer.js';
export type { H264PacketizerOptions } from './packetizer.js';
export { H264Depacketizer } from './depacketizer.js';
export { h264Format, parseAvcDecoderConfig } from './format.js';
export type { AvcDecoderConfig, H264FormatOptions } from './format.js';
export { splitAnnexB, splitLengthPrefixed } from '../common/nal-units.js';
export type { NalLengthSize } from '../common/nal-units.js';
