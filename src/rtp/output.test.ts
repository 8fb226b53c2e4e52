import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RtpPayload } from '../codecs/types.js';
import { StreamTrack } from '../core/stream-track.js';
import { liveOutput, RtpTrackReader } from '../readers/rtp-track-reader.js';
import {
  buildGenericNack,
  buildQtAck,
  buildReceiverReport,
  buildSenderReport,
  compound,
  msToNtp,
  ntpToMs,
  parseRtcpCompound,
  SdesItemType,
  type ReportBlockInit,
  type RtcpBye,
  type RtcpPacket,
  type RtcpSdes,
  type RtcpSenderReport,
} from '../rtcp/index.js';
import type { Format } from '../stream/types.js';
import { MediaClock, type MediaPosition } from './media-clock.js';
import { RtpOutput, type RtpClock } from './output.js';
import { readRtpHeader, writeRtpPacket } from './packet.js';
import { tsDiff } from './seq.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';

function payload(bytes: number[] | Buffer, marker = false): RtpPayload {
  const b = Buffer.from(bytes);
  return { parts: [b], length: b.length, marker };
}

/** A file viewer's output: its own SSRC, on a media clock. */
function fileOut(sink = new MemorySink(), clockRate = 90000, payloadType = 96): RtpOutput<MediaClock> {
  return new RtpOutput({ sink, payloadType, clock: new MediaClock(clockRate), cname: 'rivulet@test' });
}

/** Playback standing still at `npt` seconds. */
const at = (npt: number): MediaPosition => ({ position: () => npt });

function block(ssrc: number, over: Partial<ReportBlockInit> = {}): ReportBlockInit {
  return { ssrc, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0, ...over };
}

function only<T extends RtcpPacket['type']>(
  packets: RtcpPacket[],
  type: T,
): Extract<RtcpPacket, { type: T }> {
  const found = packets.filter((p) => p.type === type);
  assert.equal(found.length, 1, `one ${type} packet`);
  return found[0] as Extract<RtcpPacket, { type: T }>;
}

describe('RtpOutput.send (files: packets written by the output)', () => {
  it('writes our SSRC, payload type, timestamp, marker and payload into each packet', () => {
    const sink = new MemorySink();
    const s = fileOut(sink, 90000, 97);
    s.send(payload([1, 2, 3], true), 0xdeadbeef);
    const pkt = sink.rtp[0];
    const h = readRtpHeader(pkt)!;
    assert.equal(h.version, 2);
    assert.equal(h.ssrc, s.ssrc);
    assert.equal(h.payloadType, 97);
    assert.equal(h.timestamp, 0xdeadbeef);
    assert.equal(h.marker, true);
    assert.deepEqual([...pkt.subarray(h.payloadOffset)], [1, 2, 3]);
    s.send(payload([4]), 1);
    assert.equal(readRtpHeader(sink.rtp[1])!.marker, false);
  });

  it('starts at nextSeq and increments the sequence number by one per packet', () => {
    const sink = new MemorySink();
    const s = fileOut(sink);
    const first = s.nextSeq;
    for (let i = 0; i < 5; i++) s.send(payload([i]), 0);
    assert.deepEqual(
      sink.rtp.map((p) => readRtpHeader(p)!.sequence),
      [0, 1, 2, 3, 4].map((i) => (first + i) & 0xffff),
    );
    assert.equal(s.nextSeq, (first + 5) & 0xffff);
  });

  it('wraps the sequence number from 65535 to 0', () => {
    const sink = new MemorySink(3);
    const s = fileOut(sink);
    const toWrap = 0x10000 - s.nextSeq; // packets until the one numbered 65535 has been sent
    const p = payload([0]);
    for (let i = 0; i < toWrap + 2; i++) s.send(p, 0);
    assert.deepEqual(
      sink.rtp.map((b) => readRtpHeader(b)!.sequence),
      [0xffff, 0, 1],
    );
    assert.equal(s.nextSeq, 2);
  });

  it('counts packets and payload octets (headers excluded)', () => {
    const s = fileOut();
    s.send(payload(Buffer.alloc(100)), 0);
    s.send(payload(Buffer.alloc(1400)), 0);
    assert.equal(s.packets, 2);
    assert.equal(s.octets, 1500);
  });

  it('gives each file output its own random SSRC and timestamp origin', () => {
    const a = fileOut();
    const b = fileOut();
    // 2^-32 chance of a false failure per field.
    assert.notEqual(a.ssrc, b.ssrc);
    assert.notEqual(a.clock.base, b.clock.base);
    for (const v of [a.ssrc, a.clock.base, a.nextSeq]) assert.ok(Number.isInteger(v) && v >= 0);
    assert.ok(a.ssrc <= 0xffffffff && a.clock.base <= 0xffffffff && a.nextSeq <= 0xffff);
  });
});

