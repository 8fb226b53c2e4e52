/** The admin's HTTP application (fastify): the sign-in and sign-out forms, the pages (one app
 * shell) for a signed-in browser, their assets under /ui/, the JSON API under /api/v1 with its
 * OpenAPI document, and /metrics. Every answer carries headers that keep it out of frames and
 * other sites' scripts; API answers are never cached.
 *
 * Who may do what: the API and /metrics need an administrator (AdminAuth: session cookie, Basic,
 * Digest or bearer token). A change (any method but GET) is refused with 403 when a browser says
 * it comes from another site (Origin, Referer, Sec-Fetch-Site), whatever the credentials, and,
 * with a session cookie, unless X-CSRF-Token carries the session's token. The sign-in form is
 * refused from another site too. While no administrator exists, every page is the setup page.
 * Under /ui/, anyone gets what the sign-in and setup pages load; the app's own files need a
 * signed-in browser. An address shut out after failed logins is answered 429 with Retry-After
 * at once (API and sign-in form alike): no answer is held back, so guesses hold no socket.
 *
 * The application is not listened with: `handler` serves node:http(s) servers the caller opens
 * (one per bind address, see server/admin-wiring.ts). */
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { answerApi, type ApiCaller } from '../http/index.js';
import type { Logger } from '../logging/index.js';
import type { ManagedServer } from '../server/running.js';
import { adminApiRoutes, documentRoute, type AdminLogs } from './api.js';
import { AdminAuth, crossSiteReason, setupCommands } from './auth.js';
import { COMMON_RESPONSES, openApiDocument } from './openapi.js';
import { AdminPages } from './pages.js';
import { sameSecret } from './sessions.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'rivulet_admin';
/** Largest request body, bytes (a playlist of a few thousand items fits). */
export const MAX_BODY_BYTES = 256 * 1024;
/** What /ui/ serves without signing in: what the sign-in and setup pages load. The rest (the
 * app's pages and scripts) waits for a session. */
