/** The RTSP edge of admission control (`core/admission.ts`). It wraps the request handler, so
 * methods know nothing of it: a connection is admitted with its first request and a PLAY with the
 * bandwidth it adds, and a refusal is answered `453 Not Enough Bandwidth` (closing the
 * connection when the server is full). Every refusal RTSP answers with 412 or 453 (admission,
 * session quotas, ports, ANNOUNCE limits, a busy path) is reported as 'session.refused'; the
 * connection logs it where every error response is. */
import type { Admission, CoreEvents, CountedReader } from '../../core/index.js';
import { parseRequestUrl } from '../../vod/resolve-path.js';
import type { RtspRequest, RtspResponse } from '../message/types.js';
import type { RequestHandler, RtspConnection } from './connection.js';
import { RtspError } from './errors.js';
import type { RtspSession } from './session.js';
import { sessionIdOf } from '../headers/index.js';

/** Statuses that refuse a client by a limit or a rule, rather than a mistake in its request. */
const REFUSALS: ReadonlySet<number> = new Set([412, 453]);

export interface AdmissionGateOptions {
  inner: RequestHandler & { readonly refusing: boolean };
  admission: Admission;
  sessions: ReadonlyMap<string, RtspSession>;
  /** Where refusals are reported (none in unit tests). */
  events?: CoreEvents;
}

/** The RTSP sessions that read (publishers are sources), as admission counts them. */
export function* rtspReaders(sessions: ReadonlyMap<string, RtspSession>): Generator<CountedReader> {
  for (const s of sessions.values()) if (s.kind !== 'record') yield s;
}

/** The session a request or response names. */
function sessionOf(m: RtspRequest | RtspResponse, sessions: ReadonlyMap<string, RtspSession>): RtspSession | undefined {
  const sid = sessionIdOf(m.headers);
  return sid ? sessions.get(sid) : undefined;
}

export class AdmissionGate implements RequestHandler {
  readonly #o: AdmissionGateOptions;

  constructor(opts: AdmissionGateOptions) {
    this.#o = opts;
  }

  get refusing(): boolean {
    return this.#o.inner.refusing;
  }

  async handle(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse> {
    let starting: CountedReader | undefined;
    let res: RtspResponse;
    try {
      if (!this.#o.inner.refusing && req.version === 'RTSP/1.0') {
        const a = this.#o.admission.admitClient(conn);
        if (!a.admit) throw new RtspError(453, a.reason, true);
        if (req.method === 'PLAY') starting = this.#admitPlay(req);
      }
      res = await this.#o.inner.handle(req, conn);
    } catch (e) {
      if (starting) this.#o.admission.started(starting);
      if (e instanceof RtspError && REFUSALS.has(e.status)) this.#refused(req, conn, e);
      throw e;
    }
    if (starting) {
      // A live session starts playing right after its response is written.
      const s = starting;
      setImmediate(() => this.#o.admission.started(s));
    }
    if (req.method === 'SETUP' && res.status === 200) {
      // The connection a viewer was set up on carries it until it closes; a UDP viewer plays on
      // without it and then counts as a client of its own.
      const s = sessionOf(res, this.#o.sessions);
      if (s && s.kind !== 'record' && !s.carrier) s.carrier = conn;
    }
    return res;
  }

  decorate(res: RtspResponse, req: RtspRequest | undefined): void {
    this.#o.inner.decorate(res, req);
  }

  /** Checks the bandwidth a PLAY would add; returns the reader now counted as starting. */
  #admitPlay(req: RtspRequest): CountedReader | undefined {
    const s = sessionOf(req, this.#o.sessions);
    if (!s || s.closed || s.kind === 'record') return undefined;
    const a = this.#o.admission.admitPlay(s);
    if (!a.admit) throw new RtspError(453, a.reason);
    return a.starting ? s : undefined;
  }

  #refused(req: RtspRequest, conn: RtspConnection, e: RtspError): void {
    const events = this.#o.events;
    if (!events) return;
    let path: string | undefined;
    try {
      path = parseRequestUrl(req.uri).segments.join('/');
    } catch {
      // A request the server cannot even place is refused for no path.
    }
    events.emit('session.refused', { protocol: 'rtsp', client: conn.remoteAddress, path, status: e.status, reason: e.message });
  }
}
