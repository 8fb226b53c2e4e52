/** One RTSP control connection: parses requests and `$` frames, answers in order, and carries
 * interleaved RTP/RTCP for the sessions that chose TCP. */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../logging/index.js';
import type { RtpPayload } from '../../codecs/types.js';
import type { RtpHeaderFields } from '../../rtp/packet.js';
import { FrameBuffer } from '../../transport/frame-buffer.js';
import type { FrameWriter } from '../../transport/interleaved.js';
import type { Flushable, WriteBatcher } from '../../transport/write-batcher.js';
import { RtspParser } from '../message/parser.js';
import { serializeResponse } from '../message/serialize.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { Announcement } from './announcement.js';
import { RtspError } from './errors.js';
import { readLimits, RequestGuard, type LimitsSource } from './request-guard.js';
import { SendGuard } from './send-guard.js';
import type { RtspSession } from './session.js';
import type { SessionOwner } from './session-base.js';

export interface RequestHandler {
  handle(req: RtspRequest, conn: RtspConnection): Promise<RtspResponse>;
  /** Adds Server/Date/Session headers common to every response. */
  decorate(res: RtspResponse, req: RtspRequest | undefined): void;
}

/** What a connection reads requests from and writes to: a TCP or TLS socket, or the GET/POST
 * pair of an HTTP tunnel. */
export type ConnectionSocket = Duplex & {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** True on a TLS socket (node:tls sets it), and on a tunnel whose halves are both TLS. */
  readonly encrypted?: boolean;
  /** True on the GET/POST pair of an HTTP tunnel. */
  readonly tunnelled?: boolean;
  setNoDelay(noDelay?: boolean): unknown;
};

export interface ConnectionOptions {
  socket: ConnectionSocket;
  handler: RequestHandler;
  log: Logger;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** Batches live frames to this connection (undefined: write each at once). */
  batcher?: WriteBatcher;
  /** Line, header, pipelining, request-time and unsent-bytes limits (none when left out). A
   * getter is read at each use, so reloaded limits apply to connections already open. */
  limits?: LimitsSource;
}

interface ChannelRoute {
  session: RtspSession;
  trackId: number;
  rtcp: boolean;
}

let nextConnId = 1;


export class RtspConnection implements FrameWriter, SessionOwner, Flushable {
  readonly id = nextConnId++;
  readonly socket: ConnectionSocket;
  readonly log: Logger;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** The connection runs inside TLS (RTSPS): media must stay inside it (interleaved only). */
  readonly secure: boolean;
  /** The connection runs through an HTTP tunnel (RTSP over HTTP). */
  readonly tunnelled: boolean;
  readonly #handler: RequestHandler;
  readonly #parser: RtspParser;
  readonly #channels = new Map<number, ChannelRoute>();
  readonly #sessions = new Set<RtspSession>();
  /** Streams announced on this connection, waiting for SETUP/RECORD. */
  readonly announcements = new Map<string, Announcement>();
  #chain: Promise<void> = Promise.resolve();
  readonly #batcher: WriteBatcher | undefined;
  /** Data waiting for the next flush. */
  readonly #pending = new FrameBuffer();
  #closed = false;
  /** When media packets were last written (performance.now() ms), and whether some wait. */
  #lastMediaFlush = -Infinity;
  #mediaPending = false;
  readonly #guard: RequestGuard;
  readonly #send: SendGuard;
  readonly #limits: LimitsSource | undefined;
  /** Set once the connection is being refused: further input is ignored. */
  #refusing = false;
  lastActivity = Date.now();

