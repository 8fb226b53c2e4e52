/** A live presentation at one path: its tracks, the publisher feeding it, and its viewers.
 * When the publisher goes away the viewers wait a grace period; a publisher that returns in time
 * continues the same stream (viewers resume on its first keyframe), otherwise viewers get BYE. */
import type { Logger } from '../logging/index.js';
import type { StreamDescription } from '../stream/types.js';
import { readerAdded, readerRemoved, type CoreEvents } from './events.js';
import type { Reader } from './reader.js';
import type { Source } from './source.js';
import type { StreamTrack } from './stream-track.js';

export type { Reader } from './reader.js';
export type { Source } from './source.js';

export type StreamState = 'active' | 'waiting' | 'ended';

/** What a stream says about itself, whatever protocol carries it: a radio source's `ice-*` /
 * `icy-*` headers and song title updates, or the title and artist tags of the file a playlist
 * plays now. Readers that can show it (ICY listeners' `StreamTitle`, their `icy-name` headers)
 * read it when they need it; every field is optional. */
export interface StreamMetadata {
  /** Station or stream name (`icy-name`). */
  name?: string;
  /** Now playing, e.g. `Artist - Title` (ICY `StreamTitle`). */
  title?: string;
  genre?: string;
  description?: string;
  url?: string;
  /** Nominal bitrate the source announced, kbit/s (`icy-br`). */
  bitrateKbps?: number;
  /** Whether the source asked to be listed in directories (`icy-pub`). */
  public?: boolean;
}

/** Longest value kept per metadata field: they come from the network or from files. */
const MAX_METADATA_CHARS = 1024;

export interface StreamOptions {
  /** Registry key, e.g. `live/cam1`. */
  path: string;
  tracks: StreamTrack[];
  /** Seconds viewers wait for a vanished publisher (its path's setting when first published;
   * each publisher attaching brings its own). */
  graceTime: number;
  log: Logger;
  /** Where it reports publishing and readers coming and going (none in unit tests). */
  events?: CoreEvents;
  /** Called once when the stream ends for good. */
  onEnded: (s: Stream) => void;
}

export class Stream {
  readonly path: string;
  readonly tracks: StreamTrack[];
  readonly #readers = new Set<Reader>();
  readonly createdAt = Date.now();
  #state: StreamState = 'waiting';
  #publisher: Source | undefined;
  #grace: NodeJS.Timeout | undefined;
  #activeSince = 0;
  #graceTime: number;
  readonly #opts: StreamOptions;
  #metadata: Readonly<StreamMetadata> = {};
  /** Bumped at each metadata change, so readers tell a new title from the one they sent. */
  #metadataVersion = 0;

  constructor(opts: StreamOptions) {
    this.#opts = opts;
    this.#graceTime = opts.graceTime;
    this.path = opts.path;
    this.tracks = opts.tracks;
  }

  get state(): StreamState {
    return this.#state;
  }
  /** What feeds the stream now (none while it waits for one to return). */
  get source(): Source | undefined {
    return this.#publisher;
  }
  /** Who reads the stream now (RTSP play sessions; later HLS, ICY, recorders). */
  get readers(): ReadonlySet<Reader> {
    return this.#readers;
  }

  /** What the stream says about itself now (empty until a source says something). */
  get metadata(): Readonly<StreamMetadata> {
    return this.#metadata;
  }
  /** Changes at every `setMetadata` that changed something. */
  get metadataVersion(): number {
    return this.#metadataVersion;
  }

