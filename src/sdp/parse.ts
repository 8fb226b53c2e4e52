/** Reads the SDP an encoder announces (or an .sdp file describes) into our Format model, with
 * what an ingest needs: each media's control attribute, port and connection address. */
import { parse } from 'sdp-transform';
import type { Format } from '../stream/types.js';

export class SdpError extends Error {
  override readonly name = 'SdpError';
}

export interface SdpMedia {
  format: Format;
  /** a=control value as written (e.g. `streamid=0`, `trackID=1`, `stream=0`), if any. */
  control?: string;
  /** m= port (RTP); RTCP is port+1 unless a=rtcp says otherwise. */
  port: number;
  rtcpPort?: number;
  /** Connection address for this media (media-level c= or the session's), if any. */
  address?: string;
  ttl?: number;
  bitrateKbps?: number;
  frameRate?: number;
  width?: number;
  height?: number;
}

export interface ParsedSdp {
  name?: string;
  media: SdpMedia[];
}

/** Static RTP payload types (RFC 3551) an SDP may use without an rtpmap line. */
const STATIC: Record<number, { name: string; rate: number; channels?: number; media: Format['media'] }> = {
  0: { name: 'PCMU', rate: 8000, channels: 1, media: 'audio' },
  3: { name: 'GSM', rate: 8000, channels: 1, media: 'audio' },
  8: { name: 'PCMA', rate: 8000, channels: 1, media: 'audio' },
  10: { name: 'L16', rate: 44100, channels: 2, media: 'audio' },
  11: { name: 'L16', rate: 44100, channels: 1, media: 'audio' },
  14: { name: 'MPA', rate: 90000, media: 'audio' },
  26: { name: 'JPEG', rate: 90000, media: 'video' },
  32: { name: 'MPV', rate: 90000, media: 'video' },
  33: { name: 'MP2T', rate: 90000, media: 'video' },
  34: { name: 'H263', rate: 90000, media: 'video' },
};

/** `a=fmtp` parameters in order; values keep their case. */
export function parseFmtp(config: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of config.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out[p] = '';
    else out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

const MEDIA = new Set(['video', 'audio', 'application', 'text']);

export function parseSdp(text: string): ParsedSdp {
  if (!/^\s*v=0/.test(text)) throw new SdpError('not an SDP description (it must start with v=0)');
  let s;
  try {
    s = parse(text);
  } catch (e) {
    throw new SdpError(`unreadable SDP: ${(e as Error).message}`);
  }
  const media: SdpMedia[] = [];
  for (const m of s.media ?? []) {
    if (!MEDIA.has(m.type)) continue;
    if (!/^RTP\/AVP/i.test(m.protocol)) continue;
    const first = String(m.payloads ?? '').trim().split(/\s+/)[0];
    const pt = /^\d{1,3}$/.test(first) ? Number(first) : NaN;
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new SdpError(`m=${m.type} has no valid payload type`);
    // sdp-transform turns number-looking values into numbers; everything textual is coerced back.
    const rtp = m.rtp?.find((r) => Number(r.payload) === pt);
    const st = STATIC[pt];
    if (!rtp && !st) throw new SdpError(`m=${m.type} payload type ${pt} has no a=rtpmap`);
    const fmtp = m.fmtp?.find((f) => Number(f.payload) === pt);
    const format: Format = {
      media: m.type as Format['media'],
      payloadType: pt,
      encodingName: rtp ? String(rtp.codec) : st.name,
      clockRate: rtp?.rate ?? st?.rate ?? 0,
      channels: rtp ? (rtp.encoding !== undefined ? Number(rtp.encoding) : undefined) : st.channels,
      fmtp: fmtp ? parseFmtp(String(fmtp.config)) : {},
    };
    if (!(format.clockRate > 0)) throw new SdpError(`m=${m.type} has no clock rate`);
    const conn = m.connection ?? s.connection;
    const ip = conn ? String(conn.ip) : undefined;
    const size = m.invalid?.map((x) => /^framesize:\d+ (\d+)-(\d+)/.exec(x.value)).find((x) => x);
    media.push({
      format,
      control: m.control !== undefined ? String(m.control) : undefined,
      port: m.port,
      rtcpPort: m.rtcp?.port,
      address: ip?.split('/')[0],
      ttl: ip?.includes('/') ? Number(ip.split('/')[1]) : undefined,
      bitrateKbps: m.bandwidth?.find((b) => b.type === 'AS')?.limit,
      frameRate: m.framerate !== undefined ? Number(m.framerate) : undefined,
      width: size ? Number(size[1]) : undefined,
      height: size ? Number(size[2]) : undefined,
    });
  }
  if (media.length === 0) throw new SdpError('the SDP describes no RTP/AVP audio or video');
  return { name: s.name, media };
}