describe('MediaClock', () => {
  it('maps npt seconds to base + npt * clockRate', () => {
    const c = new MediaClock(90000);
    assert.equal(c.rtpTimeOf(0), c.base);
    assert.equal(c.rtpTimeOf(1), (c.base + 90000) >>> 0);
    assert.equal(c.rtpTimeOf(2.5), (c.base + 225000) >>> 0);
    const audio = new MediaClock(44100);
    assert.equal(audio.rtpTimeOf(1024 / 44100), (audio.base + 1024) >>> 0, 'one AAC frame is 1024 ticks');
  });

  it('rounds to the nearest tick and wraps modulo 2^32', () => {
    const c = new MediaClock(90000);
    assert.equal(c.rtpTimeOf(1 / 180000), (c.base + 1) >>> 0, 'half a tick rounds up');
    // The instant 10 ticks past the 2^32 wrap of this clock's timeline.
    const npt = (0x1_0000_0000 - c.base + 10) / 90000;
    assert.equal(c.rtpTimeOf(npt), 10);
    assert.ok(c.rtpTimeOf(50_000) <= 0xffffffff);
  });

  it('is at media instant 0 until it follows a playback, then at its position', () => {
    const c = new MediaClock(90000);
    assert.equal(c.rtpTimeAt(performance.now()), c.base);
    const seen: number[] = [];
    c.follow({ position: (nowPerf) => (seen.push(nowPerf), 2) });
    assert.equal(c.rtpTimeAt(1234.5), c.rtpTimeOf(2));
    assert.deepEqual(seen, [1234.5], 'asks the playback about the very instant reported');
  });

  it('gives the system wall clock of a local instant', () => {
    const c = new MediaClock(90000);
    const now = performance.now();
    assert.ok(Math.abs(c.ntpMsAt(now) - Date.now()) < 20);
    assert.ok(Math.abs(c.ntpMsAt(now - 1000) - (Date.now() - 1000)) < 20);
  });
});

describe('RtpOutput RTCP out', () => {
  it('sendReport sends SR + SDES CNAME with our SSRC, the RTP time and wall clock of now, and the counts', () => {
    const sink = new MemorySink();
    const s = fileOut(sink, 90000);
    s.clock.follow(at(3.2));
    s.send(payload(Buffer.alloc(300)), 0);
    s.send(payload(Buffer.alloc(200)), 0);
    s.send(payload(Buffer.alloc(7)), 0);
    const now = performance.now();
    s.sendReport(now);
    assert.equal(sink.rtcp.length, 1);
    const packets = parseRtcpCompound(sink.rtcp[0]);
    assert.deepEqual(
      packets.map((p) => p.type),
      ['sr', 'sdes'],
      'a compound packet starts with the SR',
    );
    const sr = packets[0] as RtcpSenderReport;
    assert.equal(sr.ssrc, s.ssrc);
    assert.equal(sr.rtpTimestamp, s.clock.rtpTimeOf(3.2));
    assert.equal(sr.packetCount, 3);
    assert.equal(sr.octetCount, 507);
    assert.ok(Math.abs(ntpToMs(sr.ntpTime) - Date.now()) < 20, 'wall clock of now');
    assert.deepEqual(sr.reports, []);
    const sdes = packets[1] as RtcpSdes;
    assert.deepEqual(sdes.chunks, [
      { ssrc: s.ssrc, items: [{ type: SdesItemType.CNAME, value: 'rivulet@test' }] },
    ]);
  });

  it('takes the RTP time and wall clock from its clock, at the instant asked', () => {
    const sink = new MemorySink();
    const wall = Date.UTC(2025, 5, 1, 12, 0, 0, 250);
    const clock: RtpClock = { rtpTimeAt: (t) => (t * 90) >>> 0, ntpMsAt: (t) => wall + t };
    const s = new RtpOutput({ sink, payloadType: 96, clock, cname: 'c' });
    s.sendReport(1000);
    const sr = only(parseRtcpCompound(sink.rtcp[0]), 'sr');
    assert.equal(sr.rtpTimestamp, 90000);
    assert.deepEqual(sr.ntpTime, msToNtp(wall + 1000));
  });

  it('sendBye sends a last SR + SDES, then BYE for our SSRC with the reason', () => {
    const sink = new MemorySink();
    const s = fileOut(sink);
    s.clock.follow(at(7));
    s.send(payload([1, 2]), 0);
    s.sendBye('end of stream');
    const packets = parseRtcpCompound(sink.rtcp[0]);
    assert.deepEqual(
      packets.map((p) => p.type),
      ['sr', 'sdes', 'bye'],
    );
    const sr = packets[0] as RtcpSenderReport;
    assert.equal(sr.rtpTimestamp, s.clock.rtpTimeOf(7));
    assert.equal(sr.packetCount, 1);
    assert.equal(sr.octetCount, 2);
    const bye = packets[2] as RtcpBye;
    assert.deepEqual(bye.ssrcs, [s.ssrc]);
    assert.equal(bye.reason, 'end of stream');
  });

  it('sendBye without a reason sends a BYE without one; before any playback at media instant 0', () => {
    const sink = new MemorySink();
    const s = fileOut(sink);
    s.sendBye();
    const packets = parseRtcpCompound(sink.rtcp[0]);
    assert.equal(only(packets, 'sr').rtpTimestamp, s.clock.base);
    const bye = only(packets, 'bye');
    assert.deepEqual(bye.ssrcs, [s.ssrc]);
    assert.equal(bye.reason, undefined);
  });
});

