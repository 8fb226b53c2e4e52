/** MPEG audio depacketizer (RFC 2250 §3.5): whole frames pass through; fragments (non-zero
 * offsets, or a frame longer than its first payload) are joined. For tests and live ingest. */

import type { Depacketizer, RtpPacketInfo } from '../types.js';
import { parseMpegAudioHeader } from './header.js';

export interface MpaFrame {
  timestamp: number;
  /** One or more whole MPEG audio frames. */
  data: Buffer;
}

const NONE: readonly MpaFrame[] = Object.freeze([]);

export class MpaDepacketizer implements Depacketizer<MpaFrame> {
  #parts: Buffer[] = [];
  #have = 0;
  #want = 0;
  #timestamp = 0;
  #dropped = 0;

  get droppedCount(): number {
    return this.#dropped;
  }

  push(payload: Buffer, info: RtpPacketInfo): readonly MpaFrame[] {
    if (payload.length < 4) {
      this.#dropped++;
      return NONE;
    }
    const offset = payload.readUInt16BE(2);
    const data = payload.subarray(4);
    if (offset !== 0) {
      if (!this.#parts.length || offset !== this.#have || info.timestamp !== this.#timestamp) {
        this.#drop();
        return NONE;
      }
      this.#parts.push(data);
      this.#have += data.length;
      return this.#have >= this.#want ? this.#take() : NONE;
    }
    this.#drop();
    const h = parseMpegAudioHeader(data);
    if (h && h.frameSize > data.length) {
      this.#parts = [data];
      this.#have = data.length;
      this.#want = h.frameSize;
      this.#timestamp = info.timestamp;
      return NONE;
    }
    return [{ timestamp: info.timestamp, data }];
  }

  flush(): readonly MpaFrame[] {
    this.#drop();
    return NONE;
  }

  reset(): void {
    this.#parts = [];
    this.#have = 0;
  }

  #take(): readonly MpaFrame[] {
    const frame = { timestamp: this.#timestamp, data: Buffer.concat(this.#parts, this.#have) };
    this.#parts = [];
    this.#have = 0;
    return [frame];
  }

  #drop(): void {
    if (this.#parts.length) this.#dropped++;
    this.#parts = [];
    this.#have = 0;
  }
}
