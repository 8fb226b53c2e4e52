/** A file player's samples read ahead, waiting for their send time: a ring of typed arrays
 * instead of an object per sample. Thousands of viewers each queue a few dozen samples that live
 * half a second, long enough for objects to age into the old generation and cost full garbage
 * collections; numbers in typed arrays cost nothing to collect. */
import type { RtpPayload } from '../codecs/types.js';

const FIRST_CAPACITY = 32;
/** An empty slot's payloads (no references kept to what was sent). */
const NONE: RtpPayload[] = [];

export class SampleQueue {
  #lane = new Uint8Array(FIRST_CAPACITY);
  /** 1 for a sync sample (a keyframe). */
  #sync = new Uint8Array(FIRST_CAPACITY);
  #pts = new Float64Array(FIRST_CAPACITY);
  #due = new Float64Array(FIRST_CAPACITY);
  #payloads: RtpPayload[][] = new Array<RtpPayload[]>(FIRST_CAPACITY).fill(NONE);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Due instant of the last sample queued; -Infinity when empty. */
  get lastDue(): number {
    return this.#size ? this.#due[(this.#head + this.#size - 1) % this.#due.length] : -Infinity;
  }

  /** Due instant of the first sample; Infinity when empty. */
  get headDue(): number {
    return this.#size ? this.#due[this.#head] : Infinity;
  }

  get headLane(): number {
    return this.#lane[this.#head];
  }

  /** Whether the first sample is a sync sample (a keyframe). */
  get headSync(): boolean {
    return this.#sync[this.#head] === 1;
  }

  get headPts(): number {
    return this.#pts[this.#head];
  }

  /** Payloads of the first sample; none when empty. */
  get headPayloads(): RtpPayload[] {
    return this.#payloads[this.#head];
  }

  /** Queues a sample of lane `lane` (0-255): its presentation and due instants, its payloads and
   * whether it is a sync sample. */
  push(lane: number, pts: number, due: number, payloads: RtpPayload[], sync = false): void {
    if (this.#size === this.#due.length) this.#grow();
    const at = (this.#head + this.#size) % this.#due.length;
    this.#lane[at] = lane;
    this.#sync[at] = sync ? 1 : 0;
    this.#pts[at] = pts;
    this.#due[at] = due;
    this.#payloads[at] = payloads;
    this.#size++;
  }

  /** Drops the first sample. */
  shift(): void {
    if (!this.#size) return;
    this.#payloads[this.#head] = NONE;
    this.#head = (this.#head + 1) % this.#due.length;
    this.#size--;
  }

  clear(): void {
    this.#payloads.fill(NONE);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const n = this.#due.length * 2;
    const lane = new Uint8Array(n);
    const sync = new Uint8Array(n);
    const pts = new Float64Array(n);
    const due = new Float64Array(n);
    const payloads = new Array<RtpPayload[]>(n).fill(NONE);
    for (let k = 0; k < this.#size; k++) {
      const at = (this.#head + k) % this.#due.length;
      lane[k] = this.#lane[at];
      sync[k] = this.#sync[at];
      pts[k] = this.#pts[at];
      due[k] = this.#due[at];
      payloads[k] = this.#payloads[at];
    }
    this.#lane = lane;
    this.#sync = sync;
    this.#pts = pts;
    this.#due = due;
    this.#payloads = payloads;
    this.#head = 0;
  }
}
