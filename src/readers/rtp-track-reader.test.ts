import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReceiverReport } from '../rtcp/index.js';
import { writeRtpPacket } from '../rtp/packet.js';
import type { RtpOutput } from '../rtp/output.js';
import type { Format } from '../stream/types.js';
import { interleavedForm, type FrameWriter } from '../transport/interleaved.js';
import { StreamTrack, type Frame } from '../core/stream-track.js';
import { liveOutput, RtpTrackReader } from './rtp-track-reader.js';
import { AAC, H264 } from '../core/test-helpers/fakes.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';
import type { ThinningSettings } from './thinning.js';


const IDR = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33, 0x44]);
const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e]);
const SLICE = Buffer.from([0x41, 0x9a, 0x00]);

class FakeWriter implements FrameWriter {
  writableLength = 0;
  closed = false;
  readonly raw: Buffer[] = [];
  readonly frames: [number, Buffer][] = [];
  writeFrame(channel: number, payload: Buffer): void {
    this.frames.push([channel, payload]);
  }
  writeRaw(framed: Buffer): void {
    this.raw.push(framed);
  }
}

/** A track fed by hand, with a log of every frame it produced. */
class Feed {
  readonly track: StreamTrack;
  readonly frames: Frame[] = [];
  #seq = 1;
  #ts = 0;
  constructor(format: Format = H264) {
    this.track = new StreamTrack({ id: 0, format });
    this.track.readers.add({ deliver: (f) => this.frames.push(f) });
  }
  /** One frame of the given payloads (marker on the last); returns it. */
  frame(...payloads: Buffer[]): Frame {
    payloads.forEach((p, i) =>
      this.track.ingest(
        writeRtpPacket(
          { parts: [p], length: p.length, marker: i === payloads.length - 1 },
          {
            payloadType: this.track.format.payloadType,
            sequence: this.#seq++,
            timestamp: this.#ts,
            ssrc: 0x5555,
          },
        ),
      ),
    );
    this.#ts += 3000;
    return this.frames[this.frames.length - 1];
  }
  key(): Frame {
    return this.frame(SPS, IDR);
  }
  delta(): Frame {
    return this.frame(SLICE, SLICE);
  }
}

function udpReader(feed: Feed, queueLimit = 1000): { reader: RtpTrackReader; sink: MemorySink } {
  const sink = new MemorySink();
  const reader = new RtpTrackReader({
    track: feed.track,
    output: liveOutput(feed.track, sink, 'test'),
    queueLimit,
  });
  reader.start([]);
  return { reader, sink };
}

function tcpReader(
  feed: Feed,
  queueLimit = 1000,
  channel = 2,
): { reader: RtpTrackReader; writer: FakeWriter; sink: MemorySink } {
  const writer = new FakeWriter();
  // The sink is not used for RTP on the TCP path: frames go out through the writer in one piece.
  const sink = new MemorySink();
  const reader = new RtpTrackReader({
    track: feed.track,
    output: liveOutput(feed.track, sink, 'test'),
    tcp: { writer, channel },
    queueLimit,
  });
  reader.start([]);
  return { reader, writer, sink };
}

describe('RtpTrackReader over UDP', () => {
  it('waits for a keyframe before sending anything', () => {
    const feed = new Feed();
    const { sink } = udpReader(feed);
    feed.delta();
    feed.delta();
    assert.equal(sink.rtp.length, 0);
    const k = feed.key();
    assert.deepEqual(sink.rtp, k.packets);
    const d = feed.delta();
    assert.deepEqual(sink.rtp, [...k.packets, ...d.packets]);
  });

  it('sends the frame packets themselves, in order', () => {
    const feed = new Feed();
    const { sink } = udpReader(feed);
    const k = feed.key();
    assert.equal(sink.rtp.length, 2);
    assert.equal(sink.rtp[0], k.packets[0]);
    assert.equal(sink.rtp[1], k.packets[1]);
  });

  it('counts packets and payload octets sent', () => {
    const feed = new Feed();
    const { reader } = udpReader(feed);
    feed.delta(); // not sent, not counted
    feed.key();
    feed.delta();
    assert.equal(reader.output.packets, 4);
    assert.equal(reader.output.octets, SPS.length + IDR.length + 2 * SLICE.length);
    assert.equal(reader.dropped, 0);
  });

  it('resync() waits for a keyframe again', () => {
    const feed = new Feed();
    const { reader, sink } = udpReader(feed);
    feed.key();
    reader.resync();
    feed.delta();
    assert.equal(sink.rtp.length, 2);
    const k = feed.key();
    assert.deepEqual(sink.rtp.slice(2), k.packets);
  });
});

