import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture } from '../../test/helpers/fixtures.js';
import { silentLogger } from '../logging/index.js';
import { createSampleReader, getMovie } from '../media/mp4/index.js';
import type { Mp4Movie, SampleInfo, SampleReader } from '../media/mp4/types.js';
import { h264NonReference } from '../readers/thinning.js';
import { buildReceiverReport, parseRtcpCompound, type RtcpBye, type RtcpSenderReport } from '../rtcp/index.js';
import { readRtpHeader, type RtpHeader } from '../rtp/packet.js';
import { seqAdd, tsDiff } from '../rtp/seq.js';
import type { RtpSink } from '../transport/types.js';
import {
  fileOutput,
  FilePlayer,
  InvalidRangeError,
  type FilePlayerOptions,
  type PlayerTrack,
} from './file-player.js';
import { describeMovie } from './movie-stream.js';
import type { VodPresentation } from './types.js';
import { PacketCache } from './packet-cache.js';
import { Pacer } from './pacer.js';

const AAC_FRAME = 1024;
const SEND_AHEAD = 0.25;

interface Sent {
  header: RtpHeader;
  payload: Buffer;
  /** performance.now() when the player handed it over. */
  at: number;
}

/** An RtpSink that records every packet with its parsed header. */
class RecordingSink implements RtpSink {
  readonly kind = 'udp' as const;
  readonly backlog = 0;
  readonly rtp: Sent[] = [];
  readonly rtcp: Buffer[] = [];
  sendRtp(packet: Buffer): void {
    const header = readRtpHeader(packet);
    assert.ok(header, 'the player sends well-formed RTP');
    this.rtp.push({ header, payload: packet.subarray(header.payloadOffset), at: performance.now() });
  }
  sendRtcp(packet: Buffer): void {
    this.rtcp.push(packet);
  }
  close(): void {}
}

/** A SampleReader that counts close() calls and, like a file cut short, fails for samples stored
 * at or after `failOffset`. */
class SpyReader implements SampleReader {
  closed = 0;
  reads = 0;
  failOffset = Infinity;
  constructor(readonly inner: SampleReader) {}
  read(info: SampleInfo): Promise<Buffer> {
    this.reads++;
    if (info.offset >= this.failOffset) return Promise.reject(new Error('unexpected end of file'));
    return this.inner.read(info);
  }
  async close(): Promise<void> {
    this.closed++;
    await this.inner.close();
  }
}

interface Rig {
  player: FilePlayer;
  pacer: Pacer;
  reader: SpyReader;
  video: { sink: RecordingSink; output: PlayerTrack['output'] };
  audio: { sink: RecordingSink; output: PlayerTrack['output'] };
}

let movie: Mp4Movie;
let pres: VodPresentation;
const rigs: Rig[] = [];

function rig(opts: Partial<FilePlayerOptions> = {}): Rig {
  const pacer = new Pacer();
  const reader = new SpyReader(createSampleReader(movie.path));
  const lanes = pres.tracks.map((vod) => {
    const sink = new RecordingSink();
    return { vod, sink, output: fileOutput(vod, sink, 'test@rivulet') };
  });
  const player = new FilePlayer({
    tracks: lanes.map(({ vod, output }) => ({ vod, output })),
    duration: movie.duration,
    reader,
    pacer,
    log: silentLogger(),
    sendAhead: SEND_AHEAD,
    ...opts,
  });
  const video = lanes.find((l) => l.vod.kind === 'video')!;
  const audio = lanes.find((l) => l.vod.kind === 'audio')!;
  const r = { player, pacer, reader, video, audio };
  rigs.push(r);
  return r;
}

/** Polls until `cond` holds, failing after `ms`. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) assert.fail('condition not reached in time');
    await sleep(5);
  }
}

/** NAL unit types in an H.264 RTP payload (single NAL, STAP-A contents, FU-A original type). */
function nalTypes(p: Buffer): number[] {
  const t = p[0] & 0x1f;
  if (t === 28) return [p[1] & 0x1f];
  if (t !== 24) return [t];
  const out: number[] = [];
  for (let off = 1; off + 2 < p.length;) {
    const len = p.readUInt16BE(off);
    out.push(p[off + 2] & 0x1f);
    off += 2 + len;
  }
  return out;
}

