import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config, type SourceSpec } from '../config/index.js';
import { createLogger, silentLogger } from '../logging/index.js';
import { SourceError } from '../sources/source-error.js';
import { PathError } from '../vod/path-error.js';
import { CoreEvents } from './events.js';
import { PathManager, type SourceStart } from './path-manager.js';
import type { Source } from './source.js';
import { SourceControlError } from './source-control.js';
import { StreamRegistry } from './stream-registry.js';
import { StreamTrack } from './stream-track.js';
import { FakePublisher, FakeViewer } from './test-helpers/fakes.js';

const base = loadConfig({});

/** A media folder with a movie, a text file and an `.sdp` description. */
const mediaRoot = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-paths-')));
copyFileSync(new URL('../../media/sample.mp4', import.meta.url), join(mediaRoot, 'sample.mp4'));
writeFileSync(join(mediaRoot, 'notes.txt'), 'not a movie\n');
writeFileSync(join(mediaRoot, 'cam.sdp'), 'v=0\n');
after(() => rmSync(mediaRoot, { recursive: true, force: true }));

/** How the fake starters behave beyond the default (publish a FakePublisher after 5 ms). */
interface Fakes {
  /** Decides, per start, an error to throw instead of publishing. */
  fail?: (o: SourceStart) => Error | undefined;
  /** The Source a started stream gets. */
  source?: (o: SourceStart) => Source;
  /** Milliseconds a start takes (default 5); 0 starts without waiting on a timer. */
  delayMs?: number;
  /** Publish on the tracks of a stream still waiting at the path (a source coming back, as a
   * relay does), rather than new ones. */
  reuse?: boolean;
}

/** `fail`: the starter throws this instead of publishing. */
function manager(entries: Config['paths'], live: Partial<Config['live']> = {}, fail?: SourceError, fakes: Fakes = {}) {
  const config = { live: { ...base.live, ...live }, paths: entries, vod: base.vod, state: base.state, logs: base.logs };
  const events = new CoreEvents();
  const registry = new StreamRegistry({ publisherTimeout: 60, log: silentLogger(), events });
  const started: SourceStart[] = [];
  const logs: string[] = [];
  const ended: { path: string; reason: string }[] = [];
  events.on('path.unpublished', ({ path, reason }) => ended.push({ path, reason }));
  // A source that publishes one H.264 track and sends nothing.
  const sdp = async (o: SourceStart) => {
    started.push(o);
    if (fakes.delayMs !== 0) await sleep(fakes.delayMs ?? 5);
    const err = fail ?? fakes.fail?.(o);
    if (err) throw err;
    const waiting = fakes.reuse ? o.registry.get(o.key) : undefined;
    const tracks = waiting && waiting.state !== 'ended' ? waiting.tracks : [new StreamTrack({ id: 1, format: { media: 'video', payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: {} } })];
    return o.registry.publish(o.key, tracks, fakes.source?.(o) ?? new FakePublisher(`source ${o.target}`), o.graceTime);
  };
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  const paths = new PathManager({ config: () => config, mediaRoot, registry, events, log, starters: { sdp, playlist: sdp, udp: sdp, rtsp: sdp, rtsps: sdp } });
  return { config, paths, registry, started, logs, ended };
}

/** A playlist source that records the settings it is offered on reload and takes them when
 * `takes` says so. */
class FakePlaylist extends FakePublisher {
  readonly offered: SourceSpec[] = [];
  constructor(
    public takes: boolean,
    readonly now: Record<string, unknown> = { current: { file: 'a.mp4' }, upcoming: ['b.mp4'] },
  ) {
    super('fake playlist');
  }
  reload(spec: SourceSpec): boolean {
    this.offered.push(spec);
    return this.takes;
  }
  status(): Record<string, unknown> {
    return this.now;
  }
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