describe('RtpOutput.onRtcp (receiver reports)', () => {
  const VIEWER = 0x11223344;

  it('fills reception from a receiver report block about our SSRC', () => {
    const s = fileOut();
    s.onRtcp(
      buildReceiverReport(VIEWER, [
        block(s.ssrc, { fractionLost: 0.25, cumulativeLost: 17, jitter: 345, highestSeq: 70000 }),
      ]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0.25, cumulativeLost: 17, jitter: 345, highestSeq: 70000, reports: 1 });
  });

  it('ignores blocks about other SSRCs, also in the same packet', () => {
    const s = fileOut();
    const other = (s.ssrc ^ 0x5a5a5a5a) >>> 0;
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(other, { fractionLost: 0.5, cumulativeLost: 99, jitter: 9 })]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0, cumulativeLost: 0, jitter: 0, highestSeq: 0, reports: 0 });
    s.onRtcp(
      buildReceiverReport(VIEWER, [
        block(other, { fractionLost: 0.5, cumulativeLost: 99, jitter: 9 }),
        block(s.ssrc, { fractionLost: 0.125, cumulativeLost: 3, jitter: 40 }),
      ]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0.125, cumulativeLost: 3, jitter: 40, highestSeq: 0, reports: 1 });
  });

  it('keeps the latest report and counts them', () => {
    const s = fileOut();
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0.5, cumulativeLost: 10, jitter: 100 })]),
    );
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0, cumulativeLost: 12, jitter: 80 })]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0, cumulativeLost: 12, jitter: 80, highestSeq: 0, reports: 2 });
  });

  it('reads report blocks carried in a sender report and in a compound packet', () => {
    const s = fileOut();
    const sr = buildSenderReport({
      ssrc: VIEWER,
      wallclockMs: Date.now(),
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [block(s.ssrc, { fractionLost: 0.75, cumulativeLost: 5, jitter: 6 })],
    });
    s.onRtcp(compound(sr, buildReceiverReport(VIEWER)));
    assert.deepEqual(s.reception, { fractionLost: 0.75, cumulativeLost: 5, jitter: 6, highestSeq: 0, reports: 1 });
  });

  it('tells onReception of each packet with a report about our SSRC, and only those', () => {
    const s = fileOut();
    const heard: number[] = [];
    s.onReception = (r) => heard.push(r.fractionLost);
    s.onRtcp(buildReceiverReport(VIEWER, [block((s.ssrc ^ 1) >>> 0, { fractionLost: 0.5, cumulativeLost: 1, jitter: 0 })]));
    s.onRtcp(buildReceiverReport(VIEWER));
    s.onRtcp(Buffer.from([0x80]));
    s.onRtcp(buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0.25, cumulativeLost: 2, jitter: 3 })]));
    s.onRtcp(buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0, cumulativeLost: 2, jitter: 3 })]));
    assert.deepEqual(heard, [0.25, 0]);
  });

  it('ignores malformed RTCP without throwing, and reads the next good report as usual', () => {
    const s = fileOut();
    const before = { ...s.reception };
    s.onRtcp(Buffer.from([0xff, 0xff, 0xff]));
    s.onRtcp(Buffer.alloc(0));
    assert.deepEqual(s.reception, before);
    s.onRtcp(buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0.25, cumulativeLost: 2, jitter: 3 })]));
    assert.deepEqual(s.reception, { fractionLost: 0.25, cumulativeLost: 2, jitter: 3, highestSeq: 0, reports: 1 });
  });
});