function rtcpTypes(buf: Buffer): string[] {
  return parseRtcpCompound(buf).map((p) => p.type);
}

before(async () => {
  // 10 s, 320x240 H.264 baseline at 25 fps with a keyframe every 2 s, AAC 44.1 kHz stereo.
  movie = await getMovie(await fixture('h264-aac-faststart.mp4'));
  pres = describeMovie(movie);
  assert.deepEqual(
    pres.tracks.map((t) => t.kind),
    ['video', 'audio'],
  );
});

after(() => {
  // Whatever a failed test left running must not keep the process alive.
  for (const r of rigs) {
    r.player.close();
    r.pacer.stop();
  }
});

describe('FilePlayer', () => {
  it('starts at the keyframe at or before the requested time, and RTP-Info matches the first packets', async () => {
    const { player, video, audio } = rig();
    const seqBefore = [video.output.nextSeq, audio.output.nextSeq];
    const r = player.play({ start: 5 });
    assert.equal(r.start, 4, 'keyframes are at 0, 2, 4, ... s');
    assert.equal(r.end, 10);
    assert.equal(player.state, 'playing');
    assert.deepEqual(r.rtpInfo, [
      { trackId: 1, seq: seqBefore[0], rtptime: video.output.clock.rtpTimeOf(4) },
      { trackId: 2, seq: seqBefore[1], rtptime: audio.output.clock.rtpTimeOf(4) },
    ]);
    await until(() => video.sink.rtp.length > 0 && audio.sink.rtp.length > 0);
    player.close();

    const v = video.sink.rtp[0].header;
    assert.equal(v.sequence, r.rtpInfo[0].seq);
    assert.equal(v.timestamp, r.rtpInfo[0].rtptime);
    assert.equal(v.payloadType, 96);
    assert.equal(v.ssrc, video.output.ssrc);
    // The first access unit (up to the marker) contains an IDR slice.
    const firstAu = video.sink.rtp.slice(0, video.sink.rtp.findIndex((p) => p.header.marker) + 1);
    assert.ok(firstAu.length > 0, 'the first access unit was completed');
    assert.ok(
      firstAu.some((p) => nalTypes(p.payload).includes(5)),
      'the stream starts on an IDR picture',
    );

    const a = audio.sink.rtp[0].header;
    assert.equal(a.sequence, r.rtpInfo[1].seq);
    // The first audio frame is the one playing at the start instant: it begins at or up to one
    // AAC frame before the video start.
    const lead = tsDiff(r.rtpInfo[1].rtptime, a.timestamp);
    assert.ok(lead >= 0 && lead < AAC_FRAME, `audio starts ${lead} ticks before the video`);
  });

  it('sends a sender report for the start with its first packets, nothing before play returns (the PLAY response goes first)', async () => {
    const { player, video, audio } = rig();
    player.play({ start: 5 });
    assert.deepEqual([video.sink.rtcp.length, video.sink.rtp.length, audio.sink.rtcp.length], [0, 0, 0], 'nothing sent by play() itself');
    await until(() => video.sink.rtcp.length > 0 && audio.sink.rtcp.length > 0, 2000);
    player.close();
    for (const t of [video, audio]) {
      const sr = parseRtcpCompound(t.sink.rtcp[0])[0] as RtcpSenderReport;
      assert.equal(sr.type, 'sr');
      assert.equal(sr.ssrc, t.output.ssrc);
      // The start (the keyframe at 4 s), a pacer tick or so later.
      const ahead = ((sr.rtpTimestamp - t.output.clock.rtpTimeOf(4)) >>> 0) / t.output.clock.clockRate;
      assert.ok(ahead < 0.5, `SR ${ahead.toFixed(3)} s after the start`);
    }
  });

  it('sends a play\'s first samples as soon as they are read, not at the pacer\'s next tick; still nothing before play returns', async () => {
    const pacer = new Pacer(60_000);
    const { player, video, audio } = rig({ pacer });
    const t0 = performance.now();
    player.play({ start: 5 });
    assert.deepEqual([video.sink.rtp.length, audio.sink.rtp.length], [0, 0], 'nothing sent by play() itself');
    await until(() => video.sink.rtp.length > 0 && audio.sink.rtp.length > 0, 2000);
    const first = Math.min(video.sink.rtp[0].at, audio.sink.rtp[0].at) - t0;
    player.close();
    pacer.stop();
    assert.ok(first < 1000, `first packets ${first.toFixed(0)} ms after play, long before the minute-long tick`);
    assert.ok(video.sink.rtcp.length > 0, 'the first sender report with them');
  });

  it('plays a range in real time, then sends BYE and emits end', async () => {
    const { player, pacer, video, audio } = rig();
    const ends: string[] = [];
    player.on('end', (reason) => ends.push(reason));
    const started = performance.now();
    const r = player.play({ start: 2, end: 3 });
    assert.deepEqual([r.start, r.end], [2, 3]);
    await until(() => ends.length > 0, 4000);
    assert.deepEqual(ends, ['end of stream']);
    const elapsed = (performance.now() - started) / 1000;
    assert.equal(player.state, 'ended');
    assert.equal(pacer.size, 0, 'the player left the pacer');
    // One second of media, of which the last SEND_AHEAD seconds may go early.
    assert.ok(elapsed >= 1 - SEND_AHEAD - 0.1 && elapsed < 2.5, `took ${elapsed.toFixed(2)} s`);

    // Exactly the 25 frames from 2.00 s to 2.96 s.
    const frames = [...new Set(video.sink.rtp.map((p) => p.header.timestamp))];
    assert.deepEqual(
      frames,
      Array.from({ length: 25 }, (_, i) => video.output.clock.rtpTimeOf(2 + i * 0.04)),
    );
    assert.ok(video.sink.rtp[video.sink.rtp.length - 1].header.marker, 'the last frame is complete');
    // Audio covers the same second: from the frame playing at 2 s to the last starting before 3 s.
    const aTs = audio.sink.rtp.map((p) => p.header.timestamp);
    const aStart = audio.output.clock.rtpTimeOf(2);
    assert.ok(tsDiff(aStart, aTs[0]) >= 0 && tsDiff(aStart, aTs[0]) < AAC_FRAME);
    assert.ok(tsDiff(audio.output.clock.rtpTimeOf(3), aTs[aTs.length - 1]) > 0);
    assert.ok(tsDiff(audio.output.clock.rtpTimeOf(3), aTs[aTs.length - 1]) <= AAC_FRAME);
    for (let i = 1; i < aTs.length; i++) assert.equal(tsDiff(aTs[i], aTs[i - 1]), AAC_FRAME, 'no audio gap');

    for (const t of [video, audio]) {
      const packets = parseRtcpCompound(t.sink.rtcp[t.sink.rtcp.length - 1]);
      const bye = packets.find((p): p is RtcpBye => p.type === 'bye');
      assert.ok(bye, 'the last RTCP packet carries a BYE');
      assert.deepEqual(bye.ssrcs, [t.output.ssrc]);
      assert.equal(bye.reason, 'end of stream');
    }
    const counts = [video.sink.rtp.length, audio.sink.rtp.length, video.sink.rtcp.length];
    await sleep(100);
    assert.deepEqual(
      [video.sink.rtp.length, audio.sink.rtp.length, video.sink.rtcp.length],
      counts,
      'silence after the end',
    );
    assert.equal(player.position(), 3);
  });

  it('viewers sharing a PacketCache send the same payloads, and a later viewer reads nothing the first made', async () => {
    const payloadsOf = (r: Rig) => [r.video.sink.rtp, r.audio.sink.rtp].map((list) => list.map((p) => `${p.header.marker ? 1 : 0}:${p.payload.toString('hex')}`));
    const alone = rig();
    const packets = new PacketCache({ maxBytes: 64 << 20 });
    const first = rig({ packets });
    const ends: string[] = [];
    for (const r of [alone, first]) {
      r.player.on('end', (reason) => ends.push(reason));
      r.player.play({ start: 2, end: 3 });
    }
    await until(() => ends.length === 2, 4000);
    const second = rig({ packets });
    second.player.on('end', (reason) => ends.push(reason));
    second.player.play({ start: 2, end: 3 });
    await until(() => ends.length === 3, 4000);
    assert.deepEqual(payloadsOf(first), payloadsOf(alone), 'sharing changes no byte');
    assert.deepEqual(payloadsOf(second), payloadsOf(alone), 'shared payloads are sent as they were made');
    assert.ok(first.reader.reads > 0);
    assert.equal(second.reader.reads, 0, 'every sample was in the cache: nothing read');
    // Each viewer's own header: its SSRC and its sequence numbers from RTP-Info on.
    assert.notEqual(second.video.sink.rtp[0].header.ssrc, first.video.sink.rtp[0].header.ssrc);
    assert.ok(packets.stats().hits > 0);
  });

  it('pause stops the packets; play without start resumes on the same timeline', async () => {
    const { player, pacer, video, audio } = rig();
    player.play({ start: 0 });
    await until(() => player.position() >= 0.5);
    const pausedAt = player.pause();
    assert.equal(player.state, 'paused');
    assert.equal(pacer.size, 0);
    assert.ok(pausedAt >= 0.5 && pausedAt < 1.5, `paused at ${pausedAt}`);
    assert.equal(player.position(), pausedAt, 'the position holds while paused');
    const lastVideo = video.sink.rtp[video.sink.rtp.length - 1].header;
    const lastAudio = audio.sink.rtp[audio.sink.rtp.length - 1].header;
    const counts = [video.sink.rtp.length, audio.sink.rtp.length];
    await sleep(300);
    assert.deepEqual([video.sink.rtp.length, audio.sink.rtp.length], counts, 'nothing is sent while paused');
    assert.equal(player.pause(), pausedAt, 'pausing again changes nothing');

    const r = player.play({});
    assert.equal(player.state, 'playing');
    assert.equal(r.start, pausedAt);
    assert.deepEqual(r.rtpInfo, [
      { trackId: 1, seq: seqAdd(lastVideo.sequence, 1), rtptime: video.output.clock.rtpTimeOf(pausedAt) },
      { trackId: 2, seq: seqAdd(lastAudio.sequence, 1), rtptime: audio.output.clock.rtpTimeOf(pausedAt) },
    ]);
    await until(() => video.sink.rtp.length > counts[0] && audio.sink.rtp.length > counts[1]);
    player.close();

    const v = video.sink.rtp[counts[0]].header;
    assert.equal(v.sequence, seqAdd(lastVideo.sequence, 1), 'video sequence numbers continue');
    assert.equal(tsDiff(v.timestamp, lastVideo.timestamp), 3600, 'the next frame, 40 ms on');
    // What was sent ahead before the pause is not repeated, so the next frame lies within the
    // send-ahead window after the pause instant.
    const vAhead = tsDiff(v.timestamp, video.output.clock.rtpTimeOf(pausedAt)) / 90000;
    assert.ok(
      vAhead > 0 && vAhead <= SEND_AHEAD + 0.05,
      `next video frame ${vAhead.toFixed(3)} s after the pause`,
    );

    const a = audio.sink.rtp[counts[1]].header;
    assert.equal(a.sequence, seqAdd(lastAudio.sequence, 1), 'audio sequence numbers continue');
    assert.equal(tsDiff(a.timestamp, lastAudio.timestamp), AAC_FRAME, 'the next AAC frame');
    const aAhead = tsDiff(a.timestamp, audio.output.clock.rtpTimeOf(pausedAt)) / 44100;
    assert.ok(
      aAhead > -AAC_FRAME / 44100 && aAhead <= SEND_AHEAD + 0.05,
      `next audio ${aAhead.toFixed(3)} s after the pause`,
    );
  });

  it('ends the stream with BYE when the file cannot be read further', async () => {
    const { player, pacer, reader, video, audio } = rig();
    // Samples stored after the video frame at 0.4 s are unreadable.
    reader.failOffset = pres.tracks[0].mp4.sample(10).offset;
    const ends: string[] = [];
    player.on('end', (reason) => ends.push(reason));
    player.play({ start: 0 });
    await until(() => ends.length > 0);
    assert.deepEqual(ends, ['read error']);
    assert.equal(player.state, 'ended');
    assert.equal(pacer.size, 0);
    for (const t of [video, audio]) {
      const bye = parseRtcpCompound(t.sink.rtcp[t.sink.rtcp.length - 1]).find(
        (p): p is RtcpBye => p.type === 'bye',
      );
      assert.equal(bye?.reason, 'read error');
    }
    const counts = [video.sink.rtp.length, audio.sink.rtp.length];
    await sleep(100);
    assert.deepEqual([video.sink.rtp.length, audio.sink.rtp.length], counts, 'nothing after the BYE');
    player.close();
    await until(() => reader.closed === 1);
  });

  it('refuses a start at or past the end with InvalidRangeError and stays idle', () => {
    const { player, pacer, video, audio } = rig();
    assert.throws(() => player.play({ start: 10 }), InvalidRangeError);
    assert.throws(() => player.play({ start: 11.5 }), InvalidRangeError);
    assert.equal(player.state, 'ready');
    assert.equal(pacer.size, 0);
    assert.equal(video.sink.rtp.length + audio.sink.rtp.length, 0);
    player.close();
  });

  it('close sends BYE, stops sending and closes the sample reader', async () => {
    const { player, pacer, reader, video, audio } = rig();
    player.play({ start: 0 });
    await until(() => video.sink.rtp.length > 0);
    player.close('teardown');
    assert.equal(player.state, 'ended');
    assert.equal(pacer.size, 0);
    await until(() => reader.closed === 1);
    for (const t of [video, audio]) {
      assert.deepEqual(rtcpTypes(t.sink.rtcp[t.sink.rtcp.length - 1]), ['sr', 'sdes', 'bye']);
      const bye = parseRtcpCompound(t.sink.rtcp[t.sink.rtcp.length - 1])[2] as RtcpBye;
      assert.equal(bye.reason, 'teardown');
    }
    const counts = [video.sink.rtp.length, audio.sink.rtp.length, video.sink.rtcp.length];
    await sleep(100);
    assert.deepEqual([video.sink.rtp.length, audio.sink.rtp.length, video.sink.rtcp.length], counts);
  });

  it('close before play still closes the reader', async () => {
    const { player, reader } = rig();
    player.close();
    assert.equal(player.state, 'ended');
    await until(() => reader.closed === 1);
  });

  describe('trick play, Speed and overbuffering', () => {
    /** The distinct video timestamps sent, in order, as seconds on the RTP line from rtpTimeOf(0). */
    const videoTimes = (r: Rig) => {
      const base = r.video.output.clock.rtpTimeOf(0);
      return [...new Set(r.video.sink.rtp.map((p) => p.header.timestamp))].map((ts) => tsDiff(ts, base) / 90000);
    };
    /** Whether the access unit starting with the packet at `ts` holds an IDR slice. */
    const allIdr = (r: Rig) => {
      const byTs = new Map<number, number[]>();
      for (const p of r.video.sink.rtp) byTs.set(p.header.timestamp, [...(byTs.get(p.header.timestamp) ?? []), ...nalTypes(p.payload)]);
      return [...byTs.values()].every((types) => types.includes(5));
    };
    const ended = (r: Rig) => {
      const ends: string[] = [];
      r.player.on('end', (reason) => ends.push(reason));
      return ends;
    };

    it('Scale 4 sends keyframes only, no audio, with timestamps advancing at real time, and ends with BYE', async () => {
      const r = rig();
      const ends = ended(r);
      const started = performance.now();
      const res = r.player.play({ start: 4, scale: 4 });
      assert.deepEqual([res.start, res.end, res.scale, res.speed], [4, 10, 4, 1]);
      assert.equal(res.rtpInfo[0].rtptime, r.video.output.clock.rtpTimeOf(4));
      await until(() => ends.length > 0, 4000);
      const elapsed = (performance.now() - started) / 1000;
      assert.deepEqual(ends, ['end of stream']);
      // Keyframes at 4, 6, 8 s, a media second every quarter second of real time.
      assert.deepEqual(videoTimes(r), [4, 4.5, 5]);
      assert.ok(allIdr(r), 'every frame sent is an IDR picture');
      assert.equal(r.audio.sink.rtp.length, 0, 'no audio in trick play');
      assert.ok(elapsed < 1.5 + 0.5, `6 s of media took ${elapsed.toFixed(2)} s`);
      assert.equal(r.player.position(), 10);
    });

    it('Scale 2 sends every video frame at twice the rate', async () => {
      const r = rig();
      const ends = ended(r);
      r.player.play({ start: 8, scale: 2 });
      await until(() => ends.length > 0, 4000);
      const times = videoTimes(r);
      assert.equal(times.length, 50);
      assert.deepEqual(times, Array.from({ length: 50 }, (_, i) => Number((8 + i * 0.02).toFixed(6))).map((t) => Math.round(t * 90000) / 90000));
    });

    it('Scale -2 with Speed 2 rewinds keyframe by keyframe to the start; timestamps still go forwards', async () => {
      const r = rig();
      const ends = ended(r);
      const started = performance.now();
      const res = r.player.play({ start: 5, scale: -2, speed: 2 });
      assert.deepEqual([res.start, res.end, res.scale, res.speed], [4, 0, -2, 2]);
      await until(() => ends.length > 0, 4000);
      const elapsed = (performance.now() - started) / 1000;
      // Keyframes 4, 2, 0 s: media goes back 4 s per second, the RTP line on 2 s per second.
      assert.deepEqual(videoTimes(r), [4, 5, 6]);
      assert.ok(allIdr(r));
      assert.ok(elapsed < 1 + 0.6, `took ${elapsed.toFixed(2)} s`);
      assert.equal(r.player.position(), 0);
      const bye = parseRtcpCompound(r.video.sink.rtcp[r.video.sink.rtcp.length - 1]).find((p): p is RtcpBye => p.type === 'bye');
      assert.equal(bye?.reason, 'end of stream');
    });

    it('rewinding may start at the end of the file', () => {
      const r = rig();
      const res = r.player.play({ start: 10, scale: -4 });
      assert.deepEqual([res.start, res.scale], [8, -4]);
      r.player.close();
    });

    it('after a paused trick play, Scale 1 plays on from the keyframe before the pause, audio included', async () => {
      const r = rig();
      r.player.play({ start: 0, scale: 4 });
      await until(() => r.player.position() >= 5);
      const at = r.player.pause();
      const res = r.player.play({});
      assert.equal(res.scale, 1);
      assert.ok(res.start <= at && res.start > at - 2.001, `resumed at ${res.start}, paused at ${at}`);
      assert.equal(res.rtpInfo[0].rtptime, r.video.output.clock.rtpTimeOf(res.start), 'back on the media timeline');
      const audioBefore = r.audio.sink.rtp.length;
      await until(() => r.audio.sink.rtp.length > audioBefore + 5);
      r.player.close();
    });

    it('Speed 2 delivers the same timestamps twice as fast', async () => {
      const r = rig();
      const ends = ended(r);
      const started = performance.now();
      r.player.play({ start: 8, speed: 2 });
      await until(() => ends.length > 0, 4000);
      const elapsed = (performance.now() - started) / 1000;
      assert.equal(videoTimes(r).length, 50, 'every frame');
      assert.ok(r.audio.sink.rtp.length > 80, 'and the audio');
      assert.ok(elapsed < 1.0 + 0.4, `2 s of media took ${elapsed.toFixed(2)} s`);
    });

    it('overbuffering sends the first seconds faster than real time, up to maxSendAhead, and a resume keeps the lead', async () => {
      const lastVideo = (r: Rig) => videoTimes(r).at(-1) ?? 0;
      const plain = rig();
      const fast = rig({ overbufferRate: 2, maxSendAhead: 1.5 });
      plain.player.play({ start: 0 });
      const t0 = performance.now();
      fast.player.play({ start: 0 });
      await sleep(800);
      const wall = (performance.now() - t0) / 1000;
      const ahead = lastVideo(fast) - wall;
      assert.ok(lastVideo(plain) - wall < SEND_AHEAD + 0.1, `without: ${(lastVideo(plain) - wall).toFixed(2)} s ahead`);
      assert.ok(ahead > SEND_AHEAD + 0.4, `with overbuffering: ${ahead.toFixed(2)} s ahead after ${wall.toFixed(2)} s`);
      await sleep(1200);
      const capped = lastVideo(fast) - (performance.now() - t0) / 1000;
      assert.ok(capped <= 1.5 + 0.1, `the lead stops at maxSendAhead: ${capped.toFixed(2)} s`);
      const at = fast.player.pause();
      const sentTo = lastVideo(fast);
      fast.player.play({});
      await sleep(100);
      assert.ok(lastVideo(fast) - sentTo < 0.25, 'a resume does not burst again what is already ahead');
      assert.ok(sentTo - at > 1, 'the lead was kept');
      fast.player.close();
      plain.player.close();
    });

    it('a file without video plays trick requests at Scale 1', () => {
      const pacer = new Pacer();
      const audioOnly = pres.tracks.filter((t) => t.kind === 'audio').map((vod) => ({ vod, output: fileOutput(vod, new RecordingSink(), 'x') }));
      const player = new FilePlayer({ tracks: audioOnly, duration: movie.duration, reader: createSampleReader(movie.path), pacer, log: silentLogger() });
      assert.equal(player.play({ start: 0, scale: 4 }).scale, 1);
      player.close();
      pacer.stop();
    });
  });
});

