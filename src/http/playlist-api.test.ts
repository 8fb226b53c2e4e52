import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceControlError, type SourceInfo } from '../core/index.js';
import { silentLogger } from '../logging/index.js';
import { SourceError } from '../sources/source-error.js';
import { answerApi } from './api.js';
import { playlistApiRoutes, type PlaylistControl } from './playlist-api.js';

const info = (path: string, over: Partial<SourceInfo> = {}): SourceInfo => ({
  path,
  setting: 'playlist',
  origin: `paths.${path}.playlist`,
  text: `${path}.playlist`,
  onDemand: false,
  state: 'running',
  readers: 0,
  ...over,
});

/** A control over a fixed list that records what it was asked. */
function control(list: SourceInfo[], startFails?: Error): PlaylistControl & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    sources: () => list,
    startSource: (key) => {
      asked.push(`start ${key}`);
      if (startFails) return Promise.reject(startFails);
      const s = list.find((x) => x.path === key)!;
      if (s.state === 'running') return Promise.reject(new SourceControlError('conflict', `'${key}' is already running`));
      return Promise.resolve({ ...s, state: 'running' });
    },
    stopSource: (key) => {
      asked.push(`stop ${key}`);
      const s = list.find((x) => x.path === key)!;
      if (s.state === 'stopped') throw new SourceControlError('conflict', `'${key}' is already stopped`);
      return { ...s, state: 'stopped' };
    },
  };
}

const ask = (c: PlaylistControl, method: string, target: string, body?: unknown) => answerApi(playlistApiRoutes(c), method, target, body, silentLogger());

describe('playlist API routes', () => {
  const list = [info('tv'), info('live/radio', { state: 'stopped' }), info('cam', { setting: 'source', origin: 'paths.cam.source', text: 'sdp:cam.sdp' })];

  it('lists the playlists (not the other configured sources) and shows one, its name with / raw or encoded', async () => {
    const c = control(list);
    const all = await ask(c, 'GET', '/api/v1/playlists');
    assert.equal(all.status, 200);
    assert.deepEqual((all.body as { playlists: SourceInfo[] }).playlists.map((p) => p.path), ['tv', 'live/radio']);
    for (const target of ['/api/v1/playlists/live/radio', '/api/v1/playlists/live%2Fradio', '/api/v1/playlists/live/radio/?x=1']) {
      const one = await ask(c, 'GET', target);
      assert.equal(one.status, 200, target);
      assert.equal((one.body as SourceInfo).path, 'live/radio');
    }
    assert.deepEqual(await ask(c, 'GET', '/api/v1/playlists/cam'), { status: 404, body: { error: "no playlist is configured at 'cam'" } });
  });

  it('starts and stops, answering 409 when it already is in that state and 404 for what is no playlist', async () => {
    const c = control(list);
    const stopped = await ask(c, 'POST', '/api/v1/playlists/tv/stop');
    assert.deepEqual([stopped.status, (stopped.body as SourceInfo).state], [200, 'stopped']);
    const started = await ask(c, 'POST', '/api/v1/playlists/live%2Fradio/start');
    assert.deepEqual([started.status, (started.body as SourceInfo).path], [200, 'live/radio']);
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/tv/start'), { status: 409, body: { error: "'tv' is already running" } });
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/live/radio/stop'), { status: 409, body: { error: "'live/radio' is already stopped" } });
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/cam/stop'), { status: 404, body: { error: "no playlist is configured at 'cam'" } });
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/nope/start'), { status: 404, body: { error: "no playlist is configured at 'nope'" } });
    assert.deepEqual(c.asked, ['stop tv', 'start live/radio', 'start tv', 'stop live/radio']);
  });

  it("answers a start the source refuses with the source's status and when it starts", async () => {
    const at = Date.UTC(2030, 0, 1);
    const c = control([info('tv', { state: 'waiting' })], new SourceError("broadcast 'tv' is not active: it starts at 2030-01-01T00:00:00.000Z", 404, at));
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/tv/start'), {
      status: 404,
      body: { error: "broadcast 'tv' is not active: it starts at 2030-01-01T00:00:00.000Z", startsAt: '2030-01-01T00:00:00.000Z' },
    });
    const broken = control([info('tv', { state: 'idle' })], new TypeError('a bug'));
    const r = await ask(broken, 'POST', '/api/v1/playlists/tv/start');
    assert.deepEqual(r, { status: 500, body: { error: 'the server failed to answer: a bug' } });
  });

  it('answers 404 for no route, 405 with Allow for another method, 400 for a path that does not decode', async () => {
    const c = control(list);
    assert.deepEqual(await ask(c, 'GET', '/api/v1/nothing'), { status: 404, body: { error: 'no such API route: GET /api/v1/nothing' } });
    assert.deepEqual(await ask(c, 'GET', '/elsewhere'), { status: 404, body: { error: 'no API here: paths start with /api/v1/' } });
    assert.deepEqual(await ask(c, 'DELETE', '/api/v1/playlists'), { status: 405, body: { error: 'DELETE is not served here; GET is' }, headers: [['Allow', 'GET']] });
    assert.deepEqual(await ask(c, 'POST', '/api/v1/playlists/tv'), { status: 405, body: { error: 'POST is not served here; GET is' }, headers: [['Allow', 'GET']] });
    assert.deepEqual(await ask(c, 'GET', '/api/v1/playlists/%E0%A4%A'), { status: 400, body: { error: 'the path is not valid percent-encoding: /api/v1/playlists/%E0%A4%A' } });
    // GET of .../start is the playlist named "tv/start", which does not exist.
    assert.deepEqual(await ask(c, 'GET', '/api/v1/playlists/tv/start'), { status: 404, body: { error: "no playlist is configured at 'tv/start'" } });
    assert.deepEqual(c.asked, []);
  });
});
