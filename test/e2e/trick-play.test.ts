/** Trick play on files (RTSP Scale, issue 16): GStreamer's rtspsrc seeking at rates 2, 4 and -2
 * (a tiny python3 GStreamer script: gst-launch cannot seek) decodes what the server sends, and
 * reaches the end in about 1/|rate| of the file's duration; a scripted client checks the answers
 * (Scale used, Range, RTP-Info), that only keyframes come past 2x and in reverse order when
 * rewinding (each matched to the file's own samples), and that pause, seek and Scale 1 still work
 * after it. Bounds are generous: a slow machine makes playback slower, never faster. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { H264Depacketizer } from '../../src/codecs/h264/depacketizer.js';
import { createSampleReader, getMovie } from '../../src/media/mp4/index.js';
import { parseRtcpCompound } from '../../src/rtcp/index.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { GST_PRELUDE } from '../helpers/gst-python.js';
import { CLIP_FPS, makeClip } from '../helpers/media.js';
import { RawRtspClient, type Reply, until } from '../helpers/rtsp-client.js';
import { run } from '../helpers/run.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const CLIP = 'trick.mp4';
/** Seconds; a keyframe every second (makeClip). */
const CLIP_S = 12;
const PYTHON = '/usr/bin/python3';

/** Plays `url` with rtspsrc, and after the first decoded picture seeks at `rate` (a trick-mode
 * seek, so rtspsrc sends Scale; from `from` forwards, or from `from` back to 0); prints JSON: the
 * pictures decoded after the seek, seconds from the seek to the server's BYE (the end of what it
 * sent) and to EOS, bus errors and warnings. With retransmission (RTP/AVPF over UDP), GStreamer's
 * jitter buffer holds the EOS while it asks for the packet after the last one (some seconds, at
 * the end of any stream), so the rate is measured to the BYE. */
const GST_SEEK = String.raw`
${GST_PRELUDE}
url, rate, start, proto = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
p = Gst.parse_launch('rtspsrc name=src location=%s protocols=%s ! rtph264depay ! h264parse ! avdec_h264 ! fakesink name=sink signal-handoffs=true sync=false' % (url, proto))
out = {'before': 0, 'after': 0, 'errors': [], 'warnings': []}
state = {'seeked': None, 'eos': None, 'bye': None, 'flushed': False, 'playing': False, 'scheduled': False}
def on_bye(_m, _session, _ssrc):
    if state['seeked'] is not None and state['bye'] is None:
        state['bye'] = time.monotonic()
p.get_by_name('src').connect('new-manager', lambda _s, m: m.connect('on-bye-ssrc', on_bye))
loop = GLib.MainLoop()
def do_seek():
    state['seeked'] = time.monotonic()
    flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT | Gst.SeekFlags.TRICKMODE
    if rate >= 0:
        ok = p.seek(rate, Gst.Format.TIME, flags, Gst.SeekType.SET, int(start * Gst.SECOND), Gst.SeekType.NONE, -1)
    else:
        ok = p.seek(rate, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.SET, int(start * Gst.SECOND))
    out['seek_ok'] = bool(ok)
    return False
# The seek comes once the pipeline plays and has shown a few pictures, as a viewer's would: a
# flushing seek while the pipeline is still on its way to PLAYING can leave GStreamer's pipeline
# stuck (no picture after it, no EOS) now and then.
def maybe_seek():
    if state['playing'] and out['before'] >= 5 and not state['scheduled']:
        state['scheduled'] = True
        GLib.idle_add(do_seek)
def handoff(sink, buf, pad):
    if state['seeked'] is None:
        out['before'] += 1
        if out['before'] >= 5:
            GLib.idle_add(maybe_seek)
    elif state['flushed']:
        out['after'] += 1
# Pictures count as the seek's once its flush has reached the sink: those decoded from data in
# flight before it are the old segment's.
def on_flush(pad, info):
    if info.get_event().type == Gst.EventType.FLUSH_STOP and state['seeked'] is not None:
        state['flushed'] = True
    return Gst.PadProbeReturn.OK
p.get_by_name('sink').get_static_pad('sink').add_probe(Gst.PadProbeType.EVENT_FLUSH, on_flush)
p.get_by_name('sink').connect('handoff', handoff)
def on_msg(bus, m):
    if m.type == Gst.MessageType.EOS:
        state['eos'] = time.monotonic()
        loop.quit()
    elif m.type == Gst.MessageType.ERROR:
        out['errors'].append(str(m.parse_error()[0].message))
        loop.quit()
    elif m.type == Gst.MessageType.WARNING:
        out['warnings'].append(str(m.parse_warning()[0].message))
    elif m.type == Gst.MessageType.STATE_CHANGED and m.src == p and m.parse_state_changed()[1] == Gst.State.PLAYING:
        state['playing'] = True
        maybe_seek()
bus = p.get_bus()
bus.add_signal_watch()
bus.connect('message', on_msg)
GLib.timeout_add_seconds(100, lambda: (out['errors'].append('timeout'), loop.quit()))
watchdog(110, out)
p.set_state(Gst.State.PLAYING)
loop.run()
if state['seeked'] and state['eos']:
    out['eos'] = state['eos'] - state['seeked']
if state['seeked'] and state['bye']:
    out['seconds'] = state['bye'] - state['seeked']
finish(p, out)
`;

