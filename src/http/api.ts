/** The JSON API under `/api/v1`, independent of the HTTP server that carries it: routes are a
 * method, a match on the path segments after `/api/v1` and a handler returning a status and a
 * JSON body, so the control socket (`rivulet playlist start|stop|status`) and the admin port
 * serve the same routes. `answerApi` picks the route (404 for none, 405 with `Allow` when only
 * other methods match, 400 for a path that does not decode) and turns the core's typed errors
 * into statuses in one place; `apiHandler` serves it with node:http, reading at most
 * `maxBodyBytes` of a request body. A route may carry its `doc` (path template, parameters,
 * body and response schemas): the admin's OpenAPI document is generated from those, so it
 * describes what the table serves. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SourceControlError } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import { SourceError } from '../sources/source-error.js';

export const API_PREFIX = '/api/v1';

/** A request as a route sees it. */
export interface ApiRequest {
  method: string;
  /** Path segments after `/api/v1`, percent-decoded (`%2F` is a `/` inside a segment). */
  segments: string[];
  /** The JSON body; undefined when there was none. */
  body?: unknown;
  /** The query string's parameters. */
  query: URLSearchParams;
  /** Who asked, when the carrier authenticates requests (the admin port); undefined on the
   * control socket, where the socket file's permissions decide. */
  caller?: ApiCaller;
}

/** An authenticated caller. */
export interface ApiCaller {
  /** The user signed in, or `token` for a bearer token. */
  user: string;
  /** How: a browser's session cookie, HTTP Basic or Digest, or a bearer token. */
  via: 'session' | 'basic' | 'digest' | 'bearer';
  /** The session's CSRF token (via `session` only). */
  csrfToken?: string;
}

/** A route's answer: the status and the JSON body (undefined: none, as for 204). */
export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: [string, string][];
}

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses). */
export type JsonSchema = Record<string, unknown>;

/** What the OpenAPI document says of a route. */
export interface ApiRouteDoc {
  /** The path after `/api/v1`, with `{param}` for each parameter (`/playlists/{name}/start`). */
  path: string;
  summary: string;
  /** Each path parameter's description. */
  params?: Record<string, string>;
  /** Query parameters: description and schema. */
  query?: Record<string, { description: string; schema: JsonSchema }>;
  /** The JSON request body's schema. */
  body?: JsonSchema;
  /** Each status the route answers itself (beyond the carrier's 401/403 and the 500 of a
   * bug): description and the JSON body's schema (none for 204). */
  responses: Record<number, { description: string; schema?: JsonSchema }>;
}

export interface ApiRoute {
  /** For logs. */
  name: string;
  method: ApiMethod;
  /** The route's parameters when it serves these segments, else undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
  handle(params: Record<string, string>, req: ApiRequest): ApiAnswer | Promise<ApiAnswer>;
  doc?: ApiRouteDoc;
}

/** The body of every refusal. `key`: the config key a wrong value was given for; `startsAt`:
 * when a scheduled source will start. */
export const API_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, key: { type: 'string' }, startsAt: { type: 'string', format: 'date-time' } },
  additionalProperties: false,
};

/** A refusal a route decides itself, with its status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const error = (status: number, message: string, extra: Record<string, unknown> = {}): ApiAnswer => ({ status, body: { error: message, ...extra } });

/** The answer a refusal gets: an ApiError's status, the control's 404 (unknown) or 409
 * (conflict), a source's own status (SourceError: the 404, 415 or 500 a viewer would get, and
 * when it will start if it said so); undefined for anything else (a bug: 500). */
export function apiErrorAnswer(e: unknown): ApiAnswer | undefined {
  if (e instanceof ApiError) return error(e.status, e.message);
  if (e instanceof SourceControlError) return error(e.kind === 'unknown' ? 404 : 409, e.message);
  if (e instanceof SourceError) {
    const status = e.status >= 400 && e.status <= 599 ? e.status : 500;
    return error(status, e.message, e.retryAt === undefined ? {} : { startsAt: new Date(e.retryAt).toISOString() });
  }
  return undefined;
}

