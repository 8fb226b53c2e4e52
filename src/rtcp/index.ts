export {
  buildApp,
  buildBye,
  buildGenericNack,
  buildReceiverReport,
  buildSdes,
  buildSdesCname,
  buildSenderReport,
  compound,
} from './build.js';
export type { AppInit, SdesChunkInit, SenderReportInit } from './build.js';
export { msToNtp, ntpMiddle32, ntpToMs, NTP_UNIX_EPOCH_OFFSET } from './ntp.js';
export { MAX_NACK_SEQS, parseRtcpCompound } from './parse.js';
export { buildQtAck, isQtAckName, MAX_ACK_SEQS, parseQtAck, type QtAck, type QtAckInit } from './qtak.js';
export { RtcpType, RtpfbFormat, SdesItemType } from './types.js';
export type {
  NtpTime,
  ReportBlock,
  ReportBlockInit,
  RtcpApp,
  RtcpBye,
  RtcpNack,
  RtcpPacket,
  RtcpReceiverReport,
  RtcpSdes,
  RtcpSenderReport,
  RtcpUnknown,
  SdesChunk,
  SdesItem,
} from './types.js';
export { newReceptionStats, updateReception, type ReceptionStats } from './reception.js';
