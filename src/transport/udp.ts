/** UDP unicast transport: one connected RTP/RTCP socket pair per viewer track. Connected sockets
 * skip the per-send address lookup (~35 % faster) and only receive from the viewer. */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { RtpPayload } from '../codecs/types.js';
import type { Logger } from '../logging/index.js';
import { writeRtpPacket, type RtpHeaderFields } from '../rtp/packet.js';
import { nativeFanout, socketFd } from './native-fanout.js';
import type { RtcpHandler, RtpSink } from './types.js';
import { udpSendQueue, type UdpSendQueue } from './udp-send-queue.js';

export interface UdpPortRange {
  /** Lowest local port (an even RTP port is taken from here upward). */
  min: number;
  /** Highest local port. */
  max: number;
}

/** Hands out even/odd local port pairs round-robin so freed ports are not reused at once. */
export class UdpPortAllocator {
  #next: number;
  constructor(readonly range: UdpPortRange) {
    // A random starting point, so servers sharing a machine (or a restart while the old ports
    // linger) do not all probe the same ports first.
    const first = range.min + (range.min % 2);
    const pairs = Math.max(1, Math.floor((range.max - first) / 2));
    this.#next = first + 2 * Math.floor(Math.random() * pairs);
  }
  /** Next candidate even port; wraps around the range. */
  candidate(): number {
    const p = this.#next;
    this.#next += 2;
    if (this.#next + 1 > this.range.max) this.#next = this.range.min + (this.range.min % 2);
    return p;
  }
  get size(): number {
    return Math.floor((this.range.max - this.range.min + 1) / 2);
  }
}

function bind(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    sock.once('error', onError);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

function connect(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.connect(port, address, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

/** Closes a socket whatever state it is in (a bind that failed leaves it half set up). */
export function closeQuietly(sock: Socket): void {
  try {
    sock.close();
  } catch {
    // Already closed.
  }
}

/** A bound RTP/RTCP socket pair on the server. */
export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  rtcpPort: number;
}

/** Binds an even/odd pair on `localAddress` (the address the viewer reached us on). */
export async function bindUdpPair(alloc: UdpPortAllocator, localAddress: string): Promise<UdpPair> {
  const type = isIPv6(localAddress) ? 'udp6' : 'udp4';
  for (let tries = 0; tries < Math.min(alloc.size, 2000); tries++) {
    const port = alloc.candidate();
    const rtp = createSocket({ type, reuseAddr: false });
    const rtcp = createSocket({ type, reuseAddr: false });
    try {
      await bind(rtp, port, localAddress);
      await bind(rtcp, port + 1, localAddress);
      return { rtp, rtcp, rtpPort: port, rtcpPort: port + 1 };
    } catch {
      closeQuietly(rtp);
      closeQuietly(rtcp);
    }
  }
  throw new Error(`no free UDP port pair in ${alloc.range.min}-${alloc.range.max}`);
}

export interface UdpSinkOptions {
  pair: UdpPair;
  clientAddress: string;
  clientRtpPort: number;
  clientRtcpPort: number;
  onRtcp: RtcpHandler;
  log: Logger;
  /** Where packets are batched (default the process-wide queue). */
  queue?: UdpSendQueue;
}

export class UdpSink implements RtpSink {
  readonly kind = 'udp' as const;
  readonly backlog = 0;
  readonly #pair: UdpPair;
  readonly #queue: UdpSendQueue;
  /** The sockets' fds while batching (the pair is bound, so they exist), else -1: dgram. */
  readonly #rtpFd: number;
  readonly #rtcpFd: number;
  #closed = false;
  #errors = 0;

  private constructor(opts: UdpSinkOptions) {
    this.#pair = opts.pair;
    this.#queue = opts.queue ?? udpSendQueue;
    const { rtp, rtcp } = this.#pair;
    const batching = this.#queue.batching;
    this.#rtpFd = batching ? socketFd(rtp) : -1;
    this.#rtcpFd = batching ? socketFd(rtcp) : -1;
    // ICMP port-unreachable from a vanished viewer surfaces as an 'error' event on a later
    // send; it must never escape into the event loop.
    const onErr = (e: Error) => {
      if (this.#errors++ === 0) opts.log.debug({ err: e.message }, 'udp send error');
    };
    rtp.on('error', onErr);
    rtcp.on('error', onErr);
    rtcp.on('message', (msg) => opts.onRtcp(msg));
    // Anything arriving on the RTP port (NAT punch packets) is ignored.
    rtp.on('message', () => undefined);
  }

  static async open(opts: UdpSinkOptions): Promise<UdpSink> {
    const sink = new UdpSink(opts);
    const addr = opts.clientAddress.startsWith('::ffff:') && !isIPv6(opts.pair.rtp.address().address)
      ? opts.clientAddress.slice(7)
      : opts.clientAddress;
    try {
      await connect(opts.pair.rtp, opts.clientRtpPort, addr);
      await connect(opts.pair.rtcp, opts.clientRtcpPort, addr);
    } catch (e) {
      // The pair is ours from here on: a refused SETUP must not leave it bound.
      sink.close();
      throw e;
    }
    return sink;
  }

  /** The RTP socket's fd for the native fan-out, or -1 when that is not available. */
  get nativeFd(): number {
    return nativeFanout && !this.#closed ? socketFd(this.#pair.rtp) : -1;
  }

  get serverPorts(): [number, number] {
    return [this.#pair.rtpPort, this.#pair.rtcpPort];
  }

  sendRtp(packet: Buffer): void {
    if (this.#closed) return;
    if (this.#rtpFd >= 0) this.#queue.append(this.#rtpFd, packet);
    else this.#pair.rtp.send(packet);
  }
  writeRtp(payload: RtpPayload, header: RtpHeaderFields): void {
    if (this.#closed) return;
    if (this.#rtpFd >= 0) this.#queue.appendRtp(this.#rtpFd, payload, header);
    else this.#pair.rtp.send(writeRtpPacket(payload, header));
  }
  sendRtcp(packet: Buffer): void {
    if (this.#closed) return;
    if (this.#rtcpFd >= 0) this.#queue.append(this.#rtcpFd, packet);
    else this.#pair.rtcp.send(packet);
  }
  /** Packets already queued still go (a BYE sent just before); the sockets close after them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { rtp, rtcp } = this.#pair;
    // The session is gone: its RTCP handler must not hear more while the close waits.
    rtcp.removeAllListeners('message');
    this.#queue.closeWhenSent([this.#rtpFd, this.#rtcpFd], () => {
      closeQuietly(rtp);
      closeQuietly(rtcp);
    });
  }
}
