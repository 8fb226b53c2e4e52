export { OpusPacketizer } from './packetizer.js';
export { opusFormat, parseDOps } from './format.js';
export type { OpusConfig, OpusFormatOptions } from './format.js';
export {
  OggOpusReader,
  OggOpusWriter,
  oggCrc32,
  oggPage,
  opusHeadPacket,
  opusPacketSamples,
  opusTag,
  opusTagsPacket,
  parseOpusHead,
  parseOpusTags,
} from './ogg.js';
export type { OggOpusReaderOptions, OggOpusWriterOptions, OggPageOptions, OpusTags } from './ogg.js';
