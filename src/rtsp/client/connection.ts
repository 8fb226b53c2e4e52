/** One RTSP client connection (TCP, or TLS for rtsps://): requests matched to their answers by
 * CSeq (several may wait at once), a time limit on each, 401 challenges answered, interleaved `$`
 * frames handed to one handler, and frames written with backpressure reported.
 *
 * Memory: a response head and body are bounded by the parser (maxHeaderBytes, maxBodyBytes; past
 * them the connection ends with an error), waiting requests by maxPending, and interleaved frames
 * queued on the socket by maxWriteBufferBytes (past it they are dropped and counted). A far end
 * that answers too slowly, or not at all, ends the connection when a request's time runs out.
 * Nothing here throws into the I/O loop: a failure closes the connection, rejects every waiting
 * request with the reason and emits 'close' with it. */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from '../../logging/index.js';
import { silentLogger } from '../../logging/index.js';
import { parseCSeq } from '../headers/index.js';
import {
  encodeInterleavedHeader,
  Headers,
  RtspParser,
  serializeRequest,
  serializeResponse,
  type ParserErrorEvent,
  type ParserResponseEvent,
  type RtspRequest,
} from '../message/index.js';
import { ClientAuth, type ClientCredentials } from './auth.js';
import { CLIENT_DEFAULTS } from './defaults.js';
import { RtspClientError } from './errors.js';
import { parseRtspUrl, redactUrl, serverName, stripUserInfo, type RtspUrl } from './url.js';

/** A response as read from the wire. */
export type RtspClientResponse = ParserResponseEvent['response'];

/** What became of an interleaved frame: written; written but the socket's buffer is past its
 * mark (wait for 'drain'); or dropped (the buffer is past maxWriteBufferBytes, or the connection
 * is closed). */
export type WriteResult = 'written' | 'buffered' | 'dropped';

/** Receives each interleaved frame; `payload` may be a view into a socket chunk, so copy what is
 * kept beyond the call. */
export type FrameHandler = (channel: number, payload: Buffer) => void;

export interface RtspClientConnectionOptions {
  /** Credentials used when the URL carries none. */
  credentials?: ClientCredentials;
  /** ms to connect, and for each request's answer. Default CLIENT_DEFAULTS.timeoutMs. */
  timeoutMs?: number;
  /** `User-Agent` of every request; '' leaves it out. Default CLIENT_DEFAULTS.userAgent. */
  userAgent?: string;
  /** A `Via` header sent with every request (RFC 2326 §12.43), e.g. `RTSP/1.0 <server-id>`, so
   * that a chain of relays can see itself loop. Default: none. */
  via?: string;
  /** rtsps://: refuse a certificate that does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** rtsps://: trusted CA certificates (PEM) instead of the system's. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Largest response head, bytes. Default CLIENT_DEFAULTS.maxHeaderBytes. */
  maxHeaderBytes?: number;
  /** Largest response body, bytes. Default CLIENT_DEFAULTS.maxBodyBytes. */
  maxBodyBytes?: number;
  /** Requests waiting for answers at once. Default CLIENT_DEFAULTS.maxPending. */
  maxPending?: number;
  /** Socket bytes queued past which interleaved frames are dropped. Default
   * CLIENT_DEFAULTS.maxWriteBufferBytes. */
  maxWriteBufferBytes?: number;
  log?: Logger;
}

export interface RequestOptions {
  /** ms for this request's answer instead of the connection's timeoutMs. */
  timeoutMs?: number;
}

export interface RtspClientConnectionEvents {
  /** Once, when the connection is closed: the reason, or undefined after `close()`. */
  close: [error: RtspClientError | undefined];
  /** A request from the server (already answered: 200 for OPTIONS, GET_PARAMETER,
   * SET_PARAMETER, ANNOUNCE and REDIRECT, 501 for the rest). */
  request: [request: RtspRequest];
  /** The socket's buffer emptied after a 'buffered' write. */
  drain: [];
}

