/** IMA ADPCM decoding (Interactive Multimedia Association, 1992), so that QuickTime "IMA 4:1"
 * (`ima4`) and WAV IMA/DVI ADPCM audio can be sent as L16: the RTP format for IMA ADPCM (DVI4, RFC
 * 3551 §4.5.1) is received by neither ffmpeg nor GStreamer. Decoding is cheap (a table lookup and a
 * few adds per sample) and follows ffmpeg's decoders bit for bit, so a viewer hears exactly what
 * a local player would. Output is interleaved signed 16-bit big endian (L16 byte order). */

const STEPS = [
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97,
  107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724,
  796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026,
  4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818, 18500,
  20350, 22385, 24623, 27086, 29794, 32767,
];
const INDEX_STEP = [-1, -1, -1, -1, 2, 4, 6, 8];

interface Channel {
  predictor: number;
  index: number;
}

const clip16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const clipIndex = (v: number) => (v > 88 ? 88 : v < 0 ? 0 : v);

/** The reference decoder's difference: step/8 plus step, step/2, step/4 by the nibble's bits. */
function expandQt(c: Channel, nibble: number): number {
  const step = STEPS[c.index];
  let diff = step >> 3;
  if (nibble & 4) diff += step;
  if (nibble & 2) diff += step >> 1;
  if (nibble & 1) diff += step >> 2;
  c.predictor = clip16(nibble & 8 ? c.predictor - diff : c.predictor + diff);
  c.index = clipIndex(c.index + INDEX_STEP[nibble & 7]);
  return c.predictor;
}

/** The multiply form ((2·delta + 1)·step / 8) that WAV decoders use; it rounds differently. */
function expandWav(c: Channel, nibble: number): number {
  const step = STEPS[c.index];
  const diff = ((2 * (nibble & 7) + 1) * step) >> 3;
  c.predictor = clip16(nibble & 8 ? c.predictor - diff : c.predictor + diff);
  c.index = clipIndex(c.index + INDEX_STEP[nibble & 7]);
  return c.predictor;
}

/** QuickTime `ima4`: per channel, packets of 34 bytes (a 2-byte header holding the top 9 bits of
 * the predictor and the 7-bit step index, then 64 samples low nibble first); a stereo packet is
 * the left channel's 34 bytes followed by the right's. The decoder keeps its state between
 * packets, as QuickTime's does, and takes the header's only when it disagrees (after a seek). */
export class ImaQtDecoder {
  static readonly PACKET_BYTES = 34;
  static readonly PACKET_FRAMES = 64;
  readonly #channels: Channel[];

  constructor(readonly channels: number) {
    this.#channels = Array.from({ length: channels }, () => ({ predictor: 0, index: 0 }));
  }

  /** Whole packets of all channels → 64 frames each; a trailing partial packet is ignored. */
  decode(data: Buffer): Buffer {
    const ch = this.channels;
    const group = ImaQtDecoder.PACKET_BYTES * ch;
    const packets = Math.floor(data.length / group);
    const out = Buffer.allocUnsafe(packets * 64 * ch * 2);
    for (let p = 0; p < packets; p++) {
      for (let k = 0; k < ch; k++) {
        const base = p * group + k * ImaQtDecoder.PACKET_BYTES;
        const c = this.#channels[k];
        const header = data.readInt16BE(base);
        const index = clipIndex(header & 0x7f);
        const predictor = header & ~0x7f;
        if (c.index !== index || Math.abs(predictor - c.predictor) > 0x7f) {
          c.index = index;
          c.predictor = predictor;
        }
        let o = (p * 64 * ch + k) * 2;
        for (let i = 0; i < 32; i++) {
          const b = data[base + 2 + i];
          out.writeInt16BE(expandQt(c, b & 0x0f), o);
          o += ch * 2;
          out.writeInt16BE(expandQt(c, b >> 4), o);
          o += ch * 2;
        }
      }
    }
    return out;
  }
}

/** Frames in one WAV IMA ADPCM block of `blockAlign` bytes: the header's sample plus two a byte. */
export function imaWavFramesPerBlock(blockAlign: number, channels: number): number {
  return ((blockAlign - 4 * channels) * 2) / channels + 1;
}

/** WAV IMA ADPCM (format tag 0x11): blocks of `blockAlign` bytes, each starting with a 4-byte
 * header per channel (predictor int16 LE, step index, reserved) that is also the first sample,
 * then 4-byte words of 8 samples per channel in turn, low nibble first. Blocks decode on their
 * own. */
export function decodeImaWav(data: Buffer, channels: number, blockAlign: number): Buffer {
  const blocks = Math.floor(data.length / blockAlign);
  const frames = imaWavFramesPerBlock(blockAlign, channels);
  if (!Number.isInteger(frames) || frames < 1)
    throw new RangeError(`invalid IMA ADPCM block of ${blockAlign} bytes for ${channels} channels`);
  const out = Buffer.allocUnsafe(blocks * frames * channels * 2);
  const state: Channel[] = Array.from({ length: channels }, () => ({ predictor: 0, index: 0 }));
  for (let b = 0; b < blocks; b++) {
    const base = b * blockAlign;
    const first = b * frames * channels;
    for (let k = 0; k < channels; k++) {
      state[k].predictor = data.readInt16LE(base + 4 * k);
      state[k].index = clipIndex(data[base + 4 * k + 2]);
      out.writeInt16BE(state[k].predictor, (first + k) * 2);
    }
    let pos = base + 4 * channels;
    for (let n = 0; n < (frames - 1) / 8; n++) {
      for (let k = 0; k < channels; k++) {
        let frame = 1 + n * 8;
        for (let m = 0; m < 4; m++) {
          const v = data[pos++];
          out.writeInt16BE(expandWav(state[k], v & 0x0f), (first + frame++ * channels + k) * 2);
          out.writeInt16BE(expandWav(state[k], v >> 4), (first + frame++ * channels + k) * 2);
        }
      }
    }
  }
  return out;
}
