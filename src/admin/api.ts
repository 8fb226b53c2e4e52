/** The admin's routes of the JSON API under /api/v1 (beside the playlist routes the control
 * socket serves too): server info, paths, sessions, relays, playlists (edit, log), media files,
 * config, logs, and the OpenAPI document generated from this same table. Each route carries its
 * doc (path template, parameters, body and response schemas). */
import { open, readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { extname, join, relative, sep } from 'node:path';
import { ConfigError, redactUrl } from '../config/index.js';
import type { ClientRow, SourceInfo, Stream } from '../core/index.js';
import {
  API_ERROR_SCHEMA,
  ApiError,
  playlistApiRoutes,
  type ApiAnswer,
  type ApiMethod,
  type ApiRequest,
  type ApiRoute,
  type ApiRouteDoc,
  type JsonSchema,
} from '../http/index.js';
import { playLogName } from '../playlists/index.js';
import type { ManagedServer } from '../server/running.js';
import { CpuLoad } from './cpu-load.js';
import {
  ACCESS_HISTORY_SCHEMA,
  CLIENT_ROW_SCHEMA,
  CONFIG_UPDATE_SCHEMA,
  configJsonSchema,
  LINES_SCHEMA,
  listOf,
  MEDIA_SCHEMA,
  PATH_SCHEMA,
  PLAYLIST_BODY_SCHEMA,
  RELAY_SCHEMA,
  SERVER_SCHEMA,
  SESSION_SCHEMA,
  SESSIONS_SCHEMA,
} from './schemas.js';

/** What the admin reads of the log files (src/server/log-files.ts). */
export interface AdminLogs {
  /** The last `limit` lines of Error.log, oldest first. */
  errorLines(limit: number): string[] | Promise<string[]>;
  /** Files requested and how often, since the counts were last reset. */
  accessHistory(): AccessHistory | Promise<AccessHistory>;
  resetAccessHistory(): void | Promise<void>;
}

export interface AccessHistory {
  since: number | string | Date;
  files: { path: string; count: number }[];
}

export interface AdminApiContext {
  server: ManagedServer;
  logs: AdminLogs;
  /** The admin's own port. */
  port: () => number;
}

/** Lines of a log answered at most, and the default. */
const MAX_LOG_LINES = 5000;
const DEFAULT_LOG_LINES = 200;
/** Bytes read from the end of a playlist's log for its last lines. */
const LOG_TAIL_BYTES = 512 * 1024;
/** Media files listed at most, and folders gone into at most. */
const MAX_MEDIA_FILES = 10_000;
const MAX_MEDIA_DEPTH = 12;
/** Files a playlist can play (as openMedia reads them). */
const PLAYABLE = new Set([
  '.mp4',
  '.m4v',
  '.m4a',
  '.mov',
  '.3gp',
  '.3g2',
  '.mp3',
  '.mp2',
  '.mpa',
  '.mp1',
  '.wav',
  '.aif',
  '.aiff',
  '.au',
  '.snd',
]);
/** Clients one GET /sessions answers at most, and by default. */
const MAX_SESSIONS_PAGE = 1000;
const DEFAULT_SESSIONS_PAGE = 100;
/** Longest `q` filter looked at. */
const MAX_FILTER_CHARS = 200;
/** What GET /sessions sorts by (`sort=bytesSent`, `sort=-bytesSent` for the largest first). */
const SESSION_SORTS = [
  'kind',
  'address',
  'bitrateKbps',
  'bytesSent',
  'lossPercent',
  'startedAt',
  'url',
] as const;
/** What the `q` filter looks in. */
const SESSION_FILTERED = ['address', 'url', 'kind', 'protocol', 'transport', 'user', 'userAgent'] as const;
/** Keys one PATCH of the config may change. */
const MAX_CONFIG_CHANGES = 200;
/** What stands for a bearer token in the config answered (as long as the shortest token). */
export const REDACTED = '<redacted token>';

const ok = (body: unknown): ApiAnswer => ({ status: 200, body });
const NO_CONTENT: ApiAnswer = { status: 204, body: undefined };
const failure = (description: string) => ({ description, schema: API_ERROR_SCHEMA });

interface RouteDef extends Omit<ApiRouteDoc, 'path'> {
  name: string;
  method: ApiMethod;
  /** `/sessions/{id}`: `{id}` is one segment; `{name*}` is one or more (the name may hold `/`),
   * at most one such per path. */
  path: string;
  handle: (params: Record<string, string>, req: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;
}

/** A route of the table from its template: the matcher and the doc come from the same path. */
function route(d: RouteDef): ApiRoute {
  const parts = d.path.split('/').slice(1);
  const rest = parts.findIndex((p) => p.endsWith('*}'));
  const param = (p: string) => (p.startsWith('{') ? p.slice(1, p.endsWith('*}') ? -2 : -1) : undefined);
  const match = (segments: readonly string[]): Record<string, string> | undefined => {
    const extra = segments.length - parts.length;
    if (rest < 0 ? extra !== 0 : extra < 0) return undefined;
    const out: Record<string, string> = {};
    for (let i = 0, s = 0; i < parts.length; i++) {
      const take = i === rest ? extra + 1 : 1;
      const value = segments.slice(s, s + take).join('/');
      s += take;
      const name = param(parts[i]);
      if (name === undefined ? value !== parts[i] : value === '') return undefined;
      if (name !== undefined) out[name] = value;
    }
    return out;
  };
  const { name, method, path, handle, ...doc } = d;
  return { name, method, match, handle, doc: { ...doc, path: path.replace('*}', '}') } };
}

/** A JSON body that is an object, or a 400. */
function objectBody(req: ApiRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new ApiError(400, 'the request body must be a JSON object');
  return b as Record<string, unknown>;
}

/** The whole number `?name=N`, `fallback` when absent, at most `max` (more is taken as `max`);
 * a 400 when it is no whole number from `min`. */
function wholeNumber(req: ApiRequest, name: string, min: number, max: number, fallback: number): number {
  const v = req.query.get(name);
  if (v === null) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min)
    throw new ApiError(
      400,
      `${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, not ${v.slice(0, 20)}`,
    );
  return Math.min(n, max);
}

/** `?lines=N`, bounded. */
const linesWanted = (req: ApiRequest) => wholeNumber(req, 'lines', 1, MAX_LOG_LINES, DEFAULT_LOG_LINES);

const LINES_QUERY = {
  lines: {
    description: `How many of the last lines (default ${DEFAULT_LOG_LINES}, at most ${MAX_LOG_LINES}).`,
    schema: { type: 'integer', minimum: 1 },
  },
};

/** The last `count` lines of a file ([] when it does not exist). */
export async function tailLines(file: string, count: number): Promise<string[]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // The first line read may be cut: kept only when the file was read from its start.
    if (length < size) lines.shift();
    return lines.slice(-count);
  } finally {
    await fh.close();
  }
}

