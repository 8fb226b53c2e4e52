import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { configSchema, loadConfig, type Config } from '../config/index.js';
import { createLogger } from '../logging/index.js';
import { changedKeys, LIVE_KEYS, planReload } from './reload.js';
import { RivuletServer } from './server.js';

const media = fileURLToPath(new URL('../../media/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'rivulet-reload-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** What every test server needs set: nothing on fixed ports or in the repository. */
const SETS = ['rtsp.ports=0', 'rtsp.bind=127.0.0.1', 'admin.port=0', 'control.socket=', `media.dir=${media}`, `state.folder=${root}/state`, `logs.folder=${root}/logs`];

const defaults = (): Config => configSchema.parse({});

describe('planReload', () => {
  it('names each changed key, one per path entry, split into what applies now and what waits', () => {
    const a = defaults();
    const b = defaults();
    b.rtsp.ports = [554];
    b.auth.realm = 'Lobby';
    b.auth.nonceLifetime = 60;
    b.limits.maxConnections = 3;
    b.log.level = 'debug';
    b.log.format = 'json';
    b.logs.errorVerbosity = 4;
    b.paths = { tv: { graceTime: 2 } };
    b.live.graceTime = 1;
    b.live.tcpBatchMs = 0;
    b.admin.tokens = ['a-token-of-16-chars'];
    b.admin.group = 'ops';
    b.admin.sessionTimeout = 600;
    b.admin.port = 1221;
    assert.deepEqual(planReload(a, b), {
      live: ['live.graceTime', 'paths.tv', 'auth.realm', 'limits.maxConnections', 'log.level', 'logs.errorVerbosity', 'admin.group', 'admin.tokens', 'admin.sessionTimeout'],
      later: ['rtsp.ports', 'live.tcpBatchMs', 'auth.nonceLifetime', 'log.format', 'admin.port'],
    });
    assert.deepEqual(changedKeys(a, defaults()), []);
  });

  it('lists only keys the config has', () => {
    const d = defaults() as unknown as Record<string, Record<string, unknown>>;
    for (const [group, keys] of Object.entries(LIVE_KEYS)) {
      if (keys === 'all') continue;
      for (const k of keys) assert.ok(k in d[group], `${group}.${k}`);
    }
  });
});

/** An in-process server on free ports, its log kept; `file` is its config file. */
async function serve(opts: { file?: string; sets?: string[] } = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(l) });
  const sets = [...SETS, ...(opts.sets ?? [])];
  const reloadConfig = (text?: string) => loadConfig({ configFile: opts.file, sets, text });
  const server = new RivuletServer({ config: reloadConfig(), log, configFile: opts.file, reloadConfig, watchDebounceMs: 50 });
  await server.start();
  return { server, lines, log: () => lines.join('') };
}

describe('RivuletServer.reload', () => {
  it('applies live keys into the running config in place and names the rest for a restart', async () => {
    const { server, log } = await serve();
    try {
      const auth = server.config.auth;
      const next = loadConfig({ sets: [...SETS, 'auth.realm=Lobby', 'auth.scheme=basic', 'rtsp.ports=9', 'limits.maxConnections=2', 'log.level=warn'] });
      const r = await server.reload(next, 'test');
      assert.deepEqual(r, { applied: ['auth.scheme', 'auth.realm', 'limits.maxConnections', 'log.level'], later: ['rtsp.ports'] });
      assert.equal(server.config.auth, auth, 'the object the Authorizer holds');
      assert.deepEqual([auth.realm, auth.scheme], ['Lobby', 'basic']);
      assert.deepEqual(server.config.rtsp.ports, [0], 'waits for a restart');
      assert.equal(server.log.level, 'warn');
      assert.match(log(), /config reloaded \(test\): applied auth\.scheme, auth\.realm, limits\.maxConnections, log\.level; after a restart: rtsp\.ports/);
    } finally {
      await server.stop();
    }
  });
});

