/** Admission control, as QTSS's "maximum connections" and "maximum throughput", for every
 * protocol: a client or a reader that would take the server over `limits.maxConnections` or
 * `limits.maxBandwidthKbps` is refused with the reason, and everyone already admitted carries on
 * untouched. Clients are the open protocol connections that passed admission plus the readers
 * playing without one; bandwidth is what the readers playing (or starting to) send. The limits
 * are read on every check, so a config reload changes them at once. The protocol adapter turns a
 * refusal into its own answer (RTSP: 453) and reports it. */
import type { CountedReader } from './reader.js';

export interface AdmissionLimits {
  /** Clients: connections plus readers playing without one; 0 = no limit. */
  maxConnections: number;
  /** kbit/s of media being sent by all playing readers; 0 = no limit. */
  maxBandwidthKbps: number;
}

/** A protocol connection as admission counts it, until it closes or leaves. */
export interface AdmissionClient {
  readonly closed: boolean;
}

export interface AdmissionOptions {
  /** Current limits (read on every check: reloads apply at once). */
  limits: () => AdmissionLimits;
  /** Every reader now, of every protocol. */
  readers: () => Iterable<CountedReader>;
}

export type AdmissionAnswer =
  /** `starting`: the reader now counts as starting, until `started` is called for it. */
  | { admit: true; starting: boolean }
  | { admit: false; limit: keyof AdmissionLimits; reason: string };

const ADMIT: AdmissionAnswer = { admit: true, starting: false };
const ADMIT_STARTING: AdmissionAnswer = { admit: true, starting: true };

export class Admission {
  readonly #o: AdmissionOptions;
  /** Connections that passed admission and have not left. */
  readonly #clients = new Set<AdmissionClient>();
  /** Readers admitted to play whose protocol has not finished starting them yet. */
  readonly #starting = new Set<CountedReader>();

  constructor(opts: AdmissionOptions) {
    this.#o = opts;
  }

  /** What counts against limits.maxConnections now. */
  clientsInUse(): number {
    let n = 0;
    for (const c of this.#clients) {
      if (c.closed) this.#clients.delete(c);
      else n++;
    }
    for (const r of this.#o.readers()) if (!r.closed && r.playing && !r.carried) n++;
    return n;
  }

  /** kbit/s being sent now (and promised to readers starting), leaving out `except`. */
  bandwidthInUse(except?: CountedReader): number {
    let kbps = 0;
    for (const r of this.#o.readers()) {
      if (r !== except && !r.closed && (r.playing || this.#starting.has(r))) kbps += r.kbps();
    }
    return kbps;
  }

  /** A connection's first request: admitted once, it counts until it closes or `leave`s. */
  admitClient(client: AdmissionClient): AdmissionAnswer {
    if (this.#clients.has(client)) return ADMIT;
    const max = this.#o.limits().maxConnections;
    if (max > 0) {
      const inUse = this.clientsInUse();
      if (inUse >= max) {
        return { admit: false, limit: 'maxConnections', reason: `server full: ${inUse} connections in use, limits.maxConnections is ${max}` };
      }
    }
    this.#clients.add(client);
    return ADMIT;
  }

  /** The connection closed. */
  leave(client: AdmissionClient): void {
    this.#clients.delete(client);
  }

  /** A reader asks to start sending: checks the bandwidth it would add. One already playing or
   * starting is admitted without being counted twice. */
  admitPlay(reader: CountedReader): AdmissionAnswer {
    if (reader.playing || this.#starting.has(reader)) return ADMIT;
    const max = this.#o.limits().maxBandwidthKbps;
    if (max > 0) {
      const wanted = reader.kbps();
      const inUse = this.bandwidthInUse(reader);
      if (inUse + wanted > max) {
        return {
          admit: false,
          limit: 'maxBandwidthKbps',
          reason: `not enough bandwidth: ${Math.round(inUse)} kbit/s being sent, this stream needs ${Math.round(wanted)}, limits.maxBandwidthKbps is ${max}`,
        };
      }
    }
    this.#starting.add(reader);
    return ADMIT_STARTING;
  }

  /** The reader admitted by `admitPlay` is playing now, or failed to start. */
  started(reader: CountedReader): void {
    this.#starting.delete(reader);
  }
}