/** Playable files below `root` (relative, `/`-separated, sorted), at most MAX_MEDIA_FILES. */
export async function mediaFiles(
  root: string,
): Promise<{ files: { path: string; size: number }[]; truncated?: true }> {
  const files: { path: string; size: number }[] = [];
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (truncated) return;
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      // Links are not followed: a link to a parent would loop, one outside would leave the folder.
      if (e.isDirectory()) {
        if (depth < MAX_MEDIA_DEPTH) await walk(full, depth + 1);
      } else if (e.isFile() && PLAYABLE.has(extname(e.name).toLowerCase())) {
        if (files.length >= MAX_MEDIA_FILES) truncated = true;
        else
          files.push({
            path: relative(root, full).split(sep).join('/'),
            size: (await stat(full).catch(() => ({ size: 0 }))).size,
          });
      }
    }
  };
  await walk(root, 0);
  return truncated ? { files, truncated } : { files };
}

/** A URL with a user (and maybe a password) in it. */
const USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i;

/** The running config as JSON, bearer tokens and passwords in URLs hidden. */
export function redactedConfig(config: unknown): unknown {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return USERINFO.test(v) ? redactUrl(v) : v;
    if (Array.isArray(v)) return key === 'admin.tokens' ? v.map(() => REDACTED) : v.map((x) => walk(x, key));
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, walk(x, key === '' ? k : `${key}.${k}`)]),
      );
    return v;
  };
  return walk(JSON.parse(JSON.stringify(config)), '');
}

