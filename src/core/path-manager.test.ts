import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../config/index.js';
import { silentLogger } from '../logging/index.js';
import { SourceError } from '../sources/source-error.js';
import { PathError } from '../vod/path-error.js';
import { CoreEvents } from './events.js';
import { PathManager, type SourceStart } from './path-manager.js';
import { StreamRegistry } from './stream-registry.js';
import { StreamTrack } from './stream-track.js';
import { FakePublisher } from './test-helpers/fakes.js';

const base = loadConfig({});

/** A media folder with a movie, a text file and an `.sdp` description. */
const mediaRoot = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-paths-')));
copyFileSync(new URL('../../media/sample.mp4', import.meta.url), join(mediaRoot, 'sample.mp4'));
writeFileSync(join(mediaRoot, 'notes.txt'), 'not a movie\n');
writeFileSync(join(mediaRoot, 'cam.sdp'), 'v=0\n');
after(() => rmSync(mediaRoot, { recursive: true, force: true }));

/** `fail`: the starter throws this instead of publishing. */
function manager(entries: Config['paths'], live: Partial<Config['live']> = {}, fail?: SourceError) {
  const config = { live: { ...base.live, ...live }, paths: entries, vod: base.vod, state: base.state, logs: base.logs };
  const events = new CoreEvents();
  const registry = new StreamRegistry({ publisherTimeout: 60, log: silentLogger(), events });
  const started: SourceStart[] = [];
  // A source that publishes one H.264 track and sends nothing.
  const sdp = async (o: SourceStart) => {
    started.push(o);
    await sleep(5);
    if (fail) throw fail;
    const track = new StreamTrack({ id: 1, format: { media: 'video', payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: {} } });
    return o.registry.publish(o.key, [track], new FakePublisher(`source ${o.target}`), o.graceTime);
  };
  const paths = new PathManager({ config: () => config, mediaRoot, registry, events, log: silentLogger(), starters: { sdp, playlist: sdp } });
  return { config, paths, registry, started };
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

describe('PathManager.resolve', () => {
  it('finds a movie with what of it plays, and nothing (with the reason) where there is nothing', async () => {
    const { paths } = manager({});
    const file = await paths.resolve(['sample.mp4']);
    assert.equal(file.kind, 'file');
    assert.ok(file.kind === 'file' && file.file === join(mediaRoot, 'sample.mp4') && file.presentation.tracks.length > 0);
    const none = await paths.resolve(['nope.mp4']);
    assert.equal(none.kind, 'none');
    assert.ok(none.kind === 'none' && none.reason instanceof PathError && none.reason.kind === 'not-found');
    assert.equal(none.kind === 'none' && none.reason.message, 'not found: /nope.mp4');
    assert.equal(await paths.has(['sample.mp4']), true);
    assert.equal(await paths.has(['nope.mp4']), false);
  });

  it('refuses what is no streamable movie as unsupported, and a path out of the media folder as forbidden', async () => {
    const { paths } = manager({});
    await assert.rejects(paths.resolve(['notes.txt']), (e: unknown) => e instanceof PathError && e.kind === 'unsupported' && /^\/notes\.txt is not a streamable movie: /.test(e.message));
    assert.equal(await paths.has(['notes.txt']), false, 'a reference movie is only for what RTSP streams');
    writeFileSync(join(tmpdir(), 'rivulet-outside.mp4'), '');
    await assert.rejects(paths.resolve(['..', 'rivulet-outside.mp4']), (e: unknown) => e instanceof PathError && e.kind === 'forbidden');
  });

  it('starts an .sdp file beside the media once for viewers asking at once, named with or without .sdp', async () => {
    const { paths, started } = manager({}, { sdpIdleTimeout: 42 });
    assert.equal(await paths.has(['cam']), true, 'has() starts nothing');
    assert.equal(started.length, 0);
    const [a, b] = await Promise.all([paths.resolve(['cam']), paths.resolve(['cam.sdp'])]);
    assert.equal(started.length, 1);
    assert.deepEqual([started[0].key, started[0].target, started[0].idleTimeout], ['cam', join(mediaRoot, 'cam.sdp'), 42]);
    assert.ok(a.kind === 'live' && b.kind === 'live' && a.stream === b.stream && a.key === 'cam');
    assert.equal(await paths.has(['other.sdp']), false);
  });

  it('answers a stream waiting for its publisher as not active', async () => {
    const { paths, registry } = manager({});
    const pub = new FakePublisher();
    const s = registry.publish('live/x', [], pub, 5);
    s.addReader({ protocol: 'test', label: 'v', resync: () => undefined, close: () => undefined, stats: () => ({ since: 0, bytes: 0, packets: 0 }) });
    s.detach(pub, 'gone');
    await assert.rejects(paths.resolve(['live', 'x']), (e: unknown) => e instanceof PathError && e.kind === 'not-found' && e.message === "broadcast 'live/x' is not active");
    s.end('test over');
  });

  it("lets a source's failure through as its own SourceError", async () => {
    const { paths } = manager({}, {}, new SourceError('cam.sdp: cannot listen', 500));
    await assert.rejects(paths.resolve(['cam']), (e: unknown) => e instanceof SourceError && e.status === 500);
  });
});

describe('PathManager configured sources', () => {
  it('starts an on-demand source at its first viewer, from the file it names, and refuses publishers there', async () => {
    const { paths, started } = manager({ 'cam/lobby': { source: 'sdp:lobby.sdp', graceTime: 3 } }, { sdpIdleTimeout: 9 });
    paths.applySources();
    assert.equal(started.length, 0, 'nothing runs before a viewer asks');
    assert.equal(await paths.has(['cam', 'lobby']), true);
    const at = await paths.resolve(['cam', 'lobby']);
    assert.ok(at.kind === 'live' && at.stream.source?.label === 'source lobby.sdp');
    assert.deepEqual([started[0].target, started[0].idleTimeout, started[0].graceTime, started[0].mediaRoot], ['lobby.sdp', 9, 3, mediaRoot]);
    assert.throws(
      () => paths.checkPublisher('cam/lobby'),
      (e: unknown) => e instanceof PathError && e.kind === 'forbidden' && e.message === "'cam/lobby' is fed by its configured source (paths.cam/lobby.source: sdp:lobby.sdp) and takes no publisher",
    );
    paths.checkPublisher('cam/other');
    paths.close();
  });

  it('runs an always-on source from the start, restarts it when it ends, and stops it when the config drops it', async () => {
    const { config, paths, started, registry } = manager({ 'cam/door': { source: 'sdp:/abs/door.sdp', sourceOnDemand: false } });
    paths.applySources();
    assert.equal(started.length, 1, 'started without a viewer');
    assert.equal(started[0].idleTimeout, undefined, 'never stops for want of viewers');
    await sleep(20);
    const first = registry.get('cam/door');
    assert.equal(first?.state, 'active');
    first.end('publisher timeout');
    await sleep(1300);
    assert.equal(started.length, 2, 'restarted a second after it ended');
    const second = registry.get('cam/door');
    assert.ok(second && second !== first && second.state === 'active');

    config.paths = {};
    paths.applySources();
    assert.equal(second.state, 'ended', 'a source removed from the config stops');
    paths.checkPublisher('cam/door');
    assert.equal(await paths.has(['cam', 'door']), false);
    await sleep(1300);
    assert.equal(started.length, 2, 'and is not restarted');
  });

  it('starts a playlist with the server (or on its first viewer), refuses publishers there, and does not restart one that ended', async () => {
    const list = { items: ['a.mp4'], mode: 'sequential' as const, recent: 0, autostart: true };
    const { config, paths, started, registry } = manager({ tv: { playlist: list }, radio: { playlist: { ...list, autostart: false } } });
    paths.applySources();
    assert.equal(started.length, 1, 'the autostart one started without a viewer');
    assert.deepEqual(started[0].playlist, list);
    assert.equal(started[0].idleTimeout, undefined);
    assert.throws(() => paths.checkPublisher('tv'), /paths\.tv\.playlist: /);
    await sleep(20);
    const tv = registry.get('tv');
    tv?.end('playlist played through');
    await sleep(1300);
    assert.equal(started.length, 1, 'a playlist that ended is not restarted');
    const radio = await paths.resolve(['radio']);
    assert.equal(radio.kind, 'live');
    assert.equal(started.length, 2, 'the other started on its first viewer');
    assert.equal(started[1].idleTimeout, config.live.sdpIdleTimeout);
    paths.close();
    registry.close('test over');
  });

  it('restarts a source whose value changed on reload, and leaves unchanged ones running', async () => {
    const { config, paths, started, registry } = manager({ a: { source: 'sdp:a.sdp', sourceOnDemand: false }, b: { source: 'sdp:b.sdp', sourceOnDemand: false } });
    paths.applySources();
    await sleep(20);
    const [a, b] = [registry.get('a'), registry.get('b')];
    config.paths = { a: { source: 'sdp:a.sdp', sourceOnDemand: false }, b: { source: 'sdp:b2.sdp', sourceOnDemand: false } };
    paths.applySources();
    await sleep(20);
    assert.equal(registry.get('a'), a, 'unchanged: still the same stream');
    assert.equal(b?.state, 'ended');
    assert.deepEqual(started.map((s) => s.target), ['a.sdp', 'b.sdp', 'b2.sdp']);
    paths.close();
    registry.close('test over');
    await sleep(1300);
    assert.equal(started.length, 3, 'nothing restarts after close()');
  });
});
