/** Decoders for the codec configuration records stored in sample entries: avcC (ISO 14496-15
 * §5.3.3), hvcC (§8.3.3) and the MPEG-4 AudioSpecificConfig (ISO 14496-3 §1.6.2.1). Returned
 * parameter sets are views into the input buffer; copy them if the input is short-lived. */
import { Cursor } from './boxes.js';
import { Mp4Error } from './types.js';

export interface AvcConfig {
  /** Bytes in each sample's NAL unit length prefix (1, 2 or 4). */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  profileIdc: number;
  /** The profile_compatibility byte (constraint_set0..5 flags in the top bits). */
  constraintFlags: number;
  levelIdc: number;
}

export interface HevcConfig {
  nalLengthSize: number;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  levelIdc: number;
}

export interface AudioSpecificConfig {
  /** Audio object type as signalled first (2 = AAC LC, 5 = SBR, 29 = PS, ...). */
  objectType: number;
  /** The first sampling frequency in the config: the core rate when SBR/PS is signalled explicitly. */
  sampleRate: number;
  /** Channel count from channelConfiguration; 0 when the layout is given by a program config element. */
  channels: number;
  channelConfiguration: number;
  /** For explicit SBR/PS signalling (object type 5 or 29): the underlying core object type. */
  coreObjectType?: number;
  /** For explicit SBR/PS signalling: the output (extension) sampling rate. */
  extensionSampleRate?: number;
}

export function parseAvcC(buf: Buffer): AvcConfig {
  const c = new Cursor(buf, 0, buf.length, 'avcC');
  const version = c.u8();
  if (version !== 1) throw new Mp4Error(`unsupported avcC version ${version}`);
  const profileIdc = c.u8();
  const constraintFlags = c.u8();
  const levelIdc = c.u8();
  const nalLengthSize = (c.u8() & 3) + 1;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const spsCount = c.u8() & 0x1f;
  for (let i = 0; i < spsCount; i++) sps.push(c.bytes(c.u16()));
  const ppsCount = c.u8();
  for (let i = 0; i < ppsCount; i++) pps.push(c.bytes(c.u16()));
  // High-profile records carry chroma/bit-depth fields and SPS extensions after this; nothing
  // downstream needs them, and some encoders write them truncated, so they are not read.
  return { nalLengthSize, sps, pps, profileIdc, constraintFlags, levelIdc };
}

const HEVC_VPS = 32;
const HEVC_SPS = 33;
const HEVC_PPS = 34;

export function parseHvcC(buf: Buffer): HevcConfig {
  const c = new Cursor(buf, 0, buf.length, 'hvcC');
  const version = c.u8();
  // Some early muxers wrote version 0 with an otherwise identical layout.
  if (version > 1) throw new Mp4Error(`unsupported hvcC version ${version}`);
  const ptl = c.u8();
  c.skip(4 + 6); // general_profile_compatibility_flags, general_constraint_indicator_flags
  const levelIdc = c.u8();
  c.skip(2 + 1 + 1 + 1 + 1 + 2); // segmentation, parallelism, chroma, bit depths, avgFrameRate
  const nalLengthSize = (c.u8() & 3) + 1;
  const vps: Buffer[] = [];
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const arrays = c.u8();
  for (let a = 0; a < arrays; a++) {
    const type = c.u8() & 0x3f;
    const count = c.u16();
    const into = type === HEVC_VPS ? vps : type === HEVC_SPS ? sps : type === HEVC_PPS ? pps : undefined;
    for (let i = 0; i < count; i++) {
      const nal = c.bytes(c.u16());
      into?.push(nal);
    }
  }
  return {
    nalLengthSize,
    vps,
    sps,
    pps,
    profileSpace: ptl >>> 6,
    tierFlag: (ptl >>> 5) & 1,
    profileIdc: ptl & 0x1f,
    levelIdc,
  };
}

/** MSB-first bit reader; running off the end is an Mp4Error like every other truncation. */
class BitReader {
  readonly #buf: Buffer;
  #bit = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  read(n: number): number {
    if (this.#bit + n > this.#buf.length * 8) throw new Mp4Error('truncated AudioSpecificConfig');
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#buf[this.#bit >>> 3];
      v = v * 2 + ((byte >>> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** channelConfiguration → channel count (ISO 14496-3 Table 1.19; 0 = defined in the PCE). */
const AAC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

function objectType(r: BitReader): number {
  const t = r.read(5);
  return t === 31 ? 32 + r.read(6) : t;
}

function samplingFrequency(r: BitReader): number {
  const index = r.read(4);
  if (index === 0xf) return r.read(24);
  const rate = AAC_RATES[index];
  if (rate === undefined) throw new Mp4Error(`reserved AAC sampling frequency index ${index}`);
  return rate;
}

export function parseAudioSpecificConfig(buf: Buffer): AudioSpecificConfig {
  const r = new BitReader(buf);
  const type = objectType(r);
  const sampleRate = samplingFrequency(r);
  const channelConfiguration = r.read(4);
  const out: AudioSpecificConfig = {
    objectType: type,
    sampleRate,
    channels: AAC_CHANNELS[channelConfiguration],
    channelConfiguration,
  };
  if (type === 5 || type === 29) {
    out.extensionSampleRate = samplingFrequency(r);
    out.coreObjectType = objectType(r);
  }
  return out;
}
