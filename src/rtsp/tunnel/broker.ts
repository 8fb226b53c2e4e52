/** Pairs the two HTTP connections of an RTSP-over-HTTP tunnel (the QuickTime scheme): a `GET`
 * that will carry everything the server sends and a `POST` whose body carries the client's RTSP
 * requests in base64, both naming the same `x-sessioncookie`. Either may arrive first; a half
 * that finds no partner in time is dropped. */
import type { Socket } from 'node:net';
import type { Logger } from '../../logging/index.js';
import type { RtspRequest } from '../message/types.js';
import { Base64Error } from './base64-stream.js';
import { httpHead, sendHttp } from '../../http/reply.js';
import { TunnelSocket } from './tunnel-socket.js';

export interface TunnelBrokerOptions {
  /** Starts an RTSP connection over a paired tunnel. */
  connect(tunnel: TunnelSocket): void;
  log: Logger;
  /** Value of the Server header ('' leaves it out). */
  serverHeader: string;
  /** Milliseconds a GET or POST waits for its partner. Default 5000. */
  pairTimeoutMs?: number;
  /** Base64 bytes a POST may send before its GET arrives. Default 65536. */
  maxPendingBytes?: number;
}

interface Waiting {
  socket: Socket;
  timer: NodeJS.Timeout;
  /** POST: base64 text received so far. */
  text: Buffer[];
  textBytes: number;
  /** Undoes the listeners set while waiting. */
  release(): void;
}

/** QuickTime cookies are 22 characters; anything printable up to this length is accepted. */
const COOKIE_RE = /^[\x21-\x7e]{1,128}$/;

export class TunnelBroker {
  readonly #o: TunnelBrokerOptions;
  readonly #pairTimeoutMs: number;
  readonly #maxPendingBytes: number;
  readonly #gets = new Map<string, Waiting>();
  readonly #posts = new Map<string, Waiting>();

  constructor(opts: TunnelBrokerOptions) {
    this.#o = opts;
    this.#pairTimeoutMs = opts.pairTimeoutMs ?? 5000;
    this.#maxPendingBytes = opts.maxPendingBytes ?? 65536;
  }

  /** Halves waiting for a partner. */
  get waiting(): number {
    return this.#gets.size + this.#posts.size;
  }

  /** A GET or POST carrying `x-sessioncookie` (`rest`: bytes read after its head). */
  accept(socket: Socket, req: RtspRequest, rest: Buffer[]): void {
    const cookie = req.headers.get('x-sessioncookie') ?? '';
    const log = this.#o.log.child({ client: socket.remoteAddress, cookie: cookie.slice(0, 40) });
    if (!COOKIE_RE.test(cookie)) {
      log.warn('tunnel refused: bad x-sessioncookie');
      sendHttp(socket, 400, this.#o.serverHeader);
      return;
    }
    const get = req.method === 'GET';
    const mine = get ? this.#gets : this.#posts;
    if (mine.has(cookie)) {
      log.warn(`tunnel refused: a second ${req.method} with the same cookie`);
      sendHttp(socket, 409, this.#o.serverHeader);
      return;
    }
    if (get) {
      // Clients read this answer before they open the POST.
      socket.write(
        httpHead(200, { 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Type': 'application/x-rtsp-tunnelled' }, this.#o.serverHeader),
      );
    }
    const partner = (get ? this.#posts : this.#gets).get(cookie);
    if (partner) {
      (get ? this.#posts : this.#gets).delete(cookie);
      partner.release();
      if (get) this.#pair(socket, partner.socket, partner.text, log);
      else this.#pair(partner.socket, socket, rest, log);
      return;
    }
    this.#wait(mine, cookie, socket, get ? [] : rest, log, req.method);
  }

  #wait(map: Map<string, Waiting>, cookie: string, socket: Socket, rest: Buffer[], log: Logger, method: string): void {
    const w: Waiting = {
      socket,
      text: [...rest],
      textBytes: rest.reduce((n, b) => n + b.length, 0),
      timer: setTimeout(() => {
        map.delete(cookie);
        w.release();
        log.info(`tunnel ${method} dropped: its partner did not arrive within ${this.#pairTimeoutMs} ms`);
        socket.destroy();
      }, this.#pairTimeoutMs),
      release: () => {
        clearTimeout(w.timer);
        socket.off('data', onData);
        socket.off('close', onClose);
      },
    };
    w.timer.unref();
    const onData = (d: Buffer) => {
      if (method !== 'POST') return;
      w.text.push(d);
      w.textBytes += d.length;
      if (w.textBytes > this.#maxPendingBytes) {
        log.warn('tunnel POST dropped: too much data before its GET arrived');
        map.delete(cookie);
        w.release();
        socket.destroy();
      }
    };
    const onClose = () => {
      map.delete(cookie);
      w.release();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', () => undefined);
    socket.resume();
    map.set(cookie, w);
  }

  #pair(get: Socket, post: Socket, text: Buffer[], log: Logger): void {
    const tunnel = new TunnelSocket(get, post);
    tunnel.on('error', (e) => {
      if (e instanceof Base64Error) log.warn({ err: e.message }, 'tunnel closed: its POST body is not base64');
      else log.debug({ err: e.message }, 'tunnel error');
    });
    for (const t of text) tunnel.feed(t);
    post.on('data', (d: Buffer) => tunnel.feed(d));
    // Clients send nothing more on the GET; reading it still notices when it closes.
    get.on('data', () => undefined);
    log.debug('tunnel paired');
    this.#o.connect(tunnel);
    post.resume();
    get.resume();
  }

  /** Drops every half still waiting (shutdown). */
  close(): void {
    for (const map of [this.#gets, this.#posts]) {
      for (const w of map.values()) {
        w.release();
        w.socket.destroy();
      }
      map.clear();
    }
  }
}
