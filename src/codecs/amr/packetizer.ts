/** AMR / AMR-WB RTP packetizer, RFC 4867 octet-aligned mode (§4.4):
 *
 *   | CMR (4) | R (4) | ToC 1 | ... | ToC n | frame 1 | ... | frame n |
 *   ToC = F | FT (4) | Q | P P      (F=1: another ToC entry follows)
 *
 * CMR is 15 (no mode request): a file cannot adapt its rate. The frames of a 3GP sample (each a
 * storage-format header byte plus speech bytes) go into one packet when they fit; otherwise they
 * are spread over several, each time-stamped at its first frame through `timestampOffset`. No
 * interleaving, CRC or robust sorting, so fmtp needs only `octet-align=1`. */

import { DEFAULT_MAX_PAYLOAD_SIZE, checkMaxPayloadSize } from '../common/payload-size.js';
import type { Packetizer, RtpPayload } from '../types.js';
import { AMR_WB_FRAME_BYTES, amrSamplesPerFrame, splitAmrFrames } from './frames.js';

const CMR_NO_REQUEST = 0xf0;

export interface AmrPacketizerOptions {
  /** AMR-WB (16 kHz, `sawb`) rather than AMR-NB (8 kHz, `samr`). Default false. */
  wideband?: boolean;
  /** Largest RTP payload, excluding the 12-byte RTP header. Default 1400. */
  maxPayloadSize?: number;
}

export class AmrPacketizer implements Packetizer {
  readonly #wideband: boolean;
  readonly #max: number;
  #dropped = 0;

  constructor(options: AmrPacketizerOptions = {}) {
    this.#wideband = options.wideband ?? false;
    // CMR, one ToC entry and the largest frame.
    this.#max = checkMaxPayloadSize(
      options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE,
      2 + Math.max(...AMR_WB_FRAME_BYTES),
    );
  }

  /** Bytes of samples that were not whole frames (damaged input), skipped rather than sent. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  packetize(sample: Buffer): RtpPayload[] {
    const { frames, rest } = splitAmrFrames(sample, this.#wideband);
    this.#dropped += rest;
    const out: RtpPayload[] = [];
    const spf = amrSamplesPerFrame(this.#wideband);
    let i = 0;
    while (i < frames.length) {
      let size = 1 + 1 + frames[i].data.length;
      let j = i + 1;
      while (j < frames.length && size + 1 + frames[j].data.length <= this.#max)
        size += 1 + frames[j++].data.length;
      const header = Buffer.allocUnsafe(1 + (j - i));
      header[0] = CMR_NO_REQUEST;
      const parts: Buffer[] = [header];
      for (let k = i; k < j; k++) {
        const f = frames[k];
        header[1 + k - i] = (k < j - 1 ? 0x80 : 0) | (f.type << 3) | (f.quality ? 0x04 : 0);
        if (f.data.length) parts.push(f.data);
      }
      out.push({ parts, length: size, marker: false, timestampOffset: i * spf });
      i = j;
    }
    return out;
  }
}
