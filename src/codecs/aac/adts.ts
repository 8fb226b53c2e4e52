/** ADTS (ISO/IEC 14496-3 §1.A.2, 13818-7 §6.2): the self-framed AAC byte stream that Icecast and
 * SHOUTcast sources send as audio/aac. `AdtsFramer` turns it into raw AUs with the
 * AudioSpecificConfig an RTP format needs; `adtsHeader` frames raw AUs again for listeners.
 *
 *   syncword 12 | ID 1 | layer 2 | protection_absent 1 | profile 2 | sampling index 4 | private 1 |
 *   channel configuration 3 | 4 flag bits | frame length 13 | buffer fullness 11 | blocks - 1 (2)
 *   [CRC 16 when protection_absent is 0] */

import { SyncFramer, type AudioFrame, type FramerOptions, type SyncCodec } from '../mpa/framer.js';
import type { AudioSpecificConfig } from './format.js';

/** samplingFrequencyIndex 0..12 (ISO/IEC 14496-3 Table 1.18). */
const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** Channels by channelConfiguration 1..7; ADTS has no room for the rest. */
const CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];
const MAX_FRAME_LENGTH = 0x1fff;
const SAMPLES_PER_AU = 1024;

export interface AdtsFrame extends AudioFrame {
  /** The AudioSpecificConfig of the frame's header (2 bytes, shared by frames of one stream). */
  audioSpecificConfig: Buffer;
}

/** Header length (7, or 9 with a CRC) and frame length at `off`; 0 when no header is there. */
function adtsLength(buf: Buffer, off: number): number {
  const b1 = buf[off + 1];
  // Sync word and layer 00: MPEG audio headers never have layer 00, so the two cannot be confused.
  if (buf[off] !== 0xff || (b1 & 0xf6) !== 0xf0) return 0;
  const b2 = buf[off + 2];
  if (((b2 >> 2) & 0x0f) >= RATES.length) return 0;
  // Channel configuration 0 (a program config element in the stream) is not carried.
  if ((((b2 & 1) << 2) | (buf[off + 3] >> 6)) === 0) return 0;
  const len = ((buf[off + 3] & 3) << 11) | (buf[off + 4] << 3) | (buf[off + 5] >> 5);
  return len > (b1 & 1 ? 7 : 9) ? len : 0;
}

/** Profile, rate and channels agree (the fields an AudioSpecificConfig is made of). */
function sameAdtsStream(a: Buffer, aOff: number, b: Buffer, bOff: number): boolean {
  return (
    (a[aOff + 1] & 0xfe) === (b[bOff + 1] & 0xfe) &&
    (a[aOff + 2] & 0xfd) === (b[bOff + 2] & 0xfd) &&
    (a[aOff + 3] & 0xc0) === (b[bOff + 3] & 0xc0)
  );
}

/** The 2-byte AudioSpecificConfig of an ADTS stream: object type (profile + 1), sampling index,
 * channel configuration, and a GASpecificConfig of zeros (1024-sample frames, no core coder, no
 * extension). */
export function adtsAudioSpecificConfig(
  objectType: number,
  samplingIndex: number,
  channelConfiguration: number,
): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE((objectType << 11) | (samplingIndex << 7) | (channelConfiguration << 3));
  return b;
}

class AdtsCodec implements SyncCodec<AdtsFrame> {
  readonly frameLength = adtsLength;
  readonly sameStream = sameAdtsStream;
  #configKey = -1;
  #config: Buffer = Buffer.alloc(0);

  frames(data: Buffer): readonly AdtsFrame[] | null {
    // Several raw data blocks in one frame cannot be split without a CRC'd position table that
    // encoders do not write: such frames are dropped (no encoder in use makes them).
    if ((data[6] & 3) !== 0) return null;
    const profile = data[2] >> 6;
    const index = (data[2] >> 2) & 0x0f;
    const channelConfiguration = ((data[2] & 1) << 2) | (data[3] >> 6);
    const key = (profile << 8) | (index << 4) | channelConfiguration;
    if (key !== this.#configKey) {
      this.#configKey = key;
      this.#config = adtsAudioSpecificConfig(profile + 1, index, channelConfiguration);
    }
    return [
      {
        data: data.subarray(data[1] & 1 ? 7 : 9),
        samples: SAMPLES_PER_AU,
        sampleRate: RATES[index],
        channels: CHANNELS[channelConfiguration],
        audioSpecificConfig: this.#config,
      },
    ];
  }
}

/** ADTS byte stream → raw AAC AUs (1024 samples each) with their AudioSpecificConfig. Skips
 * ID3 tags and junk, locks on a header followed by a matching one, resyncs after garbage. */
export class AdtsFramer extends SyncFramer<AdtsFrame> {
  constructor(options: FramerOptions = {}) {
    super(new AdtsCodec(), options);
  }
}

/** What an ADTS header needs of an AudioSpecificConfig (`parseAudioSpecificConfig`'s result
 * fits): for explicitly signalled HE-AAC the core object type and rate are written, and the
 * decoder finds the SBR/PS data itself, as with implicit signalling. */
export type AdtsConfig = Pick<
  AudioSpecificConfig,
  'objectType' | 'sampleRate' | 'channelConfiguration' | 'coreObjectType'
>;

/** The 7-byte ADTS header (no CRC, MPEG-4 ID) for a raw AU of `auLength` bytes. Throws
 * RangeError for what ADTS cannot say: object types other than 1-4 (Main, LC, SSR, LTP), rates
 * outside the index table, channel configuration 0 or above 7, frames over 8191 bytes. */
export function adtsHeader(config: AdtsConfig, auLength: number): Buffer {
  const objectType = config.coreObjectType ?? config.objectType;
  const index = RATES.indexOf(config.sampleRate);
  const ch = config.channelConfiguration;
  const len = auLength + 7;
  if (objectType < 1 || objectType > 4)
    throw new RangeError(`ADTS cannot carry AAC object type ${objectType}`);
  if (index < 0) throw new RangeError(`ADTS cannot carry sample rate ${config.sampleRate}`);
  if (ch < 1 || ch > 7) throw new RangeError(`ADTS cannot carry channel configuration ${ch}`);
  if (!Number.isInteger(auLength) || auLength < 1 || len > MAX_FRAME_LENGTH)
    throw new RangeError(`AU of ${auLength} bytes does not fit an ADTS frame`);
  const h = Buffer.allocUnsafe(7);
  h[0] = 0xff;
  h[1] = 0xf1; // MPEG-4, layer 0, no CRC
  h[2] = ((objectType - 1) << 6) | (index << 2) | (ch >> 2);
  h[3] = ((ch & 3) << 6) | (len >> 11);
  h[4] = (len >> 3) & 0xff;
  // Buffer fullness 0x7FF (variable bitrate), one raw data block.
  h[5] = ((len & 7) << 5) | 0x1f;
  h[6] = 0xfc;
  return h;
}
