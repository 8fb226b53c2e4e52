import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSenderReport, msToNtp } from '../rtcp/index.js';
import { readRtpHeader, writeRtpPacket } from '../rtp/packet.js';
import type { Logger } from '../logging/index.js';
import type { Frame, FrameForm } from './frame.js';
import type { TrackReader as FrameSink } from './reader.js';
import { StreamTrack } from './stream-track.js';
import { AAC, H264 } from './test-helpers/fakes.js';


// H.264 payloads.
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e]);
const SLICE = Buffer.from([0x41, 0x9a, 0x00, 0x11]);
const AUD = Buffer.from([0x09, 0xf0]);
const FU_IDR_START = Buffer.from([0x7c, 0x85, 0x01, 0x02]);
const FU_IDR_MID = Buffer.from([0x7c, 0x05, 0x03, 0x04]);
const FU_IDR_END = Buffer.from([0x7c, 0x45, 0x05]);

interface Pkt {
  seq: number;
  ts: number;
  ssrc?: number;
  marker?: boolean;
  pt?: number;
}

function rtp(payload: Buffer, p: Pkt): Buffer {
  return writeRtpPacket(
    { parts: [payload], length: payload.length, marker: p.marker ?? false },
    { payloadType: p.pt ?? 96, sequence: p.seq, timestamp: p.ts, ssrc: p.ssrc ?? 0x1234 },
  );
}

class Collector implements FrameSink {
  readonly frames: Frame[] = [];
  deliver(f: Frame): void {
    this.frames.push(f);
  }
  get packets(): Buffer[] {
    return this.frames.flatMap((f) => f.packets);
  }
}

function videoTrack(): { track: StreamTrack; sink: Collector } {
  const track = new StreamTrack({ id: 0, format: H264 });
  const sink = new Collector();
  track.readers.add(sink);
  return { track, sink };
}

/** Feeds one frame: the payloads at `ts`, marker on the last. Returns the next sequence number. */
function feedFrame(track: StreamTrack, payloads: Buffer[], seq: number, ts: number, ssrc = 0x1234): number {
  payloads.forEach((p, i) =>
    track.ingest(rtp(p, { seq: seq + i, ts, ssrc, marker: i === payloads.length - 1 })),
  );
  return seq + payloads.length;
}

const hdr = (b: Buffer) => readRtpHeader(b)!;
const lastPacket = (s: Collector) => s.packets[s.packets.length - 1];
/** Distance a - b between 32-bit RTP timestamps. */
const tsDelta = (a: number, b: number) => ((a - b + 2 ** 31) >>> 0) - 2 ** 31;