/** A path row of GET /paths. */
interface PathRow {
  path: string;
  live: boolean;
  source: { kind: string; label: string } | null;
  state?: SourceInfo['state'];
  tracks: { id: number; media: string; codec: string }[];
  readers: number;
  /** The stream's multicast group, while it has one. */
  multicast?: { address: string; port: number; ttl: number; viewers: number; sending: boolean; packets: number };
}

function streamRow(s: Stream): PathRow {
  const src = s.source;
  return {
    path: s.path,
    live: s.state === 'active',
    source: src ? { kind: src.kind, label: src.label } : null,
    tracks: s.tracks.map((t) => ({ id: t.id, media: t.format.media, codec: t.format.encodingName })),
    readers: s.readers.size,
  };
}

/** Every live stream and every configured source, by path. */
function pathRows(server: ManagedServer): PathRow[] {
  const rows = new Map<string, PathRow>();
  for (const s of server.live?.streams.values() ?? [])
    if (s.state !== 'ended') rows.set(s.path, streamRow(s));
  for (const g of server.multicastGroups()) {
    const row = rows.get(g.path);
    if (row) row.multicast = { address: g.address, port: g.port, ttl: g.ttl, viewers: g.members, sending: g.sending, packets: g.packets };
  }
  for (const info of server.paths?.sources() ?? []) {
    const row = rows.get(info.path);
    if (row) {
      row.state = info.state;
      continue;
    }
    const kind =
      info.setting === 'playlist'
        ? 'playlist'
        : (/^([a-z][a-z0-9+.-]*):/i.exec(info.text)?.[1].toLowerCase() ?? 'source');
    rows.set(info.path, {
      path: info.path,
      live: false,
      source: { kind, label: redactUrl(info.text) },
      state: info.state,
      tracks: [],
      readers: info.readers,
    });
  }
  return [...rows.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One page of the connected clients as GET /sessions asks (`q`, `sort`, `offset`, `limit`),
 * with how many match in all. */
function sessionsPage(all: ClientRow[], req: ApiRequest): { sessions: ClientRow[]; total: number } {
  const limit = wholeNumber(req, 'limit', 1, MAX_SESSIONS_PAGE, DEFAULT_SESSIONS_PAGE);
  const offset = wholeNumber(req, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
  const q = (req.query.get('q') ?? '').slice(0, MAX_FILTER_CHARS).trim().toLowerCase();
  const sort = req.query.get('sort') ?? '';
  const field = sort.replace(/^-/, '') as (typeof SESSION_SORTS)[number];
  if (sort !== '' && !SESSION_SORTS.includes(field))
    throw new ApiError(
      400,
      `sort must be one of ${SESSION_SORTS.join(', ')} (- first: descending), not ${sort.slice(0, 30)}`,
    );
  let rows = q ? all.filter((c) => SESSION_FILTERED.some((k) => c[k]?.toLowerCase().includes(q))) : all;
  if (sort !== '') {
    const dir = sort.startsWith('-') ? -1 : 1;
    rows = [...rows].sort((a, b) => (a[field] < b[field] ? -dir : a[field] > b[field] ? dir : 0));
  }
  return { sessions: rows.slice(offset, offset + limit), total: rows.length };
}

const SESSIONS_QUERY = {
  limit: {
    description: `Clients per page (default ${DEFAULT_SESSIONS_PAGE}, at most ${MAX_SESSIONS_PAGE}).`,
    schema: { type: 'integer', minimum: 1 },
  },
  offset: {
    description: 'Clients skipped before the page (default 0).',
    schema: { type: 'integer', minimum: 0 },
  },
  q: {
    description: `Only clients with this text (any case) in their ${SESSION_FILTERED.join(', ')}.`,
    schema: { type: 'string' },
  },
  sort: {
    description: `Sorted by this field, \`-\` first for the largest first (default: connection order).`,
    schema: { enum: SESSION_SORTS.flatMap((f) => [f, `-${f}`]) },
  },
};

/** Saves changes through the server; a wrong value is a 400 naming its key. */
async function update(server: ManagedServer, changes: Record<string, unknown>): Promise<ApiAnswer> {
  try {
    return ok(await server.updateConfig(changes));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const keys = Object.keys(changes);
    const key = e.key ?? (keys.length === 1 ? keys[0] : undefined);
    return { status: 400, body: key === undefined ? { error: e.message } : { error: e.message, key } };
  }
}

export function adminApiRoutes(ctx: AdminApiContext): ApiRoute[] {
  const { server } = ctx;
  const cpu = new CpuLoad();
  const paths = () => {
    if (!server.paths) throw new ApiError(503, 'the server is still starting');
    return server.paths;
  };
  const playlist = (name: string): SourceInfo | undefined =>
    server.paths?.sources().find((s) => s.setting === 'playlist' && s.path === name);
  const client = (id: string): ClientRow => {
    const c = server.clients.get(id);
    if (!c) throw new ApiError(404, `no connected client has id ${id}`);
    return c;
  };
  const NAME = { name: 'The path the playlist is broadcast at; may hold `/`, raw or as `%2F`.' };
  const routes: ApiRoute[] = [
    route({
      name: 'session',
      method: 'GET',
      path: '/session',
      summary: 'The signed-in browser: its user and the CSRF token to send in X-CSRF-Token with every change',
      responses: { 200: { description: 'Signed in.', schema: SESSION_SCHEMA } },
      handle: (_p, req) => {
        if (req.caller?.via !== 'session' || req.caller.csrfToken === undefined)
          throw new ApiError(401, 'no browser session: sign in at /signin');
        return ok({ user: req.caller.user, csrfToken: req.caller.csrfToken });
      },
    }),
    route({
      name: 'server',
      method: 'GET',
      path: '/server',
      summary: "The server's status, load and totals (Snapshot)",
      responses: { 200: { description: 'The server now.', schema: SERVER_SCHEMA } },
      handle: () => {
        const now = Date.now();
        const ports = (kind: string) => [
          ...new Set(server.addresses.filter((a) => a.kind === kind).map((a) => a.port)),
        ];
        const clients = server.clients.list();
        return ok({
          name: 'Rivulet',
          version: server.version,
          status: 'running',
          startedAt: new Date(server.startedAt).toISOString(),
          now: new Date(now).toISOString(),
          uptimeSeconds: Math.max(0, Math.floor((now - server.startedAt) / 1000)),
          cpuLoadPercent: cpu.percent(),
          connections: server.clients.size,
          throughputKbps: clients.reduce((n, c) => n + c.bitrateKbps, 0),
          totalBytesServed: server.clients.totalBytesSent,
          totalConnections: server.clients.totalConnections,
          hostname: hostname(),
          ports: { rtsp: ports('rtsp'), http: ports('http'), tls: ports('tls'), admin: ctx.port() },
        });
      },
    }),
    route({
      name: 'paths',
      method: 'GET',
      path: '/paths',
      summary: 'Live paths and configured sources, with their tracks and readers',
      responses: {
        200: {
          description: 'The paths, by name.',
          schema: listOf('paths', PATH_SCHEMA),
        },
      },
      handle: () => ok({ paths: pathRows(server) }),
    }),
    route({
      name: 'path',
      method: 'GET',
      path: '/paths/{path*}',
      summary: 'One path',
      params: { path: 'The path; may hold `/`, raw or as `%2F`.' },
      responses: {
        200: { description: 'The path.', schema: PATH_SCHEMA },
        404: failure('Nothing is live or configured there.'),
      },
      handle: ({ path }) => {
        const row = pathRows(server).find((r) => r.path === path);
        if (!row) throw new ApiError(404, `nothing is live or configured at '${path}'`);
        return ok(row);
      },
    }),
    route({
      name: 'sessions',
      method: 'GET',
      path: '/sessions',
      summary: 'Connected clients, whatever protocol, a page at a time (Connected users)',
      query: SESSIONS_QUERY,
      responses: {
        200: {
          description: 'A page of the clients, and how many match in all.',
          schema: SESSIONS_SCHEMA,
        },
        400: failure('`limit`, `offset` or `sort` is wrong.'),
      },
      handle: (_p, req) => ok(sessionsPage(server.clients.list(), req)),
    }),
    route({
      name: 'client',
      method: 'GET',
      path: '/sessions/{id}',
      summary: 'One connected client',
      params: { id: 'Its id.' },
      responses: {
        200: { description: 'The client.', schema: CLIENT_ROW_SCHEMA },
        404: failure('No client has that id.'),
      },
      handle: ({ id }) => ok(client(id)),
    }),
    route({
      name: 'disconnect',
      method: 'DELETE',
      path: '/sessions/{id}',
      summary: 'Disconnects a client, the way its protocol says goodbye',
      params: { id: 'Its id.' },
      responses: { 204: { description: 'Disconnected.' }, 404: failure('No client has that id.') },
      handle: ({ id }, req) => {
        const c = client(id);
        server.clients.disconnect(
          id,
          `disconnected by the administrator${req.caller ? ` ${req.caller.user}` : ''}`,
        );
        server.log.info(
          { client: c.address, url: c.url, by: req.caller?.user },
          'admin: client disconnected',
        );
        return NO_CONTENT;
      },
    }),
    route({
      name: 'relays',
      method: 'GET',
      path: '/relays',
      summary: 'Every relay leg: pulled sources, push and forward destinations',
      responses: {
        200: { description: 'The legs.', schema: listOf('relays', RELAY_SCHEMA) },
      },
      handle: () => ok({ relays: [...server.relays].map(([key, r]) => ({ key, ...r })) }),
    }),
    // Before the playlist routes, whose GET takes any name: `x/log` is x's log.
    route({
      name: 'playlist log',
      method: 'GET',
      path: '/playlists/{name*}/log',
      summary: "The playlist's log of what played (logs.folder)",
      params: NAME,
      query: LINES_QUERY,
      responses: {
        200: { description: 'Its last lines, oldest first.', schema: LINES_SCHEMA },
        400: failure('`lines` is not a whole number.'),
        404: failure('No playlist is configured there.'),
      },
      handle: async ({ name }, req) => {
        if (!playlist(name)) throw new ApiError(404, `no playlist is configured at '${name}'`);
        return ok({
          lines: await tailLines(join(server.config.logs.folder, playLogName(name)), linesWanted(req)),
        });
      },
    }),
    route({
      name: 'playlist save',
      method: 'PUT',
      path: '/playlists/{name*}',
      summary:
        'Creates or replaces the playlist paths.<name>.playlist (saved to the config file, applied at once)',
      params: NAME,
      body: PLAYLIST_BODY_SCHEMA,
      responses: {
        200: { description: 'Saved; what applied now and what waits.', schema: CONFIG_UPDATE_SCHEMA },
        400: failure('A value is wrong (`key` names it).'),
        409: failure('A playlist of playlists.folder is broadcast there: edit its file.'),
      },
      handle: ({ name }, req) => {
        const b = objectBody(req);
        if (playlist(name)?.origin === 'playlists.folder')
          throw new ApiError(409, `'${name}' is a playlist of playlists.folder: edit its .playlist file`);
        const value = Object.fromEntries(
          ['items', 'mode', 'recent', 'start', 'end', 'autostart']
            .filter((k) => b[k] !== undefined)
            .map((k) => [k, b[k]]),
        );
        const unknown = Object.keys(b).filter((k) => !(k in value) && b[k] !== undefined);
        if (unknown.length)
          return {
            status: 400,
            body: {
              error: `unknown key '${unknown[0].slice(0, 50)}'`,
              key: `paths.${name}.playlist.${unknown[0].slice(0, 50)}`,
            },
          };
        return update(server, { [`paths.${name}.playlist`]: value });
      },
    }),
    route({
      name: 'playlist delete',
      method: 'DELETE',
      path: '/playlists/{name*}',
      summary: 'Removes the playlist paths.<name>.playlist from the config (its broadcast stops)',
      params: NAME,
      responses: {
        200: { description: 'Removed; what applied now and what waits.', schema: CONFIG_UPDATE_SCHEMA },
        404: failure('The config defines no playlist there.'),
        409: failure('A playlist of playlists.folder is broadcast there: remove its file.'),
      },
      handle: ({ name }) => {
        if (playlist(name)?.origin === 'playlists.folder')
          throw new ApiError(409, `'${name}' is a playlist of playlists.folder: remove its .playlist file`);
        if (server.config.paths[name]?.playlist === undefined)
          throw new ApiError(404, `the config defines no playlist at '${name}'`);
        return update(server, { [`paths.${name}.playlist`]: null });
      },
    }),
    ...playlistApiRoutes({
      sources: () => server.paths?.sources() ?? [],
      startSource: (key) => paths().startSource(key),
      stopSource: (key) => paths().stopSource(key),
    }),
    route({
      name: 'media',
      method: 'GET',
      path: '/media',
      summary: 'Playable files below media.dir (for picking playlist items)',
      responses: {
        200: {
          description: `The files, sorted (at most ${MAX_MEDIA_FILES}; \`truncated\` when there are more).`,
          schema: MEDIA_SCHEMA,
        },
      },
      handle: async () => ok(await mediaFiles(server.config.media.dir)),
    }),
    route({
      name: 'config',
      method: 'GET',
      path: '/config',
      summary: 'The running configuration (bearer tokens and passwords in URLs hidden)',
      responses: { 200: { description: 'The configuration.', schema: configJsonSchema() } },
      handle: () => ok(redactedConfig(server.config)),
    }),
    route({
      name: 'config change',
      method: 'PATCH',
      path: '/config',
      summary:
        'Changes settings by dotted key (`{"limits.maxConnections": 5}`; null: back to the default): checked, saved to the config file with its comments, applied live where possible',
      body: { type: 'object', maxProperties: MAX_CONFIG_CHANGES, additionalProperties: true },
      responses: {
        200: {
          description: 'Saved; what applied now and what waits for a restart.',
          schema: CONFIG_UPDATE_SCHEMA,
        },
        400: failure('A key or value is wrong (`key` names it); nothing was changed.'),
      },
      handle: (_p, req) => {
        const b = objectBody(req);
        const n = Object.keys(b).length;
        if (n === 0 || n > MAX_CONFIG_CHANGES)
          throw new ApiError(400, `give from 1 to ${MAX_CONFIG_CHANGES} keys to change, not ${n}`);
        return update(server, b);
      },
    }),
    route({
      name: 'error log',
      method: 'GET',
      path: '/logs/error',
      summary: 'The last lines of the error log (Error.log)',
      query: LINES_QUERY,
      responses: {
        200: { description: 'Its last lines, oldest first.', schema: LINES_SCHEMA },
        400: failure('`lines` is not a whole number.'),
      },
      handle: async (_p, req) => ok({ lines: await ctx.logs.errorLines(linesWanted(req)) }),
    }),
    route({
      name: 'access history',
      method: 'GET',
      path: '/logs/access',
      summary: 'Files requested and how often, since the counts were reset',
      responses: { 200: { description: 'The counts.', schema: ACCESS_HISTORY_SCHEMA } },
      handle: async () => {
        const h = await ctx.logs.accessHistory();
        return ok({
          since: new Date(h.since).toISOString(),
          files: h.files.map((f) => ({ path: f.path, count: f.count })),
        });
      },
    }),
    route({
      name: 'access history reset',
      method: 'DELETE',
      path: '/logs/access',
      summary: 'Resets the access counts',
      responses: { 204: { description: 'Reset.' } },
      handle: async () => {
        await ctx.logs.resetAccessHistory();
        return NO_CONTENT;
      },
    }),
  ];
  return routes;
}

/** The route serving a document (the OpenAPI one), made once it can be. */
export function documentRoute(
  path: string,
  summary: string,
  schema: JsonSchema,
  document: () => unknown,
): ApiRoute {
  return route({
    name: 'openapi',
    method: 'GET',
    path,
    summary,
    responses: { 200: { description: 'The document.', schema } },
    handle: () => ok(document()),
  });
}
