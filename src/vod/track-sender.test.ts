import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RtpPayload } from '../codecs/types.js';
import {
  buildReceiverReport,
  buildSenderReport,
  compound,
  msToNtp,
  parseRtcpCompound,
  SdesItemType,
  type ReportBlockInit,
  type RtcpBye,
  type RtcpPacket,
  type RtcpSdes,
  type RtcpSenderReport,
} from '../rtcp/index.js';
import { readRtpHeader } from '../rtp/packet.js';
import type { RtpSink } from '../transport/types.js';
import { TrackSender } from './track-sender.js';

/** An RtpSink that records what it is given (only the last `keep` RTP packets). */
class FakeSink implements RtpSink {
  readonly kind = 'udp' as const;
  readonly backlog = 0;
  rtp: Buffer[] = [];
  rtcp: Buffer[] = [];
  rtpCount = 0;
  constructor(readonly keep = Infinity) {}
  sendRtp(packet: Buffer): void {
    this.rtpCount++;
    this.rtp.push(packet);
    if (this.rtp.length > this.keep) this.rtp.shift();
  }
  sendRtcp(packet: Buffer): void {
    this.rtcp.push(packet);
  }
  close(): void {}
}

function payload(bytes: number[] | Buffer, marker = false): RtpPayload {
  const b = Buffer.from(bytes);
  return { parts: [b], length: b.length, marker };
}

function sender(sink = new FakeSink(), clockRate = 90000, payloadType = 96): TrackSender {
  return new TrackSender({ sink, payloadType, clockRate, cname: 'rivulet@test' });
}

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

describe('TrackSender RTP', () => {
  it('writes our SSRC, payload type, timestamp, marker and payload into each packet', () => {
    const sink = new FakeSink();
    const s = sender(sink, 90000, 97);
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
    const sink = new FakeSink();
    const s = sender(sink);
    const first = s.nextSeq;
    for (let i = 0; i < 5; i++) s.send(payload([i]), 0);
    assert.deepEqual(
      sink.rtp.map((p) => readRtpHeader(p)!.sequence),
      [0, 1, 2, 3, 4].map((i) => (first + i) & 0xffff),
    );
    assert.equal(s.nextSeq, (first + 5) & 0xffff);
  });

  it('wraps the sequence number from 65535 to 0', () => {
    const sink = new FakeSink(3);
    const s = sender(sink);
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
    const s = sender();
    s.send(payload(Buffer.alloc(100)), 0);
    s.send(payload(Buffer.alloc(1400)), 0);
    assert.equal(s.packets, 2);
    assert.equal(s.octets, 1500);
  });

  it('gives each sender its own random SSRC and timestamp origin', () => {
    const a = sender();
    const b = sender();
    // 2^-32 chance of a false failure per field.
    assert.notEqual(a.ssrc, b.ssrc);
    assert.notEqual(a.rtpBase, b.rtpBase);
    for (const v of [a.ssrc, a.rtpBase, a.nextSeq]) assert.ok(Number.isInteger(v) && v >= 0);
    assert.ok(a.ssrc <= 0xffffffff && a.rtpBase <= 0xffffffff && a.nextSeq <= 0xffff);
  });
});

describe('TrackSender.rtpTimeAt', () => {
  it('maps npt seconds to rtpBase + npt * clockRate', () => {
    const s = sender(new FakeSink(), 90000);
    assert.equal(s.rtpTimeAt(0), s.rtpBase);
    assert.equal(s.rtpTimeAt(1), (s.rtpBase + 90000) >>> 0);
    assert.equal(s.rtpTimeAt(2.5), (s.rtpBase + 225000) >>> 0);
    const audio = sender(new FakeSink(), 44100);
    assert.equal(audio.rtpTimeAt(1024 / 44100), (audio.rtpBase + 1024) >>> 0, 'one AAC frame is 1024 ticks');
  });

  it('rounds to the nearest tick and wraps modulo 2^32', () => {
    const s = sender(new FakeSink(), 90000);
    assert.equal(s.rtpTimeAt(1 / 180000), (s.rtpBase + 1) >>> 0, 'half a tick rounds up');
    // The instant 10 ticks past the 2^32 wrap of this sender's timeline.
    const npt = (0x1_0000_0000 - s.rtpBase + 10) / 90000;
    assert.equal(s.rtpTimeAt(npt), 10);
    assert.ok(s.rtpTimeAt(50_000) <= 0xffffffff);
  });
});