describe('StreamTrack header rewriting', () => {
  it('sends packets on its own SSRC with a continuous sequence, payload and marker intact', () => {
    const { track, sink } = videoTrack();
    // Input sequence wraps at 65535; the output must simply count up.
    const seq = feedFrame(track, [SPS, IDR], 65533, 1000, 0xdeadbeef);
    feedFrame(track, [SLICE, SLICE, SLICE], seq, 4000, 0xdeadbeef);
    const out = sink.packets.map(hdr);
    assert.equal(out.length, 5);
    for (const h of out) {
      assert.equal(h.ssrc, track.ssrc);
      assert.equal(h.payloadType, 96);
    }
    for (let i = 1; i < out.length; i++) assert.equal(out[i].sequence, (out[0].sequence + i) & 0xffff);
    assert.deepEqual(
      out.map((h) => h.marker),
      [false, true, false, false, true],
    );
    assert.deepEqual(sink.packets[0].subarray(12), SPS);
    assert.deepEqual(sink.packets[4].subarray(12), SLICE);
  });

  it('keeps the input timestamp spacing', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 10, 90000);
    feedFrame(track, [SLICE], 11, 93000);
    feedFrame(track, [SLICE], 12, 96750);
    const ts = sink.packets.map((p) => hdr(p).timestamp);
    assert.equal(tsDelta(ts[1], ts[0]), 3000);
    assert.equal(tsDelta(ts[2], ts[1]), 3750);
  });

  it('keeps a gap in the input sequence (packet loss stays visible to viewers)', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 100, 0);
    feedFrame(track, [SLICE], 105, 3000);
    const [a, b] = sink.packets.map((p) => hdr(p).sequence);
    assert.equal((b - a) & 0xffff, 5);
  });

  it('does not modify the buffer it was given', () => {
    const { track } = videoTrack();
    const input = rtp(IDR, { seq: 7, ts: 1234, ssrc: 42, marker: true });
    const copy = Buffer.from(input);
    track.ingest(input);
    assert.deepEqual(input, copy);
  });

  it('ignores input that is not RTP version 2', () => {
    const { track, sink } = videoTrack();
    const before = track.nextPosition().seq;
    track.ingest(Buffer.alloc(0));
    track.ingest(rtp(IDR, { seq: 1, ts: 1, marker: true }).subarray(0, 11));
    const v1 = rtp(IDR, { seq: 1, ts: 1, marker: true });
    v1[0] = 0x40;
    track.ingest(v1);
    const v0 = rtp(IDR, { seq: 1, ts: 1, marker: true });
    v0[0] = 0x00;
    track.ingest(v0);
    assert.equal(sink.frames.length, 0);
    assert.equal(track.packetsIn, 0);
    assert.equal(track.bytesIn, 0);
    assert.equal(track.lastPacketAt, 0);
    assert.equal(track.nextPosition().seq, before);
    assert.deepEqual(track.startFrames(), []);
  });

  it('counts packets and bytes in and stamps the last arrival', () => {
    const { track } = videoTrack();
    const t0 = Date.now();
    const p1 = rtp(SPS, { seq: 1, ts: 0 });
    const p2 = rtp(IDR, { seq: 2, ts: 0, marker: true });
    track.ingest(p1);
    track.ingest(p2);
    assert.equal(track.packetsIn, 2);
    assert.equal(track.bytesIn, p1.length + p2.length);
    assert.ok(track.lastPacketAt >= t0 && track.lastPacketAt <= Date.now());
  });

  it('nextPosition() names the sequence number of the next output packet', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 500, 0);
    const next = track.nextPosition();
    feedFrame(track, [SLICE], 501, 3000);
    assert.equal(hdr(lastPacket(sink)).sequence, next.seq);
  });

  it('uses the track id in its control attribute', () => {
    assert.equal(new StreamTrack({ id: 3, format: H264 }).control, 'trackID=3');
  });
});

