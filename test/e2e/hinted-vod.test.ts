/** Hinted movies (RTP hint tracks, made with ffmpeg's -movflags rtphint) as ffmpeg and ffprobe
 * see them over UDP and TCP: streamed from the hint tracks by default, natively with
 * vod.preferHintTracks=false, and natively for a hint track that is broken. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaDirWith } from '../helpers/media.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { decodeErrors, ffprobe, run } from '../helpers/run.js';
import { startServer, type TestServer } from '../helpers/server.js';

const HINTED = ['hinted-h264-aac.mp4', 'hinted-h264-aac.mov', 'hinted-h264-aac.3gp'];

interface Decoded {
  video: number[];
  audio: number[];
  stderr: string;
}

/** Decodes every video frame and audio frame of `target`; pts_time of each. */
async function decode(target: string, extra: string[] = []): Promise<Decoded> {
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'info',
      ...extra,
      '-i',
      target,
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-vf',
      'showinfo',
      '-af',
      'ashowinfo',
      '-f',
      'null',
      '-',
    ],
    { timeoutMs: 90_000 },
  );
  assert.equal(r.timedOut, false, 'ffmpeg should stop by itself at the end of the stream (RTCP BYE)');
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const times = (filter: string) =>
    [
      ...r.stderr.matchAll(
        new RegExp(`Parsed_${filter}_\\d+ @ [^\\]]+\\] n:\\s*\\d+ pts:\\s*-?\\d+ pts_time:(-?[\\d.]+(?:e[-+]?\\d+)?)`, 'g'),
      ),
    ].map((m) => Number(m[1]));
  return { video: times('showinfo'), audio: times('ashowinfo'), stderr: r.stderr };
}

const span = (t: number[]) => Math.max(...t) - Math.min(...t);

/** What a viewer gets matches the file: codecs, frame counts, durations within 0.5 s, no errors. */
async function assertPlaysLike(local: string, url: string, transport: string): Promise<void> {
  const [lp, rp] = await Promise.all([ffprobe(local), ffprobe(url, ['-rtsp_transport', transport])]);
  const lv = lp.streams.find((s) => s.codec_type === 'video')!;
  const rv = rp.streams.find((s) => s.codec_type === 'video')!;
  assert.equal(rv.codec_name, lv.codec_name);
  assert.deepEqual([rv.width, rv.height, rv.profile], [lv.width, lv.height, lv.profile]);
  const la = lp.streams.find((s) => s.codec_type === 'audio');
  const ra = rp.streams.find((s) => s.codec_type === 'audio');
  assert.equal(ra?.codec_name, la?.codec_name);
  assert.deepEqual([ra?.sample_rate, ra?.channels], [la?.sample_rate, la?.channels]);

  const [want, got] = [await decode(local), await decode(url, ['-rtsp_transport', transport])];
  assert.ok(want.video.length > 10 && (want.audio.length > 10 || !la), 'the local decode is read');
  assert.deepEqual(decodeErrors(got.stderr), []);
  assert.ok(
    Math.abs(got.video.length - want.video.length) <= want.video.length * 0.02,
    `video frames ${got.video.length} vs ${want.video.length}`,
  );
  assert.ok(
    Math.abs(span(got.video) - span(want.video)) < 0.5,
    `video ${span(got.video).toFixed(2)} s vs ${span(want.video).toFixed(2)} s`,
  );
  if (want.audio.length) {
    assert.ok(
      got.audio.length >= want.audio.length * 0.95,
      `audio frames ${got.audio.length} vs ${want.audio.length}`,
    );
    assert.ok(
      Math.abs(span(got.audio) - span(want.audio)) < 0.5,
      `audio ${span(got.audio).toFixed(2)} s vs ${span(want.audio).toFixed(2)} s`,
    );
  }
}

async function controls(port: number, url: string): Promise<string[]> {
  const c = await RawRtspClient.connect(port);
  const r = await c.request('DESCRIBE', url);
  c.close();
  assert.equal(r.status, 200, r.reason);
  return [...r.body.matchAll(/^a=control:(trackID=\d+)\r$/gm)].map((m) => m[1]);
}

