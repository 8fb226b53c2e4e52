/** Incremental framing of audio byte streams (what an Icecast or SHOUTcast source sends): bytes
 * come in chunks of any size, whole frames come out. `SyncFramer` does the work shared by every
 * such stream (a bounded pending buffer, tags and junk skipped, resync after garbage); a
 * `SyncCodec` says how one format's frames look. `MpegAudioFramer` is the MP3/MP2 one. */

import { parseMpegAudioHeader, sameMpegAudioStream } from './header.js';

/** One frame of a byte stream, ready for its RTP packetizer. */
export interface AudioFrame {
  /** MPEG audio: the whole frame, header included; AAC: the raw AU (ADTS header stripped);
   * Opus: one Opus packet. A fresh copy, never a view of the caller's chunk. */
  data: Buffer;
  /** Samples per channel the frame decodes to. */
  samples: number;
  sampleRate: number;
  channels: number;
  /** From the frame header, where it says (MPEG audio). */
  bitrateKbps?: number;
}

export interface FramerOptions {
  /** Bytes held while waiting for the rest of a frame or a header to confirm it; beyond this the
   * oldest are dropped and counted in `bytesSkipped`. Default 64 KiB (DEFAULT_MAX_PENDING_BYTES). */
  maxPendingBytes?: number;
}

export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024;

/** How one format's frames look in a byte stream. */
export interface SyncCodec<F> {
  /** Length of the frame starting at `buf[off]` (header included), 0 when no frame starts
   * there, -1 when more bytes are needed to tell. */
  frameLength(buf: Buffer, off: number): number;
  /** Headers at `a[aOff]` and `b[bOff]` belong to one stream; undefined for formats whose frames
   * prove themselves (a checksum), which need no second header before the first is trusted. */
  sameStream?: (a: Buffer, aOff: number, b: Buffer, bOff: number) => boolean;
  /** The units of one whole frame (`data` is the framer's own copy, header included); null when
   * the frame is unusable (its bytes count as skipped). */
  frames(data: Buffer): readonly F[] | null;
}

const EMPTY = Buffer.alloc(0);
/** Longest prefix that can tell a tag from audio (an ID3v2 header). */
const LOOKAHEAD = 10;
const ID3V1_SIZE = 128;

/** Length of an ID3v2 tag ("ID3", version, flags, 28-bit syncsafe size, optional footer) or an
 * ID3v1 block ("TAG", 128 bytes) at `off`; 0 when there is none, -1 when more bytes are needed. */
function tagLength(buf: Buffer, off: number): number {
  const c = buf[off];
  if (c !== 0x49 && c !== 0x54) return 0;
  const left = buf.length - off;
  const magic = c === 0x49 ? 'ID3' : 'TAG';
  for (let k = 1; k < 3; k++) {
    if (k >= left) return -1;
    if (buf[off + k] !== magic.charCodeAt(k)) return 0;
  }
  if (magic === 'TAG') return ID3V1_SIZE;
  if (left < 10) return -1;
  // Versions 2.2-2.4 only: a stray "ID3" in junk must not make us skip megabytes.
  if (buf[off + 3] < 2 || buf[off + 3] > 4 || buf[off + 4] === 0xff) return 0;
  if ((buf[off + 6] | buf[off + 7] | buf[off + 8] | buf[off + 9]) & 0x80) return 0;
  const size = (buf[off + 6] << 21) | (buf[off + 7] << 14) | (buf[off + 8] << 7) | buf[off + 9];
  return 10 + size + (buf[off + 5] & 0x10 ? 10 : 0);
}

/** Byte-stream framer for any `SyncCodec`. A frame goes out once the bytes after it confirm it:
 * the next frame's header of the same stream (any stream, when this frame continues the one in
 * sync), or a tag. So a stray sync word in garbage is not taken for audio, and the last frame of
 * a stream waits for `flush`. Formats with checksums prove each frame by itself. */
export class SyncFramer<F> {
  readonly #codec: SyncCodec<F>;
  readonly #max: number;
  #pending: Buffer = EMPTY;
  /** Bytes of a tag still to come that are skipped as they arrive (album art is not buffered). */
  #skip = 0;
  /** Header bytes of the last frame given out while in sync; undefined after junk. */
  #ref: Buffer | undefined;
  #bytesSkipped = 0;
  #bytesIn = 0;

  constructor(codec: SyncCodec<F>, options: FramerOptions = {}) {
    const max = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    if (!Number.isInteger(max) || max < LOOKAHEAD)
      throw new RangeError(`maxPendingBytes must be an integer >= ${LOOKAHEAD}, got ${max}`);
    this.#codec = codec;
    this.#max = max;
  }

