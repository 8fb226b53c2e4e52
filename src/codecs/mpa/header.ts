/** MPEG-1/2/2.5 audio frame headers (ISO/IEC 11172-3 §2.4.2.3, 13818-3; MPEG 2.5 is the common
 * extension to 8-12 kHz): layer, rate, channels and the frame's length in bytes. */

export interface MpegAudioHeader {
  /** 1, 2 or 2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  /** kbit/s. */
  bitrate: number;
  sampleRate: number;
  channels: 1 | 2;
  /** Whole frame including the 4-byte header (and the CRC when present). */
  frameSize: number;
  samplesPerFrame: number;
}

const BITRATES: Record<string, readonly number[]> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES = [44100, 48000, 32000];

/** Reads the header at `off`; null when the bytes there are not a valid header (including free
 * format, whose frame length cannot be told from the header). */
export function parseMpegAudioHeader(buf: Buffer, off = 0): MpegAudioHeader | null {
  if (off + 4 > buf.length) return null;
  const b1 = buf[off + 1];
  const b2 = buf[off + 2];
  if (buf[off] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const v = (b1 >> 3) & 3;
  const l = (b1 >> 1) & 3;
  const bi = b2 >> 4;
  const si = (b2 >> 2) & 3;
  if (v === 1 || l === 0 || bi === 0 || bi === 15 || si === 3) return null;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const bitrate = BITRATES[version === 1 ? `1-${layer}` : layer === 1 ? '2-1' : '2-2'][bi];
  const sampleRate = RATES[si] / (version === 1 ? 1 : version === 2 ? 2 : 4);
  const padding = (b2 >> 1) & 1;
  let frameSize: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameSize = (Math.floor((12 * bitrate * 1000) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameSize = Math.floor((144 * bitrate * 1000) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameSize = Math.floor((72 * bitrate * 1000) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  return {
    version,
    layer,
    bitrate,
    sampleRate,
    channels: buf[off + 3] >> 6 === 3 ? 1 : 2,
    frameSize,
    samplesPerFrame,
  };
}

/** The bytes that must agree between frames of one stream: sync, version, layer, rate. */
export function sameMpegAudioStream(a: Buffer, aOff: number, b: Buffer, bOff: number): boolean {
  return a[aOff + 1] === b[bOff + 1] && (a[aOff + 2] & 0x0c) === (b[bOff + 2] & 0x0c);
}