describe('TrackSender RTCP out', () => {
  it('sendReport sends SR + SDES CNAME with our SSRC, the RTP time of npt and the counts', () => {
    const sink = new FakeSink();
    const s = sender(sink, 90000);
    s.send(payload(Buffer.alloc(300)), 0);
    s.send(payload(Buffer.alloc(200)), 0);
    s.send(payload(Buffer.alloc(7)), 0);
    const now = Date.UTC(2025, 5, 1, 12, 0, 0, 250);
    s.sendReport(3.2, now);
    assert.equal(sink.rtcp.length, 1);
    const packets = parseRtcpCompound(sink.rtcp[0]);
    assert.deepEqual(
      packets.map((p) => p.type),
      ['sr', 'sdes'],
      'a compound packet starts with the SR',
    );
    const sr = packets[0] as RtcpSenderReport;
    assert.equal(sr.ssrc, s.ssrc);
    assert.equal(sr.rtpTimestamp, s.rtpTimeAt(3.2));
    assert.equal(sr.packetCount, 3);
    assert.equal(sr.octetCount, 507);
    assert.deepEqual(sr.ntpTime, msToNtp(now));
    assert.deepEqual(sr.reports, []);
    const sdes = packets[1] as RtcpSdes;
    assert.deepEqual(sdes.chunks, [
      { ssrc: s.ssrc, items: [{ type: SdesItemType.CNAME, value: 'rivulet@test' }] },
    ]);
  });

  it('sendBye sends SR + SDES + BYE for our SSRC with the reason', () => {
    const sink = new FakeSink();
    const s = sender(sink);
    s.send(payload([1, 2]), 0);
    s.sendBye(7, 'end of stream');
    const packets = parseRtcpCompound(sink.rtcp[0]);
    assert.deepEqual(
      packets.map((p) => p.type),
      ['sr', 'sdes', 'bye'],
    );
    const sr = packets[0] as RtcpSenderReport;
    assert.equal(sr.rtpTimestamp, s.rtpTimeAt(7));
    assert.equal(sr.packetCount, 1);
    assert.equal(sr.octetCount, 2);
    const bye = packets[2] as RtcpBye;
    assert.deepEqual(bye.ssrcs, [s.ssrc]);
    assert.equal(bye.reason, 'end of stream');
  });

  it('sendBye without a reason sends a BYE without one', () => {
    const sink = new FakeSink();
    const s = sender(sink);
    s.sendBye(0);
    const bye = only(parseRtcpCompound(sink.rtcp[0]), 'bye');
    assert.deepEqual(bye.ssrcs, [s.ssrc]);
    assert.equal(bye.reason, undefined);
  });
});

describe('TrackSender.onRtcp', () => {
  const VIEWER = 0x11223344;

  it('fills reception from a receiver report block about our SSRC', () => {
    const s = sender();
    s.onRtcp(
      buildReceiverReport(VIEWER, [
        block(s.ssrc, { fractionLost: 0.25, cumulativeLost: 17, jitter: 345, highestSeq: 70000 }),
      ]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0.25, cumulativeLost: 17, jitter: 345, reports: 1 });
  });

  it('ignores blocks about other SSRCs, also in the same packet', () => {
    const s = sender();
    const other = (s.ssrc ^ 0x5a5a5a5a) >>> 0;
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(other, { fractionLost: 0.5, cumulativeLost: 99, jitter: 9 })]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0, cumulativeLost: 0, jitter: 0, reports: 0 });
    s.onRtcp(
      buildReceiverReport(VIEWER, [
        block(other, { fractionLost: 0.5, cumulativeLost: 99, jitter: 9 }),
        block(s.ssrc, { fractionLost: 0.125, cumulativeLost: 3, jitter: 40 }),
      ]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0.125, cumulativeLost: 3, jitter: 40, reports: 1 });
  });

  it('keeps the latest report and counts them', () => {
    const s = sender();
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0.5, cumulativeLost: 10, jitter: 100 })]),
    );
    s.onRtcp(
      buildReceiverReport(VIEWER, [block(s.ssrc, { fractionLost: 0, cumulativeLost: 12, jitter: 80 })]),
    );
    assert.deepEqual(s.reception, { fractionLost: 0, cumulativeLost: 12, jitter: 80, reports: 2 });
  });

  it('reads report blocks carried in a sender report and in a compound packet', () => {
    const s = sender();
    const sr = buildSenderReport({
      ssrc: VIEWER,
      wallclockMs: Date.now(),
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: [block(s.ssrc, { fractionLost: 0.75, cumulativeLost: 5, jitter: 6 })],
    });
    s.onRtcp(compound(sr, buildReceiverReport(VIEWER)));
    assert.deepEqual(s.reception, { fractionLost: 0.75, cumulativeLost: 5, jitter: 6, reports: 1 });
  });

  it('ignores malformed RTCP without throwing', () => {
    const s = sender();
    s.onRtcp(Buffer.from([0xff, 0xff, 0xff]));
    s.onRtcp(Buffer.alloc(0));
    assert.equal(s.reception.reports, 0);
  });
});
