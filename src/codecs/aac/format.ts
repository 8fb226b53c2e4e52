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

/** Sampling rates by samplingFrequencyIndex (ISO/IEC 14496-3 Table 1.18); 13-14 reserved, 15 is
 * the escape to an explicit 24-bit rate. */
const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Channel count by channelConfiguration (ISO/IEC 14496-3 Table 1.19): 0 = defined in the program
 * config element, 8-10 and 15 reserved (also 0). */
const CHANNEL_COUNTS = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

/** Audio object types that signal SBR / PS explicitly (HE-AAC, HE-AAC v2). */
const AOT_SBR = 5;
const AOT_PS = 29;

export interface AudioSpecificConfig {
  /** audioObjectType as signalled first: 2 = AAC LC, 5 = SBR (HE-AAC), 29 = PS (HE-AAC v2) ...
   * Types above 30 are decoded through the escape (31 + 6 bits). */
  objectType: number;
  /** The first sampling frequency of the config. With explicit SBR/PS signalling this is the core
   * (AAC LC) rate; the output rate is `extensionSampleRate`. */
  sampleRate: number;
  /** channelConfiguration: 1..7 and 11..14 map to channel layouts, 0 means "defined in the PCE". */
  channelConfiguration: number;
  /** Channel count for channelConfiguration; 0 when the layout is given by a program config
   * element (or the configuration is reserved). */
  channels: number;
  /** Explicit SBR/PS signalling (object type 5 or 29) only: the underlying core object type. */
  coreObjectType?: number;
  /** Explicit SBR/PS signalling only: the output (extension) sampling rate. */
  extensionSampleRate?: number;
}

/** Reads the leading fields of an AudioSpecificConfig, including the extension rate and core
 * object type of explicitly signalled HE-AAC. Returns null when truncated or when a sampling
 * frequency index is reserved. */
export function parseAudioSpecificConfig(asc: Buffer): AudioSpecificConfig | null {
  let bit = 0;
  const read = (n: number): number | null => {
    if (bit + n > asc.length * 8) return null;
    let v = 0;
    for (let i = 0; i < n; i++, bit++) v = v * 2 + ((asc[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  const objectType = (): number | null => {
    const t = read(5);
    if (t !== 31) return t;
    // Escape: object types >= 32 are coded as 32 + a 6-bit extension.
    const ext = read(6);
    return ext === null ? null : 32 + ext;
  };
  const samplingFrequency = (): number | null => {
    const index = read(4);
    if (index === null) return null;
    if (index === 0x0f) return read(24);
    return SAMPLE_RATES[index] ?? null;
  };
  const type = objectType();
  if (type === null) return null;
  const sampleRate = samplingFrequency();
  if (sampleRate === null) return null;
  const channelConfiguration = read(4);
  if (channelConfiguration === null) return null;
  const config: AudioSpecificConfig = {
    objectType: type,
    sampleRate,
    channelConfiguration,
    channels: CHANNEL_COUNTS[channelConfiguration],
  };
  if (type === AOT_SBR || type === AOT_PS) {
    const extensionSampleRate = samplingFrequency();
    if (extensionSampleRate === null) return null;
    const coreObjectType = objectType();
    if (coreObjectType === null) return null;
    config.extensionSampleRate = extensionSampleRate;
    config.coreObjectType = coreObjectType;
  }
  return config;
}
