import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';

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
    assertConfigError(load('  cam/lobby:\n    source: rtmp://cam\n'), literal("paths.cam/lobby.source: expected publisher or sdp:<file>, got 'rtmp://cam'"));
    assertConfigError(load('  cam/lobby:\n    source: "sdp:"\n'), literal("paths.cam/lobby.source: expected publisher or sdp:<file>, got 'sdp:'"));
    assertConfigError(load('  cam/lobby:\n    source: 7\n'), /paths\.cam\/lobby\.source: Invalid input: expected string/);
    assertConfigError(load('  "~^cam/.*$":\n    source: sdp:a.sdp\n'), literal('paths.~^cam/.*$.source: only an exact path name may have a source, not a ~regex'));
    assertConfigError(load('  cam1:\n    sourceOnDemand: false\n'), literal('paths.cam1.sourceOnDemand: applies to a configured source only (source: sdp:<file>)'));
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
