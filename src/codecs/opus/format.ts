/** SDP description of Opus (RFC 7587 §7) and the `dOps` box of MP4 `Opus` sample entries
 * (Encapsulation of Opus in ISO Base Media File Format, §4.3.2). */

import type { FormatDescription } from '../types.js';

export interface OpusConfig {
  outputChannels: number;
  /** Samples at 48 kHz to discard at the start. */
  preSkip: number;
  /** Rate of the encoder's input (informative), Hz; 0 when unknown. */
  inputSampleRate: number;
  /** Q7.8 dB. */
  outputGain: number;
  /** 0: mono/stereo; 1 and up: multichannel with a mapping table. */
  channelMappingFamily: number;
}

/** Parses an OpusSpecificBox body (big-endian, unlike the Ogg `OpusHead`). */
export function parseDOps(body: Buffer): OpusConfig | null {
  if (body.length < 11) return null;
  return {
    outputChannels: body[1],
    preSkip: body.readUInt16BE(2),
    inputSampleRate: body.readUInt32BE(4),
    outputGain: body.readInt16BE(8),
    channelMappingFamily: body[10],
  };
}

export interface OpusFormatOptions {
  payloadType: number;
  /** 1 or 2. */
  channels: number;
  /** Encoder input rate for `sprop-maxcapturerate`, when known. */
  inputSampleRate?: number;
}

/** rtpmap is always `opus/48000/2` (RFC 7587 §7: the clock is 48 kHz and the channel count 2
 * whatever the stream holds); `sprop-stereo` says whether the sender sends stereo. */
export function opusFormat(options: OpusFormatOptions): FormatDescription {
  const fmtp: Record<string, string> = { 'sprop-stereo': options.channels === 2 ? '1' : '0' };
  const rate = options.inputSampleRate;
  if (rate && rate >= 8000 && rate <= 48000) fmtp['sprop-maxcapturerate'] = String(rate);
  return {
    media: 'audio',
    payloadType: options.payloadType,
    encodingName: 'opus',
    clockRate: 48000,
    channels: 2,
    fmtp,
  };
}
