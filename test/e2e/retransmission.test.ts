/** Retransmission on request (RFC 4585 generic NACK + RFC 4588 RTX), end to end, in a private
 * network namespace the test makes (nothing leaves its loopback). An nftables rule there drops
 * 5 % of the UDP datagrams arriving at the lossy viewers' ports (RTP and the server's RTCP to
 * them), never the viewers' RTCP to the server, so their NACKs arrive. It drops on input: a drop
 * on output would fail the server's send call (EPERM) instead of losing the packet on the way. Inside: `rivulet serve`, ffmpeg
 * publishing a live stream over TCP, and GStreamer's rtspsrc viewers (a small Python GStreamer
 * program, which reads the jitter buffer's statistics): for a 30 s file and for the live stream,
 * one viewer with retransmission (rtspsrc's default) and one without, both lossy, side by side,
 * plus one viewer on ports without loss. Frames intact are the access units rtph264depay lets
 * through with wait-for-keyframe (after a loss it drops everything up to the next keyframe),
 * decoded by avdec_h264. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GST_PRELUDE } from '../helpers/gst-python.js';
import { lastJsonLine, namespaceSuite } from '../helpers/netns.js';
import { run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';

/** Client ports (rtspsrc port-range): the first two ranges lose 5 % of what is sent to them. */
const LOSSY_RTX = '40000-40099';
const LOSSY_PLAIN = '40100-40199';
const CLEAN = '41000-41099';
const LOSS_RULE = 'udp dport 40000-40199 numgen random mod 100 < 5 drop';

/** A GStreamer viewer: plays `url` over UDP from `ports` for at most `secs` (a file ends sooner),
 * then prints one JSON line: the video jitter buffer's statistics, its SSRC, and the frames
 * decoded. */
const VIEWER = String.raw`
${GST_PRELUDE}
url, rtx, ports, secs = sys.argv[1], sys.argv[2] == '1', sys.argv[3], float(sys.argv[4])
p = Gst.parse_launch(
    'rtspsrc name=src location=%s protocols=udp port-range=%s do-retransmission=%s latency=1000 '
    'rtph264depay name=vdepay wait-for-keyframe=true ! video/x-h264,alignment=au '
    '! avdec_h264 max-threads=1 ! fakesink name=vsink sync=false '
    'fakesink name=asink sync=false' % (url, ports, 'true' if rtx else 'false'))
link_by_media(p.get_by_name('src'), {'video': p.get_by_name('vdepay').get_static_pad('sink'), 'audio': p.get_by_name('asink').get_static_pad('sink')})
jbs = {}
def on_jb(_bin, jb, session, ssrc):
    jbs[session] = (jb, ssrc)
p.get_by_name('src').connect('new-manager', lambda _s, m: m.connect('new-jitterbuffer', on_jb))
frames = [0]
def count(_pad, _info):
    frames[0] += 1
    return Gst.PadProbeReturn.OK
p.get_by_name('vsink').get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, count)
end = {'eos': False}
play(p, secs, end)
out = {'frames': frames[0], **end, **({'unlinked': unlinked} if unlinked else {})}
if 0 in jbs:
    jb, ssrc = jbs[0]
    s = jb.get_property('stats')
    out['ssrc'] = ssrc
    for k in ('num-pushed', 'num-lost', 'num-duplicates', 'rtx-count', 'rtx-success-count'):
        out[k] = s.get_value(k)
finish(p, out)
`;

interface ViewerResult {
  frames: number;
  eos: boolean;
  error?: string;
  /** rtspsrc pads the viewer could not link (see GST_LINK_BY_MEDIA). */
  unlinked?: string[];
  ssrc?: number;
  'num-pushed'?: number;
  'num-lost'?: number;
  'num-duplicates'?: number;
  'rtx-count'?: number;
  'rtx-success-count'?: number;
}