describe('FilePlayer thinning under loss', () => {
  // 8 s H.264 High 640x360@25 with B-frames (x264's pyramid: some are non-reference, nal_ref_idc
  // 0) and a keyframe every 2 s.
  let bMovie: Mp4Movie;
  let bPres: VodPresentation;
  before(async () => {
    bMovie = await getMovie(await fixture('h264-high-bframes.mp4'));
    bPres = describeMovie(bMovie);
  });

  const THIN = { enabled: true, thinPercent: 10, thinReports: 1, thickenPercent: 5, thickenReports: 1 };

  /** A player of the B-frame movie whose video track is thinned (`thinning` false: not asked for). */
  function thinRig(thinning = true, tcp = false) {
    const pacer = new Pacer();
    const lines: [Record<string, unknown>, string][] = [];
    const lanes = bPres.tracks.map((vod) => {
      const sink = new RecordingSink();
      if (tcp) Object.defineProperty(sink, 'kind', { value: 'tcp' });
      return { vod, sink, output: fileOutput(vod, sink, 'test@rivulet') };
    });
    const log = { info: (o: object, m: string) => lines.push([o as Record<string, unknown>, m]) };
    const player = new FilePlayer({
      tracks: lanes.map(({ vod, output }) => ({ vod, output, thinning: thinning ? { settings: THIN, log, label: { session: 's1', track: vod.description.id } } : undefined })),
      duration: bMovie.duration,
      reader: createSampleReader(bMovie.path),
      pacer,
      log: silentLogger(),
      sendAhead: SEND_AHEAD,
    });
    rigs.push({ player, pacer } as Rig);
    const video = lanes.find((l) => l.vod.kind === 'video')!;
    const audio = lanes.find((l) => l.vod.kind === 'audio')!;
    let highestSeq = video.output.nextSeq;
    /** A receiver report from the viewer about the video, through the output's RTCP; each speaks
     * for enough packets to count (a report for next to nothing is not heard). */
    const report = (fractionLost: number) => {
      highestSeq += 16;
      video.output.onRtcp(buildReceiverReport(1234, [{ ssrc: video.output.ssrc, fractionLost, cumulativeLost: 0, highestSeq, jitter: 0, lsr: 0, dlsr: 0 }]));
    };
    /** The video frames sent from packet `from` on (grouped by timestamp): key, non-reference, or other. */
    const frames = (from = 0) => {
      const byTs = new Map<number, Buffer[]>();
      for (const p of video.sink.rtp.slice(from)) {
        const list = byTs.get(p.header.timestamp) ?? [];
        list.push(p.payload);
        byTs.set(p.header.timestamp, list);
      }
      return [...byTs.values()].map((ps) => (ps.some((p) => nalTypes(p).includes(5)) ? 'key' : h264NonReference(ps) ? 'nonref' : 'ref'));
    };
    return { player, pacer, video, audio, report, frames, lines };
  }

  it('sends no non-reference frames, then keyframes only, under loss; everything again when it falls; audio untouched', async () => {
    const { player, video, audio, report, frames, lines } = thinRig();
    player.play({ start: 0 });
    assert.equal(typeof video.output.onReception, 'function', 'the video hears its receiver reports while playing');
    assert.equal(audio.output.onReception, undefined, 'audio is never thinned');
    await until(() => frames().includes('nonref') && video.output.packets >= 20, 5000);

    report(0.5);
    assert.equal(player.thinning(video.output)?.level, 1);
    let mark = video.sink.rtp.length;
    await until(() => frames(mark).filter((f) => f === 'ref').length >= 8, 5000);
    assert.ok(!frames(mark).includes('nonref'), `level 1 sends no non-reference frame: ${frames(mark).join(' ')}`);

    report(0.5);
    assert.equal(player.thinning(video.output)?.level, 2);
    mark = video.sink.rtp.length;
    const audioMark = audio.sink.rtp.length;
    await until(() => frames(mark).includes('key'), 5000);
    assert.deepEqual([...new Set(frames(mark))], ['key'], 'level 2 sends keyframes only');
    assert.ok(audio.sink.rtp.length > audioMark, 'audio goes on');

    // Back a step at once, then all the way: P-frames only from the next keyframe on.
    report(0);
    report(0);
    assert.equal(player.thinning(video.output)?.level, 0);
    mark = video.sink.rtp.length;
    await until(() => frames(mark).includes('nonref'), 5000);
    assert.equal(frames(mark)[0], 'key', 'thickened from keyframes only, the next frame sent is a keyframe');

    const seqs = video.sink.rtp.map((p) => p.header.sequence);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqAdd(seqs[i - 1], 1), 'the viewer sees no gap in its numbers');
    const stats = player.thinning(video.output)!;
    assert.equal(stats.thinned, 2);
    assert.equal(stats.thickened, 2);
    assert.ok(stats.framesDropped > 10, JSON.stringify(stats));
    assert.equal(player.thinning(audio.output), undefined);
    assert.deepEqual(lines.map((l) => l[1]), ['viewer thinned', 'viewer thinned', 'viewer thickened', 'viewer thickened']);
    assert.deepEqual([lines[0][0].session, lines[0][0].track, lines[0][0].to], ['s1', 1, 1]);

    player.pause();
    assert.equal(video.output.onReception, undefined, 'reports are not heard while paused');
    player.close();
    player.close();
    assert.deepEqual(lines.slice(4).map((l) => l[1]), ['thinning'], 'one summary at the end');
  });

  it('a seek at keyframes only starts on the keyframe sought, and keeps the level', async () => {
    const { player, video, report, frames } = thinRig();
    player.play({ start: 0 });
    await until(() => video.output.packets >= 20, 5000);
    report(0.5);
    report(0.5);
    assert.equal(player.thinning(video.output)?.level, 2);
    const mark = video.sink.rtp.length;
    player.play({ start: 4.5 });
    await until(() => frames(mark).length >= 2, 6000);
    assert.deepEqual([...new Set(frames(mark))], ['key']);
    // The first frame sent after the seek is the keyframe at 4 s.
    const first = video.sink.rtp[mark].header.timestamp;
    assert.equal(tsDiff(first, video.output.clock.rtpTimeOf(4)), 0);
    assert.equal(player.thinning(video.output)?.level, 2);
    player.close();
  });

  it('a viewer not asking for it, or over TCP, is never thinned', async () => {
    for (const [thinning, tcp] of [[false, false], [true, true]]) {
      const { player, video, report, frames } = thinRig(thinning, tcp);
      player.play({ start: 0, end: 2.5 });
      assert.equal(video.output.onReception, undefined);
      await until(() => video.output.packets >= 20, 5000);
      report(0.5);
      report(0.5);
      const mark = video.sink.rtp.length;
      await until(() => frames(mark).includes('nonref'), 5000);
      assert.equal(player.thinning(video.output), undefined);
      player.close();
    }
  });
});
