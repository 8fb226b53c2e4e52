export { PcmPacketizer } from './packetizer.js';
export type { PcmPacketizerOptions } from './packetizer.js';
export { pcmFormat } from './format.js';
export type { PcmFormatOptions } from './format.js';
export {
  PCM_SAMPLE_ENTRIES,
  pcmBytesPerSample,
  pcmConvert,
  pcmEncodedBytesPerSample,
  pcmEncodingOf,
  pcmFormatFromSampleEntry,
  pcmIsPassThrough,
} from './sample-format.js';
export type { PcmEncoding, PcmSampleFormat } from './sample-format.js';
export { ImaQtDecoder, decodeImaWav, imaWavFramesPerBlock } from './ima-adpcm.js';