describe('hinted movies through ffmpeg/ffprobe', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith([...HINTED, 'hinted-mjpeg.mov']);
    // The video hint track's 'rtp ' entry loses its RTP timescale: that track must fall back.
    const buf = readFileSync(join(media.dir, 'hinted-h264-aac.mp4'));
    buf.write('xims', buf.indexOf('tims', 0, 'latin1'), 'latin1');
    writeFileSync(join(media.dir, 'broken-hint.mp4'), buf);
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  for (const file of HINTED) {
    it(`DESCRIBE of ${file} offers its hint tracks`, async () => {
      assert.deepEqual(await controls(srv.port, srv.url(file)), ['trackID=3', 'trackID=4']);
    });
  }

  for (const transport of ['udp', 'tcp']) {
    for (const file of HINTED) {
      it(`${file} over ${transport}: codecs, frames, duration, no decode errors`, async () => {
        await assertPlaysLike(join(media.dir, file), srv.url(file), transport);
      });
    }
  }

  it('seeks in a hinted movie: ffmpeg -ss 3 starts at the keyframe at 2 s, without decode errors', async () => {
    const r = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-debug_ts',
        '-ss',
        '3',
        '-noaccurate_seek',
        '-rtsp_transport',
        'tcp',
        '-i',
        srv.url('hinted-h264-aac.mov'),
        '-copyts',
        '-map',
        '0:v:0',
        '-frames:v',
        '20',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.deepEqual(decodeErrors(r.stderr), []);
    // ffmpeg's RTP demuxer leaves the very first packet without a timestamp; the first
    // timestamped one tells where the stream starts (keyframes every 2 s in this fixture).
    const first = Number(/^demuxer -> ist_index:0 type:video .*?pkt_pts_time:([\d.]+(?:e[-+]?\d+)?)/m.exec(r.stderr)?.[1]);
    assert.ok(first >= 1.9 && first <= 3.05, `first frame at ${first} s`);
  });

  it('a broken hint track falls back to native packetizing, logged, and the movie still plays', async () => {
    assert.deepEqual(await controls(srv.port, srv.url('broken-hint.mp4')), ['trackID=1', 'trackID=4']);
    const line = srv.logs.find((l) => l.includes('broken RTP hint track for track 1'));
    assert.ok(line, srv.logs.join(''));
    assert.match(line, /no RTP timescale.*track 1 is packetized natively instead/);
    await assertPlaysLike(join(media.dir, 'broken-hint.mp4'), srv.url('broken-hint.mp4'), 'tcp');
  });

  it('Motion JPEG, which Rivulet does not packetize, plays from its hint track', async () => {
    assert.deepEqual(await controls(srv.port, srv.url('hinted-mjpeg.mov')), ['trackID=2']);
    await assertPlaysLike(join(media.dir, 'hinted-mjpeg.mov'), srv.url('hinted-mjpeg.mov'), 'tcp');
  });
});

describe('hinted movies with vod.preferHintTracks=false', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith(['hinted-h264-aac.mov', 'hinted-h264-aac.3gp', 'hinted-mjpeg.mov']);
    srv = await startServer({ mediaDir: media.dir, sets: ['vod.preferHintTracks=false'] });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  it('offers the media tracks, packetized natively, and still uses a hint track for a codec it cannot packetize', async () => {
    assert.deepEqual(await controls(srv.port, srv.url('hinted-h264-aac.mov')), ['trackID=1', 'trackID=2']);
    assert.deepEqual(await controls(srv.port, srv.url('hinted-mjpeg.mov')), ['trackID=2']);
  });

  for (const [file, transport] of [
    ['hinted-h264-aac.mov', 'udp'],
    ['hinted-h264-aac.3gp', 'tcp'],
  ]) {
    it(`${file} over ${transport} plays natively`, async () => {
      await assertPlaysLike(join(media.dir, file), srv.url(file), transport);
    });
  }
});
