/** The per-path figures behind the `path` label: which paths have a label of their own (at most
 * `maxPaths`, the rest folded into `other`, so a flood of paths cannot grow the scrape or the
 * memory), and what clients that ended left on each (so a path's counters survive its viewers).
 * A path keeps its slot while it exists; `retain` frees the others, and their figures go. */

/** The label of every path beyond the cap. */
const OTHER_PATH = 'other';

/** What went through a path. */
export interface PathCounts {
  sentBytes: number;
  sentPackets: number;
  receivedBytes: number;
  lostPackets: number;
  /** RTP packets sent again at the clients' request (retransmission). */
  resentPackets: number;
}

export const zeroCounts = (): PathCounts => ({ sentBytes: 0, sentPackets: 0, receivedBytes: 0, lostPackets: 0, resentPackets: 0 });

export function addCounts(to: PathCounts, c: PathCounts): void {
  to.sentBytes += c.sentBytes;
  to.sentPackets += c.sentPackets;
  to.receivedBytes += c.receivedBytes;
  to.lostPackets += c.lostPackets;
  to.resentPackets += c.resentPackets;
}

interface Ended {
  counts: PathCounts;
  /** Some client read it as a file (it exists while the file does). */
  file: boolean;
}

export class PathTable {
  readonly #max: number;
  /** Paths with a label of their own. */
  readonly #slots = new Set<string>();
  /** What ended clients left, by label (bounded by the slots, plus `other`). */
  readonly #ended = new Map<string, Ended>();

  /** `maxPaths`: most paths with a label of their own. */
  constructor(maxPaths: number) {
    this.#max = maxPaths;
  }

  /** The label for `path`: itself when it has a slot or one is free, else `other`. */
  label(path: string): string {
    if (this.#slots.has(path)) return path;
    if (this.#slots.size >= this.#max || path === OTHER_PATH) return OTHER_PATH;
    this.#slots.add(path);
    return path;
  }

  /** A client ended with these figures on `path`. */
  ended(path: string, counts: PathCounts, file: boolean): void {
    if (counts.sentBytes + counts.sentPackets + counts.receivedBytes + counts.lostPackets + counts.resentPackets === 0) return;
    const label = this.label(path);
    let e = this.#ended.get(label);
    if (!e) this.#ended.set(label, (e = { counts: zeroCounts(), file }));
    e.file ||= file;
    addCounts(e.counts, counts);
  }

  /** Labels holding figures of ended clients that were read as files. */
  fileLabels(): string[] {
    return [...this.#ended].filter(([l, e]) => e.file && l !== OTHER_PATH).map(([l]) => l);
  }

  /** Frees the slot and figures of every path `exists` says is gone. */
  retain(exists: (path: string) => boolean): void {
    for (const p of this.#slots) {
      if (exists(p)) continue;
      this.#slots.delete(p);
      this.#ended.delete(p);
    }
  }

  /** A copy of the ended clients' figures by label, to add the live ones to. */
  endedCounts(): Map<string, PathCounts> {
    return new Map([...this.#ended].map(([l, e]) => [l, { ...e.counts }]));
  }

  get size(): number {
    return this.#slots.size;
  }
}