  it('starts a playlist with the server (or on its first viewer), refuses publishers there, and holds one that ended for good', async () => {
    const list = { items: ['a.mp4'], mode: 'sequential' as const, recent: 0, autostart: true };
    const { config, paths, started, registry } = manager({ tv: { playlist: list }, radio: { playlist: { ...list, autostart: false } } });
    paths.applySources();
    assert.equal(started.length, 1, 'the autostart one started without a viewer');
    assert.deepEqual(started[0].playlist, list);
    assert.equal(started[0].idleTimeout, undefined);
    assert.throws(() => paths.checkPublisher('tv'), /paths\.tv\.playlist: /);
    await sleep(20);
    const tv = registry.get('tv')!;
    Object.assign(tv.source!, { finished: 'played through' });
    tv.end('playlist played through');
    await sleep(1300);
    assert.equal(started.length, 1, 'a playlist that ended for good is not restarted');
    await assert.rejects(paths.resolve(['tv']), /broadcast 'tv' is not active \(played through\)/, 'nor started by a viewer');
    assert.equal(paths.sources().find((i) => i.path === 'tv')?.finished, 'played through');
    await paths.startSource('tv');
    assert.equal(started.length, 2, 'until the operator starts it');
    const again = registry.get('tv')!;
    again.end('nothing in the playlist plays');
    await sleep(1300);
    assert.equal(started.length, 3, 'one that ended otherwise is tried again after the back-off');
    registry.get('tv')?.end('test');
    const radio = await paths.resolve(['radio']);
    assert.equal(radio.kind, 'live');
    assert.equal(started.filter((o) => o.key === 'radio').length, 1, 'the other started on its first viewer');
    assert.equal(started.find((o) => o.key === 'radio')?.idleTimeout, config.live.sdpIdleTimeout);
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

describe('PathManager start times (SourceError.retryAt)', () => {
  it('starts an always-on source again at the moment its failure names, not after the back-off, with the time it was configured', async () => {
    let at = 0;
    const { paths, started, registry, logs, ended } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, undefined, {
      fail: () => (started.length === 1 ? new SourceError("broadcast 'cam' is not active (starts later)", 404, (at = Date.now() + 300)) : undefined),
    });
    paths.applySources();
    await sleep(40);
    const waiting = paths.sources()[0];
    assert.deepEqual([waiting.state, waiting.waiting, waiting.nextStart], ['waiting', 'schedule', new Date(at).toISOString()]);
    await sleep(600);
    assert.equal(started.length, 2, 'started again at its start time (the back-off would wait a second)');
    assert.equal(registry.get('cam')?.state, 'active', logs.join('') + JSON.stringify(ended));
    assert.equal(paths.sources()[0].state, 'running');
    assert.equal(started[1].configuredAt, started[0].configuredAt, 'configuredAt is when it was configured, not when it started');
    assert.ok(started[0].configuredAt <= at - 300);
    paths.close();
    registry.close('test over');
  });

  it('re-arms the timer for a start beyond what setTimeout can wait', async () => {
    const days = 40 * 86_400_000;
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      const { paths, started } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, undefined, {
        delayMs: 0,
        fail: () => new SourceError('starts in 40 days', 404, 1_000_000 + days),
      });
      paths.applySources();
      for (let i = 0; i < 5; i++) await Promise.resolve();
      assert.equal(started.length, 1);
      assert.equal(paths.sources()[0].nextStart, new Date(1_000_000 + days).toISOString());
      mock.timers.tick(2 ** 31 - 1);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      assert.equal(started.length, 1, 'not started when the first (capped) timer fires');
      mock.timers.tick(days - (2 ** 31 - 1) - 1);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      assert.equal(started.length, 1, 'nor a millisecond early');
      mock.timers.tick(1);
      for (let i = 0; i < 5; i++) await Promise.resolve();
      assert.equal(started.length, 2, 'started at its time');
      paths.close();
    } finally {
      mock.timers.reset();
    }
  });

  it('tries a waiting playlist again at once on reload (its files may say another time now)', async () => {
    let at = Date.now() + 60_000;
    const { paths, started } = manager({ tv: { playlist: 'tv.playlist' } }, {}, undefined, { fail: () => new SourceError('not yet', 404, at) });
    paths.applySources();
    await sleep(20);
    assert.equal(paths.sources()[0].nextStart, new Date(at).toISOString());
    at += 60_000;
    paths.applySources();
    await sleep(20);
    assert.equal(started.length, 2, 'tried again');
    assert.equal(paths.sources()[0].nextStart, new Date(at).toISOString(), 'and waits for the new time');
    assert.equal(started[1].configuredAt, started[0].configuredAt, 'unchanged: still configured when it was');
    paths.close();
  });

  it('uses the back-off when the time named has passed', async () => {
    const { paths, started, logs } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, new SourceError('late', 404, Date.now() - 1000));
    paths.applySources();
    await sleep(40);
    assert.equal(paths.sources()[0].waiting, 'retry');
    assert.equal(started.length, 1, 'no busy loop on a time already gone');
    assert.ok(logs.some((l) => l.includes('configured source failed to start')));
    paths.close();
  });
});

