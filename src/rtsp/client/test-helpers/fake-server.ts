/** A tiny scripted RTSP server on node:net for the client's unit tests: each request goes to a
 * handler that answers it (or not, or with garbage); interleaved frames are recorded. */
import { createServer, type Server, type Socket } from 'node:net';
import { Headers, RtspParser, serializeResponse, type InterleavedFrame, type RtspRequest } from '../../message/index.js';

export interface FakeConn {
  socket: Socket;
  /** Answers `req` with its CSeq echoed. */
  reply(req: RtspRequest, status: number, headers?: Record<string, string | number>, body?: string | Buffer): void;
  /** Writes bytes as they are. */
  raw(bytes: string | Buffer): void;
  /** Writes one interleaved frame. */
  frame(channel: number, payload: Buffer): void;
}

export type FakeHandler = (req: RtspRequest, c: FakeConn) => void;

export interface FakeServer {
  port: number;
  url(path?: string): string;
  requests: RtspRequest[];
  frames: InterleavedFrame[];
  sockets: Set<Socket>;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

export async function fakeServer(handler: FakeHandler, onConnect?: (c: FakeConn) => void): Promise<FakeServer> {
  const requests: RtspRequest[] = [];
  const frames: InterleavedFrame[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new RtspParser({ maxBodyBytes: 1 << 20 });
    const c: FakeConn = {
      socket,
      reply(req, status, headers = {}, body) {
        const h = new Headers();
        const cseq = req.headers.get('cseq');
        if (cseq !== undefined) h.set('CSeq', cseq);
        for (const [k, v] of Object.entries(headers)) h.append(k, String(v));
        if (!socket.destroyed) socket.write(serializeResponse({ status, headers: h, body }));
      },
      raw(bytes) {
        if (!socket.destroyed) socket.write(bytes);
      },
      frame(channel, payload) {
        if (socket.destroyed) return;
        const hdr = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
        socket.write(Buffer.concat([hdr, payload]));
      },
    };
    socket.on('data', (d: Buffer) => {
      for (const ev of parser.push(d)) {
        if (ev.type === 'request') {
          requests.push(ev.request);
          handler(ev.request, c);
        } else if (ev.type === 'frame') frames.push({ channel: ev.frame.channel, payload: Buffer.from(ev.frame.payload) });
      }
    });
    onConnect?.(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (path = 'stream') => `rtsp://127.0.0.1:${port}/${path}`,
    requests,
    frames,
    sockets,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A minimal SDP: one H.264 video track per control given. */
export function fakeSdp(controls: (string | undefined)[], sessionControl?: string): string {
  let s = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n';
  if (sessionControl !== undefined) s += `a=control:${sessionControl}\r\n`;
  controls.forEach((c, i) => {
    s += `m=video 0 RTP/AVP ${96 + i}\r\na=rtpmap:${96 + i} H264/90000\r\n`;
    if (c !== undefined) s += `a=control:${c}\r\n`;
  });
  return s;
}

/** An RTP packet (version 2) with `seq` and a few payload bytes. */
export function rtpPacket(seq: number, pt = 96): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 3000, 4);
  b.writeUInt32BE(0x1234, 8);
  return b;
}
