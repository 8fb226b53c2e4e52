/** SDP description of MPEG-4 Visual streams (RFC 6416 §7.1, `MP4V-ES`). */

import type { FormatDescription } from '../types.js';

export interface Mp4vFormatOptions {
  payloadType: number;
  /** The esds DecoderSpecificInfo: VisualObjectSequence / VisualObject / VOL headers. */
  config: Buffer;
}

/** `profile_and_level_indication` of the VisualObjectSequence header (start code 0x000001B0) in a
 * configuration, or undefined when the configuration has none. */
export function mp4vProfileLevel(config: Buffer): number | undefined {
  for (let i = 0; i + 4 < config.length; i++) {
    if (config[i] === 0 && config[i + 1] === 0 && config[i + 2] === 1 && config[i + 3] === 0xb0)
      return config[i + 4];
  }
  return undefined;
}

/** rtpmap `MP4V-ES/90000`; fmtp `profile-level-id` (1, Simple Profile Level 1, when the
 * configuration does not say: RFC 6416's default) and `config` as hex. */
export function mp4vFormat(options: Mp4vFormatOptions): FormatDescription {
  const fmtp: Record<string, string> = { 'profile-level-id': String(mp4vProfileLevel(options.config) ?? 1) };
  if (options.config.length) fmtp.config = options.config.toString('hex').toUpperCase();
  return {
    media: 'video',
    payloadType: options.payloadType,
    encodingName: 'MP4V-ES',
    clockRate: 90000,
    fmtp,
  };
}