describe('StreamTrack frames', () => {
  it('groups packets by timestamp and hands the frame over on the marker', () => {
    const { track, sink } = videoTrack();
    const pkts = [FU_IDR_START, FU_IDR_MID, FU_IDR_END].map((p, i) =>
      rtp(p, { seq: 20 + i, ts: 9000, marker: i === 2 }),
    );
    track.ingest(pkts[0]);
    track.ingest(pkts[1]);
    assert.equal(sink.frames.length, 0, 'nothing before the marker');
    track.ingest(pkts[2]);
    assert.equal(sink.frames.length, 1);
    const f = sink.frames[0];
    assert.equal(f.packets.length, 3);
    assert.equal(
      f.bytes,
      pkts.reduce((n, p) => n + p.length, 0),
    );
    assert.equal(f.ts, hdr(f.packets[0]).timestamp);
    assert.equal(f.firstSeq, hdr(f.packets[0]).sequence);
    assert.equal(f.key, true);
  });

  it('closes a frame whose marker was lost when the timestamp changes', () => {
    const { track, sink } = videoTrack();
    track.ingest(rtp(IDR, { seq: 1, ts: 0 })); // marker lost
    assert.equal(sink.frames.length, 0);
    track.ingest(rtp(SLICE, { seq: 2, ts: 3000, marker: true }));
    assert.equal(sink.frames.length, 2);
    assert.equal(sink.frames[0].packets.length, 1);
    assert.equal(sink.frames[0].key, true);
    assert.equal(sink.frames[1].key, false);
  });

  it('marks a frame key when any of its packets carries an IDR or SPS', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [AUD, SPS, IDR], 1, 0); // AUD first
    feedFrame(track, [AUD, FU_IDR_START, FU_IDR_MID, FU_IDR_END], 4, 3000);
    feedFrame(track, [AUD, SLICE, SLICE], 8, 6000);
    feedFrame(track, [AUD, FU_IDR_MID, FU_IDR_END], 11, 9000); // lost start: not a clean picture
    assert.deepEqual(
      sink.frames.map((f) => f.key),
      [true, true, false, false],
    );
  });

  it('finds the keyframe after CSRCs and a header extension', () => {
    const { track, sink } = videoTrack();
    // CC=1: one CSRC before the payload.
    const withCsrc = rtp(Buffer.concat([Buffer.from([0, 0, 0, 7]), IDR]), { seq: 1, ts: 0, marker: true });
    withCsrc[0] |= 0x01;
    track.ingest(withCsrc);
    // X=1: profile 0xbede, one 32-bit word of extension data, then the payload.
    const withExt = rtp(Buffer.concat([Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0]), IDR]), {
      seq: 2,
      ts: 3000,
      marker: true,
    });
    withExt[0] |= 0x10;
    track.ingest(withExt);
    // Extension data that looks like IDR bytes must not be taken for the payload.
    const extSlice = rtp(
      Buffer.concat([Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x65, 0x65, 0x65, 0x65]), SLICE]),
      { seq: 3, ts: 6000, marker: true },
    );
    extSlice[0] |= 0x10;
    track.ingest(extSlice);
    assert.deepEqual(
      sink.frames.map((f) => f.key),
      [true, true, false],
    );
  });

  it('gives every reader the same frame object', () => {
    const { track, sink } = videoTrack();
    const other = new Collector();
    track.readers.add(other);
    feedFrame(track, [IDR], 1, 0);
    assert.equal(other.frames.length, 1);
    assert.equal(other.frames[0], sink.frames[0]);
  });

  it('keeps the frames since the last keyframe for new viewers, reset at each keyframe', () => {
    const { track, sink } = videoTrack();
    assert.deepEqual(track.startFrames(), []);
    assert.equal(track.keyframeArrival, undefined);
    feedFrame(track, [SLICE], 1, 0);
    feedFrame(track, [SLICE], 2, 3000);
    assert.deepEqual(track.startFrames(), [], 'no keyframe yet: nothing to start from');
    feedFrame(track, [AUD, IDR], 3, 6000);
    feedFrame(track, [SLICE], 5, 9000);
    feedFrame(track, [SLICE], 6, 12000);
    let gop = track.startFrames();
    assert.deepEqual(gop, sink.frames.slice(2, 5));
    assert.equal(gop[0].key, true);
    assert.equal(track.keyframeArrival, gop[0].arrival);
    feedFrame(track, [SPS, IDR], 7, 15000);
    gop = track.startFrames();
    assert.equal(gop.length, 1);
    assert.equal(gop[0], sink.frames[5]);
    // A partial frame (no marker yet) is not part of the cache.
    track.ingest(rtp(SLICE, { seq: 9, ts: 18000 }));
    assert.equal(track.startFrames().length, 1);
  });

  it('returns a copy of the cache that later frames do not change', () => {
    const { track } = videoTrack();
    feedFrame(track, [IDR], 1, 0);
    const gop = track.startFrames();
    feedFrame(track, [SLICE], 2, 3000);
    assert.equal(gop.length, 1);
    assert.equal(track.startFrames().length, 2);
  });
});

describe('StreamTrack.whenKeyframe', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('resolves true at once when a keyframe is cached, and for audio', async () => {
    const { track } = videoTrack();
    feedFrame(track, [IDR], 1, 0);
    assert.equal(await track.whenKeyframe(1000), true);
    assert.equal(await new StreamTrack({ id: 1, format: AAC }).whenKeyframe(1000), true);
  });

  it('resolves true when a keyframe arrives (not before), leaving no timer behind', async () => {
    const { track } = videoTrack();
    const before = timers();
    let got: boolean | undefined;
    const waits = [track.whenKeyframe(10_000), track.whenKeyframe(10_000)];
    void waits[0].then((v) => (got = v));
    assert.equal(timers(), before + 2);
    feedFrame(track, [SLICE], 1, 0);
    await sleep(1);
    assert.equal(got, undefined, 'a frame that is not a keyframe does not end the wait');
    feedFrame(track, [AUD, IDR], 2, 3000);
    assert.deepEqual(await Promise.all(waits), [true, true]);
    assert.equal(timers(), before);
  });

  it('resolves false after its time, or at once for no time', async () => {
    const { track } = videoTrack();
    const t0 = performance.now();
    assert.equal(await track.whenKeyframe(30), false);
    assert.ok(performance.now() - t0 >= 25);
    assert.equal(await track.whenKeyframe(0), false);
  });

  it('resolves false when the signal aborts (also if already aborted), clearing its timer', async () => {
    const { track } = videoTrack();
    const before = timers();
    const stop = new AbortController();
    const wait = track.whenKeyframe(10_000, stop.signal);
    stop.abort();
    assert.equal(await wait, false);
    assert.equal(timers(), before);
    assert.equal(await track.whenKeyframe(10_000, stop.signal), false);
  });

  it('endKeyframeWaits resolves every pending wait false; later waits are not affected', async () => {
    const { track } = videoTrack();
    const before = timers();
    const waits = [track.whenKeyframe(10_000), track.whenKeyframe(10_000), track.whenKeyframe(10_000)];
    track.endKeyframeWaits();
    assert.deepEqual(await Promise.all(waits), [false, false, false]);
    assert.equal(timers(), before);
    const next = track.whenKeyframe(10_000);
    feedFrame(track, [IDR], 1, 0);
    assert.equal(await next, true);
  });
});