interface GstSeek {
  before: number;
  after: number;
  errors: string[];
  warnings: string[];
  seek_ok?: boolean;
  /** Seconds from the seek to the server's BYE, and to EOS. */
  seconds?: number;
  eos?: number;
}

/** The file's video keyframes: the IDR slice of each (hex) → its presentation second. */
async function fileKeyframes(path: string): Promise<Map<string, number>> {
  const movie = await getMovie(path);
  const video = movie.tracks.find((t) => t.handler === 'vide')!;
  const reader = createSampleReader(path);
  const out = new Map<string, number>();
  try {
    for (let i = 0; i < video.sampleCount; i++) {
      const s = video.sample(i);
      if (!s.sync) continue;
      const data = await reader.read(s);
      for (let off = 0; off + 4 <= data.length;) {
        const len = data.readUInt32BE(off);
        const nal = data.subarray(off + 4, off + 4 + len);
        if ((nal[0] & 0x1f) === 5) out.set(nal.toString('hex'), (s.cts - video.editMediaTime) / video.timescale);
        off += 4 + len;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** A scripted viewer of the clip over TCP: video on channels 0-1, audio on 2-3. */
class Viewer {
  readonly c: RawRtspClient;
  readonly url: string;
  session = '';
  private constructor(c: RawRtspClient, url: string) {
    this.c = c;
    this.url = url;
  }

  static async open(srv: TestServer): Promise<Viewer> {
    const v = new Viewer(await RawRtspClient.connect(srv.port), srv.url(CLIP));
    const d = await v.c.request('DESCRIBE', v.url, { Accept: 'application/sdp' });
    assert.equal(d.status, 200);
    for (const [track, ch] of [[1, '0-1'], [2, '2-3']] as const) {
      const r = await v.c.request('SETUP', `${v.url}/trackID=${track}`, { Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}`, ...(v.session ? { Session: v.session } : {}) });
      assert.equal(r.status, 200, `SETUP track ${track}`);
      assert.match(r.headers.get('transport') ?? '', new RegExp(`interleaved=${ch}`));
      v.session = (r.headers.get('session') ?? '').split(';')[0];
    }
    return v;
  }

  request(method: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.c.request(method, this.url, { Session: this.session, ...headers });
  }

  /** Frames received so far. */
  get mark(): number {
    return this.c.frames.length;
  }

  /** Whether a video RTCP BYE came after frame `from`. */
  byeAfter(from: number): boolean {
    return this.c.frames.slice(from).some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((p) => p.type === 'bye'));
  }

  /** Video access units after frame `from`, with their RTP timestamps (in arrival order). */
  videoAfter(from: number): { timestamp: number; nalus: Buffer[]; damaged: boolean }[] {
    const d = new H264Depacketizer();
    const aus = [];
    for (const f of this.c.frames.slice(from)) {
      if (f.channel !== 0) continue;
      const h = readRtpHeader(f.payload)!;
      aus.push(...d.push(f.payload.subarray(h.payloadOffset), { timestamp: h.timestamp, marker: h.marker, sequence: h.sequence }));
    }
    aus.push(...d.flush());
    return aus;
  }

  audioAfter(from: number): number {
    return this.c.frames.slice(from).filter((f) => f.channel === 2).length;
  }

  close(): void {
    this.c.close();
  }
}

describe('trick play on files (Scale)', () => {
  let srv: TestServer;
  const media = tempDir('rivulet-trick-');
  let keyframes: Map<string, number>;
  const script = join(media.dir, 'gst-seek.py');

  before(async () => {
    await makeClip(media.dir, { name: CLIP, video: 'testsrc', hz: 440, seconds: CLIP_S });
    keyframes = await fileKeyframes(join(media.dir, CLIP));
    assert.equal(keyframes.size, CLIP_S, 'a keyframe every second');
    writeFileSync(script, GST_SEEK);
    // With the default settings: over UDP, GStreamer sets up with RTP/AVPF and retransmission.
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  const gstSeek = async (rate: number, from: number, proto: 'tcp' | 'udp'): Promise<GstSeek> => {
    const r = await run(PYTHON, [script, srv.url(CLIP), String(rate), String(from), proto], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${r.stdout.slice(-1000)}\n${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as GstSeek;
  };

  /** Played to the end: EOS came, and the server's BYE (the end of what it sent). */
  const ended = (g: GstSeek): number => {
    assert.deepEqual(g.errors, []);
    assert.equal(g.seek_ok, true);
    assert.ok(g.eos !== undefined, `EOS after the seek: ${JSON.stringify(g)}`);
    assert.ok(g.seconds !== undefined, `the server's BYE after the seek: ${JSON.stringify(g)}`);
    return g.seconds;
  };

  for (const proto of ['tcp', 'udp'] as const) {
    it(`GStreamer seeking at rate 2.0 over ${proto}: every picture decoded, the end reached in about half the time`, { timeout: 150_000 }, async () => {
      const g = await gstSeek(2, 0, proto);
      const seconds = ended(g);
      const frames = CLIP_S * CLIP_FPS;
      assert.ok(g.after >= frames * 0.95 && g.after <= frames + 5, `${g.after} pictures decoded, the file has ${frames}`);
      assert.ok(seconds < 0.75 * CLIP_S, `${CLIP_S} s of media in ${seconds.toFixed(2)} s`);
      console.log(`rate 2 over ${proto}: ${g.after} pictures in ${seconds.toFixed(2)} s (file ${CLIP_S} s; EOS at ${g.eos!.toFixed(2)} s)`);
    });

    it(`GStreamer seeking at rate 4.0 over ${proto}: keyframes only, decoded, in about a quarter of the time`, { timeout: 150_000 }, async () => {
      const g = await gstSeek(4, 0, proto);
      const seconds = ended(g);
      assert.ok(g.after >= CLIP_S - 1 && g.after <= CLIP_S, `${g.after} keyframes decoded of ${CLIP_S}`);
      assert.ok(seconds < 0.5 * CLIP_S, `${CLIP_S} s of media in ${seconds.toFixed(2)} s`);
      console.log(`rate 4 over ${proto}: ${g.after} pictures in ${seconds.toFixed(2)} s`);
    });

    // GStreamer's rewind over TCP is left to the scripted client below: rtspsrc 1.22, rewinding
    // over an interleaved connection, stalls now and then on a loaded machine (about 1 run in 12:
    // after its flushing seek the pipeline stays PAUSED and no picture reaches the sink, although
    // every keyframe and the BYE arrive); over UDP it never did in 30 runs, nor forwards over TCP.
    if (proto === 'udp') it(`GStreamer seeking at rate -2.0 over ${proto} from the end: rewinds to the start, every keyframe decoded`, { timeout: 150_000 }, async () => {
      const g = await gstSeek(-2, CLIP_S - 0.5, proto);
      const seconds = ended(g);
      assert.ok(g.after >= CLIP_S - 1 && g.after <= CLIP_S, `${g.after} keyframes decoded of ${CLIP_S}`);
      assert.ok(seconds < 0.75 * CLIP_S, `${CLIP_S} s rewound in ${seconds.toFixed(2)} s`);
      console.log(`rate -2 over ${proto}: ${g.after} pictures in ${seconds.toFixed(2)} s`);
    });
  }

  it('a scripted client: Scale 4 sends the keyframes in order, Scale -2 in reverse, each ends with BYE; PAUSE, seek and Scale 1 work after', { timeout: 60_000 }, async () => {
    const v = await Viewer.open(srv);
    try {
      // Fast forward from 3.5 s: the keyframe at 3 s on, a media second each quarter second.
      let from = v.mark;
      let t0 = performance.now();
      let r = await v.request('PLAY', { Range: 'npt=3.5-', Scale: '4' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('scale'), '4');
      assert.equal(r.headers.get('range'), `npt=3.000-${CLIP_S}.000`);
      assert.match(r.headers.get('rtp-info') ?? '', /trackID=1;seq=\d+;rtptime=\d+/);
      assert.ok(await until(() => v.byeAfter(from), 20_000), 'BYE at the end of the file');
      const ffSeconds = (performance.now() - t0) / 1000;
      let aus = v.videoAfter(from);
      const at = (au: { nalus: Buffer[] }) => keyframes.get(au.nalus.find((n) => (n[0] & 0x1f) === 5)?.toString('hex') ?? '');
      assert.deepEqual(aus.map(at), [3, 4, 5, 6, 7, 8, 9, 10, 11], 'the file’s keyframes, in order, nothing else');
      assert.ok(aus.every((a) => !a.damaged));
      assert.equal(v.audioAfter(from), 0, 'no audio while fast-forwarding');
      assert.ok(ffSeconds < 0.5 * (CLIP_S - 3), `9 s at Scale 4 took ${ffSeconds.toFixed(2)} s`);

      // Rewind from 8.5 s: keyframes 8, 7, ... 0, their RTP timestamps still rising.
      from = v.mark;
      t0 = performance.now();
      r = await v.request('PLAY', { Range: 'npt=8.5-', Scale: '-2' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('scale'), '-2');
      assert.equal(r.headers.get('range'), 'npt=8.000-0.000', 'a reverse range, RTSP 2.0 style');
      assert.ok(await until(() => v.byeAfter(from), 20_000), 'BYE at the start of the file');
      aus = v.videoAfter(from);
      assert.deepEqual(aus.map(at), [8, 7, 6, 5, 4, 3, 2, 1, 0], 'backwards, keyframe by keyframe');
      const ts = aus.map((a) => a.timestamp);
      const rtptime = Number(/trackID=1;seq=\d+;rtptime=(\d+)/.exec(r.headers.get('rtp-info') ?? '')?.[1]);
      assert.equal(ts[0], rtptime, 'RTP-Info names the first keyframe');
      // Media second s is RTP time rtptime + (s - 8) / -2 × 90000: half a second apart.
      assert.deepEqual(ts.map((x) => ((x - rtptime) >>> 0) / 90000), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
      assert.ok((performance.now() - t0) / 1000 < 0.75 * 8);

      // Back to normal: a seek at Scale 1 sends video and audio from the keyframe at 5 s.
      from = v.mark;
      r = await v.request('PLAY', { Range: 'npt=5-', Scale: '1' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('scale'), '1');
      assert.equal(r.headers.get('range'), `npt=5.000-${CLIP_S}.000`);
      assert.ok(await until(() => v.audioAfter(from) > 20 && v.videoAfter(from).length > 30, 10_000), 'audio and every video frame again');
      assert.equal(at(v.videoAfter(from)[0]), 5);
      assert.ok(v.videoAfter(from).slice(0, 30).some((a) => at(a) === undefined), 'frames between keyframes');

      // PAUSE during a fast forward, then resume at Scale 1 where it paused.
      r = await v.request('PLAY', { Scale: '8' });
      assert.equal(r.headers.get('scale'), '8', 'a Scale change while playing applies where it is');
      r = await v.request('PAUSE');
      assert.equal(r.status, 200);
      const pausedAt = Number(/npt=([\d.]+)-/.exec(r.headers.get('range') ?? '')?.[1]);
      from = v.mark;
      r = await v.request('PLAY');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('scale'), undefined, 'a plain PLAY is normal play; the answer adds nothing');
      const resumed = Number(/npt=([\d.]+)-/.exec(r.headers.get('range') ?? '')?.[1]);
      assert.ok(resumed <= pausedAt && resumed > pausedAt - 1.001, `resumed at ${resumed}, paused at ${pausedAt}`);
      assert.ok(await until(() => v.audioAfter(from) > 5, 10_000), 'audio again');
    } finally {
      v.close();
    }
  });

  it('unsupported rates are rounded, not refused; Speed is capped at vod.maxSpeed; a bad value is 400', async () => {
    const v = await Viewer.open(srv);
    try {
      for (const [asked, used] of [['3', '4'], ['16', '8'], ['0.5', '1'], ['-1', '-2'], ['-100', '-8'], ['2.0', '2']]) {
        const r = await v.request('PLAY', { Range: 'npt=1-', Scale: asked });
        assert.equal(r.status, 200, `Scale: ${asked}`);
        assert.equal(r.headers.get('scale'), used, `Scale: ${asked}`);
      }
      let r = await v.request('PLAY', { Range: 'npt=1-', Speed: '10' });
      assert.equal(r.headers.get('speed'), '4', 'DSS’s max_allowed_speed 4');
      r = await v.request('PLAY', { Range: 'npt=1-', Speed: '1.5' });
      assert.equal(r.headers.get('speed'), '1.5');
      r = await v.request('PLAY', { Range: 'npt=1-', Scale: 'fast' });
      assert.equal(r.status, 400);
      r = await v.request('PLAY', { Range: 'npt=1-', 'x-Prebuffer': 'maxtime=3.0' });
      assert.equal(r.headers.get('x-prebuffer'), 'time=0.000');
      r = await v.request('PLAY', { Range: 'npt=2.5-', 'x-Prebuffer': 'maxtime=3.0' });
      assert.equal(r.headers.get('x-prebuffer'), 'time=0.500', 'started from the keyframe half a second before');
    } finally {
      v.close();
    }
  });
});
