/** The OpenAPI 3.1 document of the admin's API, generated from the route table the admin serves
 * (each route's `doc`), so what is documented is what answers. A route without a doc, or two
 * routes documented at the same path and method, is a bug the document refuses to hide. */
import { API_ERROR_SCHEMA, API_PREFIX, type ApiRoute, type JsonSchema } from '../http/index.js';

/** An operation served beside the table (as /metrics), documented by hand. */
export interface ExtraOperation {
  path: string;
  method: 'get';
  operation: Record<string, unknown>;
}

export interface OpenApiOptions {
  version: string;
  /** Operations outside /api/v1. */
  extra?: ExtraOperation[];
}

/** `playlist log` → `playlistLog`. */
const operationId = (name: string) => name.replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** The refusals every operation may give: no or wrong credentials, another site, no CSRF token,
 * an address shut out after failed logins. */
export const COMMON_RESPONSES = {
  401: {
    description:
      'Not signed in, or wrong credentials (with WWW-Authenticate challenges for Basic and Digest, unless the request is a page’s fetch).',
    content: json(API_ERROR_SCHEMA),
  },
  403: {
    description:
      'A change from another site, without the session’s X-CSRF-Token, or by a user who is no administrator.',
    content: json(API_ERROR_SCHEMA),
  },
  429: {
    description:
      'Too many failed logins from the address (an IPv6 /64): refused unchecked until Retry-After says.',
    headers: {
      'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer', minimum: 1 } },
    },
    content: json(API_ERROR_SCHEMA),
  },
};

export function openApiDocument(routes: readonly ApiRoute[], opts: OpenApiOptions): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const d = r.doc;
    if (!d) throw new Error(`API route "${r.name}" has no doc: the OpenAPI document would not describe it`);
    const path = `${API_PREFIX}${d.path}`;
    const method = r.method.toLowerCase();
    const item = (paths[path] ??= {});
    if (item[method]) throw new Error(`two API routes are documented as ${r.method} ${path}`);
    const parameters: Record<string, unknown>[] = [];
    for (const name of [...d.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
      parameters.push({
        name,
        in: 'path',
        required: true,
        description: d.params?.[name] ?? name,
        schema: { type: 'string' },
      });
    }
    for (const [name, q] of Object.entries(d.query ?? {}))
      parameters.push({ name, in: 'query', required: false, description: q.description, schema: q.schema });
    if (r.method !== 'GET')
      parameters.push({
        name: 'X-CSRF-Token',
        in: 'header',
        required: false,
        description: 'The CSRF token of GET /api/v1/session: needed with a session cookie.',
        schema: { type: 'string' },
      });
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(d.responses))
      responses[status] = res.schema
        ? { description: res.description, content: json(res.schema) }
        : { description: res.description };
    item[method] = {
      operationId: operationId(r.name),
      summary: d.summary,
      ...(parameters.length > 0 && { parameters }),
      ...(d.body && { requestBody: { required: true, content: json(d.body) } }),
      responses: { ...responses, ...COMMON_RESPONSES },
    };
  }
  for (const e of opts.extra ?? []) (paths[e.path] ??= {})[e.method] = e.operation;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Rivulet admin API',
      version: opts.version,
      description:
        'What the web admin shows and does, for scripts. Every operation needs an administrator: the session cookie of a signed-in browser (with X-CSRF-Token on changes), HTTP Basic or Digest of a member of admin.group, or a bearer token of admin.tokens.',
    },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'rivulet_admin' },
        basic: { type: 'http', scheme: 'basic' },
        digest: { type: 'http', scheme: 'digest' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ session: [] }, { basic: [] }, { digest: [] }, { bearer: [] }],
    paths,
  };
}