/** A sink whose backlog a test sets, as a push session's unsent bytes or a forward socket's
 * send queue (a relay destination's sink). */
class SlowSink extends MemorySink {
  queued = 0;
  constructor() {
    super();
    // MemorySink's backlog is an own field (0): this one reads `queued`.
    Object.defineProperty(this, 'backlog', { get: () => this.queued });
  }
}

function slowReader(feed: Feed, queueLimit = 1000): { reader: RtpTrackReader; sink: SlowSink } {
  const sink = new SlowSink();
  const reader = new RtpTrackReader({ track: feed.track, output: liveOutput(feed.track, sink, 'test'), queueLimit });
  reader.start([]);
  return { reader, sink };
}

describe('RtpTrackReader over a sink with a backlog of its own (relay destinations)', () => {
  it('skips to the next keyframe while the sink holds more than the limit, counting each frame', () => {
    const feed = new Feed();
    const { reader, sink } = slowReader(feed, 1000);
    feed.key();
    sink.queued = 1001;
    feed.delta();
    feed.key(); // still over: dropped too
    assert.equal(reader.dropped, 2);
    sink.queued = 0;
    feed.delta(); // no keyframe since the gap: not decodable
    assert.equal(sink.rtp.length, 2);
    const k = feed.key();
    const d = feed.delta();
    assert.deepEqual(sink.rtp.slice(2), [...k.packets, ...d.packets]);
    assert.equal(reader.dropped, 2, 'skipping while waiting is not counted again');
    assert.equal(reader.output.packets, 6, 'only what was sent is counted');
  });

  it('still sends at exactly the limit', () => {
    const feed = new Feed();
    const { reader, sink } = slowReader(feed, 1000);
    sink.queued = 1000;
    feed.key();
    assert.equal(sink.rtp.length, 2);
    assert.equal(reader.dropped, 0);
  });

  it('audio resumes on the very next frame after a drop', () => {
    const feed = new Feed(AAC);
    const { reader, sink } = slowReader(feed, 1000);
    const a1 = feed.frame(Buffer.from([0x00, 0x10, 0x01]));
    sink.queued = 5000;
    feed.frame(Buffer.from([0x00, 0x10, 0x02]));
    sink.queued = 0;
    const a3 = feed.frame(Buffer.from([0x00, 0x10, 0x03]));
    assert.equal(reader.dropped, 1);
    assert.deepEqual(sink.rtp, [...a1.packets, ...a3.packets]);
  });
});

