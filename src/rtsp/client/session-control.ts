/** What a pulled and a pushed session share once their connection is open: the Session header,
 * keepalives while media flows, TEARDOWN on close, and one end reported once, whatever ends it
 * (our close, the connection, a timeout, a server's REDIRECT), with every timer, socket and UDP
 * pair released. */
import type { Logger } from '../../logging/index.js';
import { HeaderError, parseSession } from '../headers/index.js';
import type { RtspClientConnection, RtspClientResponse } from './connection.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError, RtspRedirectError } from './errors.js';
import type { ClientUdpPair } from './udp.js';

/** Why a session ended: our `close()` ('teardown'), the connection closing or failing
 * ('closed'), RTCP BYE on every track ('bye'), no answer or no media in time ('timeout'), the
 * server's REDIRECT ('redirect', the error carries the Location), or a refused keepalive or a
 * failure of ours ('error'). */
export type SessionEndReason = 'teardown' | 'closed' | 'bye' | 'timeout' | 'redirect' | 'error';

export interface SessionControlOptions {
  log: Logger;
  /** ms for TEARDOWN's answer. */
  teardownTimeoutMs: number;
  /** Called once, when the session has ended and everything is released. */
  onEnd: (reason: SessionEndReason, error: RtspClientError | undefined) => void;
}

export class SessionControl {
  readonly conn: RtspClientConnection;
  /** The aggregate URL: PLAY, RECORD, TEARDOWN and keepalives go there. */
  readonly controlUrl: string;
  readonly #publicMethods: ReadonlySet<string> | undefined;
  readonly #opts: SessionControlOptions;
  readonly #udp: ClientUdpPair[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #id: string | undefined;
  #timeoutSec: number | undefined;
  #keepaliveBusy = false;
  #ended = false;
  /** close() began: what the server does in answer (BYE, hanging up) is part of it. */
  #tearingDown = false;
  #closing: Promise<void> | undefined;

  constructor(
    conn: RtspClientConnection,
    controlUrl: string,
    /** The methods OPTIONS' `Public` listed, when it was asked. */
    publicMethods: ReadonlySet<string> | undefined,
    opts: SessionControlOptions,
  ) {
    this.conn = conn;
    this.controlUrl = controlUrl;
    this.#publicMethods = publicMethods;
    this.#opts = opts;
    conn.on('close', (err) => this.end(err?.code === 'timeout' ? 'timeout' : 'closed', err));
    conn.on('request', (req) => {
      if (req.method !== 'REDIRECT') return;
      const location = req.headers.get('location') ?? '';
      this.end('redirect', new RtspRedirectError(`${conn.url.display} redirected the session to ${location}`, location));
    });
  }

  /** The session id, once a SETUP was answered. */
  get id(): string | undefined {
    return this.#id;
  }

  /** Seconds the server keeps the session without requests (its Session header, or the RFC's
   * default). */
  get timeoutSec(): number {
    return this.#timeoutSec ?? CLIENT_DEFAULTS.sessionTimeoutSec;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The Session header for requests after the first SETUP. */
  headers(): Record<string, string> {
    return this.#id === undefined ? {} : { Session: this.#id };
  }

  /** Takes the Session header of a SETUP answer: the first one names the session. Throws
   * RtspClientError('protocol') for an answer without a usable one. */
  adopt(res: RtspClientResponse): void {
    const raw = res.headers.get('session');
    if (raw === undefined) {
      if (this.#id !== undefined) return;
      throw new RtspClientError('protocol', `${this.conn.url.display} answered SETUP without a Session header`);
    }
    try {
      const s = parseSession(raw);
      if (this.#id === undefined) {
        this.#id = s.id;
        if (s.timeout !== undefined && s.timeout > 0) this.#timeoutSec = s.timeout;
      }
    } catch (e) {
      if (!(e instanceof HeaderError)) throw e;
      throw new RtspClientError('protocol', `${this.conn.url.display} answered SETUP with a bad Session header: ${e.message}`);
    }
  }

  /** Closes `pair` with the session. */
  own(pair: ClientUdpPair): void {
    if (this.#ended) pair.close();
    else this.#udp.push(pair);
  }

  /** A timer cleared when the session ends. */
  every(ms: number, fn: () => void): void {
    if (this.#ended) return;
    this.#timers.add(setInterval(fn, ms));
  }

  /** Sends a keepalive every half session timeout: GET_PARAMETER when OPTIONS listed it, else
   * OPTIONS (which every server answers, though it may not count it as activity). A keepalive
   * answered 454 means the server dropped the session. */
  startKeepalive(): void {
    const method = this.#publicMethods?.has('GET_PARAMETER') === true ? 'GET_PARAMETER' : 'OPTIONS';
    this.every(Math.max(500, (this.timeoutSec * 1000) / 2), () => {
      if (this.#keepaliveBusy || this.conn.closed) return;
      this.#keepaliveBusy = true;
      this.conn
        .request(method, this.controlUrl, this.headers())
        .then((res) => {
          if (res.status === 454) {
            this.end('error', new RtspClientError('status', `${this.conn.url.display} no longer knows the session (454 to ${method})`, 454));
          } else if (res.status >= 300) {
            this.#opts.log.debug({ url: this.conn.url.display, status: res.status, method }, 'RTSP client: keepalive refused');
          }
        })
        // A failed request closes the connection, which ends the session with its reason.
        .catch(() => undefined)
        .finally(() => (this.#keepaliveBusy = false));
    });
  }

  /** TEARDOWN (when a session was set up and the connection is open, waiting at most
   * teardownTimeoutMs), then the end ('teardown'). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#tearingDown = true;
      if (!this.#ended && this.#id !== undefined && !this.conn.closed) {
        try {
          await this.conn.request('TEARDOWN', this.controlUrl, this.headers(), undefined, {
            timeoutMs: this.#opts.teardownTimeoutMs,
          });
        } catch {
          // The far end is gone or slow: the session ends here anyway.
        }
      }
      this.end('teardown', undefined);
    })();
    return this.#closing;
  }

  /** Ends the session once: timers cleared, UDP pairs and connection closed, then `onEnd`. After
   * `close()` began, the reason is 'teardown' whatever triggered the end (servers send BYE and
   * hang up in answer to TEARDOWN). */
  end(reason: SessionEndReason, error: RtspClientError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#tearingDown) {
      reason = 'teardown';
      error = undefined;
    }
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    for (const p of this.#udp) p.close();
    this.#udp.length = 0;
    this.conn.close();
    const log = reason === 'teardown' ? this.#opts.log.debug.bind(this.#opts.log) : this.#opts.log.info.bind(this.#opts.log);
    log({ url: this.conn.url.display, reason, err: error?.message }, 'RTSP client: session ended');
    try {
      this.#opts.onEnd(reason, error);
    } catch (e) {
      this.#opts.log.error({ err: e }, 'RTSP client: an end listener failed');
    }
  }
}

/** The methods an OPTIONS answer's `Public` header lists, upper-cased. */
export function publicMethods(res: RtspClientResponse): Set<string> {
  return new Set(
    (res.headers.get('public') ?? '')
      .split(',')
      .map((m) => m.trim().toUpperCase())
      .filter((m) => m !== ''),
  );
}