  /** Bytes dropped: tags, junk between frames, unusable frames, and what the bound cut. */
  get bytesSkipped(): number {
    return this.#bytesSkipped;
  }

  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Bytes held for the next push. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): F[] {
    this.#bytesIn += chunk.length;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      this.#bytesSkipped += n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return [];
    // One copy per chunk: frames are views of it, so they never alias the caller's buffer.
    const buf = Buffer.concat([this.#pending, chunk]);
    const out: F[] = [];
    let i = 0;
    while (buf.length - i >= LOOKAHEAD) {
      const step = this.#step(buf, i, out);
      if (step > 0) {
        i += step;
        continue;
      }
      // Waiting for more bytes: within the bound, or give up on this position as junk.
      if (buf.length - i <= this.#max) break;
      this.#junk(1);
      i += 1;
    }
    this.#pending = i < buf.length ? buf.subarray(i) : EMPTY;
    if (this.#pending.length > this.#max) {
      this.#junk(this.#pending.length - this.#max);
      this.#pending = this.#pending.subarray(this.#pending.length - this.#max);
    }
    return out;
  }

  /** The end of the stream: the last frame, which no header follows to confirm it, when it is
   * whole and continues the stream in sync; what else is pending is dropped and counted. */
  flush(): F[] {
    const buf = this.#pending;
    const out: F[] = [];
    const same = this.#codec.sameStream;
    const len = buf.length >= LOOKAHEAD ? this.#codec.frameLength(buf, 0) : 0;
    const whole =
      len > 0 && len <= buf.length && (!same || (this.#ref !== undefined && same(this.#ref, 0, buf, 0)));
    const used = whole ? this.#take(buf, 0, len, out) : 0;
    this.#bytesSkipped += buf.length - used;
    this.reset();
    return out;
  }

  /** Forgets what is pending (a new source); counters stay. */
  reset(): void {
    this.#pending = EMPTY;
    this.#skip = 0;
    this.#ref = undefined;
  }

  /** Handles the bytes at `i`: returns how many were consumed, 0 to wait for more. */
  #step(buf: Buffer, i: number, out: F[]): number {
    const tag = tagLength(buf, i);
    if (tag > 0) {
      const have = Math.min(tag, buf.length - i);
      this.#skip = tag - have;
      this.#bytesSkipped += have;
      return have;
    }
    const codec = this.#codec;
    const len = codec.frameLength(buf, i);
    if (len < 0) return 0;
    if (len === 0) return this.#scan(buf, i);
    const same = codec.sameStream;
    if (same) {
      // What follows must confirm the frame: a tag, or a header (of this stream, unless this
      // frame continues the stream we are in sync with and the next one starts another).
      const next = i + len;
      if (next + LOOKAHEAD > buf.length) return 0;
      const inSync = this.#ref !== undefined && same(this.#ref, 0, buf, i);
      const confirmed =
        tagLength(buf, next) > 0 || (codec.frameLength(buf, next) > 0 && (inSync || same(buf, i, buf, next)));
      if (!confirmed) {
        this.#junk(1);
        return 1;
      }
    } else if (i + len > buf.length) return 0;
    return this.#take(buf, i, len, out);
  }

  #take(buf: Buffer, i: number, len: number, out: F[]): number {
    const frames = this.#codec.frames(buf.subarray(i, i + len));
    if (frames === null) this.#junk(len);
    else {
      for (const f of frames) out.push(f);
      this.#ref = buf.subarray(i, i + LOOKAHEAD);
    }
    return len;
  }

  /** Skips junk up to the next byte that may start a frame (0xFF sync, "ID3", "TAG", "OggS"). */
  #scan(buf: Buffer, i: number): number {
    let j = i + 1;
    while (j < buf.length) {
      const c = buf[j];
      if (c === 0xff || c === 0x49 || c === 0x54 || c === 0x4f) break;
      j++;
    }
    this.#junk(j - i);
    return j - i;
  }

  #junk(n: number): void {
    this.#bytesSkipped += n;
    this.#ref = undefined;
  }
}

/** MPEG-1/2/2.5 audio frames (MP3, MP2) as `SyncFramer` reads them. */
const MPEG_AUDIO: SyncCodec<AudioFrame> = {
  frameLength: (buf, off) => parseMpegAudioHeader(buf, off)?.frameSize ?? 0,
  sameStream: sameMpegAudioStream,
  frames(data) {
    const h = parseMpegAudioHeader(data);
    if (!h) return null;
    return [
      {
        data,
        samples: h.samplesPerFrame,
        sampleRate: h.sampleRate,
        channels: h.channels,
        bitrateKbps: h.bitrate,
      },
    ];
  },
};

/** MP3 (any MPEG audio layer) byte stream → whole frames. Skips ID3v2 tags wherever they
 * appear (a playlist's next file), ID3v1 blocks and junk; locks on a header only when the next
 * frame's header matches it, and resyncs the same way after garbage. */
export class MpegAudioFramer extends SyncFramer<AudioFrame> {
  constructor(options: FramerOptions = {}) {
    super(MPEG_AUDIO, options);
  }
}
