/** SDP description of H.263 streams (RFC 4629 §8) and the 3GPP `d263` configuration box. */

import type { FormatDescription } from '../types.js';

/** H263SpecificBox of a 3GPP `s263` sample entry (3GPP TS 26.244 §6.8). */
export interface H263Config {
  vendor: string;
  decoderVersion: number;
  level: number;
  profile: number;
}

/** Parses a `d263` box body; null when it is too short. */
export function parseD263(body: Buffer): H263Config | null {
  if (body.length < 7) return null;
  return { vendor: body.toString('latin1', 0, 4), decoderVersion: body[4], level: body[5], profile: body[6] };
}

export interface H263FormatOptions {
  payloadType: number;
  /** From `d263`; profile 0 (baseline) and no level when absent. */
  profile?: number;
  level?: number;
}

/** Baseline H.263 (profile 0) is `H263-1998/90000`, which every RFC 4629 receiver accepts and
 * which needs no parameters. Other profiles need `H263-2000/90000` with `profile` and `level`
 * (§8.1.2: those parameters are defined for H263-2000 only). */
export function h263Format(options: H263FormatOptions): FormatDescription {
  const profile = options.profile ?? 0;
  if (profile === 0) {
    return {
      media: 'video',
      payloadType: options.payloadType,
      encodingName: 'H263-1998',
      clockRate: 90000,
      fmtp: {},
    };
  }
  const fmtp: Record<string, string> = { profile: String(profile) };
  if (options.level) fmtp.level = String(options.level);
  return {
    media: 'video',
    payloadType: options.payloadType,
    encodingName: 'H263-2000',
    clockRate: 90000,
    fmtp,
  };
}
