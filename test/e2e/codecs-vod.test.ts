/** The codecs and files beyond H.264/H.265/AAC in MP4 (issue 3): H.263 and MPEG-4 Visual video,
 * MP3, Opus, AMR, IMA ADPCM and uncompressed audio in MOV, WAV, AIFF and AU, as ffmpeg/ffprobe
 * and GStreamer receive them over UDP and TCP. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspectFile } from '../../src/cli/inspect.js';
import { amr3gp, encodedAmrNbFrames, syntheticAmrFrames } from '../helpers/amr-3gp.js';
import { mediaDirWith } from '../helpers/media.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { RawRtspClient, sleep, until } from '../helpers/rtsp-client.js';
import { decodeErrors, ffprobe, run, gstPlayedThrough, gstDecode } from '../helpers/run.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

interface Case {
  /** ffprobe codec names over RTSP, video first. */
  codecs: string[];
  /** Uncompressed audio: over TCP the decoded samples must equal the file's, bit for bit. */
  pcm?: boolean;
}

const CASES: Record<string, Case> = {
  'h263-aac.3gp': { codecs: ['h263', 'aac'] },
  'mp4v-aac.mp4': { codecs: ['mpeg4', 'aac'] },
  'tone.mp3': { codecs: ['mp3'] },
  'mp3.mp4': { codecs: ['mp3'] },
  'opus.mp4': { codecs: ['opus'] },
  'tone-s16le.wav': { codecs: ['pcm_s16be'], pcm: true },
  'tone-mulaw.au': { codecs: ['pcm_mulaw'], pcm: true },
  'tone-s16be.aiff': { codecs: ['pcm_s16be'], pcm: true },
  'pcm-s16be.mov': { codecs: ['pcm_s16be'], pcm: true },
  'pcm-s16le.mov': { codecs: ['pcm_s16be'], pcm: true },
  'pcm-s24le.mov': { codecs: ['pcm_s24be'], pcm: true },
  'pcm-u8.mov': { codecs: ['pcm_s16be'], pcm: true },
  'pcm-mulaw.mov': { codecs: ['pcm_mulaw'], pcm: true },
  'pcm-alaw.mov': { codecs: ['pcm_alaw'], pcm: true },
  // IMA ADPCM is decoded by the server and sent as L16, bit for bit what ffmpeg decodes locally.
  'ima4.mov': { codecs: ['pcm_s16be'], pcm: true },
  'ima-adpcm.wav': { codecs: ['pcm_s16be'], pcm: true },
  // Written by the test: ffmpeg cannot encode AMR.
  'amr-nb.3gp': { codecs: ['amr_nb'] },
  'amr-wb.3gp': { codecs: ['amr_wb'] },
};
const FIXTURES = Object.keys(CASES).filter((n) => !n.startsWith('amr-'));
const hasVideo = (name: string) => ['h263', 'mpeg4'].includes(CASES[name].codecs[0]);

interface Received {
  code: number | null;
  timedOut: boolean;
  stderr: string;
  /** Seconds covered by the decoded frames of each kind. */
  video?: { first: number; span: number; frames: number };
  audio?: { first: number; span: number };
}