describe('RivuletServer.updateConfig without a config file', () => {
  it('changes the running config only, and says so', async () => {
    const { server } = await serve();
    try {
      const r = await server.updateConfig({ 'limits.maxConnections': 7, 'logs.accessRollDays': 2, 'rtsp.ports': [1] });
      assert.deepEqual([r.applied, r.later, r.saved], [['limits.maxConnections', 'logs.accessRollDays'], ['rtsp.ports'], false]);
      assert.match(r.note ?? '', /started without --config: nothing was saved.*rtsp\.ports can only change with a restart/);
      assert.equal(server.config.limits.maxConnections, 7);
      const removed = await server.updateConfig({ 'limits.maxConnections': null });
      assert.deepEqual(removed.applied, ['limits.maxConnections']);
      assert.equal(server.config.limits.maxConnections, 0, 'back to its default');
      await assert.rejects(server.updateConfig({ 'logs.accessRollDays': -1, 'limits.maxConnections': 3 }), { name: 'ConfigError', key: 'logs.accessRollDays' });
      assert.deepEqual([server.config.logs.accessRollDays, server.config.limits.maxConnections], [2, 0], 'nothing changed');
    } finally {
      await server.stop();
    }
  });
});

describe('RivuletServer with a config file', () => {
  const text = '# the lobby screens\nlimits:\n  maxConnections: 40 # all-hands\n';

  it('updateConfig saves into the file with its comments and applies it; a wrong value changes nothing', async () => {
    const file = join(root, 'update.yaml');
    writeFileSync(file, text);
    const { server } = await serve({ file });
    try {
      const r = await server.updateConfig({ 'limits.maxConnections': 5, 'auth.realm': 'Lobby' });
      assert.deepEqual(r, { applied: ['auth.realm', 'limits.maxConnections'], later: [], saved: true, file });
      assert.equal(readFileSync(file, 'utf8'), '# the lobby screens\nlimits:\n  maxConnections: 5 # all-hands\nauth:\n  realm: Lobby\n');
      assert.equal(server.config.limits.maxConnections, 5);
      await assert.rejects(server.updateConfig({ 'auth.scheme': 'kerberos' }), { name: 'ConfigError', key: 'auth.scheme' });
      assert.equal(readFileSync(file, 'utf8'), '# the lobby screens\nlimits:\n  maxConnections: 5 # all-hands\nauth:\n  realm: Lobby\n', 'the file is untouched');
    } finally {
      await server.stop();
    }
  });

  it('a key the command line sets is saved, keeps the command line value, and the note says so', async () => {
    const file = join(root, 'override.yaml');
    writeFileSync(file, text);
    const { server } = await serve({ file, sets: ['limits.maxConnections=9'] });
    try {
      const r = await server.updateConfig({ 'limits.maxConnections': 5, 'logs.gmt': false });
      assert.deepEqual([r.applied, r.saved], [['logs.gmt'], true]);
      assert.match(r.note ?? '', /command line .* sets limits\.maxConnections and wins over the file/);
      assert.equal(server.config.limits.maxConnections, 9);
      assert.match(readFileSync(file, 'utf8'), /maxConnections: 5 # all-hands/);
    } finally {
      await server.stop();
    }
  });

  it('a burst of rereads (signals) is one reload', async () => {
    const file = join(root, 'burst.yaml');
    writeFileSync(file, text);
    const { server, lines } = await serve({ file });
    try {
      writeFileSync(file, text.replace('40', '8'));
      const asked = Array.from({ length: 20 }, () => server.rereadConfig('SIGHUP'));
      assert.equal(new Set(asked).size, 1);
      assert.deepEqual(await asked[0], { applied: ['limits.maxConnections'], later: [] });
      assert.equal(lines.filter((l) => /config reloaded \(SIGHUP\)/.test(l)).length, 1);
    } finally {
      await server.stop();
    }
  });

  it('reloads when the file changes, reports a broken file once, and stops watching when stopped', async () => {
    const file = join(root, 'watched.yaml');
    writeFileSync(file, text);
    const { server, lines, log } = await serve({ file });
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await sleep(25);
      return pred();
    };
    try {
      writeFileSync(file, text.replace('40', '3'));
      assert.ok(await until(() => server.config.limits.maxConnections === 3), log());
      assert.match(log(), /config reloaded \(config file changed\): applied limits\.maxConnections/);

      writeFileSync(file, text.replace('40', 'lots'));
      assert.ok(await until(() => count(/config reload failed/) > 0), log());
      // The same broken text again (touched, saved twice): not reported again.
      writeFileSync(file, text.replace('40', 'lots'));
      writeFileSync(file, text.replace('40', '4'));
      assert.ok(await until(() => server.config.limits.maxConnections === 4), log());
      assert.equal(count(/config reload failed, nothing changed: .*limits\.maxConnections/), 1, log());
    } finally {
      await server.stop();
    }
    writeFileSync(file, text.replace('40', '6'));
    await sleep(300);
    assert.equal(server.config.limits.maxConnections, 4, 'no reload after stop()');
  });
});
