/** Thinning under loss (DSS's flow-control module), end to end, in a private network namespace
 * the test makes (nothing leaves its loopback). Inside: `rivulet serve` with its default thinning
 * settings and retransmission off (so loss stays loss), ffmpeg publishing a live H.264 stream
 * with B-frames (non-reference pictures, nal_ref_idc 0) and AAC over TCP, and two GStreamer
 * rtspsrc viewers over UDP side by side. An nftables rule on the input hook drops 20 % of the
 * UDP datagrams arriving at the lossy viewer's ports (RTP and the server's RTCP to it), never its
 * receiver reports to the server. The lossy viewer must be thinned (no non-reference frames,
 * then keyframes only: logged, counted), and thickened back to everything once the rule is
 * gone; the healthy viewer is never thinned, loses nothing and decodes every frame. The viewers
 * send a receiver report about every second (rtpsession's rtcp-min-interval, 5 s by default).
 * The same again with two viewers of a stored file (the same picture and coding, 90 s long) over
 * the same ports: a file viewer's samples are simply not sent (its packets are its own). */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { GST_PRELUDE } from '../helpers/gst-python.js';
import { lastJsonLine, namespaceSuite } from '../helpers/netns.js';
import { run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';

/** Client ports (rtspsrc port-range): the first range loses 20 % of what is sent to it. */
const LOSSY = '40000-40099';
const CLEAN = '41000-41099';
const LOSS_RULE = 'udp dport 40000-40099 numgen random mod 100 < 20 drop';
const FPS = 25;
/** The stored file's length, s: long enough to be thinned and thickened back on a loaded machine. */
const FILE_SECS = 90;

/** A GStreamer viewer: plays `url` over UDP from `ports` without retransmission until SIGTERM
 * (or `secs`), then prints one JSON line: the frames decoded, the span of their timestamps, and
 * the video jitter buffer's statistics. */
const VIEWER = String.raw`
${GST_PRELUDE}
url, ports, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
p = Gst.parse_launch(
    'rtspsrc name=src location=%s protocols=udp port-range=%s do-retransmission=false latency=500 '
    'rtph264depay name=vdepay wait-for-keyframe=true ! video/x-h264,alignment=au '
    '! avdec_h264 max-threads=1 ! fakesink name=vsink sync=false '
    'fakesink name=asink sync=false' % (url, ports))
link_by_media(p.get_by_name('src'), {'video': p.get_by_name('vdepay').get_static_pad('sink'), 'audio': p.get_by_name('asink').get_static_pad('sink')})
jbs = {}
def rr_every_second(manager, session):
    manager.emit('get-internal-session', session).set_property('rtcp-min-interval', 1000000000)
    return False
def on_jb(manager, jb, session, ssrc):
    jbs[session] = (jb, ssrc)
    # A receiver report about every second instead of every 5 s (from the main loop: rtpbin may
    # hold its locks here).
    GLib.idle_add(rr_every_second, manager, session)
p.get_by_name('src').connect('new-manager', lambda _s, m: m.connect('new-jitterbuffer', on_jb))
seen = {'frames': 0, 'first': None, 'last': None}
def count(_pad, info):
    seen['frames'] += 1
    pts = info.get_buffer().pts
    if pts != Gst.CLOCK_TIME_NONE:
        if seen['first'] is None or pts < seen['first']:
            seen['first'] = pts
        if seen['last'] is None or pts > seen['last']:
            seen['last'] = pts
    return Gst.PadProbeReturn.OK
p.get_by_name('vsink').get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, count)
end = {}
play(p, secs, end)
span = (seen['last'] - seen['first']) / 1e9 if seen['first'] is not None else 0
out = {'frames': seen['frames'], 'span': span, **end, **({'unlinked': unlinked} if unlinked else {})}
if 0 in jbs:
    s = jbs[0][0].get_property('stats')
    for k in ('num-pushed', 'num-lost'):
        out[k] = s.get_value(k)
finish(p, out)
`;

interface ViewerResult {
  frames: number;
  /** Seconds between the first and last decoded frame's timestamps. */
  span: number;
  error?: string;
  /** rtspsrc pads the viewer could not link (see GST_LINK_BY_MEDIA). */
  unlinked?: string[];
  'num-pushed'?: number;
  'num-lost'?: number;
}

/** One of the server's log lines, its key=value fields (numbers where they are; session ids,
 * longer, stay strings). */
type Fields = Record<string, string | number>;

describe('thinning under 20 % loss, in a private network namespace', () => {
  const suite = namespaceSuite({
    tools: ['nft', 'ffmpeg', '/usr/bin/python3'],
    what: 'a private network namespace (unshare, nsenter, ip, nft)',
    tempPrefix: 'rivulet-thin-',
    // Loss stays loss; thinning with its defaults (on, 10 % over 3 reports, below 5 % over 6).
    config: { retransmit: { enabled: false } },
    // The stored file: the same picture and coding (non-reference B-frames, a keyframe every 2 s).
    prepare: async ({ dir }) => {
      const made = await run(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${FPS}:duration=${FILE_SECS}`, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${FILE_SECS}`,
          '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-x264-params', 'b-pyramid=none', '-g', String(2 * FPS), '-b:v', '400k', '-pix_fmt', 'yuv420p',
          '-c:a', 'aac', '-movflags', '+faststart', '-y', join(dir, 'thin.mp4')],
        { timeoutMs: 180_000 },
      );
      assert.equal(made.code, 0, made.stderr);
    },
    // The live stream: H.264 with non-reference B-frames (x264 marks them nal_ref_idc 0; no
    // B-pyramid, so none is a reference), a keyframe every 2 s, and AAC; over TCP (no loss).
    started: async ({ port, spawn }) => {
      spawn('ffmpeg', [
        '-hide_banner', '-loglevel', 'warning', '-re',
        '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${FPS}`, '-f', 'lavfi', '-i', 'sine=frequency=440',
        '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-x264-params', 'b-pyramid=none', '-g', String(2 * FPS), '-b:v', '400k', '-pix_fmt', 'yuv420p',
        '-c:a', 'aac', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${port}/live/thin`,
      ]);
    },
  });
  const { serverOut, unavailable } = suite;

  /** A viewer of `path` inside the namespace, playing until `finish` (SIGTERM), which gives its
   * JSON line. */
  const viewer = (ports: string, path = 'live/thin'): { finish: () => Promise<ViewerResult> } => {
    let out = '';
    const p = suite.spawn('/usr/bin/python3', ['-c', VIEWER, `rtsp://127.0.0.1:${suite.port}/${path}`, ports, '240'], (d) => (out += d));
    return {
      finish: async () => {
        p.child.kill('SIGTERM');
        await until(() => out.includes('\n') || p.child.exitCode !== null, 20_000, 50);
        return lastJsonLine<ViewerResult>(out, () => `(${p.child.exitCode ?? p.child.signalCode}):\n${p.log().slice(-3000)}`);
      },
    };
  };

  /** The server's log lines with message `msg`, as fields. */
  const lines = (msg: string): Fields[] =>
    serverOut()
      .split('\n')
      .filter((l) => l.includes(` ${msg} `) || l.endsWith(` ${msg}`) || l.includes(`"msg":"${msg}"`))
      .map((l) => Object.fromEntries([...l.matchAll(/"?(\w+)"?[=:]"?([\w.-]+)"?/g)].map((m) => [m[1], /^-?\d{1,12}(\.\d+)?$/.test(m[2]) ? Number(m[2]) : m[2]])));

  /** Both tests: a lossy and a healthy viewer of `path` under the loss rule, the rule removed
   * once the lossy one is down to keyframes only (within `thinMs`), back to everything within
   * `thickenMs()`; the steps, the summary and the healthy viewer checked. `lines` gives the log
   * lines of this test's sessions. */
  const thinAndThicken = async (
    t: TestContext,
    o: { path: string; who: string; lines: (msg: string) => Fields[]; thinMs: number; thickenMs: () => number; before?: () => Promise<unknown> },
  ) => {
    const { lines: ours, who } = o;
    // Whatever an earlier test left (it failed before removing its rule) goes first.
    await suite.ns.nft('delete table inet rivulet_thin').catch(() => undefined);
    await suite.ns.inputRule('rivulet_thin', LOSS_RULE);
    await o.before?.();
    const lossy = viewer(LOSSY, o.path);
    const healthy = viewer(CLEAN, o.path);
    const thinnedTo = (level: number) => ours('viewer thinned').find((l) => l.to === level);
    assert.ok(await until(() => thinnedTo(2) !== undefined, o.thinMs, 200), `the lossy ${who} was thinned to keyframes only:\n${serverOut().slice(-4000)}`);
    const first = thinnedTo(1);
    const session = thinnedTo(2)!.session;
    assert.ok(first && first.session === session && first.from === 0, `first without non-reference frames: ${JSON.stringify(ours('viewer thinned'))}`);
    assert.ok(Number(first.lossPercent) >= 10, `thinned on the loss its reports showed: ${JSON.stringify(first)}`);
    await sleep(3000);
    // The loss stops.
    await suite.ns.nft('delete table inet rivulet_thin');
    const thickened = () => ours('viewer thickened').filter((l) => l.session === session);
    assert.ok(await until(() => thickened().some((l) => l.to === 0), o.thickenMs(), 200), `the ${who} was thickened back:\n${serverOut().slice(-4000)}`);
    await sleep(3000);
    const [l, h] = await Promise.all([lossy.finish(), healthy.finish()]);
    // Sessions end (their summary lines) when the viewers' TEARDOWN or timeout comes; the
    // thinning summary is said when the reader stops (the file player closes).
    await until(() => ours('thinning').some((x) => x.session === session), 20_000, 100);
    const summary = ours('thinning').find((x) => x.session === session);
    const report = { lossy: l, healthy: h, thinned: ours('viewer thinned'), thickened: ours('viewer thickened'), summary };
    t.diagnostic(JSON.stringify(report));

    // The lossy viewer: both steps down, back up in order, counted.
    assert.deepEqual(thickened().map((x) => [x.from, x.to]), [[2, 1], [1, 0]], JSON.stringify(report));
    assert.ok(summary, `a thinning summary for the lossy ${who}: ${JSON.stringify(report)}`);
    assert.equal(summary.thinned, 2);
    assert.equal(summary.thickened, 2);
    assert.ok(Number(summary.framesDropped) > FPS, `frames were not sent while thinned: ${JSON.stringify(summary)}`);
    assert.ok(!l.error && !l.unlinked && l.frames > 0, `the lossy ${who} played: ${JSON.stringify(l)}`);

    // Only the lossy viewer was thinned.
    for (const x of [...ours('viewer thinned'), ...ours('viewer thickened'), ...ours('thinning')]) {
      assert.equal(x.session, session, `only the lossy ${who}'s session is thinned: ${JSON.stringify(x)}`);
    }
    // The healthy viewer lost nothing and decoded every frame of the time it played. Should it
    // not, the server's session lines (what it set up and sent to whom) go with the failure.
    const sessionLog = () => serverOut().split('\n').filter((x) => /session|SETUP|PLAY|udp/i.test(x)).slice(-60).join('\n');
    assert.ok(!h.error && !h.unlinked, `${JSON.stringify(h)}\n${sessionLog()}`);
    assert.ok((h['num-lost'] ?? 0) <= 1, `the healthy ${who} lost nothing: ${JSON.stringify(h)}\n${sessionLog()}`);
    assert.ok(h.span > 10, `the healthy ${who} played through: ${JSON.stringify(h)}\n${sessionLog()}`);
    const expected = Math.round(h.span * FPS) + 1;
    assert.ok(h.frames >= expected - 2, `the healthy ${who} decoded every frame: ${h.frames} of ${expected}`);
    return { lossy: l, healthy: h, report };
  };

  it('thins the lossy viewer step by step, thickens it back when the loss stops, and leaves the healthy one alone', async (t) => {
    if (unavailable(t)) return;
    await thinAndThicken(t, {
      path: 'live/thin',
      who: 'viewer',
      lines,
      thinMs: 90_000,
      thickenMs: () => 90_000,
      // The publisher is on (its first keyframe reached the server) before the viewers come.
      before: () => sleep(3000),
    });
  });

  it('thins a lossy FILE viewer the same way and thickens it back, and leaves a healthy file viewer alone', async (t) => {
    if (unavailable(t)) return;
    // The live test's sessions (if it ran) are not this test's.
    const earlier = new Set(lines('viewer thinned').map((l) => l.session));
    const started = performance.now();
    const { lossy, healthy, report } = await thinAndThicken(t, {
      path: 'thin.mp4',
      who: 'file viewer',
      lines: (msg) => lines(msg).filter((l) => !earlier.has(l.session)),
      thinMs: 60_000,
      // Back to everything before the file ends.
      thickenMs: () => Math.max(FILE_SECS * 1000 - (performance.now() - started) - 5000, 10_000),
    });
    // Thinned (and lossy), it decoded fewer frames a second of what it played than the healthy one.
    const rate = (v: ViewerResult) => v.frames / Math.max(v.span, 1);
    assert.ok(rate(lossy) < rate(healthy), `the thinned file viewer decoded at a lower rate: ${JSON.stringify(report)}`);
  });
});
