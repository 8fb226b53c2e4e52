/** SDP description of AMR / AMR-WB streams (RFC 4867 §8.1) and the 3GPP `damr` box. */

import type { FormatDescription } from '../types.js';

/** AMRSpecificBox of a 3GPP `samr`/`sawb` sample entry (3GPP TS 26.244 §6.7). */
export interface AmrConfig {
  vendor: string;
  decoderVersion: number;
  /** Bit k set: mode k may occur. */
  modeSet: number;
  modeChangePeriod: number;
  framesPerSample: number;
}

export function parseDamr(body: Buffer): AmrConfig | null {
  if (body.length < 9) return null;
  return {
    vendor: body.toString('latin1', 0, 4),
    decoderVersion: body[4],
    modeSet: body.readUInt16BE(5),
    modeChangePeriod: body[7],
    framesPerSample: body[8],
  };
}

export interface AmrFormatOptions {
  payloadType: number;
  wideband: boolean;
}

/** rtpmap `AMR/8000/1` or `AMR-WB/16000/1`, fmtp `octet-align=1`. */
export function amrFormat(options: AmrFormatOptions): FormatDescription {
  return {
    media: 'audio',
    payloadType: options.payloadType,
    encodingName: options.wideband ? 'AMR-WB' : 'AMR',
    clockRate: options.wideband ? 16000 : 8000,
    channels: 1,
    fmtp: { 'octet-align': '1' },
  };
}
