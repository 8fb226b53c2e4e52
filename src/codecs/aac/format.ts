/** SDP description of AAC streams (RFC 3640 §4.1, mode AAC-hbr) and AudioSpecificConfig parsing. */

import type { FormatDescription } from '../types.js';

export interface AacFormatOptions {
  payloadType: number;
  /** RTP clock rate: the AAC sampling rate (for HE-AAC with implicit SBR, the core rate the
   * file's timescale uses). */
  sampleRate: number;
  channels: number;
  /** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): the esds DecoderSpecificInfo bytes. */
  audioSpecificConfig: Buffer;
}

/** rtpmap `MPEG4-GENERIC/<rate>/<channels>` with the AAC-hbr fmtp parameters, in the order most
 * servers emit them. */
export function aacFormat(options: AacFormatOptions): FormatDescription {
  return {
    media: 'audio',
    payloadType: options.payloadType,
    encodingName: 'MPEG4-GENERIC',
    clockRate: options.sampleRate,
    channels: options.channels,
    fmtp: {
      streamtype: '5', // audio stream (ISO/IEC 14496-1 streamType)
      'profile-level-id': '1',
      mode: 'AAC-hbr',
      sizelength: '13',
      indexlength: '3',
      indexdeltalength: '3',
      config: options.audioSpecificConfig.toString('hex'),
    },
  };
}

/** Sampling rates by samplingFrequencyIndex (ISO/IEC 14496-3 Table 1.18); 13-14 reserved. */
const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export interface AudioSpecificConfig {
  /** audioObjectType: 2 = AAC LC, 5 = SBR (HE-AAC), 29 = PS (HE-AAC v2) ... */
  objectType: number;
  sampleRate: number;
  /** channelConfiguration: 1..7 map to channel layouts, 0 means "defined in the PCE". */
  channelConfiguration: number;
}

/** Reads the leading fields of an AudioSpecificConfig. Returns null when truncated or when the
 * sampling frequency index is reserved. */
export function parseAudioSpecificConfig(asc: Buffer): AudioSpecificConfig | null {
  let bit = 0;
  const read = (n: number): number | null => {
    if (bit + n > asc.length * 8) return null;
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + ((asc[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  let objectType = read(5);
  if (objectType === 31) {
    // Escape: object types >= 32 are coded as 32 + a 6-bit extension.
    const ext = read(6);
    objectType = ext === null ? null : 32 + ext;
  }
  if (objectType === null) return null;
  const index = read(4);
  if (index === null) return null;
  let sampleRate: number | null;
  if (index === 0x0f) sampleRate = read(24);
  else sampleRate = SAMPLE_RATES[index] ?? null;
  if (sampleRate === null) return null;
  const channelConfiguration = read(4);
  if (channelConfiguration === null) return null;
  return { objectType, sampleRate, channelConfiguration };
}
