/** RTP payloads of file samples, made once and shared by every viewer of the file. Viewers of one
 * movie packetize the same samples the same way (only the RTP header, written per viewer, differs),
 * so a thousand students at their own positions of one lecture need each sample packetized once,
 * not a thousand times. A viewer then also skips reading a sample whose payloads are here: they
 * are views of the file's bytes. Bounded by the payload bytes the entries keep alive (they pin
 * the read cache's blocks they view), dropping the oldest first. */
import type { RtpPayload } from '../codecs/types.js';
import type { VodTrack } from './types.js';

/** Samples per (track, payload size) pair, for keys: index < 2^31. */
const INDEX_SPAN = 2 ** 31;

export interface PacketCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

export class PacketCache {
  #maxBytes: number;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  /** Key: lane id × INDEX_SPAN + sample index. Map order is insertion order: oldest first. */
  readonly #entries = new Map<number, { payloads: RtpPayload[]; bytes: number }>();
  /** A number per (track, payload size) pair; tracks of movies no longer cached are forgotten. */
  readonly #ids = new WeakMap<VodTrack, Map<number, number>>();
  #nextId = 1;

  constructor(opts: { maxBytes: number }) {
    this.#maxBytes = opts.maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** A new bound applies at once (shrinking drops the oldest entries). */
  set maxBytes(n: number) {
    this.#maxBytes = n;
    this.#evict();
  }

  /** The id under which `track`'s payloads of `maxPayloadSize` are kept. */
  laneId(track: VodTrack, maxPayloadSize: number): number {
    let sizes = this.#ids.get(track);
    if (!sizes) this.#ids.set(track, (sizes = new Map<number, number>()));
    let id = sizes.get(maxPayloadSize);
    if (id === undefined) {
      // Ids stay below 2^22 so keys stay exact; wrapping reuses ids of long-gone tracks.
      id = this.#nextId;
      this.#nextId = this.#nextId >= 2 ** 22 - 1 ? 1 : this.#nextId + 1;
      sizes.set(maxPayloadSize, id);
    }
    return id;
  }

  get(lane: number, index: number): RtpPayload[] | undefined {
    const e = this.#entries.get(lane * INDEX_SPAN + index);
    if (e) this.#hits++;
    else this.#misses++;
    return e?.payloads;
  }

  /** Keeps `payloads` (never changed afterwards: every viewer sends them as they are). */
  set(lane: number, index: number, payloads: RtpPayload[]): void {
    if (this.#maxBytes <= 0 || index >= INDEX_SPAN) return;
    const key = lane * INDEX_SPAN + index;
    if (this.#entries.has(key)) return;
    let bytes = 0;
    for (const p of payloads) bytes += p.length;
    this.#entries.set(key, { payloads, bytes });
    this.#bytes += bytes;
    this.#evict();
  }

  stats(): PacketCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses };
  }

  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.entries().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest[0]);
      this.#bytes -= oldest[1].bytes;
    }
  }
}
