export type { RtpSink, RtcpHandler } from './types.js';
export { UdpSink, UdpPortAllocator, bindUdpPair, type UdpPair, type UdpPortRange } from './udp.js';
export { InterleavedSink, type FrameWriter } from './interleaved.js';