describe('PathManager reload of a running playlist', () => {
  const list = (...items: string[]) => ({ items, mode: 'sequential_looped' as const, recent: 0, autostart: true });

  it('offers a running playlist its changed or unchanged setting; one it takes keeps its stream and viewers', async () => {
    const sources: FakePlaylist[] = [];
    const { config, paths, started, registry } = manager({ tv: { playlist: list('a.mp4') } }, {}, undefined, {
      source: () => {
        sources.push(new FakePlaylist(true));
        return sources[sources.length - 1];
      },
    });
    paths.applySources();
    await sleep(20);
    const stream = registry.get('tv')!;
    const viewer = new FakeViewer();
    stream.addReader(viewer);

    paths.applySources();
    assert.equal(sources[0].offered.length, 1, 'unchanged: offered anyway (its files may have changed)');

    config.paths = { tv: { playlist: list('b.mp4', 'c.mp4') } };
    paths.applySources();
    assert.equal(sources[0].offered.length, 2);
    assert.deepEqual(sources[0].offered[1].playlist, list('b.mp4', 'c.mp4'));
    assert.equal(registry.get('tv'), stream, 'the same stream');
    assert.equal(stream.state, 'active');
    assert.deepEqual(viewer.closed, [], 'its viewer was not dropped');
    assert.equal(started.length, 1, 'nothing started anew');
    assert.equal(paths.sources()[0].text, JSON.stringify(list('b.mp4', 'c.mp4')), 'the new setting is what it remembers');

    // It remembers the new setting: applied again, it is unchanged, and a restart uses it.
    sources[0].takes = false;
    paths.applySources();
    assert.equal(stream.state, 'active', 'unchanged and not taken: runs on');
    paths.stopSource('tv');
    await paths.startSource('tv');
    assert.deepEqual(started[1].playlist, list('b.mp4', 'c.mp4'));
    assert.ok(started[1].configuredAt > started[0].configuredAt, 'configured at the reload that changed it');
    paths.close();
    registry.close('test over');
  });

  it('replaces a playlist that does not take the change: its viewers get BYE and a new one starts', async () => {
    const { config, paths, started, registry, ended } = manager({ tv: { playlist: list('a.mp4') } }, {}, undefined, { source: () => new FakePlaylist(false) });
    paths.applySources();
    await sleep(20);
    const first = registry.get('tv')!;
    config.paths = { tv: { playlist: list('b.mp4') } };
    paths.applySources();
    assert.equal(first.state, 'ended');
    assert.deepEqual(ended, [{ path: 'tv', reason: 'its configured source changed' }]);
    await sleep(20);
    assert.equal(started.length, 2);
    assert.deepEqual(started[1].playlist, list('b.mp4'));
    assert.notEqual(registry.get('tv'), first);
    paths.close();
    registry.close('test over');
  });

  it('replaces a playlist whose autostart changed, and never offers a source: setting', async () => {
    const offered: SourceSpec[] = [];
    const { config, paths, registry } = manager({ tv: { playlist: list('a.mp4') }, cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, undefined, {
      source: (o) => {
        const s = new FakePlaylist(true);
        if (o.key === 'cam') s.reload = (spec) => (offered.push(spec), true);
        return s;
      },
    });
    paths.applySources();
    await sleep(20);
    const [tv, cam] = [registry.get('tv')!, registry.get('cam')!];
    config.paths = { tv: { playlist: { ...list('a.mp4'), autostart: false } }, cam: { source: 'sdp:cam2.sdp', sourceOnDemand: false } };
    paths.applySources();
    assert.equal(tv.state, 'ended', 'on demand now: started anew');
    assert.equal(cam.state, 'ended');
    assert.deepEqual(offered, []);
    paths.close();
    registry.close('test over');
  });
});

describe('PathManager operator control', () => {
  it('stops a source and holds it: no restart, viewers refused, until started again', async () => {
    const { config, paths, started, registry, ended } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } });
    paths.applySources();
    await sleep(20);
    const first = registry.get('cam')!;
    const viewer = new FakeViewer();
    first.addReader(viewer);
    const info = paths.stopSource('cam');
    assert.equal(info.state, 'stopped');
    assert.equal(first.state, 'ended');
    assert.deepEqual(ended, [{ path: 'cam', reason: 'stopped by the operator' }]);
    assert.throws(() => paths.stopSource('cam'), (e: unknown) => e instanceof SourceControlError && e.kind === 'conflict' && e.message === "'cam' is already stopped");
    await assert.rejects(paths.resolve(['cam']), (e: unknown) => e instanceof PathError && e.kind === 'not-found' && e.message === "broadcast 'cam' is not active (stopped)");
    await sleep(1300);
    assert.equal(started.length, 1, 'an always-on source the operator stopped is not restarted');

    // A reload that changes it keeps it stopped.
    config.paths = { cam: { source: 'sdp:cam2.sdp', sourceOnDemand: false } };
    paths.applySources();
    await sleep(20);
    assert.equal(started.length, 1);
    assert.equal(paths.sources()[0].state, 'stopped');

    const back = await paths.startSource('cam');
    assert.equal(back.state, 'running');
    assert.equal(started.length, 2);
    assert.equal(started[1].target, 'cam2.sdp');
    await assert.rejects(paths.startSource('cam'), (e: unknown) => e instanceof SourceControlError && e.kind === 'conflict' && e.message === "'cam' is already running");
    assert.throws(() => paths.stopSource('nope'), (e: unknown) => e instanceof SourceControlError && e.kind === 'unknown');
    await assert.rejects(paths.startSource('nope'), (e: unknown) => e instanceof SourceControlError && e.kind === 'unknown' && e.message === "nothing is configured to feed 'nope'");
    paths.close();
    registry.close('test over');
  });

  it("lets a start's failure through, and retries an always-on source as after any failure", async () => {
    let failing = false;
    const { paths, registry } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, undefined, {
      fail: () => (failing ? new SourceError('cam.sdp: cannot listen', 500) : undefined),
    });
    paths.applySources();
    await sleep(20);
    paths.stopSource('cam');
    failing = true;
    await assert.rejects(paths.startSource('cam'), (e: unknown) => e instanceof SourceError && e.status === 500);
    const info = paths.sources()[0];
    assert.deepEqual([info.state, info.waiting], ['waiting', 'retry'], 'no longer held: retried');
    failing = false;
    await sleep(1200);
    assert.equal(registry.get('cam')?.state, 'active');
    paths.close();
    registry.close('test over');
  });

  it('stops an on-demand source before any viewer, and starts it at once on request', async () => {
    const { paths, started, registry } = manager({ radio: { source: 'sdp:radio.sdp' } });
    paths.applySources();
    assert.equal(paths.sources()[0].state, 'idle');
    paths.stopSource('radio');
    await assert.rejects(paths.resolve(['radio']), /not active \(stopped\)/);
    assert.equal(started.length, 0);
    await paths.startSource('radio');
    assert.equal(started.length, 1);
    assert.equal(started[0].idleTimeout, base.live.sdpIdleTimeout, 'still on demand: it stops when unwatched');
    paths.close();
    registry.close('test over');
  });

  it('ends a start that was in flight when the operator stopped it', async () => {
    const { paths, registry, ended } = manager({ cam: { source: 'sdp:cam.sdp', sourceOnDemand: false } }, {}, undefined, { delayMs: 50 });
    paths.applySources();
    assert.equal(paths.sources()[0].waiting, 'start');
    paths.stopSource('cam');
    await sleep(100);
    assert.deepEqual(ended, [{ path: 'cam', reason: 'stopped by the operator' }]);
    assert.equal(registry.get('cam'), undefined);
    assert.equal(paths.sources()[0].state, 'stopped');
    paths.close();
  });

  it('lists every configured source with its state, viewers and what it says it is doing', async () => {
    const { paths, registry } = manager(
      {
        tv: { playlist: { items: ['a.mp4'], mode: 'sequential_looped', recent: 0, autostart: true } },
        radio: { source: 'sdp:radio.sdp' },
        cam: { source: 'sdp:cam.sdp', sourceOnDemand: false },
        'live/x': { graceTime: 3 },
        '~^live/': { takeover: true },
      },
      {},
      undefined,
      { source: (o) => (o.key === 'tv' ? new FakePlaylist(true) : new FakePublisher()) },
    );
    paths.applySources();
    await sleep(20);
    registry.get('tv')!.addReader(new FakeViewer());
    registry.get('tv')!.addReader(new FakeViewer());
    paths.stopSource('cam');
    const list = paths.sources();
    assert.deepEqual(
      list.map((s) => [s.path, s.setting, s.origin, s.state, s.readers, s.onDemand]),
      [
        ['cam', 'source', 'paths.cam.source', 'stopped', 0, false],
        ['radio', 'source', 'paths.radio.source', 'idle', 0, true],
        ['tv', 'playlist', 'paths.tv.playlist', 'running', 2, false],
      ],
    );
    const tv = list[2];
    assert.deepEqual(tv.status, { current: { file: 'a.mp4' }, upcoming: ['b.mp4'] });
    assert.ok(tv.since && Date.parse(tv.since) <= Date.now());
    assert.equal(list[1].text, 'sdp:radio.sdp');
    paths.close();
    registry.close('test over');
  });
});

