/** Uncompressed audio RTP packetizer (RFC 3551 §4.5: L8, L16, L24, PCMU, PCMA). A block of audio
 * frames (all channels of one sampling instant, interleaved) is cut into packets of about
 * `packetTime` ms that fit `maxPayloadSize`, always on frame boundaries, and converted to the
 * payload's byte order where the file's differs. Each packet is time-stamped at its first frame
 * (`timestampOffset`, in frames: the RTP clock is the sampling rate). */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import type { Packetizer, RtpPayload } from '../types.js';
import {
  pcmBytesPerSample,
  pcmConvert,
  pcmEncodedBytesPerSample,
  pcmIsPassThrough,
  type PcmSampleFormat,
} from './sample-format.js';

export interface PcmPacketizerOptions {
  format: PcmSampleFormat;
  channels: number;
  sampleRate: number;
  /** Audio per packet, ms. Default 20 (RFC 3551 §4.2's default packetization interval). */
  packetTime?: number;
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

export class PcmPacketizer implements Packetizer {
  readonly #format: PcmSampleFormat;
  readonly #inFrame: number;
  readonly #outFrame: number;
  readonly #framesPerPacket: number;
  readonly #passThrough: boolean;

  constructor(options: PcmPacketizerOptions) {
    if (!Number.isInteger(options.channels) || options.channels < 1)
      throw new RangeError(`invalid channel count ${options.channels}`);
    if (!(options.sampleRate > 0)) throw new RangeError(`invalid sampling rate ${options.sampleRate}`);
    this.#format = options.format;
    this.#inFrame = pcmBytesPerSample(options.format) * options.channels;
    this.#outFrame = pcmEncodedBytesPerSample(options.format) * options.channels;
    const max = checkMaxPayloadSize(options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE, this.#outFrame);
    const byTime = Math.max(1, Math.round((options.sampleRate * (options.packetTime ?? 20)) / 1000));
    this.#framesPerPacket = Math.min(byTime, Math.floor(max / this.#outFrame));
    this.#passThrough = pcmIsPassThrough(options.format);
  }

  /** Frames in a full packet. */
  get framesPerPacket(): number {
    return this.#framesPerPacket;
  }

  /** A block of whole frames; a trailing partial frame (a damaged file) is left out. */
  packetize(block: Buffer): RtpPayload[] {
    const frames = Math.floor(block.length / this.#inFrame);
    if (frames === 0) return [];
    const count = Math.ceil(frames / this.#framesPerPacket);
    // Even split: as many packets as filling greedily would need, without a runt at the end.
    const base = Math.floor(frames / count);
    const extra = frames % count;
    const out: RtpPayload[] = [];
    let first = 0;
    for (let k = 0; k < count; k++) {
      const n = base + (k < extra ? 1 : 0);
      const src = block.subarray(first * this.#inFrame, (first + n) * this.#inFrame);
      const data = this.#passThrough ? src : pcmConvert(this.#format, src);
      out.push({ parts: [data], length: n * this.#outFrame, marker: false, timestampOffset: first });
      first += n;
    }
    return out;
  }
}
