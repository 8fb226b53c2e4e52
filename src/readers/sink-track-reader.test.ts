import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpOutput } from '../rtp/output.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';
import { SinkTrackReader } from './sink-track-reader.js';
import { IDR, SLICE, SPS, TrackFeed } from './test-helpers/track-feed.js';
import { AAC } from '../core/test-helpers/fakes.js';

/** A memory sink whose backlog a test sets, as a push connection's unsent bytes. */
class SlowSink extends MemorySink {
  queued = 0;
  constructor() {
    super();
    // MemorySink's backlog is an own field (0): this one reads `queued`.
    Object.defineProperty(this, 'backlog', { get: () => this.queued });
  }
}

function reader(feed: TrackFeed, limit = 1000): { r: SinkTrackReader; sink: SlowSink } {
  const sink = new SlowSink();
  const output = new RtpOutput({ sink, payloadType: 96, clock: feed.track, cname: 'test', ssrc: feed.track.ssrc });
  const r = new SinkTrackReader({ track: feed.track, output, queueLimit: limit });
  r.start(feed.track.startFrames());
  return { r, sink };
}

describe('SinkTrackReader', () => {
  it('starts on a keyframe and sends every packet of each frame after it, counted', () => {
    const feed = new TrackFeed();
    const { r, sink } = reader(feed);
    feed.delta();
    assert.equal(sink.rtp.length, 0);
    feed.key();
    feed.delta();
    assert.equal(sink.rtp.length, 4);
    assert.equal(r.output.packets, 4);
    assert.equal(r.output.octets, SPS.length + IDR.length + 2 * SLICE.length);
  });

  it('starts from the keyframe a track holds', () => {
    const feed = new TrackFeed();
    feed.key();
    feed.delta();
    const { sink } = reader(feed);
    assert.equal(sink.rtp.length, 4);
  });

  it('skips to the next keyframe while the sink holds more than the limit, counting each frame', () => {
    const feed = new TrackFeed();
    const { r, sink } = reader(feed, 1000);
    feed.key();
    sink.queued = 1001;
    feed.delta();
    feed.key();
    assert.equal(r.dropped, 2);
    sink.queued = 0;
    feed.delta(); // no keyframe since the gap: not decodable
    assert.equal(sink.rtp.length, 2);
    feed.key();
    feed.delta();
    assert.equal(sink.rtp.length, 6);
    assert.equal(r.dropped, 2);
  });

  it('audio resumes on the next frame after a drop', () => {
    const feed = new TrackFeed({ format: AAC });
    const { r, sink } = reader(feed);
    feed.audio();
    sink.queued = 5000;
    feed.audio();
    sink.queued = 0;
    feed.audio();
    assert.equal(r.dropped, 1);
    assert.equal(sink.rtp.length, 2);
  });

  it('resync waits for a keyframe again; stop leaves the track', () => {
    const feed = new TrackFeed();
    const { r, sink } = reader(feed);
    feed.key();
    r.resync();
    feed.delta();
    assert.equal(sink.rtp.length, 2);
    feed.key();
    assert.equal(sink.rtp.length, 4);
    r.stop();
    assert.equal(feed.track.readers.has(r), false);
    feed.key();
    assert.equal(sink.rtp.length, 4);
  });
});
