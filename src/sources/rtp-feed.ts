/** A live stream fed by plain RTP over UDP, one port pair per track, unicast or from a multicast
 * group it joins: the machinery of the SDP-described sources (`sdp:<file>` and an `.sdp` file
 * beside the media, `udp://…` with `paths.<name>.sdp`). Each says where its tracks arrive and
 * who may send them; this binds the ports (claimed in the registry, so two streams never share
 * one), publishes the stream, feeds each track what its ports receive, and releases everything
 * when the stream's source is closed or after `idleTimeout` without viewers. */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../logging/index.js';
import type { ParsedSdp } from '../sdp/index.js';
import type { Source, Stream } from '../core/stream.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { streamTracksFrom } from '../core/stream-tracks.js';
import { SourceError } from './source-error.js';
import { endWhenUnwatched } from './idle.js';

/** An RTP/UDP feed that cannot be used (its description) or listened to (its ports). */
export class SdpSourceError extends SourceError {
  override readonly name: string = 'SdpSourceError';
}

/** Whether `a` is a multicast address (224.0.0.0/4, ff00::/8). */
export function isMulticast(a: string): boolean {
  if (isIPv6(a)) return a.toLowerCase().startsWith('ff');
  const first = Number(a.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** `::ffff:1.2.3.4` as `1.2.3.4`, lower-cased. */
export const unmapped = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : a).toLowerCase();

/** Where one track's packets arrive. */
export interface FeedTrack {
  /** RTP port; RTCP arrives at `rtcpPort`. */
  port: number;
  rtcpPort: number;
  /** A multicast group joined, or a local address listened on; undefined: every address. */
  address?: string;
  /** The addresses whose packets are taken (others are counted and dropped); undefined: anyone. */
  senders?: ReadonlySet<string>;
}

/** What every source fed this way is given by its starter. */
export type FeedBase = Pick<
  RtpFeedOptions,
  'key' | 'registry' | 'log' | 'idleTimeout' | 'graceTime' | 'maxFrameBytes'
>;

export interface RtpFeedOptions {
  key: string;
  /** What the feed is, for messages and the stream's source label (`sdp file cam.sdp`). */
  what: string;
  /** `Source.kind` (`sdp-file`, `udp`). */
  kind: string;
  sdp: ParsedSdp;
  /** One per m= section of `sdp`, in order. */
  tracks: readonly FeedTrack[];
  registry: StreamRegistry;
  log: Logger;
  /** Seconds to keep listening with no viewers; absent, it listens until closed. */
  idleTimeout?: number;
  /** The path's graceTime. */
  graceTime: number;
  /** live.maxFrameBytes for its tracks (StreamTrack's default when absent). */
  maxFrameBytes?: number;
}

function bindUdp(port: number, address: string | undefined): Promise<Socket> {
  const group = address !== undefined && isMulticast(address) ? address : undefined;
  const sock = createSocket({
    type: address !== undefined && isIPv6(address) ? 'udp6' : 'udp4',
    reuseAddr: group !== undefined,
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, group ? undefined : address, () => {
      sock.off('error', reject);
      try {
        // IP_ADD_MEMBERSHIP on the default interface; a failure here is a failure to listen.
        if (group) sock.addMembership(group);
      } catch (e) {
        sock.close();
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      try {
        sock.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // A receive buffer capped by the kernel still works at modest bitrates.
      }
      resolve(sock);
    });
  });
}

/** Binds every track's ports and publishes the stream. Throws SdpSourceError: 500 when a port
 * is taken or cannot be listened on (a group that cannot be joined). */
export async function startRtpFeed(opts: RtpFeedOptions): Promise<Stream> {
  const ports = opts.tracks.flatMap((t) => [t.port, t.rtcpPort]);
  try {
    opts.registry.claimPorts(opts.key, ports);
  } catch (e) {
    throw new SdpSourceError(`${opts.what}: ${(e as Error).message}`, 500);
  }
  const tracks = streamTracksFrom(opts.sdp.media, {
    maxFrameBytes: opts.maxFrameBytes,
    log: opts.log.child({ path: opts.key }),
  });
  const sockets: Socket[] = [];
  const timer: { idle?: NodeJS.Timeout } = {};
  const stop = () => {
    if (timer.idle) clearInterval(timer.idle);
    for (const s of sockets) s.close();
    sockets.length = 0;
    opts.registry.releasePorts(opts.key);
  };
  const listen = async (port: number, address: string | undefined): Promise<Socket> => {
    try {
      const s = await bindUdp(port, address);
      sockets.push(s);
      return s;
    } catch (e) {
      // A unicast address that is not one of ours (an SDP written for another host): every one.
      if (
        address === undefined ||
        isMulticast(address) ||
        (e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL'
      )
        throw e;
      return listen(port, undefined);
    }
  };
  try {
    for (const [i, f] of opts.tracks.entries()) {
      const t = tracks[i];
      const rtp = await listen(f.port, f.address);
      const rtcp = await listen(f.rtcpPort, f.address);
      const onErr = (e: Error) => opts.log.debug({ err: e.message }, 'RTP feed socket error');
      const from = f.senders;
      rtp.on('error', onErr).on('message', (p, r) => {
        if (!from || from.has(unmapped(r.address))) t.ingest(p);
        else t.refuseStranger(r.address, false);
      });
      rtcp.on('error', onErr).on('message', (p, r) => {
        if (!from || from.has(unmapped(r.address))) t.onSourceRtcp(p);
        else t.refuseStranger(r.address, true);
      });
    }
  } catch (e) {
    stop();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'a port it names is in use by another program' : err.message;
    throw new SdpSourceError(`${opts.what}: cannot listen: ${why}`, 500);
  }
  const publisher: Source = { kind: opts.kind, label: opts.what, close: stop };
  const stream = opts.registry.publish(opts.key, tracks, publisher, opts.graceTime);
  timer.idle = endWhenUnwatched(stream, opts.idleTimeout);
  const senders = [...new Set(opts.tracks.map((f) => (f.senders ? [...f.senders].join(' ') : 'any')))].join(
    ', ',
  );
  const at = [...new Set(opts.tracks.map((f) => f.address ?? 'every address'))].join(', ');
  opts.log.info(
    { path: opts.key, source: opts.what, ports: ports.join(','), at, from: senders },
    'listening for an SDP-described stream',
  );
  return stream;
}