describe('PathManager playlists.folder', () => {
  it('broadcasts the folder playlists from the start, an explicit paths entry winning with a warning, and follows a rescan', async () => {
    const { config, paths, started, registry, logs } = manager({
      news: { playlist: { items: ['n.mp4'], mode: 'sequential_looped', recent: 0, autostart: false } },
      'live/y': { graceTime: 2 },
    });
    const folder = [
      { key: 'news', playlistFile: '/pl/news.playlist' },
      { key: 'music', playlistFile: '/pl/music/music.playlist', configFile: '/pl/music/music.config' },
      { key: 'live/y', playlistFile: '/pl/y.playlist' },
    ];
    paths.applySources(folder);
    assert.deepEqual(
      started.map((s) => [s.key, s.target, s.playlist, s.idleTimeout]),
      [
        ['music', '/pl/music/music.playlist', '/pl/music/music.playlist', undefined],
        ['live/y', '/pl/y.playlist', '/pl/y.playlist', undefined],
      ],
      'autostart; the paths: playlist (on demand) is not started',
    );
    const warned = logs.filter((l) => l.includes('/pl/news.playlist is not broadcast'));
    assert.equal(warned.length, 1, logs.join(''));
    assert.match(warned[0], /WARN .*playlists\.folder: \/pl\/news\.playlist is not broadcast: paths\.news\.playlist says what feeds 'news'/);
    assert.throws(() => paths.checkPublisher('music'), (e: unknown) => e instanceof PathError && e.message === "'music' is fed by its configured source (playlists.folder: /pl/music/music.playlist) and takes no publisher");
    assert.equal(paths.settingsFor('live/y').graceTime, 2, 'paths: settings without a source still apply to a folder playlist');
    assert.deepEqual(
      paths.sources().map((s) => [s.path, s.origin]),
      [
        ['live/y', 'playlists.folder'],
        ['music', 'playlists.folder'],
        ['news', 'paths.news.playlist'],
      ],
    );
    await sleep(20);
    const music = registry.get('music')!;

    // A rescan without it removes it; a paths: entry alone (no folder) is untouched.
    paths.applySources([{ key: 'live/y', playlistFile: '/pl/y.playlist' }]);
    assert.equal(music.state, 'ended');
    assert.equal(started.length, 2);
    // applySources without a scan keeps the last one.
    config.paths = { ...config.paths };
    paths.applySources();
    assert.equal(registry.get('live/y')?.state, 'active');
    paths.close();
    registry.close('test over');
  });
});