  /** Merges `m` into the stream's metadata (a field given as undefined is left as it was; to
   * clear a text field, give ''). Text is cut to a bounded length. Logged when the title changes. */
  setMetadata(m: StreamMetadata): void {
    const next: StreamMetadata = { ...this.#metadata };
    let changed = false;
    for (const [k, v] of Object.entries(m) as [keyof StreamMetadata, StreamMetadata[keyof StreamMetadata]][]) {
      if (v === undefined) continue;
      const value = typeof v === 'string' ? v.slice(0, MAX_METADATA_CHARS) : v;
      if (next[k] === value) continue;
      (next as Record<string, unknown>)[k] = value;
      changed = true;
    }
    if (!changed) return;
    const titleChanged = next.title !== this.#metadata.title;
    this.#metadata = Object.freeze(next);
    this.#metadataVersion++;
    if (titleChanged) this.#opts.log.info({ path: this.path, title: next.title }, 'now playing');
  }

  /** A reader starts taking from the stream. */
  addReader(r: Reader): void {
    if (this.#readers.has(r)) return;
    this.#readers.add(r);
    this.#publisher?.readersChanged?.(this.#readers.size);
    this.#opts.events?.emit('reader.added', readerAdded(this.path, r));
  }

  /** A reader stopped (closed, or the stream ended under it). */
  removeReader(r: Reader, reason: string): void {
    if (!this.#readers.delete(r)) return;
    this.#publisher?.readersChanged?.(this.#readers.size);
    this.#opts.events?.emit('reader.removed', readerRemoved(this.path, r, reason));
  }

  /** Date.now() when the current publisher started (publisher timeout baseline). */
  get activeSince(): number {
    return this.#activeSince;
  }

  /** Packets refused on this stream's publisher ports because a stranger sent them. */
  get strangerPackets(): number {
    return this.tracks.reduce((n, t) => n + t.strangerPackets, 0);
  }

  description(): StreamDescription {
    return {
      name: this.path,
      tracks: this.tracks.map((t) => ({
        id: t.id,
        control: t.control,
        format: t.format,
        bitrateKbps: t.options.bitrateKbps,
        width: t.options.width,
        height: t.options.height,
        frameRate: t.options.frameRate,
      })),
    };
  }

  /** Same number of tracks with the same payload formats, so viewers can carry on. */
  compatible(tracks: { format: { encodingName: string; clockRate: number; media: string } }[]): boolean {
    return (
      tracks.length === this.tracks.length &&
      tracks.every((t, i) => {
        const f = this.tracks[i].format;
        return f.media === t.format.media && f.encodingName.toUpperCase() === t.format.encodingName.toUpperCase() && f.clockRate === t.format.clockRate;
      })
    );
  }

  /** `graceTime`: the path's setting as this publisher found it (a reload may have changed it
   * since the stream began); left out, the stream's keeps. */
  attach(publisher: Source, graceTime = this.#graceTime): void {
    if (this.#state === 'ended') throw new Error('stream has ended');
    this.#graceTime = graceTime;
    const returning = this.#activeSince > 0;
    if (this.#grace) clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#publisher = publisher;
    this.#state = 'active';
    this.#activeSince = Date.now();
    if (returning) {
      for (const t of this.tracks) t.rebase();
      for (const v of this.#readers) v.resync();
    }
    this.#opts.events?.emit('path.published', {
      path: this.path,
      source: { kind: publisher.kind, label: publisher.label },
      tracks: this.tracks.map((t) => t.format.encodingName),
      resumed: returning,
    });
    this.#opts.log.info({ path: this.path, publisher: publisher.label, viewers: this.#readers.size }, returning ? 'broadcast resumed' : 'broadcast started');
  }

  /** The publisher left; viewers wait `graceTime` for it (or another) to come back. */
  detach(publisher: Source, reason: string): void {
    if (this.#publisher !== publisher || this.#state !== 'active') return;
    this.#publisher = undefined;
    this.#state = 'waiting';
    // Viewers starting now play on without a keyframe rather than wait for a source that left.
    for (const t of this.tracks) t.endKeyframeWaits();
    this.#opts.log.info({ path: this.path, reason, viewers: this.#readers.size, grace: this.#graceTime }, 'broadcast interrupted');
    if (this.#readers.size === 0 || this.#graceTime === 0) {
      this.end(reason);
      return;
    }
    this.#grace = setTimeout(() => this.end(`${reason}; publisher did not return`), this.#graceTime * 1000);
    this.#grace.unref();
    for (const r of [...this.#readers]) r.sourceLost?.();
  }

  end(reason: string): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    if (this.#grace) clearTimeout(this.#grace);
    const p = this.#publisher;
    this.#publisher = undefined;
    p?.close(reason);
    for (const v of [...this.#readers]) {
      v.close('broadcast ended');
      this.removeReader(v, 'broadcast ended');
    }
    for (const t of this.tracks) {
      t.readers.clear();
      t.endKeyframeWaits();
    }
    this.#opts.log.info({ path: this.path, reason }, 'broadcast ended');
    this.#opts.events?.emit('path.unpublished', { path: this.path, reason, durationMs: Date.now() - this.createdAt });
    this.#opts.onEnded(this);
  }
}
