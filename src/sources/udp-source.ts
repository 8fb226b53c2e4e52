/** `paths.<name>.source: udp://[group|address]:port[?source=ADDR]` with `paths.<name>.sdp`: RTP
 * arriving at a port (DSS's udp_source, or a relay_sdp described here): track N of the SDP at
 * port + 2N, RTCP one above each, joined from a multicast group or received at a local address
 * (none: every address), from one sender only when `?source=` names it. The SDP only says what
 * the packets carry: where they arrive is the URL's, whatever its m= and c= lines say. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseUdpSource, redactUrl, sdpSetting } from '../config/index.js';
import { parseSdp, type ParsedSdp } from '../sdp/index.js';
import type { Stream } from '../core/stream.js';
import { SdpSourceError, startRtpFeed, unmapped, type FeedBase } from './rtp-feed.js';

export interface UdpSourceOptions extends FeedBase {
  /** The `udp://…` URL as configured. */
  url: string;
  /** `paths.<key>.sdp`: an SDP file (relative to `mediaRoot`) or inline SDP. */
  sdp: string | undefined;
  /** Real path of the media folder. */
  mediaRoot: string;
}

/** Reads the SDP, binds port + 2N (and + 1) for each track N, joins the group if the URL names
 * one, and publishes the stream. Throws SdpSourceError: 415 for an SDP it cannot use (or read),
 * 500 when it cannot listen. */
export async function startUdpSource(opts: UdpSourceOptions): Promise<Stream> {
  const what = `udp source ${redactUrl(opts.url)}`;
  const url = parseUdpSource(opts.url);
  // The schema has checked both; a value it let through is still refused clearly.
  if (typeof url === 'string') throw new SdpSourceError(`${what}: ${url}`, 500);
  if (opts.sdp === undefined)
    throw new SdpSourceError(`${what}: no sdp configured to say what its RTP carries`, 415);
  const setting = sdpSetting(opts.sdp);
  const from = 'text' in setting ? 'inline sdp' : resolve(opts.mediaRoot, setting.file);
  let sdp: ParsedSdp;
  try {
    sdp = parseSdp('text' in setting ? setting.text : await readFile(from, 'utf8'));
  } catch (e) {
    throw new SdpSourceError(`${what}: ${from}: ${(e as Error).message}`, 415);
  }
  if (url.port + 2 * sdp.media.length - 1 > 65535) {
    throw new SdpSourceError(
      `${what}: ${sdp.media.length} tracks from port ${url.port} go past port 65535`,
      415,
    );
  }
  const senders = url.source === undefined ? undefined : new Set([unmapped(url.source)]);
  const tracks = sdp.media.map((_, i) => ({
    port: url.port + 2 * i,
    rtcpPort: url.port + 2 * i + 1,
    address: url.host === '' ? undefined : url.host,
    senders,
  }));
  return startRtpFeed({ ...opts, what, kind: 'udp', sdp, tracks });
}
