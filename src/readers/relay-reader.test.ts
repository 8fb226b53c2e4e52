import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReceiverReport, parseRtcpCompound } from '../rtcp/index.js';
import { readRtpHeader } from '../rtp/packet.js';
import { silentLogger } from '../logging/index.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';
import { StreamRegistry } from '../core/stream-registry.js';
import { FakePublisher } from '../core/test-helpers/fakes.js';
import { RelayReader } from './relay-reader.js';
import { avFeeds } from './test-helpers/track-feed.js';

function setup(graceTime = 5) {
  const registry = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger() });
  const [video, audio] = avFeeds();
  const publisher = new FakePublisher();
  const stream = registry.publish('live/a', [video.track, audio.track], publisher, graceTime);
  const sinks = [new MemorySink(), new MemorySink()];
  const closed: string[] = [];
  const reader = new RelayReader({ stream, sinks, protocol: 'relay-test', label: 'test', cname: 'c', queueLimit: 1 << 20, onClosed: (r) => closed.push(r) });
  return { registry, video, audio, publisher, stream, sinks, closed, reader };
}

const types = (sink: MemorySink) => sink.rtcp.map((b) => parseRtcpCompound(b).map((p) => p.type).join('+'));

describe('RelayReader', () => {
  it('joins the stream from the keyframe held, audio from the same instant, with a first sender report', () => {
    const { video, audio, stream, sinks, reader, registry } = setup();
    audio.audio(); // before the keyframe: not sent
    video.key();
    audio.audio();
    video.delta();
    reader.start();
    assert.ok(stream.readers.has(reader));
    assert.equal(sinks[0].rtp.length, 4);
    assert.equal(sinks[1].rtp.length, 1);
    assert.deepEqual(types(sinks[0]), ['sr+sdes']);
    const sr = parseRtcpCompound(sinks[0].rtcp[0])[0];
    assert.ok(sr.type === 'sr');
    assert.equal(sr.ssrc, video.track.ssrc);
    assert.equal(sr.packetCount, 4);
    // The packets are the track's own, shared with every viewer.
    assert.equal(readRtpHeader(sinks[0].rtp[0])!.ssrc, video.track.ssrc);
    video.delta();
    assert.equal(sinks[0].rtp.length, 6);
    registry.close('test over');
  });

  it('the stream ending closes it: BYE on every track, the owner told, nothing more sent', () => {
    const { video, stream, sinks, closed, reader } = setup();
    reader.start();
    video.key();
    stream.end('publisher gone');
    assert.deepEqual(closed, ['broadcast ended']);
    assert.ok(reader.closed);
    assert.deepEqual(types(sinks[0]), ['sr+sdes', 'sr+sdes+bye']);
    video.key();
    assert.equal(sinks[0].rtp.length, 2);
  });

  it('leave() takes it out of a stream that goes on, without telling the owner', () => {
    const { video, stream, sinks, closed, reader, registry } = setup();
    reader.start();
    reader.leave('far end dropped');
    assert.equal(stream.readers.has(reader), false);
    assert.deepEqual(closed, []);
    video.key();
    assert.equal(sinks[0].rtp.length, 0);
    registry.close('test over');
  });

  it('keeps the stream through its grace time and resumes on the returning source keyframe', () => {
    const { video, stream, sinks, publisher, reader, registry } = setup();
    reader.start();
    video.key();
    stream.detach(publisher, 'gone');
    assert.equal(stream.state, 'waiting', 'a relay destination is a reader the stream waits for');
    stream.attach(new FakePublisher('back'));
    video.delta();
    assert.equal(sinks[0].rtp.length, 2, 'no delta frame before the new keyframe');
    video.key();
    assert.equal(sinks[0].rtp.length, 4);
    registry.close('test over');
  });

  it('reads the far end receiver reports into packetsLost', () => {
    const { video, reader, registry } = setup();
    reader.start();
    reader.onRtcp(0, buildReceiverReport(1, [{ ssrc: video.track.ssrc, fractionLost: 0, cumulativeLost: 7, highestSeq: 1, jitter: 0, lsr: 0, dlsr: 0 }]));
    reader.onRtcp(5, Buffer.alloc(4));
    assert.equal(reader.packetsLost, 7);
    registry.close('test over');
  });

  it('refuses sinks that do not match the tracks', () => {
    const { stream, registry } = setup();
    assert.throws(() => new RelayReader({ stream, sinks: [new MemorySink()], protocol: 'x', label: 'x', cname: 'c', queueLimit: 1, onClosed: () => undefined }), RangeError);
    registry.close('test over');
  });
});