/** The segments after `/api/v1` of a request target, or undefined when it is not under it. */
function segmentsOf(target: string): string[] | undefined {
  const path = target.split(/[?#]/, 1)[0];
  if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return undefined;
  const rest = path.slice(API_PREFIX.length + 1);
  if (rest === '') return [];
  // A trailing slash names the same resource.
  return rest.replace(/\/$/, '').split('/').map(decodeURIComponent);
}

/** Answers one request with the first route matching its path and method. Never throws: a
 * route's unexpected failure is logged and answered 500. */
export async function answerApi(routes: readonly ApiRoute[], method: string, target: string, body: unknown, log: Logger, caller?: ApiCaller): Promise<ApiAnswer> {
  let segments: string[] | undefined;
  try {
    segments = segmentsOf(target);
  } catch {
    return error(400, `the path is not valid percent-encoding: ${target.slice(0, 200)}`);
  }
  if (!segments) return error(404, `no API here: paths start with ${API_PREFIX}/`);
  const allow: string[] = [];
  for (const route of routes) {
    const params = route.match(segments);
    if (!params) continue;
    if (route.method !== method) {
      if (!allow.includes(route.method)) allow.push(route.method);
      continue;
    }
    try {
      const q = target.indexOf('?');
      const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1).split('#', 1)[0]);
      return await route.handle(params, { method, segments, body, query, ...(caller ? { caller } : {}) });
    } catch (e) {
      const known = apiErrorAnswer(e);
      if (known) return known;
      log.error({ route: route.name, err: (e as Error)?.stack ?? String(e) }, `API route "${route.name}" failed`);
      return error(500, `the server failed to answer: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  if (allow.length) return { ...error(405, `${method} is not served here; ${allow.join(', ')} is`), headers: [['Allow', allow.join(', ')]] };
  return error(404, `no such API route: ${method} ${target.split(/[?#]/, 1)[0].slice(0, 200)}`);
}

export interface ApiHandlerOptions {
  log: Logger;
  /** Longest request body read, bytes (a longer one gets 413 and the connection closes). */
  maxBodyBytes: number;
}

/** A node:http request listener serving `routes` as JSON. */
export function apiHandler(routes: readonly ApiRoute[], opts: ApiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const send = (res: ServerResponse, a: ApiAnswer, close = false) => {
    const text = a.body === undefined ? '' : `${JSON.stringify(a.body, null, 2)}\n`;
    const headers: [string, string][] = [['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', String(Buffer.byteLength(text))], ...(a.headers ?? [])];
    if (close) headers.push(['Connection', 'close']);
    res.writeHead(a.status, Object.fromEntries(headers));
    res.end(text);
  };
  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (d: Buffer) => {
      if (refused) return;
      size += d.length;
      if (size > opts.maxBodyBytes) {
        refused = true;
        opts.log.info({ method: req.method, uri: req.url?.slice(0, 200) }, `API request refused (413): body over ${opts.maxBodyBytes} bytes`);
        send(res, error(413, `the request body is over ${opts.maxBodyBytes} bytes`), true);
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (e) {
          send(res, error(400, `the request body is not JSON: ${(e as Error).message}`));
          return;
        }
      }
      answerApi(routes, req.method ?? 'GET', req.url ?? '/', body, opts.log)
        .then((a) => {
          if (a.status >= 400) opts.log.info({ method: req.method, uri: req.url?.slice(0, 200), status: a.status }, `API request refused: ${(a.body as { error?: string }).error ?? ''}`);
          send(res, a);
        })
        // An answer that cannot be sent (a body that is not JSON, the headers already gone): the
        // client sees the connection close rather than wait.
        .catch((e: unknown) => {
          opts.log.error({ method: req.method, uri: req.url?.slice(0, 200), err: (e as Error)?.stack ?? String(e) }, 'API answer could not be sent');
          res.destroy();
        });
    });
  };
}
