/** An RtpSink for unit tests: keeps what it is sent (only the last `keep` RTP packets, for tests
 * that send many) and counts every RTP packet. */
import type { RtpSink } from '../types.js';

export class MemorySink implements RtpSink {
  readonly kind = 'udp' as const;
  readonly backlog = 0;
  rtp: Buffer[] = [];
  rtcp: Buffer[] = [];
  rtpCount = 0;
  constructor(readonly keep = Infinity) {}
  sendRtp(packet: Buffer): void {
    this.rtpCount++;
    this.rtp.push(packet);
    if (this.rtp.length > this.keep) this.rtp.shift();
  }
  sendRtcp(packet: Buffer): void {
    this.rtcp.push(packet);
  }
  close(): void {}
}