const H264: Format = { media: 'video', payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: {} };
const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
const SLICE = Buffer.from([0x41, 0x9a, 0x00, 0x11]);

/** A live track fed one frame per call (a publisher with SSRC 0x1234). */
function liveTrack(): { track: StreamTrack; frame: (p: Buffer) => void } {
  const track = new StreamTrack({ id: 1, format: H264 });
  let seq = 100;
  let ts = 0;
  const frame = (p: Buffer) => {
    track.ingest(
      writeRtpPacket(payload(p, true), {
        payloadType: 96,
        sequence: seq++,
        timestamp: (ts += 3000),
        ssrc: 0x1234,
      }),
    );
  };
  return { track, frame };
}

describe('RtpOutput for a live viewer', () => {
  it('sends as the track: its SSRC, payload type and clock', () => {
    const { track } = liveTrack();
    const out = liveOutput(track, new MemorySink(), 'c');
    assert.equal(out.ssrc, track.ssrc);
    assert.equal(out.payloadType, 96);
    assert.equal(out.clock, track);
  });

  it('sends the shared packets untouched: no header rewritten, no sequence number taken', () => {
    const { track, frame } = liveTrack();
    const sink = new MemorySink();
    const out = liveOutput(track, sink, 'c');
    const delivered: Buffer[] = [];
    track.readers.add({ deliver: (f) => delivered.push(...f.packets) });
    const copies: Buffer[] = [];
    track.readers.add({ deliver: (f) => copies.push(...f.packets.map((p) => Buffer.from(p))) });
    const seq = out.nextSeq;
    new RtpTrackReader({ track, output: out, queueLimit: 1 << 20 }).start([]);
    frame(IDR);
    frame(SLICE);
    assert.equal(sink.rtp.length, 2);
    sink.rtp.forEach((p, i) => {
      assert.equal(p, delivered[i], 'the very Buffer every viewer shares');
      assert.deepEqual(p, copies[i], 'with the bytes the track wrote');
      assert.equal(readRtpHeader(p)!.ssrc, out.ssrc);
    });
    assert.equal(out.nextSeq, seq);
    assert.equal(out.packets, 2);
    assert.equal(out.octets, IDR.length + SLICE.length);
  });

  it('counts what readers sent into it across readers (PAUSE and PLAY), less what never left', () => {
    const { track, frame } = liveTrack();
    const out = liveOutput(track, new MemorySink(), 'c');
    const first = new RtpTrackReader({ track, output: out, queueLimit: 1 << 20 });
    first.start([]);
    frame(IDR);
    first.stop();
    frame(SLICE); // paused: not sent, not counted
    new RtpTrackReader({ track, output: out, queueLimit: 1 << 20 }).start(track.startFrames());
    assert.equal(out.packets, 3, 'the second reader starts on the cached keyframe, counted on top');
    out.sent(2, 100);
    out.unsent(1, 40);
    assert.equal(out.packets, 4);
    assert.equal(out.octets, 2 * IDR.length + SLICE.length + 60);
  });

  it('is told by the native fan-out what it could not send', () => {
    const { track, frame } = liveTrack();
    const sink = Object.assign(new MemorySink(), { nativeFd: 7 });
    const out = liveOutput(track, sink, 'c');
    const owners: { unsent(p: number, o: number): void }[] = [];
    const reader = new RtpTrackReader({ track, output: out, queueLimit: 1 << 20 });
    reader.start([]);
    track.readers.delete(reader);
    // Deliver by hand with a batch that records who it would tell.
    track.readers.add({
      deliver: (f) =>
        reader.deliver(f, { add: (_fd: number, o: (typeof owners)[0]) => owners.push(o) } as never),
    });
    frame(IDR);
    assert.equal(sink.rtp.length, 0, 'the batch sends, not the sink');
    assert.deepEqual(owners, [out]);
    assert.equal(out.packets, 1);
    owners[0].unsent(1, IDR.length);
    assert.equal(out.packets, 0);
    assert.equal(out.octets, 0);
  });

  it('sends SR + SDES with the track SSRC, the track clock of now and its own counts', () => {
    const { track, frame } = liveTrack();
    frame(IDR);
    const sink = new MemorySink();
    const out = liveOutput(track, sink, 'rivulet@test');
    out.sent(1234, 567890);
    const before = performance.now();
    out.sendReport();
    const pkts = parseRtcpCompound(sink.rtcp[0]);
    const sr = only(pkts, 'sr');
    assert.equal(sr.ssrc, track.ssrc);
    assert.equal(sr.packetCount, 1234);
    assert.equal(sr.octetCount, 567890);
    assert.ok(Math.abs(tsDiff(sr.rtpTimestamp, track.rtpTimeAt(before))) <= 900, 'RTP time of now');
    assert.ok(Math.abs(ntpToMs(sr.ntpTime) - track.ntpMsAt(before)) < 10, 'wall clock of now');
    assert.deepEqual(only(pkts, 'sdes').chunks, [
      { ssrc: track.ssrc, items: [{ type: SdesItemType.CNAME, value: 'rivulet@test' }] },
    ]);
  });

  it('ends with a last SR and a BYE for the track SSRC, and reads receiver reports about it', () => {
    const { track } = liveTrack();
    const sink = new MemorySink();
    const out = liveOutput(track, sink, 'c');
    out.onRtcp(
      buildReceiverReport(0x99, [block(track.ssrc, { fractionLost: 0.5, cumulativeLost: 4, jitter: 12 })]),
    );
    assert.deepEqual(out.reception, { fractionLost: 0.5, cumulativeLost: 4, jitter: 12, highestSeq: 0, reports: 1 });
    out.sendBye('teardown');
    const pkts = parseRtcpCompound(sink.rtcp[0]);
    assert.deepEqual(
      pkts.map((p) => p.type),
      ['sr', 'sdes', 'bye'],
    );
    assert.equal(only(pkts, 'sr').ssrc, track.ssrc);
    assert.deepEqual(only(pkts, 'bye').ssrcs, [track.ssrc]);
  });
});

