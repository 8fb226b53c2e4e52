/** TCP-interleaved transport: RTP and RTCP as `$` frames on the RTSP connection (RFC 2326 §10.12).
 * The writer is whatever carries the connection's output (plain TCP now, HTTP tunnel or TLS later). */
import type { RtpPayload } from '../codecs/types.js';
import { writeRtpPacket, type RtpHeaderFields } from '../rtp/packet.js';
import type { RtpSink } from './types.js';

export interface FrameWriter {
  /** Writes one `$` frame; returns false once the writer is closed. */
  writeFrame(channel: number, payload: Buffer): void;
  /** Writes one RTP packet as a `$` frame from its header fields and payload parts (see
   * RtpSink.writeRtp); a writer without it is given built packets. */
  writeRtpFrame?(channel: number, payload: RtpPayload, header: RtpHeaderFields): void;
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
  writeRtp(payload: RtpPayload, header: RtpHeaderFields): void {
    const w = this.writer;
    if (w.closed) return;
    if (w.writeRtpFrame) w.writeRtpFrame(this.rtpChannel, payload, header);
    else w.writeFrame(this.rtpChannel, writeRtpPacket(payload, header));
  }
  close(): void {
    // The connection owns the socket; the session only stops using the channels.
  }
}

/** The packets of one frame, as the interleaved writer needs them (a live frame is one). */
export interface FramePackets {
  readonly packets: readonly Buffer[];
  /** Sum of the packet lengths. */
  readonly bytes: number;
}

/** A frame as RTSP interleaved data on `channel` (`$`, channel, 16-bit length, packet, ...), in
 * one Buffer so a TCP reader sends a whole frame with one write. */
export function interleavedFrame(frame: FramePackets, channel: number): Buffer {
  const b = Buffer.allocUnsafe(frame.bytes + 4 * frame.packets.length);
  let o = 0;
  for (const p of frame.packets) {
    b[o] = 0x24;
    b[o + 1] = channel;
    b.writeUInt16BE(p.length, o + 2);
    p.copy(b, o + 4);
    o += 4 + p.length;
  }
  return b;
}

const forms: ((frame: FramePackets) => Buffer)[] = [];

/** `interleavedFrame` on one channel as the same function for every caller, so a frame that
 * memoizes its forms by builder (`Frame.form`) builds it once for all readers on that
 * channel. Throws RangeError on a channel outside 0-255. */
export function interleavedForm(channel: number): (frame: FramePackets) => Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`interleaved channel ${channel} is outside 0-255`);
  return (forms[channel] ??= (f) => interleavedFrame(f, channel));
}
