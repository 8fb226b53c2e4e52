/** RTSP 1.0 wire messages. Header names are kept as received for display, looked up
 * case-insensitively through `Headers`. */

export class Headers {
  readonly #map = new Map<string, { name: string; values: string[] }>();

  constructor(init?: Iterable<[string, string]> | Record<string, string | number>) {
    if (!init) return;
    const entries =
      Symbol.iterator in Object(init) ? (init as Iterable<[string, string]>) : Object.entries(init);
    for (const [k, v] of entries) this.append(k, String(v));
  }

  get(name: string): string | undefined {
    return this.#map.get(name.toLowerCase())?.values[0];
  }
  getAll(name: string): string[] {
    return this.#map.get(name.toLowerCase())?.values ?? [];
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  set(name: string, value: string | number): this {
    this.#map.set(name.toLowerCase(), { name, values: [String(value)] });
    return this;
  }
  append(name: string, value: string | number): this {
    const e = this.#map.get(name.toLowerCase());
    if (e) e.values.push(String(value));
    else this.#map.set(name.toLowerCase(), { name, values: [String(value)] });
    return this;
  }
  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }
  get size(): number {
    return this.#map.size;
  }
  /** [name as first given, value] pairs in insertion order, one per value. */
  *entries(): IterableIterator<[string, string]> {
    for (const { name, values } of this.#map.values()) for (const v of values) yield [name, v];
  }
}

export interface RtspRequest {
  method: string;
  /** Request-URI exactly as sent (e.g. `rtsp://host:8554/a.mp4/trackID=1` or `*`). */
  uri: string;
  /** Protocol version token, e.g. `RTSP/1.0`. */
  version: string;
  headers: Headers;
  body: Buffer;
}

export interface RtspResponse {
  version?: string;
  status: number;
  reason?: string;
  headers: Headers;
  body?: Buffer | string;
  /** Run right after the response is written (e.g. start media that must follow it). */
  after?: () => void;
}

/** An interleaved binary frame: `$`, channel, 16-bit length, payload. */
export interface InterleavedFrame {
  channel: number;
  payload: Buffer;
}
