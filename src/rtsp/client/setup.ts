/** SETUP of one track, shared by pulled and pushed sessions: the Transport asked for (interleaved
 * channels 2i/2i+1 on the connection, or a bound UDP pair's client ports), the server's answer
 * checked against it, the Session adopted. */
import type { SdpMedia } from '../../sdp/index.js';
import { UdpPortAllocator } from '../../transport/index.js';
import { formatTransport, HeaderError, parseTransport, type TransportSpec } from '../headers/index.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError } from './errors.js';
import { expectOk, type ClientOptions } from './open.js';
import type { SessionControl } from './session-control.js';
import { ClientUdpPair } from './udp.js';

export type ClientTransport = 'tcp' | 'udp';

/** Options of pulled and pushed sessions. */
export interface SessionOptions extends ClientOptions {
  /** RTP over the RTSP connection (interleaved) or over UDP. Default 'tcp'. */
  transport?: ClientTransport;
  /** Local UDP port pairs for 'udp'. Default: one allocator over CLIENT_DEFAULTS.udpPorts shared
   * by every session that names none. */
  udpPorts?: UdpPortAllocator;
  /** ms for TEARDOWN's answer on close. Default CLIENT_DEFAULTS.teardownTimeoutMs. */
  teardownTimeoutMs?: number;
}

/** What every track of a session keeps. */
export interface ClientTrack {
  /** Position among the description's media. */
  readonly index: number;
  readonly media: SdpMedia;
  /** The control URL SETUP went to. */
  readonly url: string;
  /** The Transport the server answered. */
  readonly transport: TransportSpec;
  /** RTP and RTCP channels over the connection ('tcp'). */
  readonly channels?: [number, number];
  /** The server's RTP and RTCP ports ('udp', when it named them). */
  readonly serverPorts?: [number, number];
}

let sharedPorts: UdpPortAllocator | undefined;

function portsOf(options: SessionOptions): UdpPortAllocator {
  return options.udpPorts ?? (sharedPorts ??= new UdpPortAllocator(CLIENT_DEFAULTS.udpPorts));
}

export interface SetupResult {
  spec: TransportSpec;
  channels?: [number, number];
  /** The track's UDP pair ('udp'), owned by the session. */
  pair?: ClientUdpPair;
}

/** Sends SETUP for track `index` at `url`. Throws RtspClientError: 'transport' when the server
 * refuses the transport (461) or answers another one, 'status', 'protocol'. */
export async function setupTrack(
  control: SessionControl,
  url: string,
  index: number,
  mode: 'play' | 'record',
  options: SessionOptions,
): Promise<SetupResult> {
  const conn = control.conn;
  const tcp = (options.transport ?? 'tcp') === 'tcp';
  const spec: TransportSpec = { protocol: 'RTP', profile: 'AVP', lowerTransport: tcp ? 'TCP' : 'UDP', delivery: 'unicast' };
  let pair: ClientUdpPair | undefined;
  if (tcp) spec.interleaved = [2 * index, 2 * index + 1];
  else {
    const ports = portsOf(options);
    try {
      pair = await ClientUdpPair.open(ports, conn.localAddress, conn.remoteAddress);
    } catch (e) {
      throw new RtspClientError('transport', `track ${index} of ${conn.url.display}: ${(e as Error).message}`);
    }
    control.own(pair);
    spec.clientPort = [pair.rtpPort, pair.rtcpPort];
  }
  if (mode === 'record') spec.mode = 'record';
  // mode=record bare, as ffmpeg and GStreamer write it: servers in the wild expect that form.
  const res = await conn.request('SETUP', url, { Transport: formatTransport(spec, { bareMode: true }), ...control.headers() });
  const where = `SETUP ${conn.url.display} track ${index}`;
  if (res.status === 461)
    throw new RtspClientError('transport', `${where}: the server refuses RTP over ${tcp ? 'TCP' : 'UDP'} (461)`, 461);
  expectOk(res, 'SETUP', url);
  const raw = res.headers.get('transport');
  if (raw === undefined) throw new RtspClientError('transport', `${where}: answered without a Transport header`);
  let reply: TransportSpec;
  try {
    reply = parseTransport(raw)[0];
  } catch (e) {
    if (!(e instanceof HeaderError)) throw e;
    throw new RtspClientError('transport', `${where}: unreadable Transport ${JSON.stringify(raw.slice(0, 200))}: ${e.message}`);
  }
  if ((reply.lowerTransport === 'TCP') !== tcp)
    throw new RtspClientError('transport', `${where}: asked for ${formatTransport(spec)}, answered ${raw.slice(0, 200)}`);
  control.adopt(res);
  if (tcp) return { spec: reply, channels: reply.interleaved ?? spec.interleaved };
  if (reply.source !== undefined && reply.source !== '') pair!.allow(reply.source);
  return { spec: reply, pair };
}
