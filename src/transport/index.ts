export type { RtpSink, RtcpHandler } from './types.js';
export { UdpSink, UdpPortAllocator, bindUdpPair, closeQuietly, type UdpPair, type UdpPortRange } from './udp.js';
export { InterleavedSink, interleavedForm, interleavedFrame, type FramePackets, type FrameWriter } from './interleaved.js';
