import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatInfoLine, formatLogDate, formatPlayLine, PlayLog, playLogFile, playLogName } from './play-log.js';

const dir = mkdtempSync(join(tmpdir(), 'rivulet-play-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('playlist play log', () => {
  const at = new Date(2026, 0, 31, 20, 0, 5);

  it("writes DSS's lines: local date and time, path, PLAY or Error:, and # comments", () => {
    assert.equal(formatLogDate(at), '2026-01-31 20:00:05');
    assert.equal(formatPlayLine(at, '/m/news.mp4', 'PLAY'), '2026-01-31 20:00:05 /m/news.mp4 PLAY\n');
    assert.equal(formatPlayLine(at, '/m/x.mp4', { error: 'missing (no such file)' }), '2026-01-31 20:00:05 /m/x.mp4 Error:missing (no such file)\n');
    assert.equal(formatInfoLine(at, 'broadcast started: tv'), '# 2026-01-31 20:00:05 broadcast started: tv\n');
    assert.equal(formatPlayLine(at, '/m/a\n2026-01-01 00:00:00 /m/fake.mp4', 'PLAY').split('\n').length, 2, 'a line break in a name forges no line');
  });

  it('appends in order, making its folder; a failure is reported once and lines go on', async () => {
    const file = join(dir, 'logs', 'tv.log');
    const errors: Error[] = [];
    const log = new PlayLog(file, (e) => errors.push(e));
    log.info('broadcast started: tv', at);
    log.played('/m/a.mp4', at);
    log.skipped('/m/b.mp4', 'another codec', at);
    await log.flushed();
    log.played('/m/c.mp4', at);
    await log.flushed();
    assert.deepEqual(readFileSync(file, 'utf8').split('\n'), [
      '# 2026-01-31 20:00:05 broadcast started: tv',
      '2026-01-31 20:00:05 /m/a.mp4 PLAY',
      '2026-01-31 20:00:05 /m/b.mp4 Error:another codec',
      '2026-01-31 20:00:05 /m/c.mp4 PLAY',
      '',
    ]);
    writeFileSync(join(dir, 'file'), '');
    const broken = new PlayLog(join(dir, 'file', 'x.log'), (e) => errors.push(e));
    for (let i = 0; i < 3; i++) {
      broken.played('/m/a.mp4');
      await broken.flushed();
    }
    assert.equal(errors.length, 1, 'reported once');
  });

  it('asks for its file at each write: a log folder changed while it runs takes the next lines, made if need be', async () => {
    let folder = join(dir, 'before');
    const log = new PlayLog(() => join(folder, 'tv.log'), (e) => assert.fail(e));
    log.played('/m/a.mp4', at);
    await log.flushed();
    folder = join(dir, 'after', 'logs');
    assert.equal(log.file, join(folder, 'tv.log'));
    log.played('/m/b.mp4', at);
    await log.flushed();
    assert.equal(readFileSync(join(dir, 'before', 'tv.log'), 'utf8'), '2026-01-31 20:00:05 /m/a.mp4 PLAY\n');
    assert.equal(readFileSync(join(folder, 'tv.log'), 'utf8'), '2026-01-31 20:00:05 /m/b.mp4 PLAY\n');
  });

  it("never names a play log as the server's own logs (Error.log, StreamingServer.log, rolled or not, any case)", () => {
    assert.equal(playLogName('tv/one'), 'tv%2Fone.log');
    assert.equal(playLogName('errors'), 'errors.log');
    assert.equal(playLogName('Error'), 'Error.playlist.log');
    assert.equal(playLogName('error'), 'error.playlist.log', 'error.log is Error.log on a case-blind file system');
    assert.equal(playLogName('STREAMINGSERVER'), 'STREAMINGSERVER.playlist.log');
    assert.equal(playLogName('StreamingServer.260131000'), 'StreamingServer.260131000.playlist.log', 'a rolled name');
    assert.equal(playLogName('Error.playlist'), 'Error.playlist.playlist.log', "not the name of path Error's log");
    assert.equal(playLogFile('mine.log'), 'mine.log');
    assert.equal(playLogFile('Error.log'), 'Error.playlist.log');
    assert.equal(playLogFile('streamingserver.log'), 'streamingserver.playlist.log');
  });
});
