/** RTSP 1.0 wire messages: types, incremental parser, serialisation. */
export { Headers, type InterleavedFrame, type RtspRequest, type RtspResponse } from './types.js';
export {
  RtspParser,
  type ParserDataEvent,
  type ParserErrorEvent,
  type ParserEvent,
  type ParserFrameEvent,
  type ParserRequestEvent,
  type ParserResponseEvent,
  type RtspParserOptions,
} from './parser.js';
export {
  encodeInterleavedHeader,
  reasonPhrase,
  serializeRequest,
  serializeResponse,
  type OutgoingRequest,
} from './serialize.js';
