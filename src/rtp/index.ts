export {
  readRtpCsrcs,
  readRtpHeader,
  rewriteRtpHeader,
  writeRtpPacket,
  RTP_HEADER_SIZE,
  RTP_VERSION,
} from './packet.js';
export type { RtpHeader, RtpHeaderFields, RtpHeaderRewrite } from './packet.js';
export { randomUint16, randomUint32, seqAdd, seqDiff, seqNewer, tsAdd, tsDiff } from './seq.js';
export { MediaClock, type MediaPosition } from './media-clock.js';
export { RtpOutput, type ReceptionStats, type RetransmitLog, type RtpClock, type RtpOutputOptions } from './output.js';
export { Retransmitter, newRetransmitStats, type RetransmitOptions, type RetransmitStats } from './retransmit.js';
