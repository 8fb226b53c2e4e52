/** One reader of a live audio track for all of its ICY listeners: the frames' bytes are gathered
 * for WRITE_MS and handed to every listener as one buffer, so a listener costs one socket write
 * per interval rather than one per MPEG frame (38 a second at 44.1 kHz), and the buffer is built
 * once for all of them. Players buffer seconds of audio; a quarter of a second more is not heard. */
import type { Frame, StreamTrack, TrackReader } from '../core/index.js';
import type { AudioBytes } from '../readers/audio-bytes.js';

/** What a tap writes to. */
export interface TapListener {
  /** The next audio, in order (a view of a buffer shared by every listener: do not change it). */
  take(audio: Buffer): void;
}

/** How long frames are gathered before they are written. */
export const WRITE_MS = 250;

const taps = new WeakMap<StreamTrack, AudioTap>();

/** The track's tap (one per track, made on first use). */
export function tapOf(track: StreamTrack, audio: AudioBytes): AudioTap {
  let t = taps.get(track);
  if (!t) taps.set(track, (t = new AudioTap(track, audio)));
  return t;
}

export class AudioTap implements TrackReader {
  readonly #track: StreamTrack;
  readonly #audio: AudioBytes;
  /** Listeners, with the count of frames delivered when each joined: its burst held those. */
  readonly #listeners = new Map<TapListener, number>();
  #pending: Buffer[] = [];
  /** Byte offset in the pending batch where each pending frame ends (the last: its size). */
  #ends: number[] = [];
  /** Frames delivered since the tap was made, and the number of the batch's first. */
  #delivered = 0;
  #batchStart = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(track: StreamTrack, audio: AudioBytes) {
    this.#track = track;
    this.#audio = audio;
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  /** Starts writing to `l` from the next frame not yet delivered: the frames delivered so far,
   * including those still gathered here, are the caller's to send (its burst). */
  join(l: TapListener): void {
    this.#listeners.set(l, this.#delivered);
    if (this.#listeners.size === 1) {
      this.#track.readers.add(this);
      this.#timer = setInterval(() => this.#flush(), WRITE_MS);
      this.#timer.unref();
    }
  }

  leave(l: TapListener): void {
    if (!this.#listeners.delete(l) || this.#listeners.size > 0) return;
    this.#track.readers.delete(this);
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
    this.#ends = [];
    this.#batchStart = this.#delivered;
  }

  deliver(frame: Frame): void {
    const bytes = frame.form(this.#audio.form);
    if (bytes.length > 0) this.#pending.push(bytes);
    this.#ends.push(this.#pendingBytes() + bytes.length);
    this.#delivered++;
  }

  #pendingBytes(): number {
    return this.#ends.length === 0 ? 0 : this.#ends[this.#ends.length - 1];
  }

  #flush(): void {
    const size = this.#pendingBytes();
    if (size === 0) return;
    const batch = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, size);
    const start = this.#batchStart;
    const ends = this.#ends;
    this.#pending = [];
    this.#ends = [];
    this.#batchStart = this.#delivered;
    for (const [l, joinedAt] of this.#listeners) {
      const skip = joinedAt > start ? ends[joinedAt - start - 1] : 0;
      if (skip < batch.length) l.take(skip === 0 ? batch : batch.subarray(skip));
    }
  }
}
