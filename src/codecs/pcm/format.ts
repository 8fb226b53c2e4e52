/** SDP description of uncompressed audio (RFC 3551 §4.5, Table 4). */

import type { FormatDescription } from '../types.js';
import type { PcmEncoding } from './sample-format.js';

export interface PcmFormatOptions {
  encoding: PcmEncoding;
  sampleRate: number;
  channels: number;
  /** Dynamic payload type, used unless the format has a static one (PCMU/PCMA at 8000 Hz mono:
   * 0 and 8; L16 at 44100 Hz stereo/mono: 10 and 11). */
  payloadType: number;
}

function staticPayloadType(e: PcmEncoding, rate: number, channels: number): number | undefined {
  if (rate === 8000 && channels === 1 && e === 'PCMU') return 0;
  if (rate === 8000 && channels === 1 && e === 'PCMA') return 8;
  if (rate === 44100 && e === 'L16' && channels === 2) return 10;
  if (rate === 44100 && e === 'L16' && channels === 1) return 11;
  return undefined;
}

/** rtpmap `<encoding>/<rate>/<channels>`, no fmtp. */
export function pcmFormat(options: PcmFormatOptions): FormatDescription {
  const { encoding, sampleRate, channels } = options;
  return {
    media: 'audio',
    payloadType: staticPayloadType(encoding, sampleRate, channels) ?? options.payloadType,
    encodingName: encoding,
    clockRate: sampleRate,
    channels,
    fmtp: {},
  };
}
