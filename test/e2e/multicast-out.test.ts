/** Multicast out, end to end, in a private network namespace the test makes (only its own
 * loopback, with a multicast route on it: nothing leaves 127.0.0.1). Inside it: a `rivulet serve`
 * child, ffmpeg publishing a live stream, two ffmpeg viewers (`-rtsp_transport udp_multicast`)
 * and a GStreamer one (`rtspsrc protocols=udp-mcast`) at once, and a plain listener on the group
 * that checks every RTP packet arrives once: one send per group, whatever the viewers. Ports and
 * groups are fixed: the namespace is the test's alone. */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { namespaceSuite } from '../helpers/netns.js';
import { loopedInput } from '../helpers/rtp-sender.js';
import { until } from '../helpers/rtsp-client.js';

const CLIP = 'h264-aac-faststart.mp4';
/** The pool's first address and port: the first stream's group. */
const GROUP = '239.255.42.16';
const PORT = 5004;
const FRAMES = 75;

/** Joins the group on the video port and prints, every half second, per SSRC the RTP packets
 * heard and how many repeated a sequence number already heard from it. (A client may send a
 * stray packet of its own to the group: only the stream's SSRC, the one heard most, counts.) */
const LISTENER = `
const dgram = require('node:dgram');
const [group, port] = process.argv.slice(1);
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const seen = new Map();
s.on('message', (m) => {
  if (m.length < 12 || m[0] >> 6 !== 2) return;
  const ssrc = m.readUInt32BE(8);
  let e = seen.get(ssrc);
  if (!e) seen.set(ssrc, (e = { seqs: new Set(), packets: 0, dupes: 0 }));
  if (seen.size > 100) return;
  const seq = m.readUInt16BE(2);
  e.packets++;
  if (e.seqs.has(seq)) e.dupes++;
  else e.seqs.add(seq);
});
s.bind(Number(port), group, () => s.addMembership(group, '127.0.0.1'));
setInterval(() => console.log(JSON.stringify([...seen.values()].map((e) => ({ packets: e.packets, dupes: e.dupes })))), 500);
`;

