/** A live stream fed by plain RTP over UDP and described by an .sdp file (an encoder sending to
 * this server, or to a multicast group the server joins): one in the media folder, or one a
 * `paths:` entry names as its `source: sdp:<file>`. It starts listening when the first viewer
 * asks and stops once no viewer has watched for a while, or, configured with
 * `sourceOnDemand: false`, listens from the server's start. */
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIP, isIPv6 } from 'node:net';
import { parse as parseSdpText } from 'sdp-transform';
import type { Logger } from '../logging/index.js';
import { parseSdp, type ParsedSdp } from '../sdp/index.js';
import { StreamTrack } from '../core/stream-track.js';
import type { Source, Stream } from '../core/stream.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { SourceError } from './source-error.js';
import { endWhenUnwatched } from './idle.js';

export class SdpSourceError extends SourceError {
  override readonly name: string = 'SdpSourceError';
}

function isMulticast(a: string): boolean {
  if (isIPv6(a)) return a.toLowerCase().startsWith('ff');
  const first = Number(a.split('.')[0]);
  return first >= 224 && first <= 239;
}

function bindUdp(port: number, address: string | undefined, group: string | undefined): Promise<Socket> {
  const type = (group ?? address) && isIPv6((group ?? address)!) ? 'udp6' : 'udp4';
  const sock = createSocket({ type, reuseAddr: Boolean(group) });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, group ? undefined : address, () => {
      sock.off('error', reject);
      try {
        if (group) sock.addMembership(group);
        sock.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // A receive buffer capped by the kernel still works at modest bitrates.
      }
      resolve(sock);
    });
  });
}

const unmapped = (a: string) => (a.startsWith('::ffff:') ? a.slice(7) : a).toLowerCase();

function isLoopbackOrAny(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || a === '::1' || a.startsWith('127.');
}

/** Who may send each m= port's packets, as the SDP says; undefined means anyone.
 * `a=source-filter: incl` (RFC 4570, media level first, then session level) is what it is for.
 * Failing that, the o= origin address, which is usually the encoder's own, unless it is
 * unspecified (0.0.0.0: "any") or loopback: ffmpeg writes 127.0.0.1 there wherever it runs, so
 * an SDP copied from an encoder on another host would otherwise refuse its own stream.
 * Host names are not resolved, and `excl` lists are not honoured (a deny list stops nobody). */
export function allowedSources(text: string): Map<number, Set<string> | undefined> {
  type Filter = { filterMode?: string; srcList?: string | number };
  const ips = (f: Filter | undefined) => {
    if (f?.filterMode !== 'incl') return undefined;
    const list = String(f.srcList ?? '').split(/\s+/).filter((a) => isIP(a) !== 0).map(unmapped);
    return list.length ? new Set(list) : undefined;
  };
  const out = new Map<number, Set<string> | undefined>();
  const sdp = parseSdpText(text);
  const o = sdp.origin?.address !== undefined ? unmapped(String(sdp.origin.address)) : '';
  const origin = isIP(o) !== 0 && !isLoopbackOrAny(o) && !isMulticast(o) ? new Set([o]) : undefined;
  const session = ips(sdp.sourceFilter);
  for (const m of sdp.media ?? []) out.set(m.port, ips(m.sourceFilter) ?? session ?? origin);
  return out;
}

export interface SdpSourceOptions {
  key: string;
  file: string;
  registry: StreamRegistry;
  log: Logger;
  /** Seconds to keep listening with no viewers; absent, it listens until closed (a configured
   * source with `sourceOnDemand: false`). */
  idleTimeout?: number;
  /** The path's graceTime (seconds viewers wait for a publisher that went away). */
  graceTime: number;
  /** live.maxFrameBytes for its tracks (StreamTrack's default when absent). */
  maxFrameBytes?: number;
}

/** Reads the SDP file, binds its ports, and publishes the stream. */
export async function startSdpSource(opts: SdpSourceOptions): Promise<Stream> {
  let sdp: ParsedSdp;
  let sources: Map<number, Set<string> | undefined>;
  try {
    const text = await readFile(opts.file, 'utf8');
    sdp = parseSdp(text);
    sources = allowedSources(text);
  } catch (e) {
    throw new SdpSourceError(`${opts.file}: ${(e as Error).message}`, 415);
  }
  const ports: number[] = [];
  for (const m of sdp.media) {
    if (!(m.port > 0)) throw new SdpSourceError(`${opts.file}: m=${m.format.media} has no port to listen on (broadcast not active)`, 404);
    ports.push(m.port, m.rtcpPort ?? m.port + 1);
  }
  try {
    opts.registry.claimPorts(opts.key, ports);
  } catch (e) {
    throw new SdpSourceError(`${opts.file}: ${(e as Error).message}`, 500);
  }
  const tracks = sdp.media.map(
    (m, i) =>
      new StreamTrack({
        id: i + 1,
        format: m.format,
        bitrateKbps: m.bitrateKbps,
        width: m.width,
        height: m.height,
        frameRate: m.frameRate,
        maxFrameBytes: opts.maxFrameBytes,
        log: opts.log.child({ path: opts.key }),
      }),
  );
  const sockets: Socket[] = [];
  const timer: { idle?: NodeJS.Timeout } = {};
  const stop = () => {
    if (timer.idle) clearInterval(timer.idle);
    for (const s of sockets) s.close();
    sockets.length = 0;
    opts.registry.releasePorts(opts.key);
  };
  try {
    for (const [i, m] of sdp.media.entries()) {
      const group = m.address && isMulticast(m.address) ? m.address : undefined;
      const local = group ? undefined : m.address && m.address !== '0.0.0.0' && m.address !== '::' ? m.address : undefined;
      const t = tracks[i];
      let rtp: Socket;
      let rtcp: Socket;
      try {
        rtp = await bindUdp(m.port, local, group);
        sockets.push(rtp);
        rtcp = await bindUdp(m.rtcpPort ?? m.port + 1, local, group);
        sockets.push(rtcp);
      } catch (e) {
        // The address may not be one of ours (an SDP written for another host): listen on all.
        if (local && (e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
          rtp = await bindUdp(m.port, undefined, undefined);
          sockets.push(rtp);
          rtcp = await bindUdp(m.rtcpPort ?? m.port + 1, undefined, undefined);
          sockets.push(rtcp);
        } else throw e;
      }
      const onErr = (e: Error) => opts.log.debug({ err: e.message }, 'sdp source socket error');
      const from = sources.get(m.port);
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
    throw new SdpSourceError(`${opts.file}: cannot listen: ${why}`, 500);
  }
  const publisher: Source = { kind: 'sdp-file', label: `sdp file ${opts.file}`, close: stop };
  const stream = opts.registry.publish(opts.key, tracks, publisher, opts.graceTime);
  timer.idle = endWhenUnwatched(stream, opts.idleTimeout);
  const senders = [...new Set([...sources.values()].map((f) => (f ? [...f].join(' ') : 'any')))].join(', ');
  opts.log.info({ path: opts.key, file: opts.file, ports: ports.join(','), from: senders }, 'listening for an SDP-described stream');
  return stream;
}