describe('Frame.form', () => {
  it('builds each form once, on first use, and returns the same Buffer after', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [SPS, IDR], 1, 0);
    const f = sink.frames[0];
    const calls: string[] = [];
    const upper: FrameForm = (fr) => {
      calls.push('upper');
      return Buffer.concat(fr.packets);
    };
    const count: FrameForm = (fr) => {
      calls.push('count');
      return Buffer.from([fr.packets.length]);
    };
    const a = f.form(upper);
    assert.deepEqual(a, Buffer.concat(f.packets));
    assert.equal(f.form(upper), a, 'same Buffer on a second call');
    const c = f.form(count);
    assert.deepEqual(c, Buffer.from([2]));
    assert.equal(f.form(count), c);
    assert.equal(f.form(upper), a, 'building another form leaves the first alone');
    assert.deepEqual(calls, ['upper', 'count']);
  });

  it('keeps forms per frame', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 1, 0);
    feedFrame(track, [SLICE], 2, 3000);
    const len: FrameForm = (fr) => Buffer.from([fr.bytes]);
    assert.notEqual(sink.frames[0].form(len), sink.frames[1].form(len));
  });
});

describe('StreamTrack source changes', () => {
  it('rebase(): a new source continues the output sequence and moves time forward by the wall time', async () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 100, 5000, 0xaaaa);
    feedFrame(track, [SLICE], 101, 8000, 0xaaaa);
    const last = hdr(lastPacket(sink));
    await sleep(100);
    track.rebase();
    feedFrame(track, [SPS, IDR], 40000, 123456789, 0xbbbb);
    const [first, second] = sink.packets.slice(-2).map(hdr);
    assert.equal(first.sequence, (last.sequence + 1) & 0xffff);
    assert.equal(second.sequence, (last.sequence + 2) & 0xffff);
    assert.equal(first.ssrc, track.ssrc);
    const dt = tsDelta(first.timestamp, last.timestamp);
    assert.ok(dt >= 0.09 * 90000 && dt <= 0.6 * 90000, `timestamp moved ${dt} ticks for ~100 ms`);
    // And the new source's own spacing is kept after that.
    feedFrame(track, [SLICE], 40002, 123456789 + 3000, 0xbbbb);
    assert.equal(tsDelta(hdr(lastPacket(sink)).timestamp, first.timestamp), 3000);
  });

  it('rebase() hands over a partial frame and empties the keyframe cache', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 1, 0);
    track.ingest(rtp(SLICE, { seq: 2, ts: 3000 })); // no marker yet
    assert.equal(sink.frames.length, 1);
    track.rebase();
    assert.equal(sink.frames.length, 2, 'the partial frame went out');
    assert.deepEqual(track.startFrames(), []);
    feedFrame(track, [SLICE], 9000, 777, 0x99);
    assert.deepEqual(track.startFrames(), [], 'the new source has not sent a keyframe yet');
    feedFrame(track, [IDR], 9001, 3777, 0x99);
    assert.equal(track.startFrames().length, 1);
  });

  it('re-bases by itself when the input SSRC changes', async () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 100, 5000, 0xaaaa);
    const last = hdr(lastPacket(sink));
    await sleep(50);
    feedFrame(track, [IDR], 7, 4000000000, 0xcccc);
    const first = hdr(lastPacket(sink));
    assert.equal(first.sequence, (last.sequence + 1) & 0xffff);
    assert.equal(first.ssrc, track.ssrc);
    const dt = tsDelta(first.timestamp, last.timestamp);
    assert.ok(dt >= 0.04 * 90000 && dt <= 0.5 * 90000, `timestamp moved ${dt} ticks for ~50 ms`);
  });

  it('moves the timestamp forward even when the new source starts at once', () => {
    const { track, sink } = videoTrack();
    feedFrame(track, [IDR], 1, 5000, 1);
    const last = hdr(lastPacket(sink));
    feedFrame(track, [IDR], 1, 5000, 2);
    const first = hdr(lastPacket(sink));
    assert.ok(tsDelta(first.timestamp, last.timestamp) >= 1, 'a new frame, not the same timestamp');
    assert.equal(sink.frames.length, 2);
  });
});

