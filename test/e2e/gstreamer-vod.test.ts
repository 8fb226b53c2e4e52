/** GStreamer's rtspsrc plays files over UDP and TCP and decodes video. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gstPlayedThrough, gstDecode, GST_H264 } from '../helpers/run.js';
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
      const { r, decoded } = await gstDecode(
        srv.url('h264-aac-faststart.mp4'),
        [...GST_H264, 'videoconvert'],
        100,
        {
          props: [`protocols=${protocols}`, 'latency=200'],
        },
      );
      assert.equal(r.timedOut, false, 'gst-launch should stop after 100 buffers');
      assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
      assert.ok(decoded >= 100, `decoded ${decoded} buffers`);
      assert.match(r.stdout, /video\/x-raw/);
    });
  }

  it('decodes H.265 video over TCP', async () => {
    const { r, decoded } = await gstDecode(
      srv.url('h265-aac.mp4'),
      ['rtph265depay', 'h265parse', 'avdec_h265'],
      50,
      {
        props: ['protocols=tcp'],
      },
    );
    assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000));
    assert.ok(decoded >= 50, `decoded ${decoded} buffers`);
  });
});
