/** A scripted RTSP client on a raw socket, for checking the server's exact answers. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { RtspParser } from '../../src/rtsp/message/parser.js';
import { Headers, type InterleavedFrame } from '../../src/rtsp/message/types.js';

export interface Reply {
  status: number;
  reason: string;
  headers: Headers;
  body: string;
}

export class RawRtspClient {
  /** A TCP socket, or any byte stream carrying RTSP (an HTTP tunnel, TLS). */
  readonly socket: Duplex & { readonly localPort?: number };
  readonly frames: InterleavedFrame[] = [];
  #parser = new RtspParser({ mode: 'client', maxBodyBytes: 1 << 20 });
  #waiting: ((r: Reply) => void)[] = [];
  #replies: Reply[] = [];
  #cseq = 1;
  closed: Promise<void>;

  private constructor(socket: Duplex & { readonly localPort?: number }) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      for (const ev of this.#parser.push(d)) {
        if (ev.type === 'frame') this.frames.push({ channel: ev.frame.channel, payload: Buffer.from(ev.frame.payload) });
        else if (ev.type === 'response') {
          const r = ev.response;
          const reply: Reply = { status: r.status, reason: r.reason, headers: r.headers, body: r.body.toString('utf8') };
          const w = this.#waiting.shift();
          if (w) w(reply);
          else this.#replies.push(reply);
        }
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((r) => socket.on('close', () => r()));
  }

  /** A client over an already open stream. */
  static over(stream: Duplex): RawRtspClient {
    return new RawRtspClient(stream);
  }

  /** `localAddress` binds the client side, e.g. 127.0.0.2 to come from a second loopback address. */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawRtspClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, localAddress }, () => resolve(new RawRtspClient(s)));
      s.once('error', reject);
    });
  }

  /** Next response from the server (in order). */
  next(timeoutMs = 10_000): Promise<Reply> {
    const ready = this.#replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no RTSP response in time')), timeoutMs);
      this.#waiting.push((r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  /** Sends raw bytes exactly as given. */
  raw(text: string | Buffer): void {
    this.socket.write(text);
  }

  request(method: string, uri: string, headers: Record<string, string> = {}, body = ''): Promise<Reply> {
    const h = { CSeq: String(this.#cseq++), 'User-Agent': 'rivulet-test', ...headers };
    let text = `${method} ${uri} RTSP/1.0\r\n`;
    for (const [k, v] of Object.entries(h)) text += `${k}: ${v}\r\n`;
    if (body) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    text += `\r\n${body}`;
    this.raw(text);
    return this.next();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An RTP/RTCP receiving socket pair on 127.0.0.1 (even RTP port). */
export interface UdpReceiver {
  rtp: UdpSocket;
  rtcp: UdpSocket;
  rtpPort: number;
  rtpPackets: Buffer[];
  rtcpPackets: Buffer[];
  close(): void;
}

export async function udpReceiver(): Promise<UdpReceiver> {
  for (let i = 0; i < 50; i++) {
    const port = 40000 + 2 * Math.floor(Math.random() * 10000);
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    try {
      await new Promise<void>((res, rej) => {
        rtp.once('error', rej);
        rtp.bind(port, '127.0.0.1', () => res());
      });
      await new Promise<void>((res, rej) => {
        rtcp.once('error', rej);
        rtcp.bind(port + 1, '127.0.0.1', () => res());
      });
    } catch {
      rtp.close();
      rtcp.close();
      continue;
    }
    const r: UdpReceiver = {
      rtp,
      rtcp,
      rtpPort: port,
      rtpPackets: [],
      rtcpPackets: [],
      close: () => {
        rtp.close();
        rtcp.close();
      },
    };
    rtp.on('message', (m) => r.rtpPackets.push(m));
    rtcp.on('message', (m) => r.rtcpPackets.push(m));
    return r;
  }
  throw new Error('no free UDP port pair');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `pred` is true or the time runs out. */
export async function until(pred: () => boolean, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}