describe('StreamTrack audio', () => {
  it('hands over every packet as its own frame, each a start point', () => {
    const track = new StreamTrack({ id: 1, format: AAC });
    const sink = new Collector();
    track.readers.add(sink);
    assert.equal(track.isVideo, false);
    for (let i = 0; i < 3; i++)
      track.ingest(rtp(Buffer.from([0x00, 0x10, 0x0c, i]), { seq: i, ts: i * 1024, pt: 97 }));
    assert.equal(sink.frames.length, 3);
    assert.ok(sink.frames.every((f) => f.key && f.packets.length === 1));
  });

  it('startFrames(since) returns the frames that arrived at or after since', async () => {
    const track = new StreamTrack({ id: 1, format: AAC });
    const sink = new Collector();
    track.readers.add(sink);
    track.ingest(rtp(Buffer.from([1]), { seq: 1, ts: 0, pt: 97 }));
    track.ingest(rtp(Buffer.from([2]), { seq: 2, ts: 1024, pt: 97 }));
    await sleep(5);
    const since = performance.now();
    track.ingest(rtp(Buffer.from([3]), { seq: 3, ts: 2048, pt: 97 }));
    track.ingest(rtp(Buffer.from([4]), { seq: 4, ts: 3072, pt: 97 }));
    assert.deepEqual(track.startFrames(since), sink.frames.slice(2));
    assert.deepEqual(track.startFrames(0), sink.frames);
    assert.deepEqual(track.startFrames(), [], 'no since: audio starts live');
    assert.equal(track.keyframeArrival, undefined);
  });
});

describe('StreamTrack clocks', () => {
  it('without sender reports, uses the local clock and extrapolates from the last packet', () => {
    const { track, sink } = videoTrack();
    const now = performance.now();
    assert.ok(Math.abs(track.ntpMsAt(now) - (performance.timeOrigin + now)) < 1);
    feedFrame(track, [IDR], 1, 0);
    const lastTs = hdr(lastPacket(sink)).timestamp;
    const arrival = sink.frames[0].arrival;
    const t = track.rtpTimeAt(arrival + 1000);
    assert.ok(Math.abs(tsDelta(t, lastTs) - 90000) <= 90, `${tsDelta(t, lastTs)}`);
  });

  it('maps rtpTimeAt()/ntpMsAt() to the source clock after an SR', () => {
    const { track, sink } = videoTrack();
    const inTs = 1_000_000;
    feedFrame(track, [IDR], 1, inTs);
    const outTs = hdr(lastPacket(sink)).timestamp;
    // The encoder's clock says 2024-01-01T00:00:00Z when its RTP clock reads inTs + 45000.
    const wall = Date.UTC(2024, 0, 1);
    const srAt = performance.now();
    track.onSourceRtcp(
      buildSenderReport({
        ssrc: 0x1234,
        ntpTime: msToNtp(wall),
        rtpTimestamp: inTs + 45000,
        packetCount: 1,
        octetCount: 5,
      }),
    );
    const after = performance.now();
    const probe = after + 500;
    // rtpTimeAt(now) ≈ SR rtp + offset + elapsed * clock
    const expected = outTs + 45000 + ((probe - srAt) / 1000) * 90000;
    const got = track.rtpTimeAt(probe);
    const slack = ((after - srAt) / 1000) * 90000 + 2;
    assert.ok(Math.abs(tsDelta(got, expected >>> 0)) <= slack, `rtpTimeAt ${got} vs ${expected}`);
    const ntp = track.ntpMsAt(probe);
    assert.ok(Math.abs(ntp - (wall + (probe - srAt))) <= after - srAt + 1, `ntpMsAt ${ntp}`);
  });

  it('ignores sender reports before the first packet, and forgets the mapping on rebase()', () => {
    const { track } = videoTrack();
    const sr = buildSenderReport({
      ssrc: 1,
      wallclockMs: Date.UTC(2001, 0, 1),
      rtpTimestamp: 5,
      packetCount: 0,
      octetCount: 0,
    });
    track.onSourceRtcp(sr);
    let now = performance.now();
    assert.ok(Math.abs(track.ntpMsAt(now) - (performance.timeOrigin + now)) < 1);
    feedFrame(track, [IDR], 1, 0);
    track.onSourceRtcp(sr);
    now = performance.now();
    assert.ok(Math.abs(track.ntpMsAt(now) - Date.UTC(2001, 0, 1)) < 1000);
    track.rebase();
    now = performance.now();
    assert.ok(Math.abs(track.ntpMsAt(now) - (performance.timeOrigin + now)) < 1);
  });

  it('ignores RTCP that is not a sender report, and garbage, but counts it as activity', () => {
    const { track } = videoTrack();
    feedFrame(track, [IDR], 1, 0);
    track.lastPacketAt = 0;
    track.onSourceRtcp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1])); // empty RR
    track.onSourceRtcp(Buffer.from('not rtcp at all'));
    assert.ok(track.lastPacketAt > 0);
    const now = performance.now();
    assert.ok(Math.abs(track.ntpMsAt(now) - (performance.timeOrigin + now)) < 1);
  });
});