describe('multicast out to RTSP viewers in a private network namespace', () => {
  const suite = namespaceSuite({
    tools: ['ffmpeg', 'gst-launch-1.0'],
    what: 'a private network namespace (unshare, nsenter, ip from util-linux and iproute2)',
    tempPrefix: 'rivulet-multicast-out-',
    config: { multicast: { groups: [`${GROUP}/28`], portMin: PORT, portMax: PORT + 99, ttl: 1, linger: 3 } },
    prepare: async ({ dir }) => copyFileSync(await fixture(CLIP), join(dir, CLIP)),
    started: async (s) => {
      s.spawn('ffmpeg', [...loopedInput(await fixture(CLIP)), '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${s.port}/live/mc`]);
      assert.ok(await until(() => /broadcast started/.test(s.serverOut()), 30_000, 50), `the broadcast did not start:\n${s.serverOut().slice(-3000)}`);
    },
  });
  const { serverOut, unavailable } = suite;

  /** ffmpeg inside the namespace decodes FRAMES video frames of `url` by multicast; its
   * log (trace: RTSP lines) holds the SETUP replies. */
  const ffmpegViewer = async (url: string) => {
    const r = await suite.ns.run('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'trace', '-rtsp_transport', 'udp_multicast', '-analyzeduration', '20000000', '-i', url, '-map', '0:v', '-frames:v', String(FRAMES), '-f', 'null', '-'], { timeoutMs: 60_000 });
    const frames = r.code === 0 ? Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0) : 0;
    const transports = [...r.stderr.matchAll(/line='(Transport: [^']*)'/g)].map((m) => m[1]);
    return { frames, transports, log: r.stderr };
  };

  /** GStreamer inside the namespace decodes FRAMES video frames of `url` by multicast. */
  const gstViewer = async (url: string) => {
    const r = await suite.ns.run('gst-launch-1.0', [
      'rtspsrc', `location=${url}`, 'protocols=udp-mcast', 'latency=200', 'name=src',
      // The video pad straight into the depayloader, whose caps refuse the audio pad. Not through a
      // caps filter (`src. ! application/x-rtp,media=video ! ...`): gst-launch then holds the
      // element after it while it tries each new pad, and rtspsrc adds its audio and video pads
      // from two threads at once, so the video pad can find it taken and stay unlinked.
      'src.', '!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264', '!',
      // identity passes eos-after - 1 buffers, then ends the stream.
      'identity', `eos-after=${FRAMES + 1}`, '!', 'checksumsink',
    ], { timeoutMs: 60_000, env: { ...process.env, GST_DEBUG: '0' } });
    const frames = r.stdout.split('\n').filter((l) => /^\d+:\d\d:\d\d\.\d+ [0-9a-f]{40}$/.test(l)).length;
    return { frames, log: r.stdout + r.stderr, code: r.code };
  };

  it('two ffmpeg viewers and a GStreamer viewer decode one send to the group; it stops after its last viewer and the linger', async (t) => {
    if (unavailable(t)) return;
    let heard: { packets: number; dupes: number }[] = [];
    suite.spawn(process.execPath, ['-e', LISTENER, GROUP, String(PORT)], (d) => {
      const last = d.trim().split('\n').pop();
      if (last) heard = JSON.parse(last) as typeof heard;
    });
    const url = `rtsp://127.0.0.1:${suite.port}/live/mc`;
    // The ffmpeg viewers together, then GStreamer on the same group: receivers' RTCP goes to the
    // group too, and a GStreamer receiver starting sends packets there that ffmpeg takes for a BYE.
    const [a, b] = await Promise.all([ffmpegViewer(url), ffmpegViewer(url)]);
    const g = await gstViewer(url);
    const logs = () => `ffmpeg:\n${a.log.slice(-1500)}\ngst:\n${g.log.slice(-1500)}\nserver:\n${serverOut().slice(-2000)}`;
    assert.equal(a.frames, FRAMES, logs());
    assert.equal(b.frames, FRAMES, `${b.log.slice(-1500)}`);
    assert.equal(g.frames, FRAMES, logs());
    // Both tracks' replies name the group, its ports and TTL; both ffmpeg viewers got the same.
    const expected = [
      `Transport: RTP/AVP;multicast;destination=${GROUP};ttl=1;port=${PORT}-${PORT + 1}`,
      `Transport: RTP/AVP;multicast;destination=${GROUP};ttl=1;port=${PORT + 2}-${PORT + 3}`,
    ];
    assert.deepEqual(a.transports.map((l) => l.replace(/;ssrc=[0-9A-F]+;mode="PLAY"$/, '')), expected, a.log.slice(-3000));
    assert.deepEqual(b.transports, a.transports);
    // One group for the stream, sending once: no packet reached the group twice.
    assert.equal(serverOut().match(/multicast group \S+ port \d+ given to live\/mc/g)?.length, 1, serverOut().slice(-3000));
    const stream = heard.reduce((a, e) => (e.packets > a.packets ? e : a), { packets: 0, dupes: 0 });
    assert.ok(stream.packets > FRAMES, `the listener on the group heard ${JSON.stringify(heard)}`);
    assert.equal(stream.dupes, 0, `${stream.dupes} of ${stream.packets} packets reached the group more than once`);
    // Every viewer has left: the group stops after its linger (3 s) and gives its address back.
    assert.ok(await until(() => /multicast group 239\.255\.42\.16 port 5004 of live\/mc released/.test(serverOut()), 20_000, 100), serverOut().slice(-3000));
  });

  it('refuses multicast for a file with 461 and says why', async (t) => {
    if (unavailable(t)) return;
    const r = await suite.ns.run('ffmpeg', ['-hide_banner', '-loglevel', 'debug', '-rtsp_transport', 'udp_multicast', '-i', `rtsp://127.0.0.1:${suite.port}/${CLIP}`, '-f', 'null', '-'], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /461/, r.stderr.slice(-2000));
    assert.match(serverOut(), /multicast delivery is only offered for live streams/);
  });
});