/** Plays `url` to the end through ffmpeg, decoding every frame (showinfo/ashowinfo log them). */
async function receive(
  url: string,
  transport: string,
  opts: { video: boolean; pre?: string[]; rawAudioTo?: string },
): Promise<Received> {
  const args = [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'info',
    ...(opts.pre ?? []),
    '-rtsp_transport',
    transport,
    '-i',
    url,
  ];
  if (opts.video) args.push('-map', '0:v:0', '-vf', 'showinfo');
  args.push('-map', '0:a:0', '-af', 'ashowinfo', '-f', 'null', '-');
  if (opts.rawAudioTo) args.push('-map', '0:a:0', '-c:a', 'pcm_s32le', '-f', 's32le', '-y', opts.rawAudioTo);
  const r = await run('ffmpeg', args, { timeoutMs: 60_000 });
  const out: Received = { code: r.code, timedOut: r.timedOut, stderr: r.stderr };
  // pts_time is printed with %g: a frame a few ticks after 0 reads `6.66667e-05`, so the
  // exponent belongs to the number.
  const v = [...r.stderr.matchAll(/Parsed_showinfo_\d+ @ \S+\] n:\s*\d+ pts:\s*\d+ pts_time:([\d.]+(?:e[-+]?\d+)?)/g)].map(
    (m) => Number(m[1]),
  );
  if (v.length)
    out.video = { first: Math.min(...v), span: Math.max(...v) - Math.min(...v), frames: v.length };
  const a = [
    ...r.stderr.matchAll(
      /Parsed_ashowinfo_\d+ @ \S+\] n:\d+ pts:-?\d+ pts_time:(-?[\d.]+(?:e[-+]?\d+)?) .*? rate:(\d+) nb_samples:(\d+)/g,
    ),
  ].map((m) => ({
    t: Number(m[1]),
    end: Number(m[1]) + Number(m[3]) / Number(m[2]),
  }));
  if (a.length)
    out.audio = {
      first: Math.min(...a.map((x) => x.t)),
      span: Math.max(...a.map((x) => x.end)) - Math.min(...a.map((x) => x.t)),
    };
  return out;
}

