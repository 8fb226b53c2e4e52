/** MPEG audio files (`.mp3`, also Layer I/II `.mp2`/`.mpa`): the file is a run of frames, optionally
 * behind ID3v2 tags and followed by ID3v1/APE tags. Opening reads the file once, sequentially in
 * large chunks, and keeps each frame's offset and size (10 bytes a frame, ~1.4 MB for an hour), so
 * that playback can seek to any frame. A Xing/Info/VBRI frame (an encoder's table of contents,
 * silent if decoded) is left out, and garbage between frames is skipped by resynchronising on two
 * consecutive headers of the same stream. */
import type { FileHandle } from 'node:fs/promises';
import { parseMpegAudioHeader, sameMpegAudioStream, type MpegAudioHeader } from '../../codecs/mpa/header.js';
import type { Mp4Movie, Mp4Track, SampleInfo } from '../mp4/types.js';
import { AudioFileError, audioMovie, readAt, withAudioFile } from './file.js';

const CHUNK = 256 * 1024;
/** How far to look for the first frame, and past damage for the next one. */
const MAX_SYNC_SEARCH = 1024 * 1024;

/** Forward-only window over a file. */
class Window {
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  constructor(
    readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** Bytes [pos, pos + len) or fewer at the end of the file. The view stays valid until the next
   * call that moves the window. */
  async get(pos: number, len: number): Promise<Buffer> {
    const end = this.#start + this.#buf.length;
    if (!(pos >= this.#start && (pos + len <= end || end >= this.size))) {
      if (pos >= this.size) return Buffer.alloc(0);
      this.#buf = await readAt(this.fh, pos, Math.max(len, CHUNK));
      this.#start = pos;
    }
    const rel = pos - this.#start;
    return this.#buf.subarray(Math.min(rel, this.#buf.length), Math.min(rel + len, this.#buf.length));
  }
}

/** Offset just past leading ID3v2 tags (there may be several). */
async function skipId3v2(fh: FileHandle, size: number): Promise<number> {
  let pos = 0;
  while (pos + 10 <= size) {
    const h = await readAt(fh, pos, 10);
    if (h.toString('latin1', 0, 3) !== 'ID3' || (h[6] | h[7] | h[8] | h[9]) & 0x80) break;
    const len = (h[6] << 21) | (h[7] << 14) | (h[8] << 7) | h[9];
    pos += 10 + len + (h[5] & 0x10 ? 10 : 0);
  }
  return pos;
}

/** True when the first frame is an encoder's info frame (Xing/Info for VBR/CBR, Fraunhofer VBRI). */
function isInfoFrame(frame: Buffer, h: MpegAudioHeader): boolean {
  if (h.layer !== 3) return false;
  const side = h.version === 1 ? (h.channels === 1 ? 17 : 32) : h.channels === 1 ? 9 : 17;
  const crc = (frame[1] & 1) === 0 ? 2 : 0;
  for (const at of [4 + side, 4 + side + crc]) {
    const tag = frame.toString('latin1', at, at + 4);
    if (tag === 'Xing' || tag === 'Info') return true;
  }
  return frame.toString('latin1', 36, 40) === 'VBRI';
}

class FrameIndex {
  offsets = new Float64Array(1024);
  sizes = new Uint16Array(1024);
  count = 0;
  bytes = 0;

  push(offset: number, size: number): void {
    if (this.count === this.offsets.length) {
      const o = new Float64Array(this.count * 2);
      o.set(this.offsets);
      this.offsets = o;
      const s = new Uint16Array(this.count * 2);
      s.set(this.sizes);
      this.sizes = s;
    }
    this.offsets[this.count] = offset;
    this.sizes[this.count++] = size;
    this.bytes += size;
  }
}

/** A frame-per-sample track of an MPEG audio file. */
export class Mp3Track implements Mp4Track {
  readonly id = 1;
  readonly handler = 'soun';
  readonly timescale: number;
  readonly duration: number;
  readonly codec: string;
  readonly sampleCount: number;
  readonly editMediaTime = 0;
  readonly channels: number;
  readonly sampleRate: number;
  readonly allSync = true;
  readonly totalBytes: number;
  readonly references: Record<string, number[]> = Object.freeze({});
  /** The first frame's header fields: MPEG version, layer, bitrate (of the first frame). */
  readonly header: MpegAudioHeader;
  readonly #offsets: Float64Array;
  readonly #sizes: Uint16Array;
  readonly #spf: number;

  constructor(header: MpegAudioHeader, index: FrameIndex) {
    this.header = header;
    // QuickTime's four-cc for MP3; Layer I/II streams get the MPEG-4 name for MPEG audio.
    this.codec = header.layer === 3 ? '.mp3' : 'mpga';
    this.channels = header.channels;
    this.sampleRate = header.sampleRate;
    this.timescale = header.sampleRate;
    this.#spf = header.samplesPerFrame;
    this.sampleCount = index.count;
    this.duration = index.count * header.samplesPerFrame;
    this.totalBytes = index.bytes;
    this.#offsets = index.offsets.subarray(0, index.count);
    this.#sizes = index.sizes.subarray(0, index.count);
  }

  sample(index: number): SampleInfo {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`frame index ${index} outside [0, ${this.sampleCount})`);
    }
    const dts = index * this.#spf;
    return { index, offset: this.#offsets[index], size: this.#sizes[index], dts, cts: dts, sync: true };
  }

  sampleAtDts(dts: number): number {
    if (!(dts > 0) || this.sampleCount === 0) return 0;
    return Math.min(this.sampleCount - 1, Math.floor(dts / this.#spf));
  }

  syncAtOrBefore(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.sampleCount) {
      throw new RangeError(`frame index ${index} outside [0, ${this.sampleCount})`);
    }
    return index;
  }
}

/** First position at or after `from` (and before `limit`) where a frame header of the stream of
 * `ref` (any stream when undefined) is followed by another one, or by the end of the file. */
async function findSync(w: Window, from: number, limit: number, ref: Buffer | undefined): Promise<number> {
  let pos = from;
  scan: while (pos < limit) {
    const buf = await w.get(pos, CHUNK);
    if (buf.length < 4) return -1;
    for (let i = 0; i + 4 <= buf.length && pos + i < limit; i++) {
      if (buf[i] !== 0xff) continue;
      const h = parseMpegAudioHeader(buf, i);
      if (!h || (ref && !sameMpegAudioStream(ref, 0, buf, i))) continue;
      const at = pos + i;
      if (at + h.frameSize === w.size) return at;
      const hdr = Buffer.from(buf.subarray(i, i + 4));
      const next = await w.get(at + h.frameSize, 4);
      if (next.length === 4 && parseMpegAudioHeader(next) && sameMpegAudioStream(hdr, 0, next, 0)) return at;
      // `get` may have moved the window: carry on from the byte after this candidate.
      pos = at + 1;
      continue scan;
    }
    pos += Math.max(1, buf.length - 3);
  }
  return -1;
}

export async function openMp3(path: string): Promise<Mp4Movie> {
  return withAudioFile(path, async (fh, size, mtimeMs) => {
    const w = new Window(fh, size);
    const start = await skipId3v2(fh, size);
    const first = await findSync(w, start, Math.min(size, start + MAX_SYNC_SEARCH), undefined);
    if (first < 0) throw new AudioFileError('no MPEG audio frames found');
    const ref = Buffer.from(await w.get(first, 4));
    const header = parseMpegAudioHeader(ref)!;
    const index = new FrameIndex();
    let pos = first;
    let isFirst = true;
    while (pos + 4 <= size) {
      const b = await w.get(pos, 4);
      const h = b.length === 4 && sameMpegAudioStream(ref, 0, b, 0) ? parseMpegAudioHeader(b) : null;
      if (!h) {
        const tag = b.toString('latin1', 0, 3);
        if (tag === 'TAG' || tag === 'APE' || tag === 'LYR' || tag === 'ID3') break;
        const next = await findSync(w, pos + 1, Math.min(size, pos + MAX_SYNC_SEARCH), ref);
        if (next < 0) break;
        pos = next;
        continue;
      }
      if (pos + h.frameSize > size) break; // the last frame is cut short
      if (isFirst) {
        isFirst = false;
        if (isInfoFrame(await w.get(pos, Math.min(h.frameSize, 64)), h)) {
          pos += h.frameSize;
          continue;
        }
      }
      index.push(pos, h.frameSize);
      pos += h.frameSize;
    }
    if (index.count === 0) throw new AudioFileError('no complete MPEG audio frames found');
    return audioMovie(path, 'mp3', new Mp3Track(header, index), size, mtimeMs);
  });
}