  constructor(opts: ConnectionOptions) {
    this.socket = opts.socket;
    this.#handler = opts.handler;
    this.#batcher = opts.batcher;
    this.remoteAddress = opts.socket.remoteAddress ?? '';
    this.localAddress = opts.socket.localAddress ?? '';
    this.secure = opts.socket.encrypted === true;
    this.tunnelled = opts.socket.tunnelled === true;
    this.log = opts.log.child({ conn: this.id, client: this.remoteAddress });
    this.#limits = opts.limits;
    const limits = readLimits(opts.limits);
    this.#parser = new RtspParser({
      maxHeaderBytes: opts.maxHeaderBytes,
      maxBodyBytes: opts.maxBodyBytes,
      maxLineBytes: limits.maxLineBytes,
      maxHeaderCount: limits.maxHeaderCount,
      frameChannel: (ch) => this.#channels.has(ch),
    });
    this.#guard = new RequestGuard(opts.limits ?? {}, () => this.#refuse(408, 'request not completed in time (limits.requestTimeout)'));
    this.#send = new SendGuard({
      socket: this.socket,
      unsent: () => this.writableLength,
      bound: () => this.#unsentBound(),
      stallMs: () => readLimits(this.#limits).sendStallTimeoutMs ?? 0,
      onStall: (unsent, overMs) => {
        this.log.warn(
          { unsent, bound: this.#unsentBound(), seconds: Math.round(overMs / 100) / 10 },
          'closing the connection: the client does not read what it asked for (limits.maxUnsentBytes, limits.sendStallTimeout)',
        );
        this.socket.destroy();
        this.#onClose();
      },
    });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('error', (e) => this.log.debug({ err: e.message }, 'socket error'));
    this.socket.on('close', () => this.#onClose());
  }

  get closed(): boolean {
    return this.#closed;
  }
  get writableLength(): number {
    return this.socket.writableLength + this.#pending.bytes;
  }
  /** Reading is paused until the answers already written drain. */
  get throttled(): boolean {
    return this.#send.throttled;
  }

  /** Unsent bytes allowed before reading stops; media interleaved here has its own queues. */
  #unsentBound(): number {
    const l = readLimits(this.#limits);
    const max = l.maxUnsentBytes ?? Infinity;
    return this.#sessions.size > 0 ? max + (l.mediaUnsentBytes ?? 0) : max;
  }

  /** Resolves when there is room to answer (at once, mostly). */
  async #room(): Promise<void> {
    const wait = this.#send.room();
    if (wait) await wait;
  }
  /** Sessions with tracks interleaved on this connection. */
  get sessions(): ReadonlySet<RtspSession> {
    return this.#sessions;
  }

  #onData(chunk: Buffer): void {
    if (this.#refusing) return;
    this.lastActivity = Date.now();
    const events = this.#parser.push(chunk);
    for (const ev of events) {
      if (ev.type === 'frame') this.#onFrame(ev.frame.channel, ev.frame.payload);
      else if (ev.type === 'request') {
        const req = ev.request;
        if (!this.#guard.admit()) {
          this.#refuse(503, 'too many requests waiting for answers (limits.maxPendingRequests)');
          return;
        }
        this.#chain = this.#chain.then(async () => {
          try {
            await this.#room();
            await this.#process(req);
          } finally {
            this.#guard.done();
          }
        });
      } else if (ev.type === 'skipped') {
        this.log.warn({ bytes: ev.bytes }, 'skipped bytes that were neither a request nor an interleaved frame');
      } else if (ev.type === 'error') {
        const { status, reason, fatal } = ev;
        const cseq = ev.cseq;
        this.#chain = this.#chain.then(async () => {
          await this.#room();
          if (this.#closed) return;
          this.log.warn({ status, reason }, 'bad request');
          const res: RtspResponse = { status, headers: new Headers() };
          if (cseq !== undefined) res.headers.set('CSeq', cseq);
          if (fatal) res.headers.set('Connection', 'close');
          this.#handler.decorate(res, undefined);
          this.#write(res);
          if (fatal) this.close();
        });
      }
    }
    this.#guard.afterPush(this.#parser.partial, events.length > 0);
  }

  /** Answers `status` after what is already queued, then closes; input is ignored from now. */
  #refuse(status: number, reason: string): void {
    if (this.#refusing || this.#closed) return;
    this.#refusing = true;
    this.#guard.stop();
    this.log.warn({ status, pending: this.#guard.pending }, `closing the connection: ${reason}`);
    this.#chain = this.#chain.then(() => {
      const res: RtspResponse = { status, headers: new Headers({ Connection: 'close' }) };
      this.#handler.decorate(res, undefined);
      this.#write(res);
      this.close();
    });
  }

  #onFrame(channel: number, payload: Buffer): void {
    const route = this.#channels.get(channel);
    if (!route) return;
    if (route.rtcp) route.session.onRtcp(route.trackId, payload);
    else route.session.onRtp(route.trackId, payload);
  }

  async #process(req: RtspRequest): Promise<void> {
    if (this.#closed) return;
    let res: RtspResponse;
    try {
      res = await this.#handler.handle(req, this);
    } catch (e) {
      if (e instanceof RtspError) {
        const level = e.status >= 500 ? 'error' : 'warn';
        this.log[level]({ method: req.method, uri: req.uri, status: e.status }, e.message);
        res = { status: e.status, reason: e.reason, headers: new Headers(e.headers) };
        if (e.close) res.headers.set('Connection', 'close');
      } else {
        this.log.error({ method: req.method, uri: req.uri, err: (e as Error).stack ?? String(e) }, 'request failed');
        res = { status: 500, headers: new Headers() };
      }
    }
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined) res.headers.set('CSeq', cseq);
    this.#handler.decorate(res, req);
    this.#write(res);
    try {
      res.after?.();
    } catch (e) {
      this.log.error({ err: (e as Error).stack ?? String(e) }, 'starting media after the response failed');
    }
    if (res.headers.get('connection')?.toLowerCase() === 'close') this.close();
  }

  #write(res: RtspResponse): void {
    if (this.#closed) return;
    if (this.#pending.bytes) this.flushPending();
    this.socket.write(serializeResponse(res));
    this.#send.check();
  }

  /** Writes one interleaved frame of a built payload (RTCP), with what else is pending, at the
   * end of the event-loop turn. */
  writeFrame(channel: number, payload: Buffer): void {
    if (this.#closed) return;
    const first = this.#pending.bytes === 0;
    this.#pending.frame(channel, payload);
    // RTCP (a sender report at PLAY, a BYE) goes at the end of the turn and does not count as the
    // media flush that starts a batch interval: the first media packets after it go at once too.
    if (first) process.nextTick(() => this.flushPending());
  }

  /** An RTP packet as a `$` frame, written from its parts (no Buffer per packet). Media packets
   * are gathered and leave in one write: at the end of the turn when the connection has not
   * written media for a batch interval (so the first packets after a PLAY go at once), else at
   * the write batcher's next flush. A file viewer is sent a little ahead of real time, so holding
   * its packets up to one batch interval costs the player nothing and turns a write per packet
   * into a write per interval. */
  writeRtpFrame(channel: number, payload: RtpPayload, header: RtpHeaderFields): void {
    if (this.#closed) return;
    const first = !this.#mediaPending;
    this.#pending.rtp(channel, payload, header);
    this.#mediaPending = true;
    if (!first) return;
    const now = performance.now();
    if (this.#batcher && now - this.#lastMediaFlush < this.#batcher.intervalMs) this.#batcher.mark(this);
    else {
      this.#lastMediaFlush = now;
      process.nextTick(() => this.flushPending());
    }
  }

  writeRaw(framed: Buffer): void {
    if (this.#closed) return;
    if (!this.#batcher) {
      if (this.#pending.bytes) this.flushPending();
      this.socket.write(framed);
      return;
    }
    if (this.#pending.bytes === 0) this.#batcher.mark(this);
    this.#pending.raw(framed);
  }

  flushPending(): void {
    if (this.#pending.bytes === 0 || this.#closed) return;
    if (this.#mediaPending) this.#lastMediaFlush = performance.now();
    this.#mediaPending = false;
    const { chunks, reusable } = this.#pending.take();
    if (reusable) {
      // Once written, the batch's buffer takes a later batch (FrameBuffer.recycle).
      this.socket.write(chunks[0], (err) => {
        if (!err) this.#pending.recycle(reusable);
      });
      return;
    }
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  /** Picks a free channel pair, preferring the one the client asked for. */
  allocateChannels(requested?: [number, number]): [number, number] {
    if (requested && requested[0] <= 254 && !this.#channels.has(requested[0]) && !this.#channels.has(requested[1])) {
      return requested;
    }
    for (let c = 0; c < 255; c += 2) if (!this.#channels.has(c) && !this.#channels.has(c + 1)) return [c, c + 1];
    throw new RtspError(453, 'no free interleaved channels on this connection');
  }

  bindChannels(session: RtspSession, trackId: number, channels: [number, number]): void {
    // From now on garbage between frames is skipped rather than fatal.
    this.#parser.expectFrames();
    this.#channels.set(channels[0], { session, trackId, rtcp: false });
    this.#channels.set(channels[1], { session, trackId, rtcp: true });
    this.#sessions.add(session);
    session.owner = this;
  }

  sessionClosed(session: RtspSession): void {
    for (const [ch, r] of this.#channels) if (r.session === session) this.#channels.delete(ch);
    this.#sessions.delete(session);
  }

  close(): void {
    if (this.#closed) return;
    this.socket.end();
    // Give the last response a moment to flush, then make sure the socket is gone.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#guard.stop();
    this.#send.stop();
    this.#batcher?.forget(this);
    this.#pending.clear();
    for (const s of [...this.#sessions]) s.close('connection closed');
    this.#channels.clear();
    this.onClosed?.();
  }

  /** Set by the server to forget the connection. */
  onClosed: (() => void) | undefined;
}
