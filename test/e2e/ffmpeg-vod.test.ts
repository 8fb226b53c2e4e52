/** Video on demand as ffmpeg and ffprobe see it, over UDP and TCP interleaved. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { countFrames, decodeErrors, ffprobe, run } from '../helpers/run.js';
import { mediaDirWith } from '../helpers/media.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FILES = [
  'h264-aac-faststart.mp4',
  'h264-aac-moovend.mp4',
  'h264-high-bframes.mp4',
  'h264-aac.mov',
  'h265-aac.mp4',
];
const EXPECT: Record<string, [string, string]> = {
  'h264-aac-faststart.mp4': ['h264', 'aac'],
  'h264-aac-moovend.mp4': ['h264', 'aac'],
  'h264-high-bframes.mp4': ['h264', 'aac'],
  'h264-aac.mov': ['h264', 'aac'],
  'h265-aac.mp4': ['hevc', 'aac'],
};

describe('ffmpeg/ffprobe VOD', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith(FILES);
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  for (const transport of ['udp', 'tcp']) {
    for (const file of FILES) {
      it(`ffprobe over ${transport} reports the codecs of ${file}`, async () => {
        const local = await ffprobe(join(media.dir, file));
        const remote = await ffprobe(srv.url(file), ['-rtsp_transport', transport]);
        const codecs = remote.streams.map((s) => s.codec_name).sort();
        assert.deepEqual(codecs, [...EXPECT[file]].sort());
        const lv = local.streams.find((s) => s.codec_type === 'video')!;
        const rv = remote.streams.find((s) => s.codec_type === 'video')!;
        assert.equal(rv.width, lv.width);
        assert.equal(rv.height, lv.height);
        assert.equal(rv.profile, lv.profile);
        const la = local.streams.find((s) => s.codec_type === 'audio')!;
        const ra = remote.streams.find((s) => s.codec_type === 'audio')!;
        assert.equal(ra.sample_rate, la.sample_rate);
        assert.equal(ra.channels, la.channels);
      });
    }
  }

  for (const transport of ['udp', 'tcp']) {
    for (const file of ['h264-aac-faststart.mp4', 'h264-high-bframes.mp4']) {
      it(`ffmpeg over ${transport} receives all of ${file}: duration, frame count, no decode errors`, async () => {
        const local = await countFrames(join(media.dir, file));
        const r = await run(
          'ffmpeg',
          [
            '-hide_banner',
            '-nostats',
            '-loglevel',
            'info',
            '-rtsp_transport',
            transport,
            '-i',
            srv.url(file),
            '-map',
            '0:v:0',
            '-vf',
            'showinfo',
            '-f',
            'null',
            '-',
          ],
          { timeoutMs: 60_000 },
        );
        assert.equal(r.timedOut, false, 'ffmpeg should stop by itself at the end of the stream (RTCP BYE)');
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        const pts = [...r.stderr.matchAll(/pts_time:([\d.]+(?:e[-+]?\d+)?)/g)].map((m) => Number(m[1]));
        assert.deepEqual(decodeErrors(r.stderr), []);
        assert.ok(
          Math.abs(pts.length - local.frames) <= local.frames * 0.02,
          `frames ${pts.length} vs ${local.frames} in the file`,
        );
        const span = Math.max(...pts) - Math.min(...pts);
        const fileSpan = local.duration - 1 / 25;
        assert.ok(
          Math.abs(span - fileSpan) < 0.5,
          `received ${span.toFixed(2)} s of video, file has ${fileSpan.toFixed(2)} s`,
        );
      });
    }
  }

  for (const transport of ['udp', 'tcp']) {
    it(`ffmpeg -ss 5 over ${transport} starts at or just before 5 s`, async () => {
      const r = await run(
        'ffmpeg',
        [
          '-hide_banner',
          '-nostats',
          '-debug_ts',
          '-ss',
          '5',
          '-noaccurate_seek',
          '-rtsp_transport',
          transport,
          '-i',
          srv.url('h264-aac-faststart.mp4'),
          '-copyts',
          '-map',
          '0:v:0',
          '-c',
          'copy',
          '-frames:v',
          '10',
          '-f',
          'null',
          '-',
        ],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      // ffmpeg's RTP demuxer leaves the very first packet without a timestamp (it does so with
      // gst-rtsp-server too), so the first timestamped packet tells where the stream starts.
      const first = Number(
        /^demuxer -> ist_index:0 type:video .*?pkt_pts_time:([\d.]+(?:e[-+]?\d+)?)/m.exec(r.stderr)?.[1],
      );
      // The fixture has a keyframe every 2 s, so the server starts on the one at 4 s.
      assert.ok(first >= 3.9 && first <= 5.05, `first frame at ${first} s`);
    });
  }
});
