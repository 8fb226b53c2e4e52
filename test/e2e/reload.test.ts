/** Live reconfiguration while viewers watch: ffmpeg viewers of a playlist channel, of a file and
 * of a live path fed by an ffmpeg publisher keep receiving frames (their counts keep growing,
 * their processes never end) while, one at a time, the config file is edited (the server watches
 * it), changed through `updateConfig` (what the admin's Settings and the config API call), or
 * re-read on SIGHUP by `rivulet serve`: limits.maxConnections (the next viewer gets 453),
 * auth.scheme and auth.realm (the challenge changes), a new path with a source, a different
 * playlist, logs.errorVerbosity, log.level, and rtsp.ports (named as waiting for a restart). */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/index.js';
import { RivuletServer } from '../../src/server/index.js';
import { describeStatus, stopServe, waitDescribe } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { makeClip } from '../helpers/media.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { RawRtspClient, until } from '../helpers/rtsp-client.js';
import { serveCli, tempDir } from '../helpers/server.js';

/** An ffmpeg viewer over TCP, copying what it receives to nowhere, counting frames. */
interface Viewer {
  readonly name: string;
  /** Video frames received so far. */
  frames: number;
  exited: boolean;
  stderr: string;
  stop(): Promise<void>;
}

const viewers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of viewers) c.kill('SIGKILL');
});

function watch(name: string, url: string): Viewer {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-map', '0', '-c', 'copy', '-f', 'null', '-', '-progress', 'pipe:1', '-stats_period', '0.25'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  viewers.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const v: Viewer = {
    name,
    frames: 0,
    exited: false,
    stderr: '',
    stop: async () => {
      if (!v.exited) child.kill('SIGKILL');
      await exited;
      viewers.delete(child);
    },
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    for (const m of d.matchAll(/^frame=(\d+)$/gm)) v.frames = Math.max(v.frames, Number(m[1]));
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (v.stderr.length < 20_000) v.stderr += d;
  });
  void exited.then(() => (v.exited = true));
  return v;
}

/** Asserts every viewer is still connected and receiving: each gets 25 more frames (a second
 * of video) than it had when this was called, without its ffmpeg ending. */
async function stillWatching(all: Viewer[], after: string): Promise<void> {
  const from = all.map((v) => v.frames);
  await until(() => all.every((v, i) => v.exited || v.frames >= from[i] + 25), 30_000, 100);
  for (const [i, v] of all.entries()) {
    assert.ok(!v.exited, `the ${v.name} viewer was dropped after ${after}: ${v.stderr.slice(-800)}`);
    assert.ok(v.frames >= from[i] + 25, `the ${v.name} viewer stopped receiving after ${after}: ${from[i]} → ${v.frames} frames`);
  }
}

