/** GStreamer's rtspsrc plays files over UDP and TCP and decodes video. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run, gstPlayedThrough } from '../helpers/run.js';
import { mediaDirWith } from '../helpers/media.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('GStreamer rtspsrc VOD', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith(['h264-aac-faststart.mp4', 'h265-aac.mp4']);
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  for (const protocols of ['udp', 'tcp']) {
    it(`decodes 100 H.264 video buffers with protocols=${protocols}`, async () => {
      const r = await run(
        'gst-launch-1.0',
        [
          'rtspsrc',
          `location=${srv.url('h264-aac-faststart.mp4')}`,
          `protocols=${protocols}`,
          'latency=200',
          '!',
          'rtph264depay',
          '!',
          'h264parse',
          '!',
          'avdec_h264',
          '!',
          'videoconvert',
          '!',
          'fakesink',
          'num-buffers=100',
          'silent=false',
          '-v',
        ],
        { timeoutMs: 60_000, env: { ...process.env, GST_DEBUG: '0' } },
      );
      assert.equal(r.timedOut, false, 'gst-launch should stop after 100 buffers');
      assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
      const chains = r.stdout.match(/fakesink0: last-message = chain/g) ?? [];
      assert.ok(chains.length >= 100, `decoded ${chains.length} buffers`);
      assert.match(r.stdout, /video\/x-raw/);
    });
  }

  it('decodes H.265 video over TCP', async () => {
    const r = await run(
      'gst-launch-1.0',
      [
        'rtspsrc',
        `location=${srv.url('h265-aac.mp4')}`,
        'protocols=tcp',
        '!',
        'rtph265depay',
        '!',
        'h265parse',
        '!',
        'avdec_h265',
        '!',
        'fakesink',
        'num-buffers=50',
        'silent=false',
        '-v',
      ],
      { timeoutMs: 60_000 },
    );
    assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000));
    const chains = r.stdout.match(/fakesink0: last-message = chain/g) ?? [];
    assert.ok(chains.length >= 50, `decoded ${chains.length} buffers`);
  });
});
