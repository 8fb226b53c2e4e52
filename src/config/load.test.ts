import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { sdpSetting } from './relay-schema.js';
import { configuredSource, sourceTimings } from './schema.js';

/** The source forms as messages list them. */
const FORMS = 'sdp:<file>, rtsp://[user:password@]host[:port]/path, rtsps://[user:password@]host[:port]/path or udp://[group|address]:port';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let dir: string;
let n = 0;

/** Writes `text` to a fresh YAML file under the temp folder (optionally in a subfolder). */
function yamlFile(text: string, sub = ''): string {
  const folder = join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `config-${++n}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** A RegExp matching `text` literally. */
function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** Asserts that loading throws a ConfigError whose message matches every pattern. */
function assertConfigError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rivulet-config-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('gives the documented defaults with no file and no overrides', () => {
    const cfg = loadConfig({ cwd: dir });
    assert.deepEqual(cfg.rtsp.ports, [8554]);
    assert.deepEqual(cfg.rtsp.bind, ['0.0.0.0', '::']);
    assert.equal(cfg.rtsp.sessionTimeout, 60);
    assert.equal(cfg.rtsp.serverHeader, 'Rivulet');
    assert.equal(cfg.rtp.maxPayloadSize, 1400);
    assert.equal(cfg.rtp.rtcpInterval, 5);
    assert.equal(cfg.vod.sendAhead, 0.25);
    assert.equal(cfg.log.level, 'info');
    assert.equal(cfg.log.format, 'text');
  });

  it('resolves the default media folder to an absolute path under cwd', () => {
    const cfg = loadConfig({ cwd: dir });
    assert.ok(isAbsolute(cfg.media.dir));
    assert.equal(cfg.media.dir, join(dir, 'media'));
  });

  it('the example config file spells out exactly the defaults', () => {
    // Its media.dir (./media) is relative to the file, which sits in the repository root.
    const fromExample = loadConfig({ configFile: join(repoRoot, 'rivulet.example.yaml'), cwd: dir });
    assert.deepEqual(fromExample, loadConfig({ cwd: repoRoot }));
  });

  it('accepts an empty file', () => {
    assert.deepEqual(loadConfig({ configFile: yamlFile(''), cwd: dir }), loadConfig({ cwd: dir }));
  });
});

describe('loadConfig YAML file', () => {
  it('puts the folders the server writes beside the config file, also by default, and --set ones under the working folder', () => {
    const file = yamlFile('state:\n  folder: run\nplaylists:\n  folder: /srv/playlists\n');
    const cfg = loadConfig({ configFile: file, cwd: '/elsewhere' });
    const beside = dirname(file);
    assert.equal(cfg.state.folder, join(beside, 'run'));
    assert.equal(cfg.logs.folder, join(beside, 'logs'), 'a default is relative to the config file too');
    assert.equal(cfg.playlists.folder, '/srv/playlists');
    assert.equal(cfg.control.socket, join(beside, 'run', 'control.sock'), 'the socket lives in the state folder');
    const set = loadConfig({ configFile: file, cwd: '/elsewhere', sets: ['logs.folder=l', 'control.socket='] });
    assert.equal(set.logs.folder, '/elsewhere/l');
    assert.equal(set.control.socket, '', 'an empty socket turns the control surface off');
    const none = loadConfig({ cwd: '/elsewhere' });
    assert.equal(none.state.folder, '/elsewhere/state');
    assert.equal(none.playlists.folder, '', 'no playlists folder unless one is named');
  });

  it('takes values from the file and keeps defaults for the keys it leaves out', () => {
    const file = yamlFile(
      [
        'rtsp:',
        '  ports: [554, 8554]',
        '  bind: ["::1"]',
        '  sessionTimeout: 120',
        'rtp:',
        '  maxPayloadSize: 1200',
        'log:',
        '  level: debug',
        '  format: json',
      ].join('\n'),
    );
    const cfg = loadConfig({ configFile: file, cwd: dir });
    assert.deepEqual(cfg.rtsp.ports, [554, 8554]);
    assert.deepEqual(cfg.rtsp.bind, ['::1']);
    assert.equal(cfg.rtsp.sessionTimeout, 120);
    assert.equal(cfg.rtsp.maxHeaderBytes, 8192, 'default kept inside a group the file names');
    assert.equal(cfg.rtp.maxPayloadSize, 1200);
    assert.equal(cfg.rtp.portMin, 6970);
    assert.equal(cfg.log.level, 'debug');
    assert.equal(cfg.log.format, 'json');
    assert.deepEqual(cfg.vod, loadConfig({ cwd: dir }).vod, 'defaults kept for a group the file leaves out');
  });

  it('resolves a relative media.dir against the config file folder, not cwd', () => {
    const file = yamlFile('media:\n  dir: ../movies\n', 'etc/rivulet');
    const cfg = loadConfig({ configFile: file, cwd: '/' });
    assert.equal(cfg.media.dir, join(dir, 'etc', 'movies'));
  });

  it('resolves relative auth.usersFile / auth.groupsFile against the config file folder, and --set ones against cwd', () => {
    const file = yamlFile('auth:\n  usersFile: qtusers\n  groupsFile: ../groups\n', 'etc/streaming');
    const cfg = loadConfig({ configFile: file, cwd: '/' });
    assert.equal(cfg.auth.usersFile, join(dir, 'etc', 'streaming', 'qtusers'));
    assert.equal(cfg.auth.groupsFile, join(dir, 'etc', 'groups'));
    assert.equal(loadConfig({ sets: ['auth.usersFile=u'], cwd: dir }).auth.usersFile, join(dir, 'u'));
    assert.equal(loadConfig({ cwd: dir }).auth.usersFile, '/etc/streaming/qtusers');
  });

  it('keeps an absolute media.dir as it is', () => {
    const file = yamlFile(`media:\n  dir: ${JSON.stringify(join(dir, 'abs'))}\n`, 'sub');
    assert.equal(loadConfig({ configFile: file, cwd: '/' }).media.dir, join(dir, 'abs'));
  });

  it('resolves a relative config path against cwd', () => {
    const file = yamlFile('rtsp:\n  sessionTimeout: 99\n', 'rel');
    const cfg = loadConfig({ configFile: join('rel', file.slice(file.lastIndexOf('/') + 1)), cwd: dir });
    assert.equal(cfg.rtsp.sessionTimeout, 99);
  });
});

describe('loadConfig --set', () => {
  it('coerces numbers, comma-separated lists, strings and enums from the schema', () => {
    const cfg = loadConfig({
      cwd: dir,
      sets: [
        'rtsp.ports=554,8554',
        'rtsp.bind=127.0.0.1, ::1',
        'rtsp.sessionTimeout=30',
        'rtsp.serverHeader=123',
        'rtp.rtcpInterval=0.5',
        'log.level=debug',
        'log.format=json',
      ],
    });
    assert.deepEqual(cfg.rtsp.ports, [554, 8554]);
    assert.deepEqual(cfg.rtsp.bind, ['127.0.0.1', '::1']);
    assert.equal(cfg.rtsp.sessionTimeout, 30);
    assert.equal(cfg.rtsp.serverHeader, '123', 'a string key stays a string even when it looks numeric');
    assert.equal(cfg.rtp.rtcpInterval, 0.5);
    assert.equal(cfg.log.level, 'debug');
    assert.equal(cfg.log.format, 'json');
  });

  it('keeps everything after the first = in the value, including an empty value', () => {
    assert.equal(loadConfig({ cwd: dir, sets: ['rtsp.serverHeader=a=b: c'] }).rtsp.serverHeader, 'a=b: c');
    assert.equal(loadConfig({ cwd: dir, sets: ['rtsp.serverHeader='] }).rtsp.serverHeader, '');
  });

  it('a single value for a list key is a one-element list', () => {
    assert.deepEqual(loadConfig({ cwd: dir, sets: ['rtsp.ports=554'] }).rtsp.ports, [554]);
    assert.deepEqual(loadConfig({ cwd: dir, sets: ['rtsp.bind=::1'] }).rtsp.bind, ['::1']);
  });

  it(
    'keeps the elements of a string list as text (rtsp.bind=:: is "every IPv6 interface")',
    {},
    () => {
      assert.deepEqual(loadConfig({ cwd: dir, sets: ['rtsp.bind=::'] }).rtsp.bind, ['::']);
      assert.deepEqual(loadConfig({ cwd: dir, sets: ['rtsp.bind=0.0.0.0,::'] }).rtsp.bind, ['0.0.0.0', '::']);
    },
  );

  it(
    'reports a --set value YAML cannot read as a ConfigError naming the key',
    {},
    () => {
      assertConfigError(
        () => loadConfig({ cwd: dir, sets: ['rtsp.sessionTimeout=@5'] }),
        /rtsp\.sessionTimeout/,
      );
    },
  );

  it('resolves a relative media.dir against cwd', () => {
    assert.equal(loadConfig({ cwd: dir, sets: ['media.dir=films'] }).media.dir, join(dir, 'films'));
  });

  it('the last of repeated --set for one key wins', () => {
    const cfg = loadConfig({ cwd: dir, sets: ['rtsp.sessionTimeout=30', 'rtsp.sessionTimeout=40'] });
    assert.equal(cfg.rtsp.sessionTimeout, 40);
  });
});

describe('loadConfig precedence', () => {
  it('defaults < file < --set < flags', () => {
    const file = yamlFile(
      'rtsp:\n  sessionTimeout: 30\n  maxBodyBytes: 1000\n  ports: [1000]\nrtp:\n  maxPayloadSize: 1000\n',
    );
    const cfg = loadConfig({
      configFile: file,
      cwd: dir,
      sets: ['rtsp.sessionTimeout=40', 'rtsp.ports=2000'],
      flags: { rtsp: { ports: [3000] } },
    });
    assert.equal(cfg.rtsp.maxHeaderBytes, 8192, 'default where nothing overrides');
    assert.equal(cfg.rtsp.maxBodyBytes, 1000, 'file over default');
    assert.equal(cfg.rtp.maxPayloadSize, 1000, 'file over default in another group');
    assert.equal(cfg.rtsp.sessionTimeout, 40, '--set over file');
    assert.deepEqual(cfg.rtsp.ports, [3000], 'flag over --set and file');
  });

  it('a media.dir flag wins over the file and resolves against cwd', () => {
    const file = yamlFile('media:\n  dir: from-file\n', 'p');
    const cfg = loadConfig({ configFile: file, cwd: dir, flags: { media: { dir: 'from-flag' } } });
    assert.equal(cfg.media.dir, join(dir, 'from-flag'));
  });
});

describe('loadConfig errors', () => {
  it('names the key of a value out of range, and the file it came from', () => {
    const file = yamlFile('rtsp:\n  sessionTimeout: 2\n');
    assertConfigError(
      () => loadConfig({ configFile: file, cwd: dir }),
      /rtsp\.sessionTimeout/,
      literal(file),
    );
  });

  it('names the key of a value of the wrong type given with --set', () => {
    assertConfigError(
      () => loadConfig({ cwd: dir, sets: ['rtsp.sessionTimeout=abc'] }),
      /rtsp\.sessionTimeout/,
    );
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['log.level=loud'] }), /log\.level/);
  });

  it('reports unknown keys at the top level and inside a group', () => {
    assertConfigError(
      () => loadConfig({ configFile: yamlFile('colour: red\n'), cwd: dir }),
      /unknown key 'colour'/,
    );
    assertConfigError(
      () => loadConfig({ configFile: yamlFile('rtsp:\n  colour: red\n'), cwd: dir }),
      /rtsp: unknown key 'colour'/,
    );
  });

  it('reports an unknown --set key by its full name', () => {
    assertConfigError(
      () => loadConfig({ cwd: dir, sets: ['rtsp.colour=red'] }),
      /unknown config key 'rtsp\.colour'/,
    );
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['colour=red'] }), /unknown config key 'colour'/);
  });

  it('rejects --set without group.key=value', () => {
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['rtsp.sessionTimeout'] }), /group\.key=value/);
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['=5'] }), /group\.key=value/);
  });

  it('reports invalid YAML with the file and line number', () => {
    const file = yamlFile('rtsp:\n  ports: [1\n  bind: x\n');
    assertConfigError(
      () => loadConfig({ configFile: file, cwd: dir }),
      literal(`${file} line 3: invalid YAML`),
    );
  });

  it('rejects a file whose top level is not a mapping', () => {
    assertConfigError(
      () => loadConfig({ configFile: yamlFile('- 1\n- 2\n'), cwd: dir }),
      /top level must be a mapping/,
    );
  });

  it('reports a missing config file', () => {
    assertConfigError(
      () => loadConfig({ configFile: join(dir, 'missing.yaml'), cwd: dir }),
      /cannot read config file/,
    );
  });

  it('enforces portMax above portMin', () => {
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['rtp.portMin=30000'] }), /rtp\.portMax/);
  });
});

describe('loadConfig tls, httpPorts and limits', () => {
  it('turns RTSPS on at port 8322 only when both files are set, relative to the config file', () => {
    assert.deepEqual(loadConfig({ cwd: dir }).tls.ports, []);
    const file = yamlFile('tls:\n  cert: certs/cert.pem\n  key: certs/key.pem\n', 'tls');
    const cfg = loadConfig({ configFile: file, cwd: '/' });
    assert.deepEqual(cfg.tls.ports, [8322]);
    assert.equal(cfg.tls.cert, join(dir, 'tls', 'certs', 'cert.pem'));
    assert.equal(cfg.tls.key, join(dir, 'tls', 'certs', 'key.pem'));
    assert.deepEqual(loadConfig({ configFile: file, cwd: dir, sets: ['tls.ports=0,8323'] }).tls.ports, [0, 8323]);
  });

  it('refuses RTSPS ports without a certificate and key', () => {
    assertConfigError(() => loadConfig({ cwd: dir, sets: ['tls.ports=8322'] }), /tls\.ports/, /tls\.cert and tls\.key/);
  });

  it('reads httpPorts and the admission limits (0 = no limit by default)', () => {
    const cfg = loadConfig({ cwd: dir, sets: ['rtsp.httpPorts=80,0', 'limits.maxConnections=2', 'limits.maxBandwidthKbps=1500.5'] });
    assert.deepEqual(cfg.rtsp.httpPorts, [80, 0]);
    assert.equal(cfg.limits.maxConnections, 2);
    assert.equal(cfg.limits.maxBandwidthKbps, 1500.5);
    const d = loadConfig({ cwd: dir });
    assert.deepEqual(d.rtsp.httpPorts, []);
    assert.equal(d.limits.maxConnections, 0);
    assert.equal(d.limits.maxBandwidthKbps, 0);
  });
});

describe('loadConfig paths', () => {
  it('is empty by default and keeps entries, in file order, from the YAML file', () => {
    assert.deepEqual(loadConfig({ cwd: dir }).paths, {});
    const file = yamlFile(
      [
        'paths:',
        '  "~^live/strict/.*$":',
        '    publishAllow: []',
        '  live/open:',
        '    takeover: true',
        '    graceTime: 2.5',
      ].join('\n'),
    );
    const paths = loadConfig({ configFile: file, cwd: dir }).paths;
    assert.deepEqual(paths, { '~^live/strict/.*$': { publishAllow: [] }, 'live/open': { takeover: true, graceTime: 2.5 } });
    assert.deepEqual(Object.keys(paths), ['~^live/strict/.*$', 'live/open']);
  });

  it('names the key of a bad value, an unknown setting, a bad regex and a leading slash', () => {
    assertConfigError(() => loadConfig({ configFile: yamlFile('paths:\n  cam1:\n    graceTime: -1\n'), cwd: dir }), /paths\.cam1\.graceTime: Too small/);
    assertConfigError(() => loadConfig({ configFile: yamlFile('paths:\n  cam1:\n    takeover: "yes"\n'), cwd: dir }), /paths\.cam1\.takeover/);
    assertConfigError(() => loadConfig({ configFile: yamlFile('paths:\n  cam1:\n    writeSdp: true\n'), cwd: dir }), /paths\.cam1: unknown key 'writeSdp'/);
    assertConfigError(
      () => loadConfig({ configFile: yamlFile('paths:\n  "~^live/(.*$":\n    takeover: true\n'), cwd: dir }),
      literal('paths.~^live/(.*$: Invalid regular expression'),
    );
    assertConfigError(() => loadConfig({ configFile: yamlFile('paths:\n  /live/a: {}\n'), cwd: dir }), literal('paths./live/a: a path name without the leading /'));
    assertConfigError(() => loadConfig({ configFile: yamlFile('paths: [a]\n'), cwd: dir }), /paths/);
  });

  it('keeps a configured source as written: publisher, or sdp:<file> with sourceOnDemand', () => {
    const file = yamlFile(['paths:', '  cam/lobby:', '    source: sdp:lobby.sdp', '    sourceOnDemand: false', '  live/a:', '    source: publisher'].join('\n'));
    assert.deepEqual(loadConfig({ configFile: file, cwd: dir }).paths, {
      'cam/lobby': { source: 'sdp:lobby.sdp', sourceOnDemand: false },
      'live/a': { source: 'publisher' },
    });
  });

  it('names the key of a bad source, a source on a regex and a sourceOnDemand without a source', () => {
    const load = (yaml: string) => () => loadConfig({ configFile: yamlFile(`paths:\n${yaml}`), cwd: dir });
    assertConfigError(load('  cam/lobby:\n    source: rtmp://cam\n'), literal(`paths.cam/lobby.source: expected publisher, ${FORMS}, got 'rtmp://cam'`));
    assertConfigError(load('  cam/lobby:\n    source: "sdp:"\n'), literal(`paths.cam/lobby.source: expected publisher, ${FORMS}, got 'sdp:'`));
    assertConfigError(load('  cam/lobby:\n    source: 7\n'), /paths\.cam\/lobby\.source: Invalid input: expected string/);
    assertConfigError(load('  "~^cam/.*$":\n    source: sdp:a.sdp\n'), literal('paths.~^cam/.*$.source: only an exact path name may have a source, not a ~regex'));
    assertConfigError(load('  cam1:\n    sourceOnDemand: false\n'), literal(`paths.cam1.sourceOnDemand: applies to a configured source only (source: ${FORMS})`));
  });

  it('reads a playlist: a .playlist file, or the list with its defaults', () => {
    const file = yamlFile(['paths:', '  radio:', '    playlist: radio.playlist', '  tv:', '    playlist:', '      items: [a.mp4, { file: b.mp4, weight: 3 }]', '      mode: weighted_random', '      recent: 1'].join('\n'));
    assert.deepEqual(loadConfig({ configFile: file, cwd: dir }).paths, {
      radio: { playlist: 'radio.playlist' },
      tv: { playlist: { items: ['a.mp4', { file: 'b.mp4', weight: 3 }], mode: 'weighted_random', recent: 1, autostart: true } },
    });
    const minimal = yamlFile('paths:\n  tv:\n    playlist: { items: [a.mp4] }\n');
    assert.deepEqual(loadConfig({ configFile: minimal, cwd: dir }).paths.tv.playlist, { items: ['a.mp4'], mode: 'sequential_looped', recent: 0, autostart: true });
  });

  it('names the key of a bad playlist', () => {
    const load = (yaml: string) => () => loadConfig({ configFile: yamlFile(`paths:\n${yaml}`), cwd: dir });
    assertConfigError(load('  tv:\n    playlist: { items: [a.mp4], mode: shuffle }\n'), /paths\.tv\.playlist\.mode: Invalid option/);
    assertConfigError(load('  tv:\n    playlist: { items: [] }\n'), /paths\.tv\.playlist\.items: Too small/);
    assertConfigError(load('  tv:\n    playlist: { items: [a.mp4], begin: x }\n'), literal("paths.tv.playlist: unknown key 'begin'"));
    assertConfigError(load('  tv:\n    playlist: { items: [a.mp4], start: "20:00" }\n'), literal('paths.tv.playlist.start: expected an ISO 8601 date and time with its zone'));
    assertConfigError(load('  tv:\n    playlist: { items: [a.mp4], end: "2026-13-45T20:00:00Z" }\n'), literal('paths.tv.playlist.end: expected an ISO 8601'));
    assert.equal(loadConfig({ configFile: yamlFile('paths:\n  tv:\n    playlist: { items: [a.mp4], start: "*30", end: "2026-12-24T20:00:00+01:00" }\n'), cwd: dir }).paths.tv.playlist && 'ok', 'ok');
    assertConfigError(load('  tv:\n    playlist: { items: [a.mp4, { file: b.mp4, weight: 0 }] }\n'), /paths\.tv\.playlist\.items\.1\.weight: Too small/);
    assertConfigError(load('  tv:\n    playlist: 7\n'), literal('paths.tv.playlist: expected the path of a .playlist file or { items, mode, recent, start, end, autostart }'));
    assertConfigError(
      load('  tv:\n    playlist: { items: [a.mp4, b.mp4], mode: weighted_random, recent: 2 }\n'),
      literal('paths.tv.playlist.recent: is 2 but the playlist has 2 different items: it must be smaller than that'),
    );
    assertConfigError(load('  tv:\n    playlist: a.playlist\n    source: sdp:a.sdp\n'), literal('paths.tv.playlist: a path is fed by its playlist or by its source, not both (source: sdp:a.sdp)'));
    assertConfigError(load('  "~^tv/.*$":\n    playlist: a.playlist\n'), literal('paths.~^tv/.*$.playlist: only an exact path name may have a playlist, not a ~regex'));
    assertConfigError(load('  tv:\n    playlist: a.playlist\n    sourceOnDemand: true\n'), literal('paths.tv.sourceOnDemand: does not apply to a playlist: paths.tv.playlist.autostart says when it starts'));
  });
});

describe('loadConfig relays', () => {
  /** Loads `yaml` under `paths:`. */
  const load = (yaml: string) => () => loadConfig({ configFile: yamlFile(`paths:\n${yaml}`), cwd: dir });
  /** Asserts loading `yaml` under `paths:` fails with exactly `message` among its lines. */
  const refuses = (yaml: string, message: string) => assertConfigError(load(yaml), new RegExp(`: ${literal(message).source}$`, 'm'));

  it('reads relay sources, their settings and destinations, destinations in one shape', () => {
    const file = yamlFile(
      [
        'paths:',
        '  cam/door:',
        '    source: rtsp://viewer:p%40ss@10.0.0.7:554/Streaming/Channels/101?transportmode=unicast',
        '    sourceTransport: udp',
        '    sourceOnDemand: true',
        '    sourceDescribeTimeout: 5',
        '    sourceIdleTimeout: 30',
        '    sourceRetry: { min: 2, max: 120 }',
        '  edge/lobby:',
        '    source: rtsps://origin.example.com/live/lobby',
        '    push:',
        '      - rtsp://edge1.example.com/live/lobby',
        '      - { url: "rtsps://u:pw@edge2.example.com:8322/live/lobby", transport: udp, retry: { max: 60 } }',
        '    forward:',
        '      - udp://239.1.1.1:5000?ttl=4&iface=10.0.0.1',
        '      - { host: 10.0.0.9, port: 6000 }',
        '  mc/in:',
        '    source: udp://239.1.2.3:5000?source=10.0.0.5',
        '    sdp: mc.sdp',
        '  live/show:',
        '    push: [rtsp://edge/live/show]',
      ].join('\n'),
    );
    const paths = loadConfig({ configFile: file, cwd: dir }).paths;
    const retry = { min: 1, max: 30 };
    assert.deepEqual(paths, {
      'cam/door': {
        source: 'rtsp://viewer:p%40ss@10.0.0.7:554/Streaming/Channels/101?transportmode=unicast',
        sourceTransport: 'udp',
        sourceOnDemand: true,
        sourceDescribeTimeout: 5,
        sourceIdleTimeout: 30,
        sourceRetry: { min: 2, max: 120 },
      },
      'edge/lobby': {
        source: 'rtsps://origin.example.com/live/lobby',
        push: [
          { url: 'rtsp://edge1.example.com/live/lobby', transport: 'tcp', retry },
          { url: 'rtsps://u:pw@edge2.example.com:8322/live/lobby', transport: 'udp', retry: { min: 1, max: 60 } },
        ],
        forward: [
          { host: '239.1.1.1', port: 5000, ttl: 4, iface: '10.0.0.1' },
          { host: '10.0.0.9', port: 6000 },
        ],
      },
      'mc/in': { source: 'udp://239.1.2.3:5000?source=10.0.0.5', sdp: 'mc.sdp' },
      'live/show': { push: [{ url: 'rtsp://edge/live/show', transport: 'tcp', retry }] },
    });
  });

  it('applies the defaults: relays always on, sdp: files on demand, a path with destinations always on', () => {
    const file = yamlFile(
      [
        'live:',
        '  sdpIdleTimeout: 45',
        'paths:',
        '  pull: { source: "rtsp://origin/live/a" }',
        '  pullOnDemand: { source: "rtsp://origin/live/a", sourceOnDemand: true, sourceIdleTimeout: 9 }',
        '  mc: { source: "udp://:5000", sdp: mc.sdp }',
        '  file: { source: "sdp:a.sdp" }',
        '  fileForwarded: { source: "sdp:a.sdp", forward: ["udp://10.0.0.2:7000"] }',
        '  show: { push: ["rtsp://edge/show"] }',
      ].join('\n'),
    );
    const { paths, live } = loadConfig({ configFile: file, cwd: dir });
    const retry = { min: 1, max: 30 };
    assert.deepEqual(sourceTimings(paths.pull, live), { onDemand: false, describeTimeout: 10, idleTimeout: 45, retry });
    assert.deepEqual(sourceTimings(paths.pullOnDemand, live), { onDemand: true, describeTimeout: 10, idleTimeout: 9, retry });
    assert.equal(sourceTimings(paths.mc, live)?.onDemand, false);
    assert.equal(sourceTimings(paths.file, live)?.onDemand, true);
    assert.equal(sourceTimings(paths.fileForwarded, live)?.onDemand, false);
    assert.equal(configuredSource(paths.fileForwarded)?.onDemand, false);
    assert.equal(sourceTimings(paths.show, live), undefined);
  });

  it('configures relay sources, always on by default', () => {
    const paths = loadConfig({ configFile: yamlFile('paths:\n  pull: { source: "rtsp://origin/live/a" }\n'), cwd: dir }).paths;
    assert.deepEqual(configuredSource(paths.pull), { setting: 'source', spec: { scheme: 'rtsp', target: 'rtsp://origin/live/a' }, onDemand: false });
  });

  it('takes inline SDP as a block, and an SDP file by name', () => {
    const sdp = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=cam', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'm=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2'];
    const file = yamlFile(['paths:', '  mc:', '    source: udp://:5000', '    sdp: |', ...sdp.map((l) => `      ${l}`)].join('\n'));
    const got = loadConfig({ configFile: file, cwd: dir }).paths.mc.sdp!;
    assert.deepEqual(sdpSetting(got), { text: `${sdp.join('\n')}\n` });
    assert.deepEqual(sdpSetting('cams/door.sdp'), { file: 'cams/door.sdp' });
  });

  it('names the key of a bad rtsp:// source and never shows its password', () => {
    refuses('  cam:\n    source: rtsp://cam:99999/x\n', "paths.cam.source: port '99999' is not a number from 1 to 65535 (got 'rtsp://cam:99999/x')");
    refuses('  cam:\n    source: rtsp://cam:/x\n', "paths.cam.source: has a : with no port after it (got 'rtsp://cam:/x')");
    refuses('  cam:\n    source: rtsp:///x\n', "paths.cam.source: has no host (got 'rtsp:///x')");
    refuses('  cam:\n    source: "rtsp://cam/a b"\n', "paths.cam.source: has a space or line break: write a space as %20 (got 'rtsp://cam/a b')");
    refuses('  cam:\n    source: rtsp://cam/x#y\n', "paths.cam.source: has a #fragment, which is never sent to a server: write # in the path as %23 (got 'rtsp://cam/x#y')");
    refuses('  cam:\n    source: rtsp://300.1.2.3/x\n', "paths.cam.source: '300.1.2.3' is not an IPv4 address (got 'rtsp://300.1.2.3/x')");
    refuses('  cam:\n    source: rtsp://fe80::1/x\n', "paths.cam.source: has an IPv6 address without [ ]: write it as [address] (got 'rtsp://fe80::1/x')");
    refuses('  cam:\n    source: rtsp://cam/caf\u00e9\n', "paths.cam.source: has '\u00e9' in its path: percent-encode it as %C3%A9 (got 'rtsp://cam/caf\u00e9')");
    refuses('  cam:\n    source: rtsp://:pw@cam/x\n', "paths.cam.source: has a password but no user name (rtsp://user:password@host/…) (got 'rtsp://:***@cam/x')");
    const leaks = [
      '  cam:\n    source: rtsp://admin:Secret1@cam:0/x\n',
      '  cam:\n    source: rtsp://admin:Sec/ret1@cam/x\n',
      '  cam:\n    source: rtsp://admin:Sec@ret1@cam/x\n',
      '  cam:\n    source: rtsp://admin:Sec%zzret1@cam/x\n',
    ];
    for (const yaml of leaks) {
      assert.throws(load(yaml), (e: Error) => e instanceof ConfigError && /paths\.cam\.source: /.test(e.message) && !/Secret1|ret1/.test(e.message));
    }
    refuses('  cam:\n    source: rtsp://admin:Sec/ret1@cam/x\n', "paths.cam.source: has an @ in the first part of its path: in a user name or password, write / ? # @ as %2F %3F %23 %40 (got 'rtsp://admin:***@cam/x')");
  });

  it('names the key of a bad udp:// source and of its sdp', () => {
    refuses('  mc:\n    source: udp://239.1.2.3:5001\n    sdp: a.sdp\n', "paths.mc.source: port 5001 is odd: RTP takes an even port and RTCP the odd one above it (got 'udp://239.1.2.3:5001')");
    refuses('  mc:\n    source: udp://239.1.2.3\n    sdp: a.sdp\n', "paths.mc.source: needs a port: udp://239.1.2.3:5000, or udp://:5000 for every local address (got 'udp://239.1.2.3')");
    refuses('  mc:\n    source: udp://group.example:5000\n    sdp: a.sdp\n', "paths.mc.source: 'group.example' must be an IP address (a multicast group to join or a local address to listen on), not a host name (got 'udp://group.example:5000')");
    refuses('  mc:\n    source: udp://:5000?ttl=3\n    sdp: a.sdp\n', "paths.mc.source: has unknown parameter 'ttl' (it takes source) (got 'udp://:5000?ttl=3')");
    refuses('  mc:\n    source: udp://:5000?source=cam\n    sdp: a.sdp\n', "paths.mc.source: source 'cam' is not an IP address (got 'udp://:5000?source=cam')");
    refuses('  mc:\n    source: udp://:5000/x\n    sdp: a.sdp\n', "paths.mc.source: takes no path: udp://address:port (got 'udp://:5000/x')");
    refuses('  mc:\n    source: udp://:5000\n', 'paths.mc.sdp: is missing: a udp:// source needs an SDP file (relative to media.dir) or inline SDP saying what its RTP carries');
    refuses('  cam:\n    source: rtsp://cam/x\n    sdp: a.sdp\n', 'paths.cam.sdp: applies to a udp:// source only');
    refuses('  cam:\n    source: sdp:cam.sdp\n    sdp: a.sdp\n', 'paths.cam.sdp: applies to a udp:// source only (sdp:<file> names its own SDP file)');
    refuses('  mc:\n    source: udp://:5000\n    sdp: "v=0\\ns=x\\n"\n', 'paths.mc.sdp: inline SDP needs an m= line for each track');
    refuses('  mc:\n    source: udp://:5000\n    sdp: ""\n', 'paths.mc.sdp: expected an SDP file (relative to media.dir) or inline SDP starting with v=0');
    refuses(
      '  mc:\n    source: udp://:5000\n    sdp: "v=0\\nm=video 5000 RTP/AVP 96\\nm=audio 5004 RTP/AVP 97\\n"\n',
      'paths.mc.sdp: m= line 2 gives port 5004 but udp://:5000 receives track 2 at port 5002: give 0 or 5002 there',
    );
  });

  it('names the key of a source setting that does not go with the source', () => {
    refuses('  cam:\n    source: sdp:cam.sdp\n    sourceTransport: udp\n', 'paths.cam.sourceTransport: applies to an rtsp:// or rtsps:// source only');
    assertConfigError(load('  cam:\n    source: rtsp://cam/x\n    sourceTransport: http\n'), /paths\.cam\.sourceTransport: Invalid option/);
    refuses('  mc:\n    source: udp://:5000\n    sdp: a.sdp\n    sourceOnDemand: true\n    sourceDescribeTimeout: 5\n', 'paths.mc.sourceDescribeTimeout: applies to an rtsp:// or rtsps:// source only');
    refuses('  cam:\n    source: rtsp://cam/x\n    sourceDescribeTimeout: 5\n', 'paths.cam.sourceDescribeTimeout: applies to an on-demand source only (sourceOnDemand: true)');
    assertConfigError(load('  cam:\n    source: rtsp://cam/x\n    sourceOnDemand: true\n    sourceDescribeTimeout: 0\n'), /paths\.cam\.sourceDescribeTimeout: Too small/);
    assertConfigError(load('  cam:\n    source: rtsp://cam/x\n    sourceOnDemand: true\n    sourceDescribeTimeout: 500\n'), /paths\.cam\.sourceDescribeTimeout: Too big/);
    refuses('  live/a:\n    sourceIdleTimeout: 5\n', `paths.live/a.sourceIdleTimeout: applies to a configured source only (source: ${FORMS})`);
    refuses('  tv:\n    playlist: a.playlist\n    sourceIdleTimeout: 5\n', 'paths.tv.sourceIdleTimeout: does not apply to a playlist');
    refuses('  cam:\n    source: rtsp://cam/x\n    sourceIdleTimeout: 5\n', 'paths.cam.sourceIdleTimeout: applies to an on-demand source only (sourceOnDemand: true)');
    refuses('  live/a:\n    source: publisher\n    sourceRetry: { min: 1 }\n', `paths.live/a.sourceRetry: applies to a configured source only (source: ${FORMS})`);
    refuses('  cam:\n    source: rtsp://cam/x\n    sourceRetry: { min: 5, max: 2 }\n', 'paths.cam.sourceRetry.max: max must not be below min');
    assertConfigError(load('  cam:\n    source: rtsp://cam/x\n    sourceRetry: { min: 0 }\n'), /paths\.cam\.sourceRetry\.min: Too small/);
    assertConfigError(load('  cam:\n    source: rtsp://cam/x\n    sourceRetry: { max: 7200 }\n'), /paths\.cam\.sourceRetry\.max: Too big/);
    refuses('  cam:\n    source: rtsp://cam/x\n    sourceRetry: { mn: 1 }\n', "paths.cam.sourceRetry: unknown key 'mn'");
    refuses('  cam:\n    source: rtsp://cam/x\n    sourceOnDemand: true\n    push: [rtsp://edge/x]\n', 'paths.cam.sourceOnDemand: cannot be true here: push/forward destinations need the stream running whoever watches');
    refuses('  tv:\n    playlist: { items: [a.mp4], autostart: false }\n    forward: ["udp://10.0.0.2:7000"]\n', 'paths.tv.playlist: autostart cannot be false here: push/forward destinations need the stream running whoever watches');
  });

  it('names the key of a bad push destination', () => {
    refuses('  cam:\n    push: [rtsp://edge/]\n', "paths.cam.push.0: needs a path naming the stream, e.g. rtsp://host/live/cam (got 'rtsp://edge/')");
    refuses('  cam:\n    push: [rtsp://edge]\n', "paths.cam.push.0: needs a path naming the stream, e.g. rtsp://host/live/cam (got 'rtsp://edge')");
    refuses('  cam:\n    push: [http://edge/x]\n', "paths.cam.push.0: expected rtsp://[user:password@]host[:port]/path, rtsps://… or icecast://user:password@host[:port]/mount (got 'http://edge/x')");
    refuses('  cam:\n    push: [7]\n', 'paths.cam.push.0: expected rtsp://[user:password@]host[:port]/path, icecast://user:password@host[:port]/mount or { url, transport, retry }');
    refuses('  cam:\n    push: [{ url: "rtsp://u:Secret1@edge:0/x" }]\n', "paths.cam.push.0.url: port '0' is not a number from 1 to 65535 (got 'rtsp://u:***@edge:0/x')");
    assertConfigError(load('  cam:\n    push: [{ transport: tcp }]\n'), /paths\.cam\.push\.0\.url: Invalid input: expected string/);
    assertConfigError(load('  cam:\n    push: [{ url: "rtsp://edge/x", transport: http }]\n'), /paths\.cam\.push\.0\.transport: Invalid option/);
    refuses('  cam:\n    push: [{ url: "rtsp://edge/x", user: a }]\n', "paths.cam.push.0: unknown key 'user'");
    refuses('  cam:\n    push: [{ url: "rtsp://edge/x", retry: { min: 9, max: 3 } }]\n', 'paths.cam.push.0.retry.max: max must not be below min');
    refuses('  cam:\n    push: [rtsp://edge/x, rtsp://b/y, rtsp://edge/x]\n', "paths.cam.push.2: pushes to 'rtsp://edge/x' a second time");
    const many = Array.from({ length: 33 }, (_, i) => `rtsp://edge/x${i}`).join(', ');
    assertConfigError(load(`  cam:\n    push: [${many}]\n`), /paths\.cam\.push: Too big/);
    assertConfigError(load('  cam:\n    push: rtsp://edge/x\n'), /paths\.cam\.push: Invalid input: expected array/);
  });

  it('names the key of a bad forward destination', () => {
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7001"]\n', "paths.cam.forward.0: port 7001 is odd: RTP takes an even port and RTCP the odd one above it (got 'udp://10.0.0.2:7001')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2"]\n', "paths.cam.forward.0: needs a port: udp://239.1.2.3:5000 (got 'udp://10.0.0.2')");
    refuses('  cam:\n    forward: ["udp://:7000"]\n', "paths.cam.forward.0: needs a host: the address to send to (got 'udp://:7000')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000?ttl=0"]\n', "paths.cam.forward.0: ttl 0 is not a whole number from 1 to 255 (got 'udp://10.0.0.2:7000?ttl=0')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000?ttl=x"]\n', "paths.cam.forward.0: ttl 'x' is not a whole number from 1 to 255 (got 'udp://10.0.0.2:7000?ttl=x')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000?iface=eth0"]\n', "paths.cam.forward.0: iface 'eth0' is not an IP address (the local address to send from) (got 'udp://10.0.0.2:7000?iface=eth0')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000?tll=3"]\n', "paths.cam.forward.0: has unknown parameter 'tll' (it takes ttl and iface) (got 'udp://10.0.0.2:7000?tll=3')");
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000?ttl=3&ttl=4"]\n', "paths.cam.forward.0: gives 'ttl' twice (got 'udp://10.0.0.2:7000?ttl=3&ttl=4')");
    refuses('  cam:\n    forward: ["rtsp://10.0.0.2/x"]\n', "paths.cam.forward.0: expected udp://address:port (got 'rtsp://10.0.0.2/x')");
    refuses('  cam:\n    forward: [{ host: "", port: 7000 }]\n', 'paths.cam.forward.0.host: needs a host: the address to send to');
    refuses('  cam:\n    forward: [{ host: "-x-", port: 7000 }]\n', "paths.cam.forward.0.host: '-x-' is not a valid host name or IP address");
    refuses('  cam:\n    forward: [{ host: 10.0.0.2, port: 7001 }]\n', 'paths.cam.forward.0.port: port 7001 is odd: RTP takes an even port and RTCP the odd one above it');
    refuses('  cam:\n    forward: [{ host: 10.0.0.2, port: 7000, ttl: 256 }]\n', 'paths.cam.forward.0.ttl: ttl 256 is not a whole number from 1 to 255');
    refuses('  cam:\n    forward: [{ host: 10.0.0.2, port: 7000, interface: eth0 }]\n', "paths.cam.forward.0: unknown key 'interface'");
    assertConfigError(load('  cam:\n    forward: [{ host: 10.0.0.2 }]\n'), /paths\.cam\.forward\.0\.port: Invalid input: expected number/);
    refuses('  cam:\n    forward: [true]\n', 'paths.cam.forward.0: expected udp://host:port[?ttl=N&iface=ADDR] or { host, port, ttl, iface }');
    refuses('  cam:\n    forward: ["udp://10.0.0.2:7000", { host: 10.0.0.2, port: 7000, ttl: 3 }]\n', 'paths.cam.forward.1: forwards to 10.0.0.2 port 7000 a second time');
  });

  it('refuses each relay key on a ~regex entry, which keeps its live settings', () => {
    const keys: Record<string, string> = {
      sdp: 'a.sdp',
      sourceTransport: 'udp',
      sourceDescribeTimeout: '5',
      sourceIdleTimeout: '5',
      sourceRetry: '{ min: 1 }',
      push: '[rtsp://edge/x]',
      forward: '["udp://10.0.0.2:7000"]',
    };
    for (const [key, value] of Object.entries(keys)) {
      refuses(`  "~^live/.*$":\n    ${key}: ${value}\n`, `paths.~^live/.*$.${key}: only an exact path name may have ${key}, not a ~regex`);
    }
    assert.deepEqual(loadConfig({ configFile: yamlFile('paths:\n  "~^live/.*$":\n    graceTime: 3\n'), cwd: dir }).paths, { '~^live/.*$': { graceTime: 3 } });
  });

  it('reads relays: dssConfig relative to the config file (--set: to the working folder) and serverId', () => {
    const cfg = loadConfig({ cwd: dir });
    assert.deepEqual(cfg.relays, { dssConfig: '', serverId: '' });
    const file = yamlFile('relays:\n  dssConfig: etc/relayconfig.xml\n  serverId: edge-1.paris\n', 'relays');
    const fromFile = loadConfig({ configFile: file, cwd: dir }).relays;
    assert.deepEqual(fromFile, { dssConfig: join(dir, 'relays', 'etc', 'relayconfig.xml'), serverId: 'edge-1.paris' });
    assert.equal(loadConfig({ configFile: file, cwd: dir, sets: ['relays.dssConfig=other.xml'] }).relays.dssConfig, join(dir, 'other.xml'));
    assert.equal(loadConfig({ configFile: yamlFile('relays:\n  dssConfig: /etc/streaming/relayconfig.xml\n'), cwd: dir }).relays.dssConfig, '/etc/streaming/relayconfig.xml');
    assertConfigError(() => loadConfig({ configFile: yamlFile('relays:\n  serverId: "edge 1"\n'), cwd: dir }), literal('relays.serverId: up to 64 letters, digits, dots, dashes or underscores'));
    assertConfigError(() => loadConfig({ configFile: yamlFile('relays:\n  hops: 3\n'), cwd: dir }), literal("relays: unknown key 'hops'"));
  });
});