describe('RtpTrackReader over TCP', () => {
  it('writes each frame with one interleaved buffer, shared through the frame', () => {
    const feed = new Feed();
    const { writer, sink } = tcpReader(feed, 1000, 4);
    feed.delta();
    const k = feed.key();
    const d = feed.delta();
    assert.equal(writer.raw.length, 2);
    assert.equal(writer.raw[0], k.form(interleavedForm(4)));
    assert.equal(writer.raw[1], d.form(interleavedForm(4)));
    assert.equal(writer.frames.length, 0);
    assert.equal(sink.rtp.length, 0);
  });

  it('drops frames while the queue is over the limit, then waits for the next keyframe', () => {
    const feed = new Feed();
    const { reader, writer } = tcpReader(feed, 1000);
    feed.key();
    feed.delta();
    assert.equal(writer.raw.length, 2);
    writer.writableLength = 1001;
    feed.delta();
    assert.equal(reader.dropped, 1);
    assert.equal(writer.raw.length, 2);
    writer.writableLength = 0; // drained, but a delta frame cannot be decoded without the dropped one
    feed.delta();
    feed.delta();
    assert.equal(writer.raw.length, 2);
    assert.equal(reader.dropped, 1, 'skipping while waiting is not counted again');
    const k = feed.key();
    assert.equal(writer.raw.length, 3);
    assert.equal(writer.raw[2], k.form(interleavedForm(2)));
    feed.delta();
    assert.equal(writer.raw.length, 4);
  });

  it('counts each frame dropped over the limit, keyframes included', () => {
    const feed = new Feed();
    const { reader, writer } = tcpReader(feed, 100);
    feed.key();
    writer.writableLength = 5000;
    feed.delta();
    feed.key(); // still over: dropped too
    feed.key();
    assert.equal(reader.dropped, 3);
    assert.equal(writer.raw.length, 1);
    writer.writableLength = 0;
    feed.key();
    assert.equal(writer.raw.length, 2);
  });

  it('still sends at exactly the limit', () => {
    const feed = new Feed();
    const { reader, writer } = tcpReader(feed, 1000);
    writer.writableLength = 1000;
    feed.key();
    assert.equal(writer.raw.length, 1);
    assert.equal(reader.dropped, 0);
  });

  it('counts only what was sent', () => {
    const feed = new Feed();
    const { reader, writer } = tcpReader(feed, 1000);
    feed.key();
    writer.writableLength = 2000;
    feed.delta();
    assert.equal(reader.output.packets, 2);
    assert.equal(reader.output.octets, SPS.length + IDR.length);
  });

  it('audio resumes on the very next frame after a drop', () => {
    const feed = new Feed(AAC);
    const { reader, writer } = tcpReader(feed, 1000);
    const a1 = feed.frame(Buffer.from([0x00, 0x10, 0x01]));
    writer.writableLength = 1500;
    feed.frame(Buffer.from([0x00, 0x10, 0x02]));
    assert.equal(reader.dropped, 1);
    writer.writableLength = 0;
    const a3 = feed.frame(Buffer.from([0x00, 0x10, 0x03]));
    assert.deepEqual(writer.raw, [a1.form(interleavedForm(2)), a3.form(interleavedForm(2))]);
  });

  it('writes nothing to a closed connection', () => {
    const feed = new Feed();
    const { reader, writer } = tcpReader(feed, 1000);
    writer.closed = true;
    feed.key();
    assert.equal(writer.raw.length, 0);
    assert.equal(reader.output.packets, 0);
  });
});

describe('RtpTrackReader start and stop', () => {
  it('start(frames) sends the cached frames, then follows the live track', () => {
    const feed = new Feed();
    feed.delta(); // before any keyframe: not in the cache
    const k = feed.key();
    const d1 = feed.delta();
    const sink = new MemorySink();
    const reader = new RtpTrackReader({
      track: feed.track,
      output: liveOutput(feed.track, sink, 'test'),
      queueLimit: 1000,
    });
    assert.equal(feed.track.readers.has(reader), false);
    reader.start(feed.track.startFrames());
    assert.equal(feed.track.readers.has(reader), true);
    assert.deepEqual(sink.rtp, [...k.packets, ...d1.packets]);
    const d2 = feed.delta();
    assert.deepEqual(sink.rtp, [...k.packets, ...d1.packets, ...d2.packets]);
  });

  it('start(frames) over TCP writes the cache one frame per write', () => {
    const feed = new Feed();
    const k = feed.key();
    const d = feed.delta();
    const writer = new FakeWriter();
    const reader = new RtpTrackReader({
      track: feed.track,
      output: liveOutput(feed.track, new MemorySink(), 'test'),
      tcp: { writer, channel: 0 },
      queueLimit: 1 << 20,
    });
    reader.start(feed.track.startFrames());
    assert.deepEqual(writer.raw, [k.form(interleavedForm(0)), d.form(interleavedForm(0))]);
  });

  it('stop() leaves the track: nothing more is sent', () => {
    const feed = new Feed();
    const { reader, sink } = udpReader(feed);
    feed.key();
    reader.stop();
    assert.equal(feed.track.readers.has(reader), false);
    feed.delta();
    feed.key();
    assert.equal(sink.rtp.length, 2);
  });
});

