/** Access-unit and fragmentation-unit reassembly shared by the H.264 and H.265 depacketizers.
 * The codec classes parse their payload headers and drive this state machine. */

import type { NalAccessUnit, RtpPacketInfo } from '../types.js';

const NONE: readonly NalAccessUnit[] = Object.freeze([]);

export class NalAssembler {
  #active = false;
  #timestamp = 0;
  #nalus: Buffer[] = [];
  #damaged = false;
  /** Next expected sequence number, or -1 before the first packet carrying one. */
  #expectedSeq = -1;
  /** FU in progress: reconstructed NAL header followed by the fragments so far. */
  #fu: Buffer[] | null = null;
  #fuLength = 0;

  /** Starts processing one packet. An RTP timestamp change ends the previous access unit even
   * without a marker (the marker packet may have been lost); it is returned here. */
  begin(info: RtpPacketInfo): NalAccessUnit | null {
    let done: NalAccessUnit | null = null;
    if (this.#active && info.timestamp !== this.#timestamp) done = this.#finish();
    if (info.sequence !== undefined) {
      if (this.#expectedSeq !== -1 && info.sequence !== this.#expectedSeq) this.#lost();
      this.#expectedSeq = (info.sequence + 1) & 0xffff;
    }
    if (!this.#active) {
      this.#active = true;
      this.#timestamp = info.timestamp;
    }
    return done;
  }

  /** Ends the packet; on a marker the access unit is complete and returned. */
  end(marker: boolean): NalAccessUnit | null {
    return marker ? this.#finish() : null;
  }

  addNal(nal: Buffer): void {
    if (this.#fu) this.#dropFu(); // a FU interrupted by another NAL unit lost its tail
    if (nal.length > 0) this.#nalus.push(nal);
  }

  /** First fragment of a FU; `header` is the reconstructed NAL unit header. */
  fuStart(header: Buffer, data: Buffer, end: boolean): void {
    if (this.#fu) this.#dropFu();
    this.#fu = [header, data];
    this.#fuLength = header.length + data.length;
    if (end) this.#completeFu();
  }

  /** Later fragment of a FU. Without a start (it was lost) the fragment is useless. */
  fuContinue(data: Buffer, end: boolean): void {
    if (!this.#fu) {
      this.#damaged = true;
      return;
    }
    this.#fu.push(data);
    this.#fuLength += data.length;
    if (end) this.#completeFu();
  }

  /** Marks the current access unit as damaged (malformed payload). */
  damage(): void {
    this.#damaged = true;
  }

  flush(): readonly NalAccessUnit[] {
    const au = this.#active ? this.#finish() : null;
    return au ? [au] : NONE;
  }

  reset(): void {
    this.#active = false;
    this.#nalus = [];
    this.#damaged = false;
    this.#expectedSeq = -1;
    this.#fu = null;
    this.#fuLength = 0;
  }

  /** Combines the 0-2 units one packet can complete without allocating in the common case. */
  static collect(a: NalAccessUnit | null, b: NalAccessUnit | null): readonly NalAccessUnit[] {
    if (a && b) return [a, b];
    if (a) return [a];
    if (b) return [b];
    return NONE;
  }

  #lost(): void {
    this.#damaged = true;
    if (this.#fu) this.#dropFu();
  }

  #dropFu(): void {
    this.#fu = null;
    this.#fuLength = 0;
    this.#damaged = true;
  }

  #completeFu(): void {
    const parts = this.#fu;
    if (!parts) return;
    this.#nalus.push(Buffer.concat(parts, this.#fuLength));
    this.#fu = null;
    this.#fuLength = 0;
  }

  #finish(): NalAccessUnit | null {
    if (this.#fu) this.#dropFu();
    const au: NalAccessUnit | null =
      this.#nalus.length > 0
        ? { timestamp: this.#timestamp, nalus: this.#nalus, damaged: this.#damaged }
        : null;
    this.#active = false;
    this.#nalus = [];
    this.#damaged = false;
    return au;
  }
}