describe('more codecs and audio files over RTSP', { concurrency: 4 }, () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let realAmr = false;

  before(async () => {
    media = await mediaDirWith([...FIXTURES, 'pcm-f32.mov']);
    // 6 s of AMR-NB from GStreamer's encoder when installed (else made-up frames), 10 frames a
    // sample; AMR-WB frames are always made up (no encoder here), 5 a sample.
    const nb = await encodedAmrNbFrames(300);
    realAmr = nb !== null;
    writeFileSync(
      join(media.dir, 'amr-nb.3gp'),
      amr3gp(nb ?? syntheticAmrFrames(300, false, 7), { wideband: false, framesPerSample: 10 }),
    );
    writeFileSync(
      join(media.dir, 'amr-wb.3gp'),
      amr3gp(syntheticAmrFrames(300, true, 8), { wideband: true, framesPerSample: 5 }),
    );
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  for (const name of Object.keys(CASES)) {
    for (const transport of ['udp', 'tcp']) {
      it(`${name} over ${transport}: ffprobe sees the codecs, rates, sizes and duration`, async () => {
        const local = await ffprobe(join(media.dir, name));
        const remote = await ffprobe(srv.url(name), ['-rtsp_transport', transport]);
        assert.deepEqual(
          remote.streams.map((s) => s.codec_name),
          CASES[name].codecs,
        );
        for (const kind of ['video', 'audio']) {
          const l = local.streams.find((s) => s.codec_type === kind);
          const r = remote.streams.find((s) => s.codec_type === kind);
          if (!l || !r) continue;
          if (kind === 'video') assert.deepEqual([r.width, r.height], [l.width, l.height]);
          else if (r.codec_name !== 'opus')
            assert.deepEqual([r.sample_rate, r.channels], [l.sample_rate, l.channels]);
        }
        assert.ok(
          Math.abs(Number(remote.format.duration) - Number(local.format.duration)) < 0.5,
          `SDP range ${remote.format.duration} vs file ${local.format.duration}`,
        );
      });

      it(`${name} over ${transport}: ffmpeg plays it all without decode errors`, async () => {
        const c = CASES[name];
        const raw = c.pcm && transport === 'tcp' ? join(media.dir, `${name}.${transport}.raw`) : undefined;
        const r = await receive(srv.url(name), transport, { video: hasVideo(name), rawAudioTo: raw });
        assert.equal(r.timedOut, false, 'ffmpeg should stop by itself at the end of the stream (RTCP BYE)');
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        assert.deepEqual(decodeErrors(r.stderr), []);
        const duration = Number((await ffprobe(join(media.dir, name))).format.duration);
        assert.ok(r.audio, 'decoded audio');
        assert.ok(
          Math.abs(r.audio.span - duration) < 0.5,
          `received ${r.audio.span.toFixed(3)} s of audio, file has ${duration.toFixed(3)} s`,
        );
        if (hasVideo(name)) {
          assert.ok(r.video, 'decoded video');
          assert.ok(
            Math.abs(r.video.span - duration) < 0.5,
            `received ${r.video.span.toFixed(3)} s of video, file has ${duration.toFixed(3)} s`,
          );
        }
        if (raw) {
          const want = join(media.dir, `${name}.local.raw`);
          const l = await run('ffmpeg', [
            '-hide_banner',
            '-loglevel',
            'error',
            '-i',
            join(media.dir, name),
            '-map',
            '0:a:0',
            '-c:a',
            'pcm_s32le',
            '-f',
            's32le',
            '-y',
            want,
          ]);
          assert.equal(l.code, 0, l.stderr);
          const got = readFileSync(raw);
          const expected = readFileSync(want);
          assert.equal(got.length, expected.length, 'every sample arrives');
          assert.ok(got.equals(expected), "the samples are the file's, bit for bit");
        }
      });
    }
  }

  it('tests AMR-NB with speech frames encoded by GStreamer wherever its encoder is installed', async (t) => {
    const inspect = await run('gst-inspect-1.0', ['amrnbenc'], { timeoutMs: 20_000 });
    if (inspect.code !== 0) {
      return missingTool(
        t,
        'GStreamer amrnbenc (gstreamer1.0-plugins-ugly)',
        'AMR-NB was tested with made-up frames',
      );
    }
    assert.ok(realAmr, 'amrnbenc is installed, so the AMR-NB fixture must hold its real encoded frames');
  });

  for (const [name, pipeline] of [
    ['h263-aac.3gp', ['rtph263pdepay', 'avdec_h263']],
    ['mp4v-aac.mp4', ['rtpmp4vdepay', 'avdec_mpeg4']],
  ] as const) {
    for (const protocols of ['udp', 'tcp']) {
      it(`GStreamer rtspsrc decodes the video of ${name} with protocols=${protocols}`, async () => {
        const { r, decoded } = await gstDecode(srv.url(name), [...pipeline, 'videoconvert'], 60, {
          props: [`protocols=${protocols}`, 'latency=200'],
        });
        assert.equal(r.timedOut, false, 'gst-launch should stop after 60 buffers');
        // rtspsrc sometimes reports a failed write while tearing down after EOS (its keep-alive
        // racing its own TEARDOWN); that is after the 60 buffers, so it does not count.
        assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
        assert.ok(decoded >= 60, `decoded ${decoded} buffers`);
        assert.match(r.stdout, /video\/x-raw/);
      });
    }
  }

  it('GStreamer rtspsrc decodes AMR-NB (rtpamrdepay, octet-aligned)', async () => {
    const { r, decoded } = await gstDecode(srv.url('amr-nb.3gp'), ['rtpamrdepay', 'amrnbdec'], 100, {
      props: ['protocols=tcp'],
    });
    assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
    assert.ok(decoded >= 100);
  });

  for (const name of ['tone.mp3', 'tone-s16le.wav']) {
    for (const transport of ['udp', 'tcp']) {
      it(`ffmpeg -ss 3 over ${transport} starts ${name} at 3 s and plays to the end`, async () => {
        const r = await receive(srv.url(name), transport, { video: false, pre: ['-ss', '3', '-copyts'] });
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        assert.deepEqual(decodeErrors(r.stderr), []);
        // -ss on an RTSP input seeks with PLAY Range: npt=3-, so the stream itself starts there:
        // the last 3 s of the 6 s file arrive, time-stamped from 3 s.
        assert.ok(r.audio, 'decoded audio');
        assert.ok(r.audio.first >= 2.97 && r.audio.first <= 3.06, `first audio at ${r.audio.first} s`);
        assert.ok(
          Math.abs(r.audio.first + r.audio.span - 6) < 0.1,
          `audio ends at ${r.audio.first + r.audio.span} s`,
        );
      });
    }
  }

  it('plays, pauses, resumes and seeks a WAV file on one gapless L16 timeline (TCP, raw RTSP)', async () => {
    const url = srv.url('tone-s16le.wav');
    const c = await RawRtspClient.connect(srv.port);
    try {
      const setup = await c.request('SETUP', url, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      assert.equal(setup.status, 200);
      const sid = setup.headers.get('session')!.split(';')[0];
      const play = await c.request('PLAY', url, { Session: sid, Range: 'npt=0-' });
      assert.equal(play.status, 200);
      assert.equal(play.headers.get('range'), 'npt=0.000-6.000');
      const rtptime = Number(/rtptime=(\d+)/.exec(play.headers.get('rtp-info')!)![1]);
      await sleep(1000);
      const pause = await c.request('PAUSE', url, { Session: sid });
      assert.equal(pause.status, 200);
      await sleep(300);
      const before = c.frames.filter((f) => f.channel === 0).length;
      await sleep(1000);
      assert.equal(c.frames.filter((f) => f.channel === 0).length, before, 'nothing sent while paused');
      assert.equal((await c.request('PLAY', url, { Session: sid })).status, 200);
      await sleep(1000);
      const pkts = c.frames.filter((f) => f.channel === 0).map((f) => ({ h: readRtpHeader(f.payload)!, f }));
      assert.ok(pkts.length > before + 10);
      // PT 10 is L16/44100/2; every packet's timestamp is the previous one plus its frame count:
      // no gap and no overlap across blocks, packets or the pause.
      assert.equal(pkts[0].h.payloadType, 10);
      assert.equal(pkts[0].h.timestamp, rtptime);
      for (let i = 1; i < pkts.length; i++) {
        const frames = pkts[i - 1].h.payloadLength / 4;
        assert.equal(pkts[i].h.timestamp, (pkts[i - 1].h.timestamp + frames) >>> 0, `packet ${i}`);
        assert.equal(pkts[i].h.sequence, (pkts[i - 1].h.sequence + 1) & 0xffff);
        assert.ok(pkts[i].h.payloadLength <= 1400);
      }
      const seek = await c.request('PLAY', url, { Session: sid, Range: 'npt=4.5-' });
      assert.equal(seek.status, 200);
      assert.equal(seek.headers.get('range'), 'npt=4.500-6.000', 'audio seeks to the instant asked for');
      const info = /seq=(\d+);rtptime=(\d+)/.exec(seek.headers.get('rtp-info')!)!;
      assert.equal(((Number(info[2]) - rtptime) >>> 0) / 44100, 4.5);
      assert.ok(
        await until(() =>
          c.frames.some((f) => f.channel === 0 && readRtpHeader(f.payload)!.sequence === Number(info[1])),
        ),
      );
      const first = c.frames
        .map((f) => readRtpHeader(f.payload)!)
        .find((h) => h.sequence === Number(info[1]))!;
      assert.equal(first.timestamp, Number(info[2]));
    } finally {
      c.close();
    }
  });

  it('answers 415 for float PCM and says why, as `rivulet inspect` does', async () => {
    const c = await RawRtspClient.connect(srv.port);
    try {
      assert.equal((await c.request('DESCRIBE', srv.url('pcm-f32.mov'))).status, 415);
    } finally {
      c.close();
    }
    const report = await inspectFile(join(media.dir, 'pcm-f32.mov'));
    assert.equal(report.playable, false);
    assert.equal(
      report.reason,
      'no playable track: track 1 (fl32): floating-point PCM has no RTP payload format (convert it to 16-bit)',
    );
    assert.ok(
      srv.logs.some((l) =>
        l.includes(`/pcm-f32.mov has no playable track: track 1 (fl32): floating-point PCM`),
      ),
      'the 415 is logged with its reason',
    );
  });
});