describe('RtpOutput retransmission (RFC 4585 NACK, RFC 4588 RTX)', () => {
  const opts = { payloadType: 106, historyMs: 1000, historyBytes: 1 << 20, maxPercent: 50 };

  it('a file viewer: NACKed packets come back as RTX on the same sink; nothing without a NACK', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    const lines: object[] = [];
    out.enableRetransmission(opts, { info: (o) => lines.push(o) });
    const first = out.nextSeq;
    for (let i = 0; i < 10; i++) out.send(payload(Buffer.alloc(200, i)), 1000 + i);
    assert.equal(sink.rtp.length, 10);
    out.onRtcp(compound(buildReceiverReport(5, [block(out.ssrc)]), buildGenericNack(5, out.ssrc, [(first + 3) & 0xffff])));
    assert.equal(sink.rtp.length, 11);
    const rtx = readRtpHeader(sink.rtp[10])!;
    assert.deepEqual([rtx.payloadType, rtx.ssrc, rtx.timestamp], [106, out.rtxSsrc, 1003]);
    assert.equal(sink.rtp[10].readUInt16BE(12), (first + 3) & 0xffff);
    assert.equal(out.nextSeq, (first + 10) & 0xffff, 'RTX does not advance the media sequence');
    assert.equal(out.packets, 10, 'nor the sender report counts');
    // A NACK about another SSRC is not ours.
    out.onRtcp(buildGenericNack(5, (out.ssrc + 1) >>> 0, [first]));
    assert.equal(sink.rtp.length, 11);
    assert.deepEqual(out.retransmit, { nacks: 1, resent: 1, resentBytes: 12 + 2 + 200, refused: 0, tooOld: 0 });
    out.sendBye('teardown');
    out.sendBye('again');
    assert.equal(lines.length, 1, 'logged once, at the end');
  });

  it('a live viewer: the shared packets handed to `sent` are resent, untouched', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    out.enableRetransmission(opts);
    const shared = [0, 1, 2].map((s) => writeRtpPacket(payload([s, s, s]), { payloadType: 96, sequence: 100 + s, timestamp: 9, ssrc: out.ssrc }));
    const copies = shared.map((b) => Buffer.from(b));
    out.sent(3, 9, shared);
    out.onRtcp(buildGenericNack(1, out.ssrc, [101, 150]));
    assert.equal(sink.rtp.length, 1);
    assert.deepEqual(sink.rtp[0].subarray(12), Buffer.from([0, 101, 1, 1, 1]));
    assert.deepEqual(shared, copies);
    assert.equal(out.retransmit?.tooOld, 1);
  });

  it('without retransmission NACKs are ignored and nothing is kept', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    out.send(payload([1]), 0);
    out.onRtcp(buildGenericNack(1, out.ssrc, [(out.nextSeq - 1) & 0xffff]));
    assert.equal(sink.rtp.length, 1);
    assert.equal(out.retransmit, undefined);
  });
});

