/** The Prometheus metrics of a real server: an ffmpeg viewer of the bundled sample shows up while
 * it plays and leaves its bytes on the path's counter, a viewer over limits.maxConnections is
 * counted as a refusal, and the whole text passes `promtool check metrics`. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';
import { sample } from '../../src/metrics/test-helpers/sample.js';

/** ffmpeg plays `url` over TCP for `seconds` of media. */
const view = (url: string, seconds: number) =>
  run('ffmpeg', ['-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', url, '-t', String(seconds), '-f', 'null', '-'], { timeoutMs: 60_000 });

describe('metrics', () => {
  let srv: TestServer;
  const scratch = tempDir('rivulet-metrics-');

  before(async () => {
    srv = await startServer({ mediaDir: join(repoRoot, 'media'), sets: ['limits.maxConnections=1'] });
  });
  after(async () => {
    await srv.close();
    scratch.cleanup();
  });

  it('counts a viewer’s bytes and a refused viewer, and passes promtool check metrics', async (t) => {
    if ((await run('promtool', ['--version']).catch(() => undefined))?.code !== 0)
      return missingTool(t, 'promtool (Debian prometheus)', 'it checks the metrics text');
    const metrics = srv.server.metrics!;
    const url = srv.url('sample.mp4');

    const first = view(url, 2);
    assert.ok(await until(() => srv.server.load.connections === 1, 20_000), 'the first viewer is let in');
    // Listed as a client while it plays.
    let playing: number | undefined;
    for (let i = 0; i < 100 && !playing; i++) {
      playing = sample(await metrics.text(), 'rivulet_clients', { kind: 'rtsp-file', protocol: 'rtsp' });
      if (!playing) await sleep(50);
    }
    assert.equal(playing, 1, 'the playing viewer is listed by kind');

    const second = await view(url, 1);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /453/, 'the second viewer is refused over limits.maxConnections');
    const one = await first;
    assert.equal(one.code, 0, one.stderr.slice(-2000));

    const text = await metrics.text();
    const file = join(scratch.dir, 'metrics.txt');
    writeFileSync(file, text);
    const check = await run('sh', ['-c', 'promtool check metrics < "$1"', 'sh', file], { timeoutMs: 30_000 });
    assert.equal(check.code, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);

    const sent = sample(text, 'rivulet_path_sent_bytes_total', { path: 'sample.mp4' }) ?? 0;
    assert.ok(sent > 10_000, `bytes sent for sample.mp4: ${sent}`);
    assert.ok((sample(text, 'rivulet_path_sent_packets_total', { path: 'sample.mp4' }) ?? 0) > 10);
    assert.equal(sample(text, 'rivulet_refusals_total', { protocol: 'rtsp', status: '453', reason: 'maxConnections' }), 1);
    assert.equal(sample(text, 'rivulet_admission_connections_limit'), 1);
    assert.equal(sample(text, 'rivulet_build_info', { version: srv.server.version }), 1);
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics are there');
  });
});
