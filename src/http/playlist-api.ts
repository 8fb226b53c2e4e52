/** The playlist routes of the JSON API: list, one, start, stop. `{name}` is the path the
 * playlist is broadcast at, percent-encoded or not: it may hold `/` (`live/tv` or `live%2Ftv`).
 * For GET the whole rest of the path is the name; for POST the last segment is the action, so a
 * playlist named `x/start` is started with `POST /api/v1/playlists/x/start/start`.
 *
 *   GET  /api/v1/playlists              200 { playlists: SourceInfo[] }
 *   GET  /api/v1/playlists/{name}       200 SourceInfo; 404 when no playlist feeds that path
 *   POST /api/v1/playlists/{name}/start 200 SourceInfo once it runs; 409 when it already runs;
 *                                       the source's own status when it cannot start (404 with
 *                                       `startsAt` when its schedule has not begun)
 *   POST /api/v1/playlists/{name}/stop  200 SourceInfo; 409 when it is already stopped */
import type { SourceInfo } from '../core/index.js';
import { API_ERROR_SCHEMA, ApiError, type ApiRoute, type ApiRouteDoc, type JsonSchema } from './api.js';

/** `SourceInfo` (core/source-control.ts) as JSON Schema, for the OpenAPI document. */
export const SOURCE_INFO_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['path', 'setting', 'origin', 'text', 'onDemand', 'state', 'readers'],
  properties: {
    path: { type: 'string', description: 'The path it feeds.' },
    setting: { enum: ['source', 'playlist'] },
    origin: { type: 'string', description: 'The config key it comes from.' },
    text: { type: 'string', description: "Its value as written (a playlist's file, or its list as JSON)." },
    onDemand: { type: 'boolean' },
    state: { enum: ['running', 'stopped', 'waiting', 'idle'] },
    finished: { type: 'string' },
    waiting: { enum: ['start', 'schedule', 'retry'] },
    nextStart: { type: 'string', format: 'date-time' },
    since: { type: 'string', format: 'date-time' },
    readers: { type: 'integer', minimum: 0 },
    status: { type: 'object', description: "What the source is doing (a playlist's current and upcoming items)." },
  },
  additionalProperties: false,
};

const NAME = { name: 'The path the playlist is broadcast at; may hold `/`, raw or as `%2F`.' };
/** What else a start may answer: the source's own status when it cannot start. */
const START_FAILURES: ApiRouteDoc['responses'] = {
  415: { description: 'Its items cannot be played.', schema: API_ERROR_SCHEMA },
  500: { description: 'It failed to start.', schema: API_ERROR_SCHEMA },
};
const unknown = { description: 'No playlist is configured at that path.', schema: API_ERROR_SCHEMA };

/** What the routes need of the core (the PathManager). */
export interface PlaylistControl {
  sources(): SourceInfo[];
  startSource(key: string): Promise<SourceInfo>;
  stopSource(key: string): SourceInfo;
}

const ACTIONS = ['start', 'stop'] as const;

export function playlistApiRoutes(control: PlaylistControl): ApiRoute[] {
  const playlists = () => control.sources().filter((s) => s.setting === 'playlist');
  const find = (name: string): SourceInfo => {
    const p = playlists().find((s) => s.path === name);
    if (!p) throw new ApiError(404, `no playlist is configured at '${name}'`);
    return p;
  };
  const under = (segments: readonly string[]) => segments.length >= 2 && segments[0] === 'playlists';
  const action = (verb: (typeof ACTIONS)[number]): ApiRoute => ({
    name: `playlist ${verb}`,
    method: 'POST',
    match: (s) => (under(s) && s.length >= 3 && s[s.length - 1] === verb ? { name: s.slice(1, -1).join('/') } : undefined),
    handle: async ({ name }) => {
      find(name);
      const info = verb === 'start' ? await control.startSource(name) : control.stopSource(name);
      return { status: 200, body: info };
    },
    doc: {
      path: `/playlists/{name}/${verb}`,
      summary: verb === 'start' ? 'Starts a playlist (answers once it runs)' : 'Stops a playlist until it is started again',
      params: NAME,
      responses: {
        200: { description: 'The playlist now.', schema: SOURCE_INFO_SCHEMA },
        404: verb === 'start' ? { description: 'No such playlist, or its schedule has not begun (`startsAt`).', schema: API_ERROR_SCHEMA } : unknown,
        409: { description: `It is already ${verb === 'start' ? 'running' : 'stopped'}.`, schema: API_ERROR_SCHEMA },
        ...(verb === 'start' ? START_FAILURES : {}),
      },
    },
  });
  return [
    {
      name: 'playlists',
      method: 'GET',
      match: (s) => (s.length === 1 && s[0] === 'playlists' ? {} : undefined),
      handle: () => ({ status: 200, body: { playlists: playlists() } }),
      doc: {
        path: '/playlists',
        summary: 'Every configured playlist (paths.<name>.playlist and playlists.folder)',
        responses: {
          200: {
            description: 'The playlists.',
            schema: { type: 'object', required: ['playlists'], properties: { playlists: { type: 'array', items: SOURCE_INFO_SCHEMA } }, additionalProperties: false },
          },
        },
      },
    },
    ...ACTIONS.map(action),
    {
      name: 'playlist',
      method: 'GET',
      match: (s) => (under(s) ? { name: s.slice(1).join('/') } : undefined),
      handle: ({ name }) => ({ status: 200, body: find(name) }),
      doc: { path: '/playlists/{name}', summary: 'One playlist', params: NAME, responses: { 200: { description: 'The playlist.', schema: SOURCE_INFO_SCHEMA }, 404: unknown } },
    },
  ];
}