interface Waiting {
  method: string;
  resolve: (r: RtspClientResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Server requests answered 200; others get 501. */
const ANSWERED = new Set(['OPTIONS', 'GET_PARAMETER', 'SET_PARAMETER', 'ANNOUNCE', 'REDIRECT']);

export class RtspClientConnection extends EventEmitter<RtspClientConnectionEvents> {
  readonly url: RtspUrl;
  readonly #socket: Socket;
  readonly #parser: RtspParser;
  readonly #auth: ClientAuth;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #via: string | undefined;
  readonly #maxPending: number;
  readonly #maxWrite: number;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  readonly #waiting = new Map<number, Waiting>();
  #cseq = 1;
  #closed = false;
  #frameHandler: FrameHandler | undefined;
  #droppedFrames = 0;
  #strayResponses = 0;

  private constructor(url: RtspUrl, socket: Socket, options: RtspClientConnectionOptions) {
    super();
    this.url = url;
    this.#socket = socket;
    this.#log = options.log ?? silentLogger();
    this.#timeoutMs = options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
    this.#userAgent = options.userAgent ?? CLIENT_DEFAULTS.userAgent;
    this.#via = options.via;
    this.#maxPending = options.maxPending ?? CLIENT_DEFAULTS.maxPending;
    this.#maxWrite = options.maxWriteBufferBytes ?? CLIENT_DEFAULTS.maxWriteBufferBytes;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? CLIENT_DEFAULTS.maxHeaderBytes;
    this.#maxBodyBytes = options.maxBodyBytes ?? CLIENT_DEFAULTS.maxBodyBytes;
    this.#parser = new RtspParser({ mode: 'client', maxHeaderBytes: this.#maxHeaderBytes, maxBodyBytes: this.#maxBodyBytes });
    this.#auth = new ClientAuth(url.credentials ?? options.credentials, url.display);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#emit('drain'));
    socket.on('error', (e) => this.#finish(new RtspClientError('closed', `connection to ${url.display} failed: ${e.message}`)));
    socket.on('close', () => this.#finish(new RtspClientError('closed', `${url.display} closed the connection`)));
  }

  /** Opens a connection to the host of `url` (its credentials, if any, answer challenges).
   * Rejects with RtspClientError: 'url', 'connect' (refused, unreachable, TLS failure) or
   * 'timeout'. */
  static connect(target: string | RtspUrl, options: RtspClientConnectionOptions = {}): Promise<RtspClientConnection> {
    const timeoutMs = options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
    return new Promise((resolve, reject) => {
      // A bad URL thrown here rejects the promise.
      const url = typeof target === 'string' ? parseRtspUrl(target) : target;
      const socket = url.secure
        ? tlsConnect({
            host: url.host,
            port: url.port,
            servername: serverName(url.host),
            rejectUnauthorized: options.rejectUnauthorized ?? true,
            ca: options.ca,
          })
        : netConnect({ host: url.host, port: url.port });
      const fail = (e: RtspClientError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new RtspClientError('timeout', `cannot connect to ${url.display}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onError = (e: Error) => {
        const hint = url.secure && /certificate|self.signed/i.test(e.message) ? ' (rejectUnauthorized: false accepts it)' : '';
        fail(new RtspClientError('connect', `cannot connect to ${url.display}: ${e.message}${hint}`));
      };
      socket.once('error', onError);
      socket.once(url.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RtspClientConnection(url, socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Our address on the connection (UDP sockets for the same session bind there). */
  get localAddress(): string {
    return unmapped(this.#socket.localAddress ?? '');
  }

  /** The server's address (UDP media is accepted from it only). */
  get remoteAddress(): string {
    return unmapped(this.#socket.remoteAddress ?? '');
  }

  /** Interleaved frames dropped because the socket's buffer was full. */
  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  /** Responses that matched no waiting request (late answers to timed-out ones, or noise). */
  get strayResponses(): number {
    return this.#strayResponses;
  }

  /** Bytes queued on the socket. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Sets (or with undefined removes) the handler of interleaved frames. */
  onFrame(handler: FrameHandler | undefined): void {
    this.#frameHandler = handler;
  }

  /** Sends a request and resolves with its answer, whatever its status, except 401: a challenge
   * is answered with the credentials and the request sent again (once, and once more when the
   * server says the nonce was stale). The URL's user info is never sent. Rejects with
   * RtspClientError: 'auth' (no or wrong credentials), 'timeout' (which also closes the
   * connection: an answer that never completes leaves it unusable), 'closed', 'protocol',
   * 'limit'; a TypeError for a method, URI or header that cannot be written. */
  async request(
    method: string,
    url: string,
    headers: Readonly<Record<string, string | number>> = {},
    body?: Buffer | string,
    options: RequestOptions = {},
  ): Promise<RtspClientResponse> {
    const uri = stripUserInfo(url);
    let answered = false;
    let staleRetried = false;
    for (;;) {
      const res = await this.#exchange(method, uri, headers, body, options.timeoutMs ?? this.#timeoutMs);
      if (res.status !== 401) return res;
      const picked = this.#auth.pick(res.headers.getAll('www-authenticate'));
      if (answered) {
        // Answered a challenge of this very request and refused again: the credentials are
        // wrong, unless the server says only the nonce had expired.
        if (!picked.stale || staleRetried) throw this.#auth.refused();
        staleRetried = true;
      }
      answered = true;
      this.#auth.use(picked);
    }
  }

  /** Writes one interleaved frame (`$`, channel, length, payload) without copying the payload.
   * Throws RangeError for a channel outside 0..255 or a payload over 65535 bytes. */
  writeInterleaved(channel: number, payload: Buffer): WriteResult {
    if (this.#closed) return 'dropped';
    const header = encodeInterleavedHeader(channel, payload.length);
    const s = this.#socket;
    if (s.writableLength > this.#maxWrite) {
      this.#droppedFrames++;
      return 'dropped';
    }
    // Corked, the header and payload leave in one writev.
    s.cork();
    s.write(header);
    const ok = s.write(payload);
    s.uncork();
    return ok ? 'written' : 'buffered';
  }

  /** Closes the connection; waiting requests are rejected ('closed'). Idempotent. */
  close(): void {
    this.#finish(undefined);
  }

  #exchange(
    method: string,
    uri: string,
    extra: Readonly<Record<string, string | number>>,
    body: Buffer | string | undefined,
    timeoutMs: number,
  ): Promise<RtspClientResponse> {
    if (this.#closed) return Promise.reject(new RtspClientError('closed', `connection to ${this.url.display} is closed`));
    if (this.#waiting.size >= this.#maxPending) {
      return Promise.reject(
        new RtspClientError('limit', `${this.#waiting.size} requests already wait for ${this.url.display}`),
      );
    }
    const cseq = this.#cseq++;
    const headers = new Headers([['CSeq', String(cseq)]]);
    if (this.#userAgent !== '') headers.set('User-Agent', this.#userAgent);
    if (this.#via !== undefined) headers.set('Via', this.#via);
    for (const [name, value] of Object.entries(extra)) {
      if (name.toLowerCase() !== 'cseq') headers.set(name, value);
    }
    const authorization = this.#auth.authorization(method, uri);
    if (authorization !== undefined) headers.set('Authorization', authorization);
    const bytes = serializeRequest({ method, uri, headers, body });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.#finish(
            new RtspClientError('timeout', `no answer to ${method} ${redactUrl(uri)} within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.#waiting.set(cseq, { method, resolve, reject, timer });
      this.#socket.write(bytes);
    });
  }

  #onData(chunk: Buffer): void {
    for (const ev of this.#parser.push(chunk)) {
      if (this.#closed) return;
      switch (ev.type) {
        case 'response':
          this.#onResponse(ev.response);
          break;
        case 'frame':
          if (this.#frameHandler !== undefined) {
            try {
              this.#frameHandler(ev.frame.channel, ev.frame.payload);
            } catch (e) {
              this.#log.error({ err: e, url: this.url.display }, 'RTSP client: interleaved frame handler failed');
            }
          }
          break;
        case 'request':
          this.#onServerRequest(ev.request);
          break;
        case 'error':
          this.#onParseError(ev);
          break;
        case 'skipped':
          this.#log.debug({ url: this.url.display, bytes: ev.bytes }, 'RTSP client: skipped bytes between interleaved frames');
          break;
        case 'data':
          // Only after an HTTP opening, already refused in #onResponse.
          break;
      }
    }
  }

  #onResponse(res: RtspClientResponse): void {
    if (!res.version.startsWith('RTSP/')) {
      this.#finish(
        new RtspClientError('protocol', `${this.url.display} answered ${res.version} ${res.status}: not an RTSP server`, res.status),
      );
      return;
    }
    const raw = res.headers.get('cseq');
    let cseq: number | undefined;
    if (raw === undefined) {
      // Old cameras leave CSeq out; ffmpeg and GStreamer take such an answer for the one request
      // waiting. With several waiting there is no telling which it answers.
      if (this.#waiting.size !== 1) {
        if (this.#waiting.size === 0) return this.#stray(res, 'without CSeq');
        this.#finish(
          new RtspClientError('protocol', `${this.url.display} answered without CSeq while ${this.#waiting.size} requests were waiting`),
        );
        return;
      }
      cseq = this.#waiting.keys().next().value;
    } else {
      try {
        cseq = parseCSeq(raw);
      } catch {
        return this.#stray(res, `with CSeq ${JSON.stringify(raw.slice(0, 20))}`);
      }
    }
    const w = cseq === undefined ? undefined : this.#waiting.get(cseq);
    if (w === undefined || cseq === undefined) return this.#stray(res, `for CSeq ${cseq} that no request waits for`);
    this.#waiting.delete(cseq);
    clearTimeout(w.timer);
    w.resolve(res);
  }

  #stray(res: RtspClientResponse, why: string): void {
    this.#strayResponses++;
    this.#log.debug({ url: this.url.display, status: res.status }, `RTSP client: ignored a response ${why}`);
  }

  #onServerRequest(req: RtspRequest): void {
    const status = ANSWERED.has(req.method) ? 200 : 501;
    const headers = new Headers();
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined && /^\s*\d{1,15}\s*$/.test(cseq)) headers.set('CSeq', cseq.trim());
    // A server that sends requests without reading our answers cannot grow our buffers.
    if (this.#socket.writableLength <= this.#maxWrite) this.#socket.write(serializeResponse({ status, headers }));
    this.#emit('request', req);
  }

  #onParseError(ev: ParserErrorEvent): void {
    const d = this.url.display;
    if (!ev.fatal && ev.cseq !== undefined) {
      // One unreadable answer: only the request it answers fails.
      const n = Number(ev.cseq);
      const w = this.#waiting.get(n);
      if (w !== undefined) {
        this.#waiting.delete(n);
        clearTimeout(w.timer);
        w.reject(new RtspClientError('protocol', `${d} sent an unreadable answer to ${w.method} (${ev.reason})`));
        return;
      }
    }
    let why: string;
    if (ev.status === 413) why = `a response head over ${this.#maxHeaderBytes} bytes or a body over ${this.#maxBodyBytes} bytes`;
    else if (ev.status === 414) why = 'a line over the size limit';
    else if (ev.status === 505) why = 'a message that is not RTSP/1.0';
    else why = 'bytes that are not RTSP';
    this.#finish(new RtspClientError('protocol', `${d} sent ${why}`));
  }

  #emit<K extends keyof RtspClientConnectionEvents>(event: K, ...args: RtspClientConnectionEvents[K]): void {
    try {
      this.emit(event, ...(args as never));
    } catch (e) {
      this.#log.error({ err: e, url: this.url.display }, `RTSP client: a '${event}' listener failed`);
    }
  }

  #finish(error: RtspClientError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const why = error ?? new RtspClientError('closed', `connection to ${this.url.display} closed`);
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(why);
    }
    this.#waiting.clear();
    this.#frameHandler = undefined;
    this.#socket.destroy();
    if (error !== undefined) this.#log.debug({ url: this.url.display, err: error.message }, 'RTSP client: connection ended');
    this.#emit('close', error);
  }
}

function unmapped(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
