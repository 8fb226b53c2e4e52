/** A scripted RTSP media server for the session tests: DESCRIBE answers a given SDP, SETUP takes
 * TCP or UDP (and records the Transport asked for), PLAY sends packets on every track, ANNOUNCE
 * and RECORD take a push and keep what arrives. Built on `fakeServer`. */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { formatTransport, parseTransport, type TransportSpec } from '../../headers/index.js';
import type { RtspRequest } from '../../message/index.js';
import { fakeServer, rtpPacket, type FakeConn, type FakeServer } from './fake-server.js';

export interface MediaServerOptions {
  sdp: string;
  /** Content-Base of the DESCRIBE answer (none when undefined). */
  contentBase?: (url: string) => string | undefined;
  /** `Session: id;timeout=<n>`. Default 60. */
  sessionTimeout?: number;
  /** OPTIONS Public. */
  public?: string;
  /** RTP packets sent per track on PLAY. Default 5. */
  packets?: number;
  /** Also send from another address (127.0.0.2) on UDP: a stranger the client must ignore. */
  stranger?: boolean;
  /** Send RTCP BYE on every track after the packets. */
  bye?: boolean;
  /** Answers a method itself (return true when it did). */
  override?: (req: RtspRequest, c: FakeConn) => boolean;
}

export interface MediaServer extends FakeServer {
  /** Transports asked for, in order of SETUP. */
  setups: TransportSpec[];
  /** UDP datagrams received on the server ports, per track: [rtp, rtcp]. */
  udpIn: Buffer[][];
  /** Methods received, in order. */
  methods(): string[];
}

const rtcpBye = (ssrc: number) => {
  const b = Buffer.alloc(8);
  b[0] = 0x81;
  b[1] = 203;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
};

async function bound(address: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, r));
  return s;
}

export async function mediaServer(o: MediaServerOptions): Promise<MediaServer> {
  const setups: TransportSpec[] = [];
  const udpIn: Buffer[][] = [];
  const udp: UdpSocket[] = [];
  const stranger = o.stranger === true ? await bound('127.0.0.2') : undefined;
  const packets = o.packets ?? 5;
  const base = await fakeServer((req, c) => {
    if (o.override?.(req, c) === true) return;
    const session = { Session: `S1;timeout=${o.sessionTimeout ?? 60}` };
    switch (req.method) {
      case 'OPTIONS':
        return c.reply(req, 200, o.public === undefined ? {} : { Public: o.public });
      case 'DESCRIBE': {
        const cb = o.contentBase?.(req.uri);
        return c.reply(req, 200, { 'Content-Type': 'application/sdp', ...(cb === undefined ? {} : { 'Content-Base': cb }) }, o.sdp);
      }
      case 'ANNOUNCE':
        return c.reply(req, 200);
      case 'SETUP': {
        const spec = parseTransport(req.headers.get('transport') ?? '')[0];
        setups.push(spec);
        const reply: TransportSpec = { ...spec };
        if (spec.lowerTransport === 'UDP') {
          void (async () => {
            const i = udpIn.length;
            udpIn.push([]);
            const rtp = await bound('127.0.0.1');
            const rtcp = await bound('127.0.0.1');
            udp.push(rtp, rtcp);
            rtp.on('message', (m) => udpIn[i].push(m));
            rtcp.on('message', (m) => udpIn[i].push(m));
            reply.serverPort = [rtp.address().port, rtcp.address().port];
            c.reply(req, 200, { Transport: formatTransport(reply, { bareMode: true }), ...session });
          })();
          return;
        }
        return c.reply(req, 200, { Transport: formatTransport(reply, { bareMode: true }), ...session });
      }
      case 'PLAY': {
        c.reply(req, 200, { ...session, Range: 'npt=0.000-' });
        setups.forEach((spec, t) => {
          for (let n = 0; n < packets; n++) {
            const p = rtpPacket(n, 96 + t);
            if (spec.interleaved) c.frame(spec.interleaved[0], p);
            else if (spec.clientPort) {
              udp[2 * t].send(p, spec.clientPort[0], '127.0.0.1');
              stranger?.send(p, spec.clientPort[0], '127.0.0.1');
            }
          }
          if (o.bye === true) {
            if (spec.interleaved) c.frame(spec.interleaved[1], rtcpBye(t));
            else if (spec.clientPort) udp[2 * t + 1].send(rtcpBye(t), spec.clientPort[1], '127.0.0.1');
          }
        });
        return;
      }
      default:
        return c.reply(req, 200, session);
    }
  });
  const closeBase = base.close.bind(base);
  return Object.assign(base, {
    setups,
    udpIn,
    methods: () => base.requests.map((r) => r.method),
    close: async () => {
      for (const s of [...udp, ...(stranger ? [stranger] : [])]) s.close();
      await closeBase();
    },
  });
}
