/** Protocol-neutral readers of live streams: a viewer's per-track RTP reader, and what relay
 * destinations (push, UDP forward) send a whole stream on with. */
export { liveOutput, RtpTrackReader, type RtpTrackReaderOptions } from './rtp-track-reader.js';
export { RelayReader, type RelayReaderOptions } from './relay-reader.js';
export { isMulticast, openUdpForward, UdpForwardSink, type UdpForwardTarget } from './udp-forward-sink.js';
