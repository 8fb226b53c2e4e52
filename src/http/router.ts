/** One router for the plain HTTP requests that reach the shared ports (the RTSP, rtsp.httpPorts and
 * TLS ports, once the first bytes said HTTP): each protocol registers its routes here instead of
 * the entry deciding by hand, so the tunnel, reference movies and later ICY, HLS and the admin API
 * sit side by side in one table.
 *
 * Routes are tried in registration order; the first whose `matches` accepts the request (path
 * prefix, headers) and whose `methods` include its method serves it. When routes match the
 * target but none takes the method, the answer is 405 with their methods in `Allow`; when none
 * matches, 404. Each refusal is logged once, naming the routes. A route that throws or rejects
 * is logged and answered 500 (or its connection closed if it had begun answering): a route's
 * failure never reaches the I/O loop. */
import type { Socket } from 'node:net';
import type { Logger } from '../logging/index.js';
import { sendHttp } from './reply.js';

/** What the router reads of a request head. Protocol-neutral on purpose: the RTSP parser's
 * request (which reads the shared ports' first bytes) satisfies it, and routes registered by a
 * protocol get that protocol's own type back through the router's type parameter. */
export interface HttpRequestHead {
  method: string;
  /** Request target exactly as sent. */
  uri: string;
  headers: { get(name: string): string | undefined; has(name: string): boolean };
}

export interface HttpReplyOptions {
  /** Default: empty. */
  body?: string;
  /** Content-Type of a non-empty body. Default text/plain. */
  type?: string;
  /** Further header fields, in order (a name may repeat). */
  headers?: [string, string][];
}

/** One request handed to a route. */
export interface HttpExchange<Req extends HttpRequestHead = HttpRequestHead> {
  req: Req;
  /** Paused, with no reader attached: a route that keeps the connection (a tunnel) reads it. */
  socket: Socket;
  /** Bytes read after the head (a tunnelled POST's first base64 text, a body). */
  rest: Buffer[];
  /** Names the client and the route. */
  log: Logger;
  /** Writes a complete response and closes the connection; for HEAD, the head alone. Later
   * calls are ignored. */
  reply(status: number, opts?: HttpReplyOptions): void;
}

export interface HttpRoute<Req extends HttpRequestHead = HttpRequestHead> {
  /** For logs and for the refusals that name it. */
  name: string;
  /** Methods it serves (a route serving GET and HEAD lists both). */
  methods: readonly string[];
  /** Whether it serves this target, whatever the method: a match with another method turns the
   * 404 into a 405 naming its methods. */
  matches(req: Req): boolean;
  handle(ex: HttpExchange<Req>): void | Promise<void>;
  /** A catch-all (reference movies answer any GET): tried after every other route, whenever the
   * others were added, so a protocol registering later still gets its targets. */
  last?: boolean;
}

export interface HttpRouterOptions {
  log: Logger;
  /** Value of the Server header ('' leaves it out). */
  serverHeader: string;
}

/** The router's own view of an exchange: whether the route already answered. */
interface Exchange<Req extends HttpRequestHead> extends HttpExchange<Req> {
  readonly replied: boolean;
}

export class HttpRouter<Req extends HttpRequestHead = HttpRequestHead> {
  readonly #o: HttpRouterOptions;
  readonly #routes: HttpRoute<Req>[] = [];

  constructor(opts: HttpRouterOptions) {
    this.#o = opts;
  }

  /** Appends routes; earlier ones win, and `last` ones come after all the others. */
  add(...routes: HttpRoute<Req>[]): this {
    this.#routes.push(...routes);
    const rest = this.#routes.filter((r) => !r.last);
    const last = this.#routes.filter((r) => r.last);
    this.#routes.splice(0, this.#routes.length, ...rest, ...last);
    return this;
  }

  /** The route table in matching order. */
  get routes(): readonly HttpRoute<Req>[] {
    return this.#routes;
  }

  /** Serves one request whose head has been read from `socket`. */
  serve(socket: Socket, req: Req, rest: Buffer[]): void {
    const log = this.#o.log.child({ client: socket.remoteAddress });
    const target = req.uri.slice(0, 200);
    const method = req.method.slice(0, 32);
    const allow: string[] = [];
    const near: string[] = [];
    for (const route of this.#routes) {
      let matches: boolean;
      try {
        matches = route.matches(req);
      } catch (e) {
        this.#failed(route, this.#exchange(socket, req, rest, log), e);
        return;
      }
      if (!matches) continue;
      if (route.methods.includes(req.method)) {
        this.#run(route, this.#exchange(socket, req, rest, log.child({ route: route.name })));
        return;
      }
      near.push(route.name);
      for (const m of route.methods) if (!allow.includes(m)) allow.push(m);
    }
    const refused = this.#exchange(socket, req, rest, log);
    if (allow.length > 0) {
      log.info(
        { method, uri: target, allow: allow.join(', ') },
        `HTTP ${method} refused (405): ${near.join(', ')} serve only ${allow.join(', ')}`,
      );
      refused.reply(405, { headers: [['Allow', allow.join(', ')]] });
      return;
    }
    log.info({ method, uri: target }, `HTTP ${method} refused (404): no route serves this target`);
    refused.reply(404);
  }

  #exchange(socket: Socket, req: Req, rest: Buffer[], log: Logger): Exchange<Req> {
    let replied = false;
    const serverHeader = this.#o.serverHeader;
    return {
      req,
      socket,
      rest,
      log,
      get replied() {
        return replied;
      },
      reply(status, opts = {}) {
        if (replied || socket.destroyed) return;
        replied = true;
        // Whatever else the client sends is read and dropped, so the close is a FIN, not a reset
        // that could discard the answer before the client reads it.
        socket.resume();
        sendHttp(socket, status, serverHeader, opts.body, opts.type, opts.headers, req.method === 'HEAD');
      },
    };
  }

  #run(route: HttpRoute<Req>, ex: Exchange<Req>): void {
    try {
      const p = route.handle(ex);
      if (p) p.catch((e: unknown) => this.#failed(route, ex, e));
    } catch (e) {
      this.#failed(route, ex, e);
    }
  }

  #failed(route: HttpRoute<Req>, ex: Exchange<Req>, e: unknown): void {
    ex.log.error(
      { err: (e as Error)?.stack ?? String(e), uri: ex.req.uri.slice(0, 200) },
      `HTTP route "${route.name}" failed`,
    );
    // An answer already given closes the connection itself; one a route began writing on its own
    // (a tunnel's GET head) cannot be followed by a 500.
    if (ex.replied) return;
    if (ex.socket.bytesWritten > 0 || ex.socket.writableEnded) ex.socket.destroy();
    else ex.reply(500);
  }
}
