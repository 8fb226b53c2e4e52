/** SDP for DESCRIBE responses, written through sdp-transform's model. */
import { isIPv6 } from 'node:net';
import { parse, write, type SessionDescription, type MediaDescription } from 'sdp-transform';
import type { StreamDescription, Track } from '../stream/types.js';
import { offerRetransmission, type SdpRetransmit } from './retransmit.js';

export interface BuildSdpOptions {
  /** Server address for the o= line (the address the client reached). */
  serverAddress: string;
  /** Session id/version for o= (defaults: now in NTP-ish seconds). */
  sessionId?: number;
  sessionVersion?: number;
  tool?: string;
  /** Offer retransmission (NACK feedback and an RTX payload type on every track, the profile
   * named); none when absent. */
  retransmit?: SdpRetransmit;
}

function fmtNum(n: number): string {
  return (Math.round(n * 1000) / 1000).toFixed(3);
}

export function buildSdp(desc: StreamDescription, opts: BuildSdpOptions): string {
  const ip6 = isIPv6(opts.serverAddress) && !opts.serverAddress.startsWith('::ffff:');
  const addr = opts.serverAddress.startsWith('::ffff:') ? opts.serverAddress.slice(7) : opts.serverAddress;
  const now = Math.floor(Date.now() / 1000) + 2208988800;
  const media: MediaDescription[] = desc.tracks.map((t) => {
    const m = t.mediaSdp !== undefined ? givenMedia(t) : undefined;
    const built = m ?? builtMedia(t);
    if (opts.retransmit) offerRetransmission(built, t.format.payloadType, t.format.clockRate, opts.retransmit);
    return built;
  });
  const sdp: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: opts.sessionId ?? now,
      sessionVersion: opts.sessionVersion ?? now,
      netType: 'IN',
      ipVer: ip6 ? 6 : 4,
      address: addr,
    },
    name: desc.name || 'Rivulet',
    connection: { version: ip6 ? 6 : 4, ip: ip6 ? '::' : '0.0.0.0' },
    timing: { start: 0, stop: 0 },
    control: '*',
    // sdp-transform has no grammar rule for a=range/a=tool; `invalid` lines are written verbatim.
    invalid: [
      { value: `range:${desc.duration !== undefined ? `npt=0-${fmtNum(desc.duration)}` : 'npt=now-'}` },
      { value: `tool:${opts.tool ?? 'Rivulet'}` },
    ],
    media,
  };
  if (desc.sessionSdp) mergeSessionLines(sdp, desc.sessionSdp);
  return write(sdp);
}

/** A track's media section built from its format. */
function builtMedia(t: Track): MediaDescription {
  const f = t.format;
  const m: MediaDescription = {
    type: f.media,
    port: 0,
    protocol: 'RTP/AVP',
    payloads: String(f.payloadType),
    rtp: [{ payload: f.payloadType, codec: f.encodingName, rate: f.clockRate, encoding: f.channels }],
    fmtp: [],
    control: t.control,
  };
  const params = Object.entries(f.fmtp);
  if (params.length) m.fmtp.push({ payload: f.payloadType, config: params.map(([k, v]) => `${k}=${v}`).join(';') });
  if (t.bitrateKbps) m.bandwidth = [{ type: 'AS', limit: Math.max(1, Math.round(t.bitrateKbps)) }];
  const invalid: { value: string }[] = [];
  if (t.width && t.height) invalid.push({ value: `framesize:${f.payloadType} ${t.width}-${t.height}` });
  if (t.frameRate) m.framerate = Math.round(t.frameRate * 1000) / 1000;
  if (invalid.length) m.invalid = invalid;
  return m;
}

/** A track's own media section text, its control replaced by ours; undefined when the text has no
 * m= line (the caller then builds one from the format). */
function givenMedia(t: Track): MediaDescription | undefined {
  const m = parse(`v=0\r\n${t.mediaSdp ?? ''}`).media?.[0];
  if (!m) return undefined;
  m.control = t.control;
  return m;
}

/** Lines that are ours to write (or that belong in a media section). */
const OWN_SESSION_ATTRIBUTES = /^(range|tool|control)(:|$)/;

/** Adds a given session-level text's lines to ours, ours winning where both say something. */
function mergeSessionLines(sdp: SessionDescription, text: string): void {
  const given = parse(`v=0\r\n${text.replace(/(^|\n)m=[\s\S]*$/, '')}`);
  const { version: _v, origin: _o, name: _n, connection: _c, timing: _t, control: _a, media: _m, invalid, ...rest } = given;
  Object.assign(sdp, rest);
  const extra = (invalid ?? []).filter((l) => !OWN_SESSION_ATTRIBUTES.test(l.value));
  sdp.invalid = [...(sdp.invalid ?? []), ...extra];
}
