/** The client's defaults, in one place; every option that falls back to one names it. */
export const CLIENT_DEFAULTS = {
  /** ms to connect, and for each request's answer. */
  timeoutMs: 10_000,
  /** ms a TEARDOWN may take when a session closes (the far end may be gone already). */
  teardownTimeoutMs: 2_000,
  userAgent: 'Rivulet',
  /** Redirects followed while a session opens (RFC 2326 sets no number; HTTP clients use ~5). */
  maxRedirects: 5,
  /** Largest response head, bytes. */
  maxHeaderBytes: 16_384,
  /** Largest response body, bytes: an SDP of many tracks fits, an endless body does not. */
  maxBodyBytes: 1 << 20,
  /** Requests waiting for their answers at once (pipelined) on one connection. */
  maxPending: 32,
  /** Bytes queued on the socket past which interleaved frames are dropped, not queued. */
  maxWriteBufferBytes: 4 << 20,
  /** ms without any RTP or RTCP from a pulled session before it ends with 'timeout'. */
  inactivityMs: 20_000,
  /** Seconds a server keeps a session without requests when its Session header names none
   * (RFC 2326 §12.37). */
  sessionTimeoutSec: 60,
  /** Local UDP ports for RTP/RTCP pairs when the caller hands no allocator (rtp.portMin/Max's
   * defaults; a relay hands the server's own allocator). */
  udpPorts: { min: 6970, max: 29999 },
  /** Kernel receive buffer asked for each UDP socket, bytes (bursts of a keyframe). */
  udpRecvBufferBytes: 1 << 21,
} as const;
