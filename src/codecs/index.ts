export type {
  Depacketizer,
  FormatDescription,
  NalAccessUnit,
  Packetizer,
  RtpPacketInfo,
  RtpPayload,
} from './types.js';
export { DEFAULT_MAX_PAYLOAD_SIZE, MAX_MAX_PAYLOAD_SIZE } from './common/payload-size.js';
export * from './h264/index.js';
export * from './h265/index.js';
export * from './aac/index.js';
export * from './mp4v/index.js';
export * from './h263/index.js';
export * from './amr/index.js';
export * from './mpa/index.js';
export * from './opus/index.js';
export * from './pcm/index.js';