describe('RtpOutput reliable UDP (QuickTime qtak acks)', () => {
  const opts = { historyMs: 1500, historyBytes: 1 << 20, windowBytes: 4000, slowStart: false, timer: false };

  it('acks of our SSRC are taken, others and garbage ignored; counts logged once', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    const lines: object[] = [];
    out.enableReliableUdp(opts, { info: (o) => lines.push(o) });
    const first = out.nextSeq;
    for (let i = 0; i < 3; i++) out.send(payload(Buffer.alloc(500, i)), 1000 + i);
    assert.equal(out.windowFull, false);
    // seq first and first+2 acked (mask bit 1); a qtak about another SSRC and garbage change nothing.
    out.onRtcp(compound(buildReceiverReport(5, [block(out.ssrc)]), buildQtAck({ ssrc: 5, mediaSsrc: out.ssrc, seq: first, mask: [false, true] })));
    out.onRtcp(buildQtAck({ ssrc: 5, mediaSsrc: (out.ssrc + 1) >>> 0, seq: (first + 1) & 0xffff }));
    out.onRtcp(Buffer.from([0x80, 204, 0, 2, 1, 2, 3, 4, 0x71, 0x74, 0x61, 0x6b]));
    assert.equal(out.reliableUdp?.acked, 2);
    // The one not acked is still outstanding (its resend on timeout: reliable-udp.test.ts).
    assert.equal(out.reliableUdp?.acks, 1);
    assert.equal(sink.rtp.length, 3);
    out.sendBye('teardown');
    out.sendBye('again');
    assert.equal(lines.length, 1, 'logged once, at the end');
    out.close();
    assert.equal(out.windowFull, false);
  });

  it('holds a file viewer when the window is full; acks free it', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    out.enableReliableUdp(opts);
    const first = out.nextSeq;
    for (let i = 0; i < 4; i++) out.send(payload(Buffer.alloc(1000 - 12)), i);
    assert.equal(out.windowFull, true);
    out.onRtcp(buildQtAck({ ssrc: 5, mediaSsrc: out.ssrc, seq: first, mask: [true, true, true] }));
    assert.equal(out.windowFull, false);
    out.forgetSent();
  });

  it('a live viewer: the shared packets are kept by reference and acked by their numbers', () => {
    const sink = new MemorySink();
    const out = fileOut(sink);
    out.enableReliableUdp(opts);
    const shared = [0, 1, 2, 3].map((s) => writeRtpPacket(payload(Buffer.alloc(988)), { payloadType: 96, sequence: 100 + s, timestamp: 9, ssrc: out.ssrc }));
    out.sent(4, 4 * 988, shared);
    assert.equal(out.windowFull, true);
    out.onRtcp(buildQtAck({ ssrc: 1, mediaSsrc: out.ssrc, seq: 100, mask: [true, true, true], oldName: true }));
    assert.equal(out.reliableUdp?.acked, 4);
    assert.equal(out.windowFull, false);
    out.close();
  });

  it('without reliable UDP acks are ignored and the window never holds', () => {
    const out = fileOut();
    out.send(payload([1]), 0);
    out.onRtcp(buildQtAck({ ssrc: 1, mediaSsrc: out.ssrc, seq: (out.nextSeq - 1) & 0xffff }));
    assert.equal(out.reliableUdp, undefined);
    assert.equal(out.windowFull, false);
  });
});
