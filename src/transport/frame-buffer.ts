/** What a TCP connection has to send before its next write, as RTSP interleaved `$` frames
 * (RFC 2326 §10.12). Frames are copied at once into one buffer per batch, sized from the last
 * batch, so nothing per packet outlives the call (thousands of file viewers each holding a batch
 * interval of packet objects until the flush would age them into the old generation and cost
 * full garbage collections) and a batch is one Buffer and one write. Frames built once for many
 * readers (live) are kept as they are, in order. */
import type { RtpPayload } from '../codecs/types.js';
import { RTP_HEADER_SIZE, writeRtpInto, type RtpHeaderFields } from '../rtp/packet.js';

/** Bytes of a region when nothing has been sent yet; later regions follow the size of the last
 * batch, within these bounds. */
const FIRST_REGION = 4096;
const MAX_REGION = 256 * 1024;

const EMPTY = Buffer.alloc(0);

/** Batch buffers whose write is done, by size (powers of two), shared by every connection: a
 * batch takes one and gives it back once written, instead of allocating one per batch (thousands
 * a second with thousands of viewers, each freed only when the collector gets to it, which also
 * fragments the C heap). Bounded by FREE_BYTES in all (a 16 KiB batch buffer for each of 4,000 viewers). */
const free = new Map<number, Buffer[]>();
const FREE_BYTES = 64 * 1024 * 1024;
let freeBytes = 0;

function acquire(size: number): Buffer {
  const b = free.get(size)?.pop();
  if (!b) return Buffer.allocUnsafe(size);
  freeBytes -= size;
  return b;
}

function release(buffer: Buffer): void {
  if (freeBytes + buffer.length > FREE_BYTES) return;
  let list = free.get(buffer.length);
  if (!list) free.set(buffer.length, (list = []));
  list.push(buffer);
  freeBytes += buffer.length;
}

export class FrameBuffer {
  /** Sealed chunks, in order: filled parts of regions and frames kept as they are. */
  #chunks: Buffer[] = [];
  #region: Buffer = EMPTY;
  /** Unsealed bytes of the region are [#start, #used). */
  #start = 0;
  #used = 0;
  #bytes = 0;
  #expect = FIRST_REGION;

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** One frame of a built payload (RTCP). Throws RangeError over 65535 bytes. */
  frame(channel: number, payload: Buffer): void {
    if (payload.length > 0xffff)
      throw new RangeError(`interleaved frame of ${payload.length} bytes is over 65535`);
    const o = this.#header(channel, payload.length);
    this.#used = o + payload.copy(this.#region, o);
  }

  /** One RTP packet, written from its header fields and payload parts. */
  rtp(channel: number, payload: RtpPayload, header: RtpHeaderFields): void {
    const len = RTP_HEADER_SIZE + payload.length;
    if (len > 0xffff) throw new RangeError(`RTP packet of ${len} bytes is over 65535`);
    const o = this.#header(channel, len);
    this.#used = writeRtpInto(this.#region, o, payload, header);
  }

  /** Bytes already framed, kept as they are (a live frame shared by every reader). */
  raw(framed: Buffer): void {
    this.#seal();
    this.#chunks.push(framed);
    this.#bytes += framed.length;
  }

  /** Everything waiting, in order, as few Buffers as possible (mostly one); empties the buffer.
   * `reusable`, when the batch is one chunk of a buffer of this FrameBuffer's own (never a frame
   * kept as it is), is that buffer: `recycle` it once the write is done. */
  take(): { chunks: Buffer[]; reusable?: Buffer } {
    const region = this.#region;
    const whole = this.#chunks.length === 0 && this.#start === 0 && this.#used > 0;
    this.#seal();
    // The next batch gets a buffer of its own: one sized for it, and none held in between.
    this.#region = EMPTY;
    this.#start = this.#used = 0;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#expect = Math.min(MAX_REGION, Math.max(FIRST_REGION, this.#bytes + (this.#bytes >> 2)));
    this.#bytes = 0;
    return { chunks, reusable: whole ? region : undefined };
  }

  /** Gives back the buffer of a batch whose write is done (`take`'s `reusable`), for a later
   * batch of any connection. */
  recycle(buffer: Buffer): void {
    release(buffer);
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.#region = EMPTY;
    this.#start = this.#used = 0;
  }

  /** Room for a frame of `len` bytes after its 4-byte header, header written; returns where the
   * frame's bytes go. */
  #header(channel: number, len: number): number {
    const need = 4 + len;
    if (this.#used + need > this.#region.length) {
      // A batch larger than the last (a keyframe) moves to a buffer twice the size, so the batch
      // stays one Buffer. Parts already taken stay valid: the old buffer is not written again.
      const kept = this.#used - this.#start;
      // Powers of two, so that batches of about the same size fit the buffer given back.
      const size = 2 ** Math.ceil(Math.log2(Math.max(kept + need, this.#expect, 2 * this.#region.length)));
      const next = acquire(size);
      this.#region.copy(next, 0, this.#start, this.#used);
      this.#region = next;
      this.#start = 0;
      this.#used = kept;
    }
    const r = this.#region;
    const o = this.#used;
    r[o] = 0x24;
    r[o + 1] = channel;
    r[o + 2] = len >> 8;
    r[o + 3] = len & 0xff;
    this.#bytes += need;
    return o + 4;
  }

  #seal(): void {
    if (this.#used > this.#start) this.#chunks.push(this.#region.subarray(this.#start, this.#used));
    this.#start = this.#used;
  }
}
