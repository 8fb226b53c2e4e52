/** Admission control, as QTSS's "maximum connections" and "maximum throughput": a request that
 * would take the server over `limits.maxConnections` or `limits.maxBandwidthKbps` is answered
 * `453 Not Enough Bandwidth`, and everyone already admitted carries on untouched. It wraps the
 * request handler, so methods know nothing of it; the limits are read on every check, so a
 * config reload changes them at once. Refusals are logged where every error response is (the
 * connection). */
import type { RtspRequest, RtspResponse } from '../rtsp/message/types.js';
import type { RequestHandler, RtspConnection } from '../rtsp/server/connection.js';
import { RtspError } from '../rtsp/server/errors.js';
import type { RtspSession } from '../rtsp/server/session.js';

export interface AdmissionLimits {
  /** RTSP connections plus sessions playing without one; 0 = no limit. */
  maxConnections: number;
  /** kbit/s of media being sent by all playing sessions; 0 = no limit. */
  maxBandwidthKbps: number;
}

export interface AdmissionOptions {
  inner: RequestHandler & { readonly refusing: boolean };
  sessions: ReadonlyMap<string, RtspSession>;
  /** Open RTSP connections. */
  connections: ReadonlySet<RtspConnection>;
  /** Current limits (read on every check: reloads apply at once). */
  limits: () => AdmissionLimits;
}

/** kbit/s a session sends while playing: its tracks' bitrates (from the file, or for live
 * streams announced in SDP b=AS or else measured). Publishers send nothing. */
export function sessionKbps(s: RtspSession): number {
  let kbps = 0;
  if (s.kind === 'vod') for (const t of s.tracks.values()) kbps += t.vod.description.bitrateKbps ?? 0;
  else if (s.kind === 'live') for (const t of s.tracks.values()) kbps += t.live.bitrateKbps ?? 0;
  return kbps;
}

export class AdmissionGate implements RequestHandler {
  readonly #o: AdmissionOptions;
  /** Connections that passed the connection limit with their first request. */
  readonly #admitted = new WeakSet<RtspConnection>();
  /** The connection each session was set up on (a UDP session outlives it). */
  readonly #origin = new WeakMap<RtspSession, RtspConnection>();
  /** Sessions admitted to play whose PLAY has not finished starting them yet. */
  readonly #starting = new Set<RtspSession>();

  constructor(opts: AdmissionOptions) {
    this.#o = opts;
  }

  get refusing(): boolean {
    return this.#o.inner.refusing;
  }

  /** What counts against limits.maxConnections now. */
  connectionsInUse(): number {
    let n = 0;
    for (const c of this.#o.connections) if (!c.closed && this.#admitted.has(c)) n++;
    for (const s of this.#o.sessions.values()) {
      if (s.closed || s.state !== 'playing') continue;
      const origin = this.#origin.get(s);
      if (!origin || origin.closed) n++;
    }
    return n;
  }

  /** kbit/s being sent now (and promised to PLAYs under way). */
  bandwidthInUse(except?: RtspSession): number {
    let kbps = 0;
    for (const s of this.#o.sessions.values()) {
      if (s !== except && !s.closed && (s.state === 'playing' || this.#starting.has(s))) kbps += sessionKbps(s);
    }
    return kbps;
  }

  async handle(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    let starting: RtspSession | undefined;
    if (!this.#o.inner.refusing && req.version === 'RTSP/1.0') {
      this.#admitConnection(conn);
      if (req.method === 'PLAY') starting = this.#admitPlay(req);
    }
    let res: RtspResponse;
    try {
      res = await this.#o.inner.handle(req, conn);
    } catch (e) {
      if (starting) this.#starting.delete(starting);
      throw e;
    }
    if (starting) {
      // A live session starts playing right after its response is written.
      const s = starting;
      setImmediate(() => this.#starting.delete(s));
    }
    if (req.method === 'SETUP' && res.status === 200) {
      const sid = res.headers.get('session')?.split(';')[0].trim();
      const s = sid ? this.#o.sessions.get(sid) : undefined;
      if (s && !this.#origin.has(s)) this.#origin.set(s, conn);
    }
    return res;
  }

  decorate(res: RtspResponse, req: RtspRequest | undefined): void {
    this.#o.inner.decorate(res, req);
  }

  #admitConnection(conn: RtspConnection): void {
    if (this.#admitted.has(conn)) return;
    const max = this.#o.limits().maxConnections;
    if (max > 0) {
      const inUse = this.connectionsInUse();
      if (inUse >= max) {
        throw new RtspError(453, `server full: ${inUse} connections in use, limits.maxConnections is ${max}`, true);
      }
    }
    this.#admitted.add(conn);
  }

  /** Checks the bandwidth a PLAY would add; returns the session now counted as starting. */
  #admitPlay(req: RtspRequest): RtspSession | undefined {
    const sid = req.headers.get('session')?.split(';')[0].trim();
    const s = sid ? this.#o.sessions.get(sid) : undefined;
    if (!s || s.closed || s.kind === 'record' || s.state === 'playing' || this.#starting.has(s)) return undefined;
    const max = this.#o.limits().maxBandwidthKbps;
    if (max > 0) {
      const wanted = sessionKbps(s);
      const inUse = this.bandwidthInUse(s);
      if (inUse + wanted > max) {
        throw new RtspError(
          453,
          `not enough bandwidth: ${Math.round(inUse)} kbit/s being sent, this stream needs ${Math.round(wanted)}, limits.maxBandwidthKbps is ${max}`,
        );
      }
    }
    this.#starting.add(s);
    return s;
  }
}
