/** RTP payloads of file samples, made once and shared by every viewer of the file. Viewers of one
 * movie packetize the same samples the same way (only the RTP header, written per viewer, differs),
 * so a thousand students at their own positions of one lecture need each sample packetized once,
 * not a thousand times. A viewer then also skips reading a sample whose payloads are here: they
 * are views of the file's bytes. Bounded by the payload bytes the entries keep alive (they pin
 * the read cache's blocks they view), dropping the oldest first. */
import type { RtpPayload } from '../codecs/types.js';
import type { VodTrack } from './types.js';

export interface PacketCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

/** One (track, payload size) pair's payloads, by sample index, and how many it holds. */
interface Lane {
  items: (RtpPayload[] | undefined)[];
  count: number;
}

export class PacketCache {
  #maxBytes: number;
  #bytes = 0;
  #entries = 0;
  #hits = 0;
  #misses = 0;
  /** Lanes by id; their arrays are indexed by sample (a lookup costs an index, not a hash). */
  readonly #lanes = new Map<number, Lane>();
  /** What was kept, oldest first, for eviction: lane id, sample index, bytes (a ring). */
  #order = {
    lane: new Int32Array(1024),
    index: new Int32Array(1024),
    bytes: new Int32Array(1024),
    head: 0,
    size: 0,
  };
  /** A number per (track, payload size) pair. */
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
      id = this.#nextId++;
      sizes.set(maxPayloadSize, id);
    }
    return id;
  }

  get(lane: number, index: number): RtpPayload[] | undefined {
    const p = this.#lanes.get(lane)?.items[index];
    if (p) this.#hits++;
    else this.#misses++;
    return p;
  }

  /** Keeps `payloads` (never changed afterwards: every viewer sends them as they are). */
  set(lane: number, index: number, payloads: RtpPayload[]): void {
    if (this.#maxBytes <= 0 || !Number.isInteger(index) || index < 0 || index > 0x7fffffff) return;
    let l = this.#lanes.get(lane);
    if (!l) this.#lanes.set(lane, (l = { items: [], count: 0 }));
    if (l.items[index]) return;
    let bytes = 0;
    for (const p of payloads) bytes += p.length;
    l.items[index] = payloads;
    l.count++;
    this.#push(lane, index, bytes);
    this.#bytes += bytes;
    this.#entries++;
    this.#evict();
  }

  stats(): PacketCacheStats {
    return { entries: this.#entries, bytes: this.#bytes, hits: this.#hits, misses: this.#misses };
  }

  #push(lane: number, index: number, bytes: number): void {
    let o = this.#order;
    if (o.size === o.lane.length) {
      // Grow the ring, oldest first from 0.
      const n = o.lane.length * 2;
      const grown = {
        lane: new Int32Array(n),
        index: new Int32Array(n),
        bytes: new Int32Array(n),
        head: 0,
        size: o.size,
      };
      for (let k = 0; k < o.size; k++) {
        const at = (o.head + k) % o.lane.length;
        grown.lane[k] = o.lane[at];
        grown.index[k] = o.index[at];
        grown.bytes[k] = o.bytes[at];
      }
      this.#order = o = grown;
    }
    const at = (o.head + o.size) % o.lane.length;
    o.lane[at] = lane;
    o.index[at] = index;
    o.bytes[at] = bytes;
    o.size++;
  }

  #evict(): void {
    const o = this.#order;
    while (this.#bytes > this.#maxBytes && o.size > 0) {
      const id = o.lane[o.head];
      const lane = this.#lanes.get(id);
      if (lane) {
        lane.items[o.index[o.head]] = undefined;
        this.#entries--;
        // A lane with nothing left is dropped (a file nobody watches any more).
        if (--lane.count === 0) this.#lanes.delete(id);
      }
      this.#bytes -= o.bytes[o.head];
      o.head = (o.head + 1) % o.lane.length;
      o.size--;
    }
  }
}
