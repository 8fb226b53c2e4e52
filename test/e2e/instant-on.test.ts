/** Instant-On (issue 16; DSS's overbuffering): after a PLAY a file viewer's first seconds are sent
 * faster than real time (vod.overbufferRate, up to vod.maxSendAheadTime ahead), over UDP and TCP.
 * Asserted: media arrives faster than real time over the first seconds with it, at real time
 * without (a slow machine only sends less). Measured and printed, not asserted (timing): ffmpeg's
 * time from sending PLAY to its first decoded picture, before (overbufferRate 1) and after. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { makeClip } from '../helpers/media.js';
import { RawRtspClient, sleep, udpReceiver, type UdpReceiver } from '../helpers/rtsp-client.js';
import { peerAvailable, startGstPeer, type GstPeer } from '../helpers/gst-peer.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { readRtpHeader } from '../../src/rtp/packet.js';

const CLIP = 'start.mp4';
const CLIP_S = 12;
const SEND_AHEAD = 0.25;
/** Wall seconds watched after PLAY: overbuffering at rate 2 is still growing the lead then. */
const WATCH_S = 1.5;
const RUNS = 3;

/** Video media seconds that arrived by `WATCH_S` after the PLAY answer, as the packets' RTP
 * timestamps say (from the RTP-Info rtptime), over UDP or TCP: a scripted viewer of track 1. */
async function mediaAhead(srv: TestServer, transport: 'udp' | 'tcp'): Promise<{ media: number; wall: number }> {
  const c = await RawRtspClient.connect(srv.port);
  let udp: UdpReceiver | undefined;
  const arrivals: { at: number; ts: number }[] = [];
  try {
    const url = srv.url(CLIP);
    assert.equal((await c.request('DESCRIBE', url, { Accept: 'application/sdp' })).status, 200);
    if (transport === 'udp') {
      udp = await udpReceiver();
      udp.rtp.on('message', (m: Buffer) => arrivals.push({ at: performance.now(), ts: readRtpHeader(m)!.timestamp }));
    } else {
      // After the client's own parser (listeners run in order): the frames it just added.
      let seen = 0;
      c.socket.on('data', () => {
        for (; seen < c.frames.length; seen++) {
          const f = c.frames[seen];
          if (f.channel === 0) arrivals.push({ at: performance.now(), ts: readRtpHeader(f.payload)!.timestamp });
        }
      });
    }
    const transportSpec = udp ? `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtpPort + 1}` : 'RTP/AVP/TCP;unicast;interleaved=0-1';
    const setup = await c.request('SETUP', `${url}/trackID=1`, { Transport: transportSpec });
    assert.equal(setup.status, 200);
    const session = (setup.headers.get('session') ?? '').split(';')[0];
    const play = await c.request('PLAY', url, { Session: session, Range: 'npt=0-' });
    const playedAt = performance.now();
    assert.equal(play.status, 200);
    const rtptime = Number(/rtptime=(\d+)/.exec(play.headers.get('rtp-info') ?? '')?.[1]);
    await sleep(WATCH_S * 1000);
    const by = playedAt + WATCH_S * 1000;
    const media = Math.max(0, ...arrivals.filter((a) => a.at <= by).map((a) => ((a.ts - rtptime) >>> 0) / 90000));
    return { media, wall: WATCH_S };
  } finally {
    c.close();
    udp?.close();
  }
}

/** ffmpeg's time from sending PLAY (its trace log) to its first decoded picture, ms. */
function playToFirstPicture(url: string, transport: 'udp' | 'tcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'trace', '-rtsp_transport', transport, '-i', url, '-map', '0:v', '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    let playAt: number | undefined;
    let firstAt: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const now = performance.now();
      // Looked for in the new output with the tail of the old (a line cut between two reads),
      // before the tail is trimmed: one read of trace output may hold more than the tail keeps.
      const seen = text + d;
      text = seen.slice(-4096);
      if (playAt === undefined && /^PLAY rtsp:/m.test(seen)) playAt = now;
      if (playAt !== undefined && firstAt === undefined && /Parsed_showinfo_\d+ @ [^\]]+\] n:\s*0 /.test(seen)) firstAt = now;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (playAt === undefined || firstAt === undefined) reject(new Error(`ffmpeg over ${transport} decoded nothing (exit ${code}): ${text.slice(-1500)}`));
      else resolve(firstAt - playAt);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('Instant-On: a file viewer’s first seconds faster than real time', () => {
  const media = tempDir('rivulet-instant-');
  let off: TestServer;
  let on: TestServer;
  /** gst-rtsp-server serving the same clip (its /file), the reference peer of the figures. */
  let peer: GstPeer | undefined;

  before(async () => {
    await makeClip(media.dir, { name: CLIP, video: 'testsrc', hz: 440, seconds: CLIP_S });
    if (peerAvailable()) peer = await startGstPeer(media.dir, ['--file', CLIP]);
    off = await startServer({ mediaDir: media.dir, sets: ['vod.overbufferRate=1', `vod.sendAhead=${SEND_AHEAD}`] });
    // The defaults: twice real time up to 2 s ahead.
    on = await startServer({ mediaDir: media.dir, sets: [`vod.sendAhead=${SEND_AHEAD}`] });
  });
  after(async () => {
    await peer?.stop();
    await off?.close();
    await on?.close();
    media.cleanup();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`over ${transport}: media arrives faster than real time with overbuffering, at real time without`, async () => {
      const without = await mediaAhead(off, transport);
      const withIt = await mediaAhead(on, transport);
      console.log(`${transport}: in the first ${WATCH_S} s after PLAY, ${without.media.toFixed(2)} s of media without overbuffering, ${withIt.media.toFixed(2)} s with`);
      // Without: real time plus the send-ahead. With: the lead grows by a second per second from
      // the send-ahead (to 1.75 s at 1.5 s), so 3.25 s; a slow machine sends less, not more, so
      // only the lower bound could suffer from it, and it has a wide margin.
      assert.ok(without.media <= WATCH_S + SEND_AHEAD + 0.1, `without overbuffering: ${without.media.toFixed(2)} s`);
      assert.ok(withIt.media >= WATCH_S + 0.8, `with overbuffering: ${withIt.media.toFixed(2)} s of media in ${WATCH_S} s`);
    });
  }

  it('ffmpeg: PLAY → first decoded picture over UDP and TCP, before and after (printed)', { timeout: 120_000 }, async () => {
    const rows: string[] = [];
    const figures: Record<string, number> = {};
    for (const transport of ['udp', 'tcp'] as const) {
      const servers: [string, string][] = [
        ['overbufferRate 1', off.url(CLIP)],
        ['overbufferRate 2', on.url(CLIP)],
        ...(peer ? [['gst-rtsp-server', peer.url('/file')] as [string, string]] : []),
      ];
      for (const [name, url] of servers) {
        const runs: number[] = [];
        for (let i = 0; i < RUNS; i++) runs.push(await playToFirstPicture(url, transport));
        figures[`${transport} ${name}`] = median(runs);
        rows.push(`| ${transport.padEnd(9)} | ${name.padEnd(16)} | ${median(runs).toFixed(0).padStart(9)} | ${runs.map((x) => x.toFixed(0)).join(', ')}`);
      }
    }
    console.log(['| transport | server           | median ms | runs (ms)', '|-----------|------------------|-----------|----------', ...rows].join('\n'));
    for (const v of Object.values(figures)) assert.ok(Number.isFinite(v) && v > 0, 'ffmpeg decoded a picture every time');
  });
});
