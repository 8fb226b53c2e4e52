import type { RtpPayload } from '../codecs/types.js';
import type { RtpHeaderFields } from '../rtp/packet.js';

/** Where one track's RTP and RTCP go for one viewer: a pair of UDP sockets, or two channels of
 * an RTSP connection (TCP interleaved, later HTTP tunnel or TLS). Sessions and sources only see
 * this interface, so new transports need no change to them. */
export interface RtpSink {
  readonly kind: 'udp' | 'tcp';
  sendRtp(packet: Buffer): void;
  /** Sends one RTP packet given as its header fields and payload parts, for a sink that writes
   * them straight into buffers of its own (no Buffer per packet). The fields are read during the
   * call; the payload's parts must stay unchanged until sent (they are views of file data). */
  writeRtp?(payload: RtpPayload, header: RtpHeaderFields): void;
  sendRtcp(packet: Buffer): void;
  /** Bytes accepted but not yet handed to the kernel (TCP backpressure); 0 for UDP. */
  readonly backlog: number;
  /** The RTP socket's descriptor for the native UDP fan-out, or -1 (or absent) when the sink
   * has none: TCP, or the native helper is not built. */
  readonly nativeFd?: number;
  close(): void;
}

/** Receives RTCP (and anything else) a viewer sends back on a track. */
export type RtcpHandler = (packet: Buffer) => void;