describe('retransmission (NACK + RTX) to GStreamer under 5 % loss, in a private network namespace', () => {
  const suite = namespaceSuite({
    tools: ['nft', 'ffmpeg', '/usr/bin/python3'],
    what: 'a private network namespace (unshare, nsenter, ip, nft)',
    tempPrefix: 'rivulet-rtx-',
    config: { retransmit: { enabled: true, historyMs: 1500 } },
    prepare: async ({ ns, dir }) => {
      await ns.inputRule('rivulet_loss', LOSS_RULE);
      // A 30 s H.264 file (keyframe every 2 s, about 1.5 Mbit/s: some 6 000 packets) and AAC.
      const made = await run(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=30', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=30',
          '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1500k', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', '-y', join(dir, 'clip.mp4')],
        { timeoutMs: 120_000 },
      );
      assert.equal(made.code, 0, made.stderr);
    },
    // The live stream: ffmpeg publishing the same file in a loop, over TCP (no loss on it).
    started: async ({ dir, port, spawn }) => {
      spawn('ffmpeg', ['-hide_banner', '-loglevel', 'warning', '-re', '-stream_loop', '-1', '-i', join(dir, 'clip.mp4'), '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${port}/live/rtx`]);
    },
  });
  const { serverOut, unavailable } = suite;

  /** One viewer inside the namespace; its JSON line. */
  const view = async (path: string, rtx: boolean, ports: string, secs: number): Promise<ViewerResult> => {
    const r = await suite.ns.run('/usr/bin/python3', ['-c', VIEWER, `rtsp://127.0.0.1:${suite.port}/${path}`, rtx ? '1' : '0', ports, String(secs)], { timeoutMs: (secs + 60) * 1000 });
    return lastJsonLine<ViewerResult>(r.stdout, () => `(${r.code ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  };

  /** The server's per-viewer retransmission log line for an SSRC, as numbers. */
  const serverCounts = (ssrc: number | undefined): Record<string, number> | undefined => {
    const line = serverOut().split('\n').find((l) => l.includes(' retransmission ') && l.includes(` ssrc=${ssrc} `));
    if (!line) return undefined;
    return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  };

  /** Recovered share of the packets lost on the way (retransmitted ones that arrived in time). */
  const recovered = (v: ViewerResult): number => {
    const ok = v['rtx-success-count'] ?? 0;
    const lost = v['num-lost'] ?? 0;
    return ok + lost === 0 ? 1 : ok / (ok + lost);
  };

  /** A viewer without loss: no packet lost, no RTX received (used or duplicate), and, where the
   * server's line for its SSRC is known, none sent. A loaded machine may make a packet or two
   * late enough to be asked for (the other viewers' loss runs beside it): up to SPURIOUS. */
  const SPURIOUS = 3;
  const assertNoRetransmission = (v: ViewerResult, counts: Record<string, number> | undefined): void => {
    assert.ok((v['num-lost'] ?? 0) <= 1, `nothing lost without loss (the last packet may be pending at the end): ${JSON.stringify(v)}`);
    assert.ok((v['rtx-success-count'] ?? 0) <= SPURIOUS, `no retransmission arrived: ${JSON.stringify(v)}`);
    assert.ok((v['num-duplicates'] ?? 0) <= SPURIOUS, `no retransmission arrived as a duplicate: ${JSON.stringify(v)}`);
    assert.ok((counts?.resent ?? 0) <= SPURIOUS, `the server resent nothing: ${JSON.stringify(counts)}`);
  };

  it('a 30 s file: NACKed packets come back, more frames decode intact than without, none asked for without loss', async (t) => {
    if (unavailable(t)) return;
    const [withRtx, without, clean] = await Promise.all([
      view('clip.mp4', true, LOSSY_RTX, 45),
      view('clip.mp4', false, LOSSY_PLAIN, 45),
      view('clip.mp4', true, CLEAN, 45),
    ]);
    // Session ends are logged when their BYE goes out (the end of the file).
    await until(() => serverCounts(withRtx.ssrc) !== undefined, 10_000, 100);
    const counts = serverCounts(withRtx.ssrc);
    const summary = { withRtx, without, clean, server: counts, recovered: recovered(withRtx) };
    t.diagnostic(JSON.stringify(summary));
    for (const v of [withRtx, without, clean]) assert.ok(v.eos && !v.error && !v.unlinked, `played to the end: ${JSON.stringify(v)}`);
    assert.ok((without['num-lost'] ?? 0) > 50, `5 % of some 4 500 packets were lost without retransmission: ${JSON.stringify(without)}`);
    assert.ok((withRtx['rtx-count'] ?? 0) > 0 && counts && counts.nacks > 0 && counts.resent > 0, `the viewer asked and the server resent: ${JSON.stringify(summary)}`);
    assert.ok(recovered(withRtx) >= 0.9, `at least 90 % of the lost packets recovered: ${JSON.stringify(summary)}`);
    assert.ok(withRtx.frames >= without.frames + 50, `clearly more frames intact with retransmission: ${withRtx.frames} vs ${without.frames}`);
    assert.ok(withRtx.frames >= 700, `nearly all 750 frames intact: ${withRtx.frames}`);
    // Without loss nothing is resent. (rtspsrc may still ask: it asks for the next packet when it
    // is later than the packet spacing predicts, and the server, which has not sent it yet,
    // refuses: counted as not kept.)
    assertNoRetransmission(clean, serverCounts(clean.ssrc));
  });

  it('a live stream: the same, with the shared live packets resent', async (t) => {
    if (unavailable(t)) return;
    await sleep(500);
    const [withRtx, without, clean] = await Promise.all([
      view('live/rtx', true, LOSSY_RTX, 20),
      view('live/rtx', false, LOSSY_PLAIN, 20),
      view('live/rtx', true, CLEAN, 20),
    ]);
    const summary = { withRtx, without, clean, recovered: recovered(withRtx) };
    t.diagnostic(JSON.stringify(summary));
    // A viewer that got (nearly) nothing: the server's last lines say what it saw of the sessions.
    for (const v of [withRtx, without, clean]) assert.ok(!v.error && !v.unlinked && v.frames > 0, `played: ${JSON.stringify(v)}\nserver log (end):\n${serverOut().slice(-4000)}`);
    assert.ok((without['num-lost'] ?? 0) > 20, `packets were lost without retransmission: ${JSON.stringify(without)}`);
    assert.ok((withRtx['rtx-success-count'] ?? 0) > 0, `retransmissions arrived: ${JSON.stringify(summary)}`);
    assert.ok(recovered(withRtx) >= 0.9, `at least 90 % of the lost packets recovered: ${JSON.stringify(summary)}`);
    assert.ok(withRtx.frames >= without.frames + 30, `clearly more frames intact with retransmission: ${withRtx.frames} vs ${without.frames}`);
    assertNoRetransmission(clean, undefined);
  });
});
