/** Typed parsers and formatters for the RTSP headers the server interprets. Parsers throw
 * HeaderError (carrying the status to answer with); formatters throw RangeError on bad input. */
export { HeaderError } from '../../net/index.js';
export { parseCSeq } from './cseq.js';
export {
  formatNptRange,
  formatRange,
  parseRange,
  type NptRange,
  type ParsedRange,
  type UnsupportedRange,
} from './range.js';
export { formatPrebuffer, formatRate, parsePrebufferMaxTime, parseScale, parseSpeed } from './scale.js';
export { formatRtpInfo, parseRtpInfo, rtpInfoUrl, type RtpInfoEntry } from './rtp-info.js';
export { formatSession, parseSession, sessionIdOf, type SessionHeader } from './session.js';
export {
  formatTransport,
  type FormatTransportOptions,
  parseTransport,
  type TransportMode,
  type TransportParam,
  type TransportSpec,
} from './transport.js';