describe('StreamTrack bitrate', () => {
  it('is the announced b=AS figure when there is one, else measured once a second has passed', () => {
    assert.equal(new StreamTrack({ id: 1, format: H264, bitrateKbps: 800 }).bitrateKbps, 800);
    const t = new StreamTrack({ id: 1, format: H264 });
    assert.equal(t.bitrateKbps, undefined);
    const p = rtp(SLICE, { seq: 1, ts: 0 });
    t.ingest(p);
    assert.equal(t.bitrateKbps, undefined, 'nothing to measure over yet');
    // 125 packets of p.length bytes over 2 s.
    for (let i = 2; i <= 125; i++) t.ingest(rtp(SLICE, { seq: i, ts: i * 3600 }));
    t.firstPacketAt = t.lastPacketAt - 2000;
    assert.equal(t.bitrateKbps, (125 * p.length * 8) / 2000);
  });
});

describe('StreamTrack hostile input', () => {
  function logSpy(): { lines: string[]; log: Logger } {
    const lines: string[] = [];
    const log = { warn: (_o: object, msg: string) => lines.push(msg) } as unknown as Logger;
    return { lines, log };
  }

  it('cuts a frame past maxFrameBytes, sends every packet on, counts each cut and logs once per burst', () => {
    const { lines, log } = logSpy();
    const track = new StreamTrack({ id: 0, format: H264, maxFrameBytes: 65536, log });
    const sink = new Collector();
    track.readers.add(sink);
    const chunk = Buffer.alloc(1000, 0x41);
    let seq = 0;
    for (let i = 0; i < 300; i++) track.ingest(rtp(chunk, { seq: seq++, ts: 100 }));
    assert.equal(sink.packets.length, 300 - (300 % 65), 'whole pieces went out');
    assert.ok(sink.frames.every((f) => f.bytes <= 65536 + 1012));
    assert.equal(track.framesCut, 4);
    assert.equal(lines.length, 1);
    // A new timestamp starts a clean frame, handed over whole on its marker.
    track.ingest(rtp(SLICE, { seq: seq++, ts: 200, marker: true }));
    const last = sink.frames[sink.frames.length - 1];
    assert.equal(last.packets.length, 1);
    assert.equal(readRtpHeader(last.packets[0])!.marker, true);
    // The rest of the endless frame went out with it (no packet lost), and a new burst logs again.
    assert.equal(sink.packets.length, 301);
    for (let i = 0; i < 70; i++) track.ingest(rtp(chunk, { seq: seq++, ts: 300 }));
    assert.equal(track.framesCut, 5);
    assert.equal(lines.length, 2);
  });

  it('also cuts on packet count (a 256th of maxFrameBytes), so tiny packets cannot pile up', () => {
    const track = new StreamTrack({ id: 0, format: H264, maxFrameBytes: 65536 });
    const sink = new Collector();
    track.readers.add(sink);
    for (let i = 0; i < 256; i++) track.ingest(rtp(Buffer.from([0x41]), { seq: i, ts: 100 }));
    assert.equal(track.framesCut, 1);
    assert.equal(sink.frames[0].packets.length, 256);
  });

  it('counts refused strangers and reports them at most once per 10 s', () => {
    const { lines, log } = logSpy();
    const track = new StreamTrack({ id: 0, format: H264, log });
    for (let i = 0; i < 500; i++) track.refuseStranger('127.0.0.2', i % 2 === 0);
    assert.equal(track.strangerPackets, 500);
    assert.equal(lines.length, 1);
    assert.equal(track.packetsIn, 0);
    assert.equal(track.lastPacketAt, 0, 'a stranger is no sign of life from the publisher');
  });
});