describe('PathManager relay sources (timings, hops, drops)', () => {
  it("starts with the entry and its timings: idle time and back-off from sourceIdleTimeout and sourceRetry", async () => {
    const entry = { source: 'udp://:5000', sdp: 'cam.sdp', sourceOnDemand: true, sourceIdleTimeout: 7 };
    const { paths, started, registry } = manager({ cam: entry, flaky: { source: 'rtsp://origin/x', sourceRetry: { min: 0.05, max: 0.1 } } }, {}, undefined, {
      fail: (o) => (o.key === 'flaky' ? new SourceError('refused', 502) : undefined),
    });
    paths.applySources();
    await paths.resolve(['cam'], { hops: ['edge-1'] });
    const cam = started.find((s) => s.key === 'cam')!;
    assert.equal(cam.idleTimeout, 7);
    assert.deepEqual(cam.entry, entry);
    assert.deepEqual(cam.timings, { onDemand: true, describeTimeout: 10, idleTimeout: 7, retry: { min: 1, max: 30 } });
    assert.deepEqual(cam.hops, ['edge-1'], 'the relays the request came through');
    assert.equal(cam.target, 'udp://:5000');
    await sleep(500);
    const tries = started.filter((s) => s.key === 'flaky').length;
    // 0, 0.05, 0.15, 0.25, 0.35, 0.45 s (and the 5 ms each start takes): the path's back-off.
    assert.ok(tries >= 5 && tries <= 7, `the always-on one failed and was retried after 0.05 s, then every 0.1 s: ${tries} starts`);
    paths.close();
    registry.close('test over');
  });

  it('never shows a password: the refusal of a publisher and the log name the source masked', async () => {
    const { paths, logs, registry } = manager({ cam: { source: 'rtsp://viewer:s3cret@192.0.2.1/live/cam', sourceOnDemand: true } });
    paths.applySources();
    assert.throws(() => paths.checkPublisher('cam'), (e: unknown) => e instanceof PathError && e.message === "'cam' is fed by its configured source (paths.cam.source: rtsp://viewer:***@192.0.2.1/live/cam) and takes no publisher");
    assert.equal(paths.sources()[0].text, 'rtsp://viewer:***@192.0.2.1/live/cam');
    assert.ok(!logs.join('').includes('s3cret'));
    paths.close();
    registry.close('test over');
  });

  it('aborts the signal of a configuration that ends: removed, changed, stopped, or the server closing', async () => {
    const { config, paths, started, registry } = manager({ a: { source: 'rtsp://o/a' }, b: { source: 'rtsp://o/b' }, c: { source: 'rtsp://o/c' } });
    paths.applySources();
    await sleep(20);
    const signal = (k: string) => started.filter((s) => s.key === k).pop()!.signal!;
    const [a, b, c] = [signal('a'), signal('b'), signal('c')];
    config.paths = { b: { source: 'rtsp://o/b', sourceTransport: 'udp' }, c: { source: 'rtsp://o/c' } };
    paths.applySources();
    assert.ok(a.aborted, 'removed');
    assert.ok(b.aborted, 'changed (a key of its own, not the URL)');
    assert.ok(!c.aborted);
    paths.stopSource('c');
    assert.ok(c.aborted, 'stopped by the operator');
    await paths.startSource('c');
    const c2 = signal('c');
    assert.ok(c2 !== c && !c2.aborted, 'started again with a new one');
    paths.close();
    assert.ok(c2.aborted && signal('b').aborted, 'the server closing');
    registry.close('test over');
  });

  it('starts a source that dropped again at the time it names, while its viewers wait; an on-demand one only if they do', async () => {
    const sources: { o: SourceStart; p: FakePublisher }[] = [];
    const { paths, started, registry } = manager({ on: { source: 'rtsp://o/on' }, od: { source: 'rtsp://o/od', sourceOnDemand: true } }, { graceTime: 5 }, undefined, {
      reuse: true,
      source: (o) => {
        const p = new FakePublisher(o.key);
        sources.push({ o, p });
        return p;
      },
    });
    paths.applySources();
    await sleep(20);
    const drop = (key: string, inMs: number) => {
      const s = sources.filter((x) => x.o.key === key).pop()!;
      s.o.dropped(Date.now() + inMs);
      registry.get(key)!.detach(s.p, 'far end gone');
    };
    const viewer = new FakeViewer();
    registry.get('on')!.addReader(viewer);
    drop('on', 100);
    assert.equal(registry.get('on')?.state, 'waiting', 'its viewers wait');
    assert.equal(paths.sources().find((s) => s.path === 'on')?.waiting, 'retry');
    await sleep(60);
    assert.equal(started.filter((s) => s.key === 'on').length, 1, 'not before the time it named');
    await sleep(120);
    assert.equal(started.filter((s) => s.key === 'on').length, 2);
    assert.equal(registry.get('on')?.state, 'active', 'the same stream goes on');
    assert.deepEqual(viewer.closed, []);

    await paths.resolve(['od']);
    drop('od', 50);
    assert.equal(registry.get('od'), undefined, 'nobody watched: the stream ended');
    await sleep(150);
    assert.equal(started.filter((s) => s.key === 'od').length, 1, 'an on-demand source nobody waits for is not restarted');
    paths.close();
    registry.close('test over');
  });

  it("waits a source's own back-off as a retry, not as a schedule", async () => {
    const { paths, registry } = manager({ cam: { source: 'rtsp://o/cam' } }, {}, undefined, {
      fail: () => new SourceError('far end down', 502, Date.now() + 5000, { retry: 'backoff' }),
    });
    paths.applySources();
    await sleep(40);
    const info = paths.sources()[0];
    assert.deepEqual([info.state, info.waiting], ['waiting', 'retry']);
    paths.close();
    registry.close('test over');
  });
});
