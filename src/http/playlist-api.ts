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
import { ApiError, type ApiRoute } from './api.js';

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
  });
  return [
    {
      name: 'playlists',
      method: 'GET',
      match: (s) => (s.length === 1 && s[0] === 'playlists' ? {} : undefined),
      handle: () => ({ status: 200, body: { playlists: playlists() } }),
    },
    ...ACTIONS.map(action),
    {
      name: 'playlist',
      method: 'GET',
      match: (s) => (under(s) ? { name: s.slice(1).join('/') } : undefined),
      handle: ({ name }) => ({ status: 200, body: find(name) }),
    },
  ];
}
