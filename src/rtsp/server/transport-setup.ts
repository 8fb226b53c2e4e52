/** Transport negotiation shared by every kind of session: pick the client's first usable
 * Transport spec and create the sink (UDP pair or interleaved channels) it describes. */
import type { Config } from '../../config/index.js';
import type { Logger } from '../../logging/index.js';
import { MulticastError, MulticastGroups, type MulticastMemberSink } from '../../readers/multicast-group.js';
import { bindUdpPair, InterleavedSink, UdpSink, type UdpPair, type UdpPortAllocator } from '../../transport/index.js';
import type { RtpSink } from '../../transport/types.js';
import type { RetransmitLog, RtpOutput } from '../../rtp/output.js';
import { reliableWindowBytes } from '../../rtp/reliable-udp.js';
import { formatTransport, HeaderError, parseTransport, type TransportSpec } from '../headers/index.js';
import type { RtspConnection } from './connection.js';
import { RtspError } from './errors.js';

export function stripMapped(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Why a UDP spec's client_port cannot be sent to, or undefined when it can. Checked before
 * anything is bound, so a refused SETUP never holds server ports. */
function clientPortProblem(ports: [number, number]): RtspError | undefined {
  const [rtp, rtcp] = ports;
  if (rtp < 1 || rtcp < 1 || rtp > 65535 || rtcp > 65535) {
    return new RtspError(400, `client_port=${rtp}-${rtcp} is outside 1-65535`);
  }
  if (rtp % 2 !== 0) {
    return new RtspError(461, `client_port=${rtp}-${rtcp}: the RTP port must be even (RTCP takes the odd one above)`, false, { Unsupported: 'transport' });
  }
  if (rtp === rtcp) {
    return new RtspError(461, `client_port=${rtp}-${rtcp}: RTP and RTCP need two ports`, false, { Unsupported: 'transport' });
  }
  return undefined;
}

/** Why a file is not sent by multicast: the default answer to a multicast spec. */
export const NO_MULTICAST_FOR_FILES =
  'multicast delivery is only offered for live streams: a file plays to each viewer from its own position (ask for RTP/AVP unicast over UDP, or RTP/AVP/TCP)';

/** The first spec of the Transport header we can serve, and whether it is TCP interleaved.
 * `record` accepts mode=record/receive (publishers); otherwise only play. On a `secure` (TLS)
 * connection only interleaved transport is offered: media must not leave the encryption.
 * `multicast`: true when a multicast spec may be taken (a live stream with multicast on), else
 * why not (said in the 461 when nothing else was offered). */
export function pickTransport(
  header: string | undefined,
  record: boolean,
  secure = false,
  multicast: true | string = NO_MULTICAST_FOR_FILES,
): { spec: TransportSpec; tcp: boolean } {
  if (!header) throw new RtspError(461, 'SETUP without a Transport header');
  let specs: TransportSpec[];
  try {
    specs = parseTransport(header);
  } catch (e) {
    if (e instanceof HeaderError) throw new RtspError(400, `bad Transport header: ${e.message}`);
    throw e;
  }
  let why = 'no supported transport offered (RTP/AVP unicast over UDP, or RTP/AVP/TCP interleaved)';
  let missingPort = false;
  let badPort: RtspError | undefined;
  for (const spec of specs) {
    const proto = `${spec.protocol}/${spec.profile}`;
    // RTP/AVPF (RFC 4585): AVP with feedback; a UDP viewer asking for it gets retransmission.
    if (proto !== 'RTP/AVP' && !(proto === 'RTP/AVPF' && !record)) {
      why = `${proto}/${spec.lowerTransport} is not supported (RTP/AVP over UDP or TCP is, and RTP/AVPF for viewers)`;
      continue;
    }
    const mode = spec.mode ?? 'play';
    if (record ? mode === 'play' : mode !== 'play') {
      why = record ? 'publishing needs mode=record' : `mode=${mode} is only valid for publishing to a live path`;
      continue;
    }
    if (spec.lowerTransport === 'TCP') return { spec, tcp: true };
    if (spec.lowerTransport === 'UDP') {
      if (secure) {
        why = 'RTSPS carries media only inside TLS: use RTP/AVP/TCP interleaved, not UDP';
        continue;
      }
      if (spec.delivery === 'multicast') {
        if (!record && multicast === true) return { spec, tcp: false };
        why = !record && multicast !== true ? multicast : 'publishing by multicast is not supported (send RTP/AVP unicast over UDP, or RTP/AVP/TCP)';
        continue;
      }
      if (!spec.clientPort) {
        // A later spec may still be usable; only if none is, this is the client's mistake.
        missingPort = true;
        continue;
      }
      const problem = clientPortProblem(spec.clientPort);
      if (problem) {
        badPort ??= problem;
        continue;
      }
      return { spec, tcp: false };
    }
  }
  if (badPort) throw badPort;
  if (missingPort) throw new RtspError(400, 'UDP transport without client_port');
  throw new RtspError(461, why, false, { Unsupported: 'transport' });
}

/** Is this a SETUP for publishing (mode=record/receive in any offered spec)? */
export function wantsRecord(header: string | undefined): boolean {
  if (!header) return false;
  try {
    return parseTransport(header).some((s) => s.mode === 'record' || s.mode === 'receive');
  } catch {
    return false;
  }
}

export interface ViewerSink {
  sink: RtpSink;
  /** The Transport reply without its SSRC and mode (`viewerTransport` adds them). */
  reply: TransportSpec;
  channels?: [number, number];
  /** A unicast UDP viewer that set up with RTP/AVPF: its NACKs may be answered (retransmission). */
  feedback?: boolean;
}

/** The Transport header answering a viewer's SETUP: the sink's reply with the track's SSRC and
 * `mode="PLAY"`. */
export function viewerTransport(v: ViewerSink, ssrc: number): string {
  return formatTransport({ ...v.reply, ssrc, mode: 'play' });
}

/** The Transport header answering a publisher's SETUP over TCP (`mode=record`, as always sent). */
export function recordTcpTransport(channels: [number, number]): string {
  return formatTransport({ protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: channels, mode: 'record' }, { bareMode: true });
}

/** Creates where a viewer's track goes: a connected UDP pair, channels on the connection, or
 * (a multicast spec) a place in the stream's group, which `joinGroup` gives. The group's address,
 * ports and TTL are the server's: a client's own `destination`, `port` or `ttl` are not taken
 * (anyone could otherwise aim the server's media at a group or host of their choosing). */
export async function viewerSink(
  spec: TransportSpec,
  tcp: boolean,
  conn: RtspConnection,
  ports: UdpPortAllocator,
  onRtcp: (pkt: Buffer) => void,
  joinGroup?: () => Promise<MulticastMemberSink>,
): Promise<ViewerSink> {
  if (!tcp && spec.delivery === 'multicast') {
    if (!joinGroup) throw new RtspError(461, NO_MULTICAST_FOR_FILES, false, { Unsupported: 'transport' });
    return multicastSink(joinGroup);
  }
  if (tcp) {
    const channels = conn.allocateChannels(spec.interleaved);
    return {
      sink: new InterleavedSink(conn, channels[0], channels[1]),
      reply: { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: channels },
      channels,
    };
  }
  const [crtp, crtcp] = spec.clientPort!;
  let pair: UdpPair;
  try {
    pair = await bindUdpPair(ports, conn.localAddress);
  } catch (e) {
    throw new RtspError(453, (e as Error).message);
  }
  let udp: UdpSink;
  try {
    // Closes the pair itself when the client's ports cannot be connected to.
    udp = await UdpSink.open({ pair, clientAddress: conn.remoteAddress, clientRtpPort: crtp, clientRtcpPort: crtcp, onRtcp, log: conn.log });
  } catch (e) {
    throw new RtspError(461, `cannot send to client_port=${crtp}-${crtcp}: ${(e as Error).message}`, false, { Unsupported: 'transport' });
  }
  const [srtp, srtcp] = udp.serverPorts;
  return {
    sink: udp,
    // The profile echoed: GStreamer turns retransmission on only when the reply says AVPF.
    reply: { protocol: 'RTP', profile: spec.profile, lowerTransport: 'UDP', delivery: 'unicast', source: stripMapped(conn.localAddress), clientPort: [crtp, crtcp], serverPort: [srtp, srtcp] },
    feedback: spec.profile === 'AVPF',
  };
}

async function multicastSink(joinGroup: () => Promise<MulticastMemberSink>): Promise<ViewerSink> {
  let m: MulticastMemberSink;
  try {
    m = await joinGroup();
  } catch (e) {
    if (e instanceof MulticastError) throw new RtspError(453, e.message);
    throw e;
  }
  return {
    sink: m,
    reply: { protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', delivery: 'multicast', destination: m.address, port: [m.port, m.port + 1], ttl: m.ttl },
  };
}

/** What QuickTime's reliable UDP (DSS "Skip Protection") is called in `x-Accept-Retransmit`
 * (DESCRIBE answers) and `x-Retransmit` (SETUP). */
export const OUR_RETRANSMIT = 'our-retransmit';

/** Does a SETUP's `x-Retransmit` ask for reliable UDP (`our-retransmit`, with or without its
 * `;window=<KB>`)? */
export function asksReliableUdp(header: string | undefined): boolean {
  return header !== undefined && header.split(';')[0].trim().toLowerCase() === OUR_RETRANSMIT;
}

/** Reliable UDP for a viewer's track, when its SETUP asked for it (`xRetransmit`), the feature
 * is on and the track goes by unicast UDP (not TCP, not a multicast group): the output keeps and
 * resends its packets (`RtpOutput.enableReliableUdp`), with the window DSS picked for the
 * stream's bit rate (`bitrateKbps`, the presentation's; the client's `window=` is not used, as in
 * DSS 6.0.3). Returns the header to echo verbatim in the SETUP answer, or undefined (plain UDP,
 * nothing echoed). */
export function reliableUdpFor(
  xRetransmit: string | undefined,
  output: RtpOutput,
  settings: Config['retransmit'],
  bitrateKbps: number | undefined,
  log?: RetransmitLog,
): string | undefined {
  if (!settings.reliableUdp.enabled || !asksReliableUdp(xRetransmit) || !(output.sink instanceof UdpSink)) return undefined;
  output.enableReliableUdp(
    { historyMs: settings.historyMs, historyBytes: settings.historyBytes, windowBytes: reliableWindowBytes(bitrateKbps), slowStart: settings.reliableUdp.slowStart },
    log,
  );
  return xRetransmit;
}

/** A presentation's bit rate from its tracks' (those known), for DSS's reliable-UDP window;
 * undefined when none is known. */
export function presentationKbps(rates: readonly (number | undefined)[]): number | undefined {
  const known = rates.filter((r): r is number => r !== undefined);
  return known.length > 0 ? known.reduce((a, b) => a + b, 0) : undefined;
}

/** Binds where a publisher's UDP packets arrive (unconnected: encoders may send from any port,
 * but only from the address of the RTSP connection that set them up; anything else goes to
 * `onStranger`, so nobody can inject media or keep a dead publisher alive with stray RTCP). */
export async function publisherUdp(
  spec: TransportSpec,
  conn: RtspConnection,
  ports: UdpPortAllocator,
  onRtp: (pkt: Buffer) => void,
  onRtcp: (pkt: Buffer) => void,
  onStranger: (address: string, rtcp: boolean) => void,
): Promise<{ transport: string; close: () => void }> {
  let pair: UdpPair;
  try {
    pair = await bindUdpPair(ports, conn.localAddress);
  } catch (e) {
    throw new RtspError(453, (e as Error).message);
  }
  const onErr = (e: Error) => conn.log.debug({ err: e.message }, 'publisher udp error');
  const publisher = stripMapped(conn.remoteAddress);
  pair.rtp.on('error', onErr).on('message', (p, from) => {
    if (stripMapped(from.address) === publisher) onRtp(p);
    else onStranger(from.address, false);
  });
  pair.rtcp.on('error', onErr).on('message', (p, from) => {
    if (stripMapped(from.address) === publisher) onRtcp(p);
    else onStranger(from.address, true);
  });
  for (const s of [pair.rtp, pair.rtcp]) {
    try {
      s.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // The kernel caps it (net.core.rmem_max); the default still works at modest bitrates.
    }
  }
  const [crtp, crtcp] = spec.clientPort!;
  return {
    transport: formatTransport(
      { protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [crtp, crtcp], serverPort: [pair.rtpPort, pair.rtcpPort], mode: 'record' },
      { bareMode: true },
    ),
    close: () => {
      pair.rtp.close();
      pair.rtcp.close();
    },
  };
}

/** The multicast groups of one server's live viewers, reading `multicast:` (and the RTCP
 * interval and viewer queue limit) from the running config at each use. */
export function multicastGroups(d: { config: Config; cname: string; log: Logger }): MulticastGroups {
  return new MulticastGroups({
    settings: () => d.config.multicast,
    rtcpInterval: () => d.config.rtp.rtcpInterval,
    queueLimit: () => d.config.live.viewerQueueBytes,
    cname: d.cname,
    log: d.log.child({ component: 'multicast' }),
  });
}
