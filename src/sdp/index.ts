export { buildSdp, type BuildSdpOptions } from './build.js';
export { parseSdp, parseFmtp, SdpError, type ParsedSdp, type SdpMedia } from './parse.js';
export {
  offerRetransmission,
  rtxPayloadType,
  rtxPayloadTypeOf,
  sdpRetransmitFor,
  viewerRetransmit,
  type SdpRetransmit,
} from './retransmit.js';
