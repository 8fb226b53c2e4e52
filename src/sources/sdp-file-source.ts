/** A live stream fed by plain RTP over UDP and described by an .sdp file (an encoder sending to
 * this server, or to a multicast group the server joins): one in the media folder, or one a
 * `paths:` entry names as its `source: sdp:<file>`. It starts listening when the first viewer
 * asks and stops once no viewer has watched for a while, or, configured with
 * `sourceOnDemand: false`, listens from the server's start. */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseSdpText } from 'sdp-transform';
import { parseSdp, type ParsedSdp } from '../sdp/index.js';
import type { Stream } from '../core/stream.js';
import { isMulticast, SdpSourceError, startRtpFeed, unmapped, type FeedBase } from './rtp-feed.js';

export { SdpSourceError } from './rtp-feed.js';

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

export interface SdpSourceOptions extends FeedBase {
  /** The SDP file (absolute). Without `idleTimeout` it listens until closed (a configured source
   * with `sourceOnDemand: false`). */
  file: string;
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
  for (const m of sdp.media) {
    if (!(m.port > 0)) throw new SdpSourceError(`${opts.file}: m=${m.format.media} has no port to listen on (broadcast not active)`, 404);
  }
  // Each m= line's c= address: a group to join, or a local address to listen on.
  const tracks = sdp.media.map((m) => ({
    port: m.port,
    rtcpPort: m.rtcpPort ?? m.port + 1,
    address: m.address !== undefined && m.address !== '0.0.0.0' && m.address !== '::' ? m.address : undefined,
    senders: sources.get(m.port),
  }));
  return startRtpFeed({ ...opts, what: `sdp file ${opts.file}`, kind: 'sdp-file', sdp, tracks });
}