/** A DESCRIBE's status and WWW-Authenticate challenges. */
async function challengeOf(port: number, path: string): Promise<{ status: number; challenges: string[] }> {
  const c = await RawRtspClient.connect(port);
  try {
    const r = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/${path}`);
    return { status: r.status, challenges: r.headers.getAll('www-authenticate') };
  } finally {
    c.close();
  }
}

/** The media every test here plays: short clips for the playlists, a long file for its viewer
 * (it must outlast the test), the bundled sample for the publisher, and a protected folder. */
async function makeMedia(dir: string): Promise<void> {
  await Promise.all([
    makeClip(dir, { name: 'a1.mp4', video: 'testsrc', hz: 440, seconds: 2 }),
    makeClip(dir, { name: 'a2.mp4', video: 'testsrc2', hz: 660, seconds: 2 }),
    makeClip(dir, { name: 'b1.mp4', video: 'mandelbrot', hz: 550, seconds: 2 }),
    makeClip(dir, { name: 'long.mp4', video: 'testsrc', hz: 330, seconds: 240, size: '160x120' }),
  ]);
  copyFileSync(join(repoRoot, 'media', 'sample.mp4'), join(dir, 'feed.mp4'));
  mkdirSync(join(dir, 'secret'));
  copyFileSync(join(dir, 'a1.mp4'), join(dir, 'secret', 'clip.mp4'));
  writeFileSync(join(dir, 'secret', 'qtaccess'), 'require valid-user\n');
}

describe('live reconfiguration while viewers watch (file watched, updateConfig)', () => {
  let scratch: { dir: string; cleanup: () => void };
  let media: string;
  let file: string;
  let server: RivuletServer | undefined;
  let publisher: Publisher | undefined;
  const watching: Viewer[] = [];
  const lines: string[] = [];
  const log = () => lines.join('');

  /** The config file as an operator keeps it, comments and all; `edit` swaps one line. */
  let text = '';
  const edit = (from: RegExp, to: string) => {
    assert.match(text, from);
    text = text.replace(from, to);
    writeFileSync(file, text);
  };

  before(async () => {
    scratch = tempDir('rivulet-reload-');
    media = join(scratch.dir, 'media');
    mkdirSync(media);
    await makeMedia(media);
    file = join(scratch.dir, 'rivulet.yaml');
    text = [
      '# Rivulet for the lobby screens',
      'rtsp:',
      '  ports: [0] # any free port',
      '  bind: ["127.0.0.1"]',
      'media:',
      `  dir: ${media}`,
      'limits:',
      '  maxConnections: 0 # no limit',
      'auth:',
      '  scheme: digest',
      '  realm: Before',
      `  usersFile: ${join(scratch.dir, 'qtusers')}`,
      'log:',
      '  level: info',
      'logs:',
      '  errorVerbosity: 2',
      'paths:',
      '  # the channel on the screens',
      '  tv:',
      '    playlist: { items: [a1.mp4, a2.mp4] }',
      '  tv2:',
      '    playlist: { items: [a1.mp4] }',
      '',
    ].join('\n');
    writeFileSync(file, text);
  });
  after(async () => {
    await Promise.all(watching.map((v) => v.stop()));
    await publisher?.stop();
    await server?.stop();
    scratch?.cleanup();
  });

  it('applies each change live, names rtsp.ports for a restart, and never drops a viewer', async () => {
    // What the command line would add, kept on every reload as `rivulet serve` keeps its flags.
    const sets = ['admin.port=0', 'control.socket=', `state.folder=${scratch.dir}/state`, `logs.folder=${scratch.dir}/logs`];
    const reloadConfig = (fileText?: string) => loadConfig({ configFile: file, sets, text: fileText });
    const config = reloadConfig();
    const logger = createLogger({
      level: config.log.level,
      write: (l) => {
        lines.push(l);
        if (process.env.RIVULET_TEST_LOG) process.stderr.write(l);
      },
    });
    server = new RivuletServer({ config, log: logger, configFile: file, reloadConfig });
    await server.start();
    const srv = server;
    const port = srv.port;
    const url = (p: string) => `rtsp://127.0.0.1:${port}/${p}`;
    /** Waits for the reload line naming `key` as applied (or waiting for a restart). */
    const reloaded = async (trigger: string, key: string, later = false) => {
      const re = new RegExp(`config reloaded \\(${trigger.replace(/[()]/g, '\\$&')}\\): [^\\n]*${later ? 'after a restart: [^\\n]*' : 'applied [^;\\n]*'}${key.replace(/\./g, '\\.')}`);
      assert.ok(await until(() => re.test(log()), 10_000, 50), `no reload line naming ${key}:\n${log().slice(-3000)}`);
    };

    publisher = ffmpegPublish(join(media, 'feed.mp4'), url('live/cam'), 'tcp');
    assert.ok(await until(() => srv.live?.get('live/cam')?.state === 'active', 20_000, 100), `the publisher did not start: ${publisher.log()}`);
    await waitDescribe(port, 'tv');
    watching.push(watch('playlist', url('tv')), watch('file', url('long.mp4')), watch('live', url('live/cam')));
    await stillWatching(watching, 'they started');

    // limits.maxConnections, lowered to what is open now (the viewers and the publisher): the
    // next viewer is refused.
    assert.ok(await until(() => srv.load.connections === 4, 10_000, 50), `${srv.load.connections} connections`);
    const open = srv.load.connections;
    edit(/maxConnections: 0 # no limit/, `maxConnections: ${open} # full`);
    await reloaded('config file changed', 'limits.maxConnections');
    assert.equal(srv.config.limits.maxConnections, open);
    const refused = await RawRtspClient.connect(port);
    assert.equal((await refused.request('DESCRIBE', url('long.mp4'))).status, 453, 'the next viewer gets 453');
    refused.close();
    await stillWatching(watching, 'limits.maxConnections was lowered');
    edit(/maxConnections: \d+ # full/, 'maxConnections: 0 # no limit');
    assert.ok(await until(() => srv.config.limits.maxConnections === 0, 10_000, 50), log().slice(-2000));

    // auth.scheme and auth.realm: the next challenge is Basic with the new realm.
    const challenged = await challengeOf(port, 'secret/clip.mp4');
    assert.equal(challenged.status, 401);
    assert.match(challenged.challenges.join('\n'), /^Digest realm="Before"/);
    edit(/scheme: digest\n {2}realm: Before/, 'scheme: basic\n  realm: After Hours');
    await reloaded('config file changed', 'auth.realm');
    assert.deepEqual(await challengeOf(port, 'secret/clip.mp4'), { status: 401, challenges: ['Basic realm="After Hours"'] });
    await stillWatching(watching, 'auth.scheme and auth.realm changed');

    // A new path with a source, through updateConfig: saved in the file, comments kept.
    assert.equal(await describeStatus(port, 'news'), 404);
    const added = await srv.updateConfig({ 'paths.news.playlist': { items: ['a2.mp4', 'b1.mp4'], mode: 'sequential_looped' } });
    assert.deepEqual([added.applied, added.later, added.saved, added.file], [['paths.news'], [], true, file]);
    await waitDescribe(port, 'news');
    text = readFileSync(file, 'utf8');
    assert.match(text, /^# Rivulet for the lobby screens\n/);
    assert.match(text, /# the channel on the screens\n {2}tv:\n/);
    assert.match(text, /^ {2}news:\n {4}playlist:\n {6}items:\n {8}- a2\.mp4\n {8}- b1\.mp4\n/m);
    await stillWatching(watching, 'a path was added');

    // A different playlist: tv2 plays its new list from its next item; tv's viewer carries on.
    edit(/(tv2:\n {4}playlist: \{ ?items: \[)a1\.mp4\]/, '$1b1.mp4]');
    await reloaded('config file changed', 'paths.tv2');
    const current = () => {
      const c = srv.paths?.sources().find((s) => s.path === 'tv2')?.status?.current;
      return typeof c === 'string' ? c : '';
    };
    assert.ok(await until(() => current().endsWith('b1.mp4'), 15_000, 100), `tv2 plays b1.mp4, not ${current()}`);
    await stillWatching(watching, 'another playlist changed');

    // A relay: live/cam gets a UDP forward while its viewers watch; its RTP arrives at the
    // receiver, and taking the forward away again stops it.
    const rx = createSocket('udp4');
    const rxPort = 40000 + 4 * Math.floor(Math.random() * 2500);
    await new Promise<void>((resolve, reject) => rx.once('error', reject).bind(rxPort, '127.0.0.1', () => resolve()));
    let received = 0;
    rx.on('message', (m) => {
      if (m.length >= 12 && m[0] >> 6 === 2) received++;
    });
    try {
      edit(/ {2}# the channel on the screens\n/, `  "live/cam":\n    forward: ["udp://127.0.0.1:${rxPort}"]\n  # the channel on the screens\n`);
      await reloaded('config file changed', 'paths.live/cam');
      assert.ok(await until(() => received > 50, 15_000, 100), `the forward sent ${received} RTP packets`);
      const leg = [...srv.relays.values()].find((r) => r.role === 'forward' && r.path === 'live/cam');
      assert.equal(leg?.state, 'playing');
      await stillWatching(watching, 'a relay was added');
      edit(/ {2}"live\/cam":\n {4}forward: \[[^\]]*\]\n/, '');
      await reloaded('config file changed', 'paths.live/cam');
      await new Promise((r) => setTimeout(r, 1000));
      const after = received;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(received, after, 'the forward stopped when it left the config');
      await stillWatching(watching, 'a relay was removed');
    } finally {
      rx.close();
    }

    // logs.errorVerbosity.
    edit(/errorVerbosity: 2/, 'errorVerbosity: 4');
    await reloaded('config file changed', 'logs.errorVerbosity');
    assert.equal(srv.config.logs.errorVerbosity, 4);
    await stillWatching(watching, 'logs.errorVerbosity changed');

    // rtsp.ports: saved, named as waiting for a restart; the server stays where it listens.
    edit(/ports: \[0\] # any free port/, 'ports: [1] # any free port');
    await reloaded('config file changed', 'rtsp.ports', true);
    assert.equal(srv.port, port);
    assert.deepEqual(srv.config.rtsp.ports, [0], 'the running value until a restart');
    assert.equal(await describeStatus(port, 'long.mp4'), 200);
    await stillWatching(watching, 'rtsp.ports changed');

    // log.level: from warn on, the info lines stop (the reload's own line says it first); a
    // later change still applies, without its line.
    edit(/level: info/, 'level: warn');
    await reloaded('config file changed', 'log.level');
    assert.ok(await until(() => srv.log.level === 'warn', 10_000, 50));
    const quiet = lines.length;
    edit(/errorVerbosity: 4/, 'errorVerbosity: 3');
    assert.ok(await until(() => srv.config.logs.errorVerbosity === 3, 10_000, 50), 'the next change applies');
    assert.deepEqual(lines.slice(quiet).filter((l) => / INFO /.test(l)), [], 'no info line once the level is warn');
    await stillWatching(watching, 'log.level changed');

    // A file that does not validate changes nothing, and says which key is wrong, once.
    edit(/maxConnections: 0 # no limit/, 'maxConnections: many # no limit');
    assert.ok(await until(() => /config reload failed, nothing changed: .*limits\.maxConnections/.test(log()), 10_000, 50), log().slice(-2000));
    assert.equal(srv.config.limits.maxConnections, 0);
    await stillWatching(watching, 'a broken file was saved');
    assert.equal(lines.filter((l) => /config reload failed/.test(l)).length, 1, 'reported once');
  });
});

describe('live reconfiguration of rivulet serve (SIGHUP, --set wins over the file)', () => {
  let scratch: { dir: string; cleanup: () => void };
  let cli: ReturnType<typeof serveCli> | undefined;
  const watching: Viewer[] = [];
  after(async () => {
    await Promise.all(watching.map((v) => v.stop()));
    if (cli) await stopServe(cli.child);
    scratch?.cleanup();
  });

  it('reloads on SIGHUP and on a saved file, keeping the command line over the file and every viewer', async () => {
    scratch = tempDir('rivulet-reload-cli-');
    const media = join(scratch.dir, 'media');
    const folder = join(scratch.dir, 'Playlists');
    mkdirSync(media);
    mkdirSync(folder);
    await makeMedia(media);
    const file = join(scratch.dir, 'rivulet.yaml');
    const text = (realm: string, max: number) =>
      [`media:\n  dir: ${media}`, `playlists:\n  folder: ${folder}`, `auth:\n  realm: ${realm}`, `limits:\n  maxConnections: ${max}`, 'paths:\n  tv:\n    playlist: { items: [a1.mp4, a2.mp4] }', ''].join('\n');
    writeFileSync(file, text('Before', 0));
    cli = serveCli(['--config', file, '--rtsp-port', '0', '--bind', '127.0.0.1', '--set', 'limits.maxConnections=0', '--set', 'control.socket=']);
    const port = await cli.port;
    const out = cli.out;
    await waitDescribe(port, 'tv');
    watching.push(watch('playlist', `rtsp://127.0.0.1:${port}/tv`), watch('file', `rtsp://127.0.0.1:${port}/long.mp4`));
    await stillWatching(watching, 'they started');

    // Saved file: the realm applies; limits.maxConnections stays as --set says.
    writeFileSync(file, text('After', 1));
    assert.ok(await until(() => /config reloaded \(config file changed\): applied auth\.realm/.test(out()), 10_000, 50), out());
    assert.doesNotMatch(out(), /config reloaded[^\n]*limits\.maxConnections/);
    assert.equal(await describeStatus(port, 'long.mp4'), 200, 'no connection limit: --set wins over the file');
    await stillWatching(watching, 'the file was saved');

    // SIGHUP: playlists.folder is scanned again; a playlist added there broadcasts.
    assert.equal(await describeStatus(port, 'late'), 404);
    writeFileSync(join(folder, 'late.playlist'), `*PLAY-LIST*\n"${join(media, 'b1.mp4')}"\n`);
    cli.child.kill('SIGHUP');
    assert.ok(await until(() => /config reloaded \(SIGHUP\)/.test(out()), 10_000, 50), out());
    await waitDescribe(port, 'late');
    await stillWatching(watching, 'SIGHUP');
  });
});
