/** A client's RTP/RTCP socket pair for one track over UDP: bound on the address the RTSP
 * connection uses, taking datagrams only from the server's addresses (anyone else who finds the
 * port is counted and ignored), and sending to the server's ports once they are known. */
import type { RemoteInfo, Socket } from 'node:dgram';
import { bindUdpPair, closeQuietly, type UdpPortAllocator } from '../../transport/index.js';
import { CLIENT_DEFAULTS } from './defaults.js';

export type DatagramHandler = (packet: Buffer) => void;

export class ClientUdpPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
  readonly #allowed: Set<string>;
  #onRtp: DatagramHandler | undefined;
  #onRtcp: DatagramHandler | undefined;
  #foreign = 0;
  #sendErrors = 0;
  #closed = false;

  private constructor(rtp: Socket, rtcp: Socket, rtpPort: number, rtcpPort: number, server: string) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
    this.rtpPort = rtpPort;
    this.rtcpPort = rtcpPort;
    this.#allowed = new Set([server]);
    for (const s of [rtp, rtcp]) {
      try {
        s.setRecvBufferSize(CLIENT_DEFAULTS.udpRecvBufferBytes);
      } catch {
        // The kernel's limit stands; bursts may then be lost, which the relay's counts show.
      }
      // Socket errors (an ICMP port unreachable after a send) must not crash the process.
      s.on('error', () => this.#sendErrors++);
    }
    rtp.on('message', (m: Buffer, r: RemoteInfo) => this.#deliver(m, r, this.#onRtp));
    rtcp.on('message', (m: Buffer, r: RemoteInfo) => this.#deliver(m, r, this.#onRtcp));
  }

  /** Binds an even/odd pair from `ports` on `localAddress`, accepting datagrams from `server`. */
  static async open(ports: UdpPortAllocator, localAddress: string, server: string): Promise<ClientUdpPair> {
    const pair = await bindUdpPair(ports, localAddress);
    return new ClientUdpPair(pair.rtp, pair.rtcp, pair.rtpPort, pair.rtcpPort, server);
  }

  /** Datagrams ignored because they came from an address other than the server's. */
  get foreign(): number {
    return this.#foreign;
  }

  /** Sends that failed (the far end's port closed, an unreachable network). */
  get sendErrors(): number {
    return this.#sendErrors;
  }

  /** Also accepts datagrams from `address` (a Transport `source=` the server named). */
  allow(address: string): void {
    this.#allowed.add(address);
  }

  onRtp(handler: DatagramHandler | undefined): void {
    this.#onRtp = handler;
  }

  onRtcp(handler: DatagramHandler | undefined): void {
    this.#onRtcp = handler;
  }

  /** Sends from now on to the server's RTP/RTCP ports (connected sockets: no lookup per send, and
   * the kernel drops datagrams from anyone else). */
  async connect(address: string, ports: [number, number]): Promise<void> {
    const one = (s: Socket, port: number) =>
      new Promise<void>((resolve, reject) => s.connect(port, address, (e?: Error) => (e ? reject(e) : resolve())));
    await one(this.#rtp, ports[0]);
    await one(this.#rtcp, ports[1]);
  }

  /** After `connect`. */
  sendRtp(packet: Buffer): void {
    this.#send(this.#rtp, packet);
  }

  /** After `connect`. */
  sendRtcp(packet: Buffer): void {
    this.#send(this.#rtcp, packet);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onRtp = undefined;
    this.#onRtcp = undefined;
    closeQuietly(this.#rtp);
    closeQuietly(this.#rtcp);
  }

  #send(s: Socket, packet: Buffer): void {
    if (this.#closed) return;
    s.send(packet, (e) => {
      if (e) this.#sendErrors++;
    });
  }

  #deliver(m: Buffer, r: RemoteInfo, handler: DatagramHandler | undefined): void {
    const from = r.address.startsWith('::ffff:') ? r.address.slice(7) : r.address;
    if (!this.#allowed.has(from)) {
      this.#foreign++;
      return;
    }
    handler?.(m);
  }
}