describe('RtpTrackReader thinning under loss', () => {
  const settings: ThinningSettings = { enabled: true, thinPercent: 10, thinReports: 2, thickenPercent: 5, thickenReports: 2 };
  /** A non-reference B slice (nal_ref_idc 0). */
  const B = Buffer.from([0x01, 0x9e, 0x00]);

  function thinned(feed: Feed, opts: { tcp?: boolean; enabled?: boolean } = {}) {
    const sink = new MemorySink();
    const lines: [Record<string, unknown>, string][] = [];
    const output = liveOutput(feed.track, sink, 'test');
    const writer = new FakeWriter();
    const reader = new RtpTrackReader({
      track: feed.track,
      output,
      tcp: opts.tcp ? { writer, channel: 0 } : undefined,
      queueLimit: 1 << 20,
      thinning: {
        settings: { ...settings, enabled: opts.enabled ?? true },
        log: { info: (o, m) => lines.push([o as Record<string, unknown>, m]) },
        label: { session: 's1', track: 0 },
      },
    });
    reader.start([]);
    return { reader, sink, output, lines, writer };
  }

  /** The viewer's receiver report about the track, with `fractionLost` (each speaking for 100
   * packets more). */
  let highestSeq = 0;
  const rr = (output: RtpOutput, fractionLost: number) =>
    output.onRtcp(buildReceiverReport(0x1234, [{ ssrc: output.ssrc, fractionLost, cumulativeLost: 0, highestSeq: (highestSeq += 100), jitter: 0, lsr: 0, dlsr: 0 }]));

  it('drops non-reference frames, then all but keyframes, renumbered without gaps, and thickens back', () => {
    const feed = new Feed();
    const { reader, sink, output, lines } = thinned(feed);
    feed.key();
    feed.frame(B);
    assert.equal(sink.rtp.length, 3);
    rr(output, 0.2);
    rr(output, 0.2);
    feed.frame(B);
    assert.equal(reader.thinning?.level, 1);
    assert.equal(lines[0][1], 'viewer thinned');
    assert.deepEqual({ ...lines[0][0] }, { session: 's1', track: 0, from: 0, to: 1, lossPercent: 19.9, level: 1, thinned: 1, thickened: 0, framesDropped: 0, packetsDropped: 0 });
    assert.equal(sink.rtp.length, 3, 'the non-reference frame was dropped');
    feed.delta();
    assert.equal(sink.rtp.length, 5, 'a reference frame goes');
    rr(output, 0.3);
    rr(output, 0.3);
    feed.delta();
    feed.frame(B);
    assert.equal(reader.thinning?.level, 2);
    assert.equal(sink.rtp.length, 5, 'keyframes only');
    feed.key();
    assert.equal(sink.rtp.length, 7);
    rr(output, 0);
    rr(output, 0);
    feed.delta();
    assert.equal(reader.thinning?.level, 1);
    feed.key();
    feed.delta();
    rr(output, 0.01);
    rr(output, 0);
    feed.frame(B);
    assert.equal(reader.thinning?.level, 0);
    assert.deepEqual(reader.thinning, { level: 0, thinned: 2, thickened: 2, framesDropped: 4, packetsDropped: 6 });
    // What the viewer got is numbered without a gap, so it reports no loss of its own making.
    const seqs = sink.rtp.map((p) => p.readUInt16BE(2));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, seqs.join(' '));
    // Sender reports count what was sent, copies included.
    assert.equal(output.packets, sink.rtp.length);
    reader.stop();
    reader.stop();
    assert.deepEqual(lines.map((l) => l[1]), ['viewer thinned', 'viewer thinned', 'viewer thickened', 'viewer thickened', 'thinning']);
  });

  it('a healthy viewer is never thinned and gets the shared packets themselves', () => {
    const feed = new Feed();
    const { reader, sink, output, lines } = thinned(feed);
    const frames = [feed.key()];
    for (let i = 0; i < 20; i++) {
      rr(output, i % 2 ? 0.07 : 0.02);
      frames.push(feed.frame(B), feed.delta());
    }
    assert.deepEqual(sink.rtp, frames.flatMap((f) => f.packets));
    assert.equal(sink.rtp[0], frames[0].packets[0]);
    assert.deepEqual(reader.thinning, { level: 0, thinned: 0, thickened: 0, framesDropped: 0, packetsDropped: 0 });
    reader.stop();
    assert.equal(lines.length, 0);
  });

  it('TCP viewers, audio tracks and thinning turned off are never thinned', () => {
    for (const [feed, opts] of [
      [new Feed(), { tcp: true }],
      [new Feed(AAC), {}],
      [new Feed(), { enabled: false }],
    ] as const) {
      const { reader, output, lines } = thinned(feed, opts);
      feed.key();
      for (let i = 0; i < 5; i++) {
        rr(output, 0.5);
        feed.frame(B);
      }
      assert.equal(reader.thinning, undefined);
      assert.equal(output.packets, 2 + 5, 'every frame went out, non-reference ones too');
      assert.equal(lines.length, 0);
    }
  });
});
