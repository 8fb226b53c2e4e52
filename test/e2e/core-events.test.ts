/** The core's events as the running server emits them to a subscriber of `RivuletServer.events`
 * (what logs, metrics and the admin will listen to): a file viewer played by ffmpeg comes and
 * goes as a reader with what it was sent, a viewer over limits.maxConnections is reported
 * refused, and wrong or missing passwords (RTSP and the HTTP reference movie) as failed logins. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsersFileDoc } from '../../src/auth/index.js';
import type { CoreEventMap } from '../../src/core/index.js';
import { fixture } from '../helpers/fixtures.js';
import { ffmpegDecode, run } from '../helpers/run.js';
import { RawRtspClient, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const CLIP = 'h264-aac-faststart.mp4';

type Heard = { [K in 'reader.added' | 'reader.removed' | 'session.refused' | 'auth.failed']: CoreEventMap[K][0][] };

describe('core events from the running server', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let etc: { dir: string; cleanup: () => void };
  const heard: Heard = {
    'reader.added': [],
    'reader.removed': [],
    'session.refused': [],
    'auth.failed': [],
  };

  before(async () => {
    media = tempDir('rivulet-events-media-');
    etc = tempDir('rivulet-events-etc-');
    const clip = await fixture(CLIP);
    for (const d of ['open', 'locked']) {
      mkdirSync(join(media.dir, d));
      copyFileSync(clip, join(media.dir, d, CLIP));
    }
    writeFileSync(join(media.dir, 'locked', 'qtaccess'), 'AuthName "Locked"\nAuthScheme basic\nrequire valid-user\n');
    const users = UsersFileDoc.create('Locked');
    users.setPassword('alice', 'wonder land');
    writeFileSync(join(etc.dir, 'qtusers'), users.toString());
    writeFileSync(join(etc.dir, 'qtgroups'), '');
    srv = await startServer({
      mediaDir: media.dir,
      sets: [`auth.usersFile=${join(etc.dir, 'qtusers')}`, `auth.groupsFile=${join(etc.dir, 'qtgroups')}`, 'auth.failuresBeforeDelay=100'],
    });
    const events = srv.server.events;
    events.on('reader.added', (e) => heard['reader.added'].push(e));
    events.on('reader.removed', (e) => heard['reader.removed'].push(e));
    events.on('session.refused', (e) => heard['session.refused'].push(e));
    events.on('auth.failed', (e) => heard['auth.failed'].push(e));
  });
  after(async () => {
    await srv.close();
    media.cleanup();
    etc.cleanup();
  });

  it('a file viewer played by ffmpeg is a reader added, then removed with the bytes it was sent and for how long', async () => {
    const started = Date.now();
    const { r, frames } = await ffmpegDecode(srv.url(`open/${CLIP}`), { frames: 50, transport: 'tcp' });
    assert.equal(frames, 50, r.stderr.slice(-2000));
    const took = Date.now() - started;
    assert.ok(await until(() => heard['reader.removed'].length > 0, 10_000), 'reader.removed heard');
    assert.equal(heard['reader.added'].length, 1);
    const added = heard['reader.added'][0];
    assert.equal(added.path, `open/${CLIP}`);
    assert.equal(added.reader.kind, 'rtsp');
    assert.match(added.reader.label, /^rtsp 127\.0\.0\.1 session \d+$/);
    const removed = heard['reader.removed'][0];
    assert.deepEqual(removed.reader, added.reader, 'the same reader');
    assert.equal(removed.path, added.path);
    assert.equal(removed.reason, 'teardown', 'ffmpeg tears its session down when it has its frames');
    // 50 frames at 25 fps: two seconds of the file, sent paced.
    assert.ok(removed.bytes > 20_000, `bytes ${removed.bytes}`);
    assert.ok(removed.packets > 50, `packets ${removed.packets}`);
    assert.ok(removed.durationMs > 500 && removed.durationMs <= took + 1000, `durationMs ${removed.durationMs} (ffmpeg ran ${took} ms)`);
  });

  it('a viewer over limits.maxConnections is reported refused with the 453 and its reason', async (t) => {
    srv.server.setLimits({ maxConnections: 1 });
    t.after(() => srv.server.setLimits({ maxConnections: 0 }));
    const first = await RawRtspClient.connect(srv.port);
    try {
      assert.equal((await first.request('OPTIONS', srv.url(`open/${CLIP}`))).status, 200);
      const { r, frames } = await ffmpegDecode(srv.url(`open/${CLIP}`), { frames: 10, transport: 'tcp', timeoutMs: 20_000 });
      assert.equal(frames, 0);
      assert.match(r.stderr, /453 Not Enough Bandwidth/);
    } finally {
      first.close();
    }
    const refused = heard['session.refused'];
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.deepEqual(refused[0], {
      protocol: 'rtsp',
      client: '127.0.0.1',
      path: `open/${CLIP}`,
      status: 453,
      reason: 'server full: 1 connections in use, limits.maxConnections is 1',
    });
  });

  it('a wrong password and a missing one are failed logins, over RTSP and for the HTTP reference movie', async () => {
    const path = `locked/${CLIP}`;
    const wrong = await ffmpegDecode(srv.url(path).replace('rtsp://', 'rtsp://alice:guess@'), { frames: 10, transport: 'tcp' });
    assert.match(wrong.r.stderr, /401 Unauthorized/);
    assert.ok(
      heard['auth.failed'].some((e) => e.protocol === 'rtsp' && e.user === 'alice' && e.path === path && e.client === '127.0.0.1' && /wrong password/.test(e.reason)),
      JSON.stringify(heard['auth.failed']),
    );
    const heardBefore = heard['auth.failed'].length;
    const c = await RawRtspClient.connect(srv.port);
    try {
      assert.equal((await c.request('DESCRIBE', srv.url(path))).status, 401);
    } finally {
      c.close();
    }
    assert.equal(heard['auth.failed'].length, heardBefore + 1, 'the DESCRIBE without a login is one failed login');
    const bare = heard['auth.failed'][heardBefore];
    assert.equal(bare.protocol, 'rtsp');
    assert.equal(bare.path, path);
    assert.equal(bare.user, undefined);
    assert.match(bare.reason, /needs a login/);

    const before = heard['auth.failed'].length;
    const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', '-u', 'alice:guess', `http://127.0.0.1:${srv.port}/${path}`], { timeoutMs: 15_000 });
    assert.equal(curl.stdout, '401');
    assert.equal(heard['auth.failed'].length, before + 1);
    const http = heard['auth.failed'][before];
    assert.equal(http.protocol, 'http');
    assert.equal(http.user, 'alice');
    assert.equal(http.path, path);
    assert.match(http.reason, /wrong password/);
    // An allowed login is not a failure.
    const ok = await ffmpegDecode(srv.url(path).replace('rtsp://', 'rtsp://alice:wonder%20land@'), { frames: 10, transport: 'tcp' });
    assert.equal(ok.frames, 10, ok.r.stderr.slice(-2000));
    assert.ok(!heard['auth.failed'].slice(before + 1).some((e) => e.user === 'alice'));
  });
});
