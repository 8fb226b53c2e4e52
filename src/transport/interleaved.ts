/** TCP-interleaved transport: RTP and RTCP as `$` frames on the RTSP connection (RFC 2326 §10.12).
 * The writer is whatever carries the connection's output (plain TCP now, HTTP tunnel or TLS later). */
import type { RtpSink } from './types.js';

export interface FrameWriter {
  /** Writes one `$` frame; returns false once the writer is closed. */
  writeFrame(channel: number, payload: Buffer): void;
  /** Writes bytes already framed as `$` data (a whole live frame at once). */
  writeRaw(framed: Buffer): void;
  /** Bytes queued in user space. */
  readonly writableLength: number;
  readonly closed: boolean;
}

export class InterleavedSink implements RtpSink {
  readonly kind = 'tcp' as const;
  constructor(
    readonly writer: FrameWriter,
    readonly rtpChannel: number,
    readonly rtcpChannel: number,
  ) {}
  get backlog(): number {
    return this.writer.writableLength;
  }
  sendRtp(packet: Buffer): void {
    if (!this.writer.closed) this.writer.writeFrame(this.rtpChannel, packet);
  }
  sendRtcp(packet: Buffer): void {
    if (!this.writer.closed) this.writer.writeFrame(this.rtcpChannel, packet);
  }
  close(): void {
    // The connection owns the socket; the session only stops using the channels.
  }
}
