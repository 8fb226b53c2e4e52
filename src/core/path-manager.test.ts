import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../config/index.js';
import { PathManager } from './path-manager.js';

const base = loadConfig({});

function manager(paths: Config['paths'], live: Partial<Config['live']> = {}) {
  const config = { live: { ...base.live, ...live }, paths };
  return { config, paths: new PathManager({ config: () => config }) };
}

describe('PathManager.settingsFor', () => {
  it('gives the global live settings where no paths entry matches', () => {
    const { paths } = manager({});
    assert.deepEqual(paths.settingsFor('live/cam1'), {
      publishAllow: base.live.publishAllow,
      graceTime: base.live.graceTime,
      takeover: base.live.takeover,
      entry: undefined,
    });
  });

  it('overrides only the keys an entry sets, and names the entry', () => {
    const { paths } = manager({ 'live/cam1': { graceTime: 2 } }, { takeover: true });
    assert.deepEqual(paths.settingsFor('live/cam1'), {
      publishAllow: base.live.publishAllow,
      graceTime: 2,
      takeover: true,
      entry: 'live/cam1',
    });
    assert.equal(paths.settingsFor('live/cam2').graceTime, base.live.graceTime);
    assert.equal(paths.settingsFor('live/CAM1').entry, undefined, 'exact names are case-sensitive');
  });

  it('an empty publishAllow overrides a non-empty global one', () => {
    const { paths } = manager({ 'live/strict': { publishAllow: [] } });
    assert.deepEqual(paths.settingsFor('live/strict').publishAllow, []);
  });

  it('an exact name wins over a regex listed before it; regexes are tried in file order', () => {
    const { paths } = manager({
      '~^live/': { graceTime: 1 },
      '~^live/b': { graceTime: 2 },
      'live/b': { graceTime: 3 },
    });
    assert.deepEqual([paths.settingsFor('live/b').graceTime, paths.settingsFor('live/b').entry], [3, 'live/b']);
    assert.deepEqual([paths.settingsFor('live/bx').graceTime, paths.settingsFor('live/bx').entry], [1, '~^live/']);
    assert.equal(paths.settingsFor('other/live/x').entry, undefined, 'an anchored regex matches from the start');
  });

  it('a regex without anchors matches anywhere in the path', () => {
    const { paths } = manager({ '~cam': { takeover: true } });
    assert.equal(paths.settingsFor('a/webcam/b').takeover, true);
  });

  it('reads the config at each call, so a reload that replaces paths applies at once', () => {
    const { config, paths } = manager({ 'live/a': { graceTime: 1 } });
    assert.equal(paths.settingsFor('live/a').graceTime, 1);
    config.paths = { '~^live/': { graceTime: 7 } };
    assert.equal(paths.settingsFor('live/a').graceTime, 7);
    assert.equal(paths.settingsFor('live/a').entry, '~^live/');
  });
});
