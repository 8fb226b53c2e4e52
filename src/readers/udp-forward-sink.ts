/** The UDP end of a forward destination (DSS's udp_destination): for one stream track, a
 * socket sending its RTP to host:port and one sending its RTCP to port + 1, unicast or
 * multicast, with a TTL and a local address (the outgoing interface) when asked. Each socket is
 * connected, so a send does no address lookup and the RTCP socket hears the far end's receiver
 * reports only. A failed send is counted, never thrown: a receiver that is not listening (ICMP
 * port unreachable) or a network that is down must not stop the stream or its other readers. */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { RtcpHandler, RtpSink } from '../transport/types.js';
import { closeQuietly } from '../transport/udp.js';

/** Where a forward sends: `paths.<name>.forward` as the config reads it. */
export interface UdpForwardTarget {
  /** Unicast or multicast address, or a host name (resolved when the sockets open). */
  host: string;
  /** RTP port of the first track (RTCP one above; track N at port + 2N). */
  port: number;
  /** Hops: IP_TTL for unicast, IP_MULTICAST_TTL for a group. Absent: the system's (64, 1). */
  ttl?: number;
  /** Local address to send from; for a group, also its outgoing interface. */
  iface?: string;
}

/** Whether `address` is an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address. */
export function isMulticast(address: string): boolean {
  if (isIPv6(address)) return /^ff/i.test(address);
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}


/** A socket bound on `target.iface` (or any address), connected to host:port, with the TTL and
 * multicast interface set once the host's address is known. */
async function openSocket(target: UdpForwardTarget, port: number): Promise<Socket> {
  const s = createSocket({ type: isIPv6(target.host) || (target.iface !== undefined && isIPv6(target.iface)) ? 'udp6' : 'udp4' });
  let failed: (e: Error) => void = () => undefined;
  // Bind errors arrive as 'error' events; one must be listened to before anything can fail.
  s.on('error', (e) => failed(e));
  try {
    await new Promise<void>((resolve, reject) => {
      failed = reject;
      s.bind({ port: 0, address: target.iface }, () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      failed = reject;
      s.connect(port, target.host, (e?: Error) => (e ? reject(e) : resolve()));
    });
    const address = s.remoteAddress().address;
    if (isMulticast(address)) {
      if (target.iface !== undefined) s.setMulticastInterface(target.iface);
      if (target.ttl !== undefined) s.setMulticastTTL(target.ttl);
    } else if (target.ttl !== undefined) s.setTTL(target.ttl);
    return s;
  } catch (e) {
    closeQuietly(s);
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot send to ${target.host} port ${port}${target.iface === undefined ? '' : ` from ${target.iface}`}: ${why}`, { cause: e });
  }
}

export class UdpForwardSink implements RtpSink {
  readonly kind = 'udp' as const;
  /** The address the host resolved to, and the RTP port. */
  readonly address: string;
  readonly port: number;
  /** RTP and RTCP bytes and packets handed to the kernel. */
  bytesOut = 0;
  packetsOut = 0;
  /** Sends that failed, and the last reason. */
  sendErrors = 0;
  lastError: string | undefined;
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
  /** One callback for every send, so a send allocates no closure. */
  readonly #sent = (e: Error | null): void => {
    if (e) this.#failed(e);
  };
  #onRtcp: RtcpHandler | undefined;
  #closed = false;

  private constructor(rtp: Socket, rtcp: Socket, port: number) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
    this.port = port;
    this.address = rtp.remoteAddress().address;
    for (const s of [rtp, rtcp]) {
      s.removeAllListeners('error');
      s.on('error', (e) => this.#failed(e));
    }
    rtcp.on('message', (m: Buffer) => this.#onRtcp?.(m));
  }

  /** Opens the RTP socket to `target.host`:`rtpPort` and the RTCP one to the port above. */
  static async open(target: UdpForwardTarget, rtpPort: number): Promise<UdpForwardSink> {
    const rtp = await openSocket(target, rtpPort);
    let rtcp: Socket;
    try {
      rtcp = await openSocket(target, rtpPort + 1);
    } catch (e) {
      closeQuietly(rtp);
      throw e;
    }
    return new UdpForwardSink(rtp, rtcp, rtpPort);
  }

  /** RTP bytes libuv holds because the kernel's send buffer was full (a link slower than the
   * stream): the reader skips to the next keyframe past its limit instead of letting it grow. */
  get backlog(): number {
    return this.#closed ? 0 : this.#rtp.getSendQueueSize();
  }

  /** Hands RTCP the far end sends (receiver reports) to `handler`. */
  onRtcp(handler: RtcpHandler | undefined): void {
    this.#onRtcp = handler;
  }

  sendRtp(packet: Buffer): void {
    this.#send(this.#rtp, packet);
  }

  sendRtcp(packet: Buffer): void {
    this.#send(this.#rtcp, packet);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onRtcp = undefined;
    closeQuietly(this.#rtp);
    closeQuietly(this.#rtcp);
  }

  #send(s: Socket, packet: Buffer): void {
    if (this.#closed) return;
    this.bytesOut += packet.length;
    this.packetsOut++;
    s.send(packet, this.#sent);
  }

  #failed(e: Error): void {
    this.sendErrors++;
    this.lastError = e.message;
  }
}

/** One sink per track, track N at `target.port` + 2N; all or none (a failure closes those
 * already open and is thrown). */
export async function openUdpForward(target: UdpForwardTarget, tracks: number): Promise<UdpForwardSink[]> {
  const sinks: UdpForwardSink[] = [];
  try {
    for (let i = 0; i < tracks; i++) sinks.push(await UdpForwardSink.open(target, target.port + 2 * i));
  } catch (e) {
    for (const s of sinks) s.close();
    throw e;
  }
  return sinks;
}
