/** What the SDP offers for retransmission (RFC 4585 generic NACK, RFC 4588 RTX) and what a
 * viewer's SETUP then gets: one rule for the `rtx` payload type of a track, used by both, so the
 * packets a viewer is resent carry the payload type its SDP mapped with `apt=`. */
import { parse, type MediaDescription } from 'sdp-transform';
import type { Config } from '../config/index.js';
import type { RetransmitOptions } from '../rtp/retransmit.js';
import type { Track } from '../stream/types.js';

/** What `buildSdp` adds for retransmission. */
export interface SdpRetransmit {
  /** The profile the m= lines name: RTP/AVPF for clients that may ask for it, else RTP/AVP. */
  profile: 'RTP/AVP' | 'RTP/AVPF';
  /** Milliseconds packets are kept (`rtx-time`). */
  rtxTimeMs: number;
}

const DYNAMIC_FIRST = 96;
const DYNAMIC_LAST = 127;

/** The lowest dynamic payload type (96-127) that a media section does not use, or undefined. */
export function rtxPayloadType(used: readonly number[]): number | undefined {
  for (let pt = DYNAMIC_FIRST; pt <= DYNAMIC_LAST; pt++) if (!used.includes(pt)) return pt;
  return undefined;
}

/** The payload types of a media section as sdp-transform models it. */
export function sectionPayloads(m: Pick<MediaDescription, 'payloads'>): number[] {
  return String(m.payloads ?? '')
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

/** The RTX payload type the SDP offers for a track (the same rule as `buildSdp`), or undefined. */
export function rtxPayloadTypeOf(track: Pick<Track, 'format' | 'mediaSdp'>): number | undefined {
  const given = track.mediaSdp !== undefined ? parse(`v=0\r\n${track.mediaSdp}`).media?.[0] : undefined;
  return rtxPayloadType(given ? sectionPayloads(given) : [track.format.payloadType]);
}

/** What a DESCRIBE answer offers, from the `retransmit` config and the client's User-Agent;
 * undefined when retransmission is off. */
export function sdpRetransmitFor(cfg: Config['retransmit'], userAgent: string | undefined): SdpRetransmit | undefined {
  if (!cfg.enabled) return undefined;
  const ua = userAgent ?? '';
  // Only a client that may set up with AVPF can ask for retransmissions (NACKs are AVPF
  // feedback); others get the SDP as before: an rtx payload type in an RTP/AVP section makes
  // ffmpeg's multicast reception stop after its first packets.
  if (!cfg.avpfUserAgents.some((s) => s === '*' || ua.includes(s))) return undefined;
  return { profile: 'RTP/AVPF', rtxTimeMs: cfg.historyMs };
}

/** How a viewer's track retransmits, or undefined: off in the config, a viewer that did not set
 * up with AVPF over UDP (`feedback`), or no payload type left for RTX. */
export function viewerRetransmit(cfg: Config['retransmit'], track: Pick<Track, 'format' | 'mediaSdp'>, feedback: boolean): RetransmitOptions | undefined {
  if (!cfg.enabled || !feedback) return undefined;
  const payloadType = rtxPayloadTypeOf(track);
  if (payloadType === undefined) return undefined;
  return { payloadType, historyMs: cfg.historyMs, historyBytes: cfg.historyBytes, maxPercent: cfg.maxPercent };
}

/** Adds the NACK feedback and an RTX payload type for the track's format `pt` to a media section,
 * and names the profile. A section with no dynamic payload type left is left as it was. */
export function offerRetransmission(m: MediaDescription, pt: number, clockRate: number, offer: SdpRetransmit): void {
  const rtx = rtxPayloadType(sectionPayloads(m));
  if (rtx === undefined || !/^RTP\/AVPF?$/.test(m.protocol)) return;
  m.protocol = offer.profile;
  m.payloads = `${String(m.payloads)} ${rtx}`;
  m.rtp.push({ payload: rtx, codec: 'rtx', rate: clockRate });
  m.fmtp.push({ payload: rtx, config: `apt=${pt};rtx-time=${offer.rtxTimeMs}` });
  m.rtcpFb = [...(m.rtcpFb ?? []), { payload: String(pt), type: 'nack' }];
}