const PUBLIC_ASSETS = new Set(['app.css', 'favicon.svg', 'signin.js']);
/** The pages a signed-in browser is served the app shell at. */
export const PAGES = ['/', '/users', '/relays', '/playlists', '/settings', '/logs'];

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** What the admin serves /metrics from. */
export interface MetricsText {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface AdminAppOptions {
  server: ManagedServer;
  metrics: MetricsText;
  logs: AdminLogs;
  /** Served over TLS: the cookie is Secure and pages' origins are https. */
  secure: boolean;
  /** The port listened on (known once listening). */
  port: () => number;
  log: Logger;
  /** Default: the pages of admin-ui/. */
  pages?: AdminPages;
}

export interface AdminApp {
  /** Serves one request (the `request` listener of an http or https server). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  auth: AdminAuth;
  /** The OpenAPI document served at /api/v1/openapi.json. */
  document: Record<string, unknown>;
  close(): Promise<void>;
}

/** A page's own fetch (which must not make the browser ask for a password itself) rather than a
 * navigation or a script outside a browser. */
const fromPageScript = (req: FastifyRequest) => {
  const mode = req.headers['sec-fetch-mode'];
  return (mode !== undefined && mode !== 'navigate') || req.cookies[SESSION_COOKIE] !== undefined;
};

const isChange = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

export async function buildAdminApp(opts: AdminAppOptions): Promise<AdminApp> {
  const { server, log } = opts;
  const pages = opts.pages ?? new AdminPages();
  const auth = new AdminAuth({ config: () => server.config, log });
  const scheme = opts.secure ? 'https' : 'http';
  let handler: AdminApp['handler'] | undefined;
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    // A playlist's name may be long; it is a path below /api/v1.
    routerOptions: { maxParamLength: 2048 },
    serverFactory: (h) => {
      handler = h;
      // Never listened on: the caller's servers call `handler`.
      return new Server();
    },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: MAX_BODY_BYTES });

  const routes = adminApiRoutes({ server, logs: opts.logs, port: opts.port });
  let document: Record<string, unknown> = {};
  routes.push(
    documentRoute(
      '/openapi.json',
      'This document (OpenAPI 3.1)',
      { type: 'object', required: ['openapi', 'info', 'paths'] },
      () => document,
    ),
  );
  document = openApiDocument(routes, {
    version: server.version,
    extra: [
      {
        path: '/metrics',
        method: 'get',
        operation: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format)',
          responses: {
            200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...COMMON_RESPONSES,
          },
        },
      },
    ],
  });

  const setCookie = (reply: FastifyReply, value: string, maxAge?: number) =>
    reply.setCookie(SESSION_COOKIE, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: opts.secure,
      ...(maxAge !== undefined && { maxAge }),
    });
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);
  const jsonError = (reply: FastifyReply, status: number, error: string) =>
    reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ error }));
  const setupPage = async () => pages.setup(setupCommands(await auth.admins()));
  /** The signed-in browser's user, if any (an administrator still). */
  const browserUser = async (req: FastifyRequest): Promise<string | undefined> => {
    const s = auth.sessions.use(req.cookies[SESSION_COOKIE]);
    if (!s) return undefined;
    if ((await auth.admins()).names.has(s.user)) return s.user;
    auth.sessions.endUser(s.user);
    return undefined;
  };

  /** The administrator asking, or undefined once the refusal is sent. */
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<ApiCaller | undefined> => {
    const changing = isChange(req.method);
    const cross = changing ? crossSiteReason(req.headers, scheme) : undefined;
    if (cross) {
      log.warn(
        { client: req.ip, method: req.method, url: req.url.slice(0, 200) },
        `admin: cross-site request refused: ${cross}`,
      );
      jsonError(reply, 403, `refused: ${cross}`);
      return undefined;
    }
    const authorization = req.headers.authorization;
    const outcome = await auth.authenticate({
      method: req.method,
      url: req.url,
      address: req.ip,
      authorization,
      session: req.cookies[SESSION_COOKIE],
      quiet: fromPageScript(req),
    });
    if (!outcome.ok) {
      if (outcome.retryAfterS !== undefined) reply.header('Retry-After', String(outcome.retryAfterS));
      if (outcome.challenges.length > 0) reply.header('WWW-Authenticate', outcome.challenges);
      jsonError(reply, outcome.status, outcome.error);
      return undefined;
    }
    const c = outcome.caller;
    if (changing && c.via === 'session') {
      const token = req.headers['x-csrf-token'];
      if (typeof token !== 'string' || !sameSecret(token, c.csrfToken ?? '')) {
        log.warn(
          { client: req.ip, user: c.user, method: req.method, url: req.url.slice(0, 200) },
          'admin: change refused: no or wrong X-CSRF-Token',
        );
        jsonError(
          reply,
          403,
          'refused: a change with a session cookie needs the X-CSRF-Token of GET /api/v1/session',
        );
        return undefined;
      }
    }
    return c;
  };

  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status =
      err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500)
      log.error(
        { method: req.method, url: req.url.slice(0, 200), err: err.stack ?? String(err) },
        'admin: request failed',
      );
    else
      log.info(
        { client: req.ip, method: req.method, url: req.url.slice(0, 200), status },
        `admin: request refused: ${err.message}`,
      );
    return jsonError(reply, status, status >= 500 ? 'the server failed to answer' : err.message);
  });

  app.setNotFoundHandler(async (req, reply) => {
    if (req.url.startsWith('/api/'))
      return jsonError(
        reply,
        404,
        `no such API route: ${req.method} ${req.url.split('?', 1)[0].slice(0, 200)}`,
      );
    return html(
      reply,
      404,
      '<!doctype html><title>Not found</title><p>There is no admin page here. <a href="/">Go to the Snapshot</a>.</p>\n',
    );
  });

  app.get('/ui/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    if (!PUBLIC_ASSETS.has(name) && !(await browserUser(req))) {
      if (req.headers['sec-fetch-mode'] === 'navigate') return reply.redirect('/signin', 303);
      return reply.code(401).type('text/plain; charset=utf-8').send('sign in first\n');
    }
    const asset = await pages.asset(name);
    if (!asset) return html(reply, 404, '<!doctype html><title>Not found</title><p>No such file.</p>\n');
    reply.header('Cache-Control', 'no-cache').header('ETag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });

  app.get('/signin', async (req, reply) => {
    if ((await auth.admins()).names.size === 0) return html(reply, 200, await setupPage());
    if (await browserUser(req)) return reply.redirect('/', 303);
    return html(reply, 200, await pages.signIn());
  });

  app.post('/signin', async (req, reply) => {
    const cross = crossSiteReason(req.headers, scheme);
    if (cross) {
      log.warn({ client: req.ip }, `admin: cross-site sign-in refused: ${cross}`);
      return html(reply, 403, await pages.signIn('The form was not sent from this page: sign in again.'));
    }
    if ((await auth.admins()).names.size === 0) return html(reply, 403, await setupPage());
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const user = typeof b.user === 'string' ? b.user : '';
    const password = typeof b.password === 'string' ? b.password : '';
    if (user === '' || password === '')
      return html(reply, 400, await pages.signIn('Give a user name and a password.', user));
    const outcome = await auth.signIn(user, password, req.ip);
    if (!outcome.ok) {
      if (outcome.retryAfterS !== undefined) reply.header('Retry-After', String(outcome.retryAfterS));
      return html(
        reply,
        outcome.retryAfterS !== undefined ? 429 : 401,
        await pages.signIn(`${outcome.error[0].toUpperCase()}${outcome.error.slice(1)}.`, user),
      );
    }
    setCookie(reply, outcome.session.id);
    return reply.redirect('/', 303);
  });

  app.post('/signout', async (req, reply) => {
    const cross = crossSiteReason(req.headers, scheme);
    if (cross) return jsonError(reply, 403, `refused: ${cross}`);
    const s = auth.sessions.use(req.cookies[SESSION_COOKIE]);
    if (s) {
      const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<
        string,
        unknown
      >;
      const token = req.headers['x-csrf-token'] ?? b.csrfToken;
      if (typeof token !== 'string' || !sameSecret(token, s.csrfToken))
        return jsonError(reply, 403, 'refused: signing out needs the session’s CSRF token');
      auth.sessions.end(s.id);
      log.info({ client: req.ip, user: s.user }, 'admin: signed out');
    }
    setCookie(reply, '', 0);
    return reply.redirect('/signin?error=signedout', 303);
  });

  for (const page of PAGES) {
    app.get(page, async (req, reply) => {
      if ((await auth.admins()).names.size === 0) return html(reply, 200, await setupPage());
      if (!(await browserUser(req))) return reply.redirect('/signin', 303);
      return html(reply, 200, await pages.app());
    });
  }

  app.get('/metrics', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    return reply.type(opts.metrics.contentType).send(await opts.metrics.text());
  });

  const api = async (req: FastifyRequest, reply: FastifyReply) => {
    const caller = await guard(req, reply);
    if (!caller) return reply;
    if (req.body !== undefined && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
      return jsonError(reply, 415, 'the request body must be JSON (Content-Type: application/json)');
    // HEAD is a GET whose body fastify leaves out.
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const a = await answerApi(routes, method, req.url, req.body, log, caller);
    if (a.status >= 400)
      log.info(
        { client: req.ip, method: req.method, url: req.url.slice(0, 200), status: a.status },
        `admin: API request refused: ${(a.body as { error?: string } | undefined)?.error ?? ''}`,
      );
    reply.code(a.status);
    for (const [k, v] of a.headers ?? []) reply.header(k, v);
    if (a.body === undefined) return reply.send();
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(a.body));
  };
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  app.route({ method: methods, url: '/api/v1', handler: api });
  app.route({ method: methods, url: '/api/v1/*', handler: api });

  await app.ready();
  if (!handler) throw new Error('fastify did not hand over its request handler');
  return { handler, auth, document, close: () => app.close() };
}
