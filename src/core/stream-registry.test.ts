import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../logging/index.js';
import { writeRtpPacket } from '../rtp/packet.js';
import type { Format } from '../stream/types.js';
import type { Source, Stream } from './stream.js';
import { FakePublisher, FakeViewer } from './test-helpers/fakes.js';
import { StreamTrack } from './stream-track.js';
import { StreamRegistry, streamKey } from './stream-registry.js';

const H264: Format = { media: 'video', payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: {} };

const tracks = () => [new StreamTrack({ id: 0, format: H264 })];
/** A registry whose every path has `graceTime` (a PathManager's setting in the server). */
class TestRegistry extends StreamRegistry {
  constructor(
    readonly grace: number,
    publisherTimeout: number,
  ) {
    super({ publisherTimeout, log: silentLogger() });
  }
  override publish(key: string, t: StreamTrack[], pub: Source, graceTime = this.grace): Stream {
    return super.publish(key, t, pub, graceTime);
  }
}
const registry = (graceTime = 0.2, publisherTimeout = 10) => new TestRegistry(graceTime, publisherTimeout);

describe('streamKey', () => {
  it('names the same stream with or without .sdp', () => {
    assert.equal(streamKey(['live', 'cam1']), 'live/cam1');
    assert.equal(streamKey(['live', 'cam1.sdp']), 'live/cam1');
    assert.equal(streamKey(['live', 'cam1.SDP']), 'live/cam1');
    assert.equal(streamKey(['cam.sdp.d', 'x']), 'cam.sdp.d/x');
  });
});

describe('StreamRegistry.publish', () => {
  it('creates an active stream under its key', () => {
    const reg = registry();
    const t = tracks();
    const pub = new FakePublisher();
    const s = reg.publish('live/a', t, pub);
    assert.equal(reg.get('live/a'), s);
    assert.equal(s.path, 'live/a');
    assert.equal(s.tracks, t);
    assert.equal(s.state, 'active');
    assert.equal(s.source, pub);
    reg.close('test over');
  });

  it('reuses the stream when given the same tracks array (publisher back within the grace time)', () => {
    const reg = registry();
    const t = tracks();
    const pub1 = new FakePublisher();
    const s = reg.publish('live/a', t, pub1);
    const v = new FakeViewer();
    s.addReader(v);
    s.detach(pub1, 'connection lost');
    assert.equal(s.state, 'waiting');
    const pub2 = new FakePublisher();
    assert.equal(reg.publish('live/a', t, pub2), s);
    assert.equal(s.state, 'active');
    assert.equal(s.source, pub2);
    assert.equal(v.resyncs, 1);
    assert.deepEqual(v.closed, []);
    reg.close('test over');
  });

  it('replaces the stream when given other tracks: old viewers and publisher are closed', () => {
    const reg = registry();
    const pub1 = new FakePublisher('old');
    const old = reg.publish('live/a', tracks(), pub1);
    const v = new FakeViewer();
    old.addReader(v);
    const pub2 = new FakePublisher('new');
    const s = reg.publish('live/a', tracks(), pub2);
    assert.notEqual(s, old);
    assert.equal(old.state, 'ended');
    assert.deepEqual(pub1.closed, ['replaced by a new broadcast']);
    assert.deepEqual(v.closed, ['broadcast ended']);
    assert.equal(reg.get('live/a'), s, 'the old stream ending does not remove the new one');
    assert.equal(s.state, 'active');
    assert.deepEqual(pub2.closed, []);
    reg.close('test over');
  });

  it('starts a new stream when the old one has ended, and forgets ended streams', () => {
    const reg = registry();
    const t = tracks();
    const pub1 = new FakePublisher();
    const s1 = reg.publish('live/a', t, pub1);
    s1.detach(pub1, 'gone'); // no viewers: ends at once
    assert.equal(reg.get('live/a'), undefined);
    const s2 = reg.publish('live/a', t, new FakePublisher());
    assert.notEqual(s2, s1);
    assert.equal(s2.state, 'active');
    reg.close('test over');
  });

  it('removes a stream from the registry when its grace time runs out', async () => {
    const reg = registry(0.1);
    const pub = new FakePublisher();
    const s = reg.publish('live/a', tracks(), pub);
    const v = new FakeViewer();
    s.addReader(v);
    s.detach(pub, 'gone');
    assert.equal(reg.get('live/a'), s);
    await sleep(250);
    assert.equal(reg.get('live/a'), undefined);
    assert.deepEqual(v.closed, ['broadcast ended']);
    reg.close('test over');
  });

  it('keeps streams at different keys apart', () => {
    const reg = registry();
    const a = reg.publish('live/a', tracks(), new FakePublisher());
    const b = reg.publish('live/b', tracks(), new FakePublisher());
    assert.notEqual(a, b);
    assert.equal(a.state, 'active');
    assert.equal(reg.streams.size, 2);
    reg.close('test over');
  });
});

describe('StreamRegistry ports', () => {
  it('throws naming the owner for a port another stream holds; the same key may claim again', () => {
    const reg = registry();
    reg.claimPorts('live/a', [5004, 5005]);
    assert.throws(
      () => reg.claimPorts('live/b', [5004]),
      (e: Error) => e.message.includes('5004') && e.message.includes("'live/a'"),
    );
    assert.doesNotThrow(() => reg.claimPorts('live/a', [5004, 5005]));
    reg.close('test over');
  });

  it('claims nothing when one of the ports is taken', () => {
    const reg = registry();
    reg.claimPorts('live/a', [5005]);
    assert.throws(() => reg.claimPorts('live/b', [6000, 5005]), /5005.*live\/a/);
    assert.doesNotThrow(() => reg.claimPorts('live/c', [6000]), 'port 6000 was not kept by the failed claim');
    reg.close('test over');
  });

  it('releasePorts frees only that key’s ports', () => {
    const reg = registry();
    reg.claimPorts('live/a', [5004, 5005]);
    reg.claimPorts('live/b', [6004]);
    reg.releasePorts('live/a');
    assert.doesNotThrow(() => reg.claimPorts('live/c', [5004, 5005]));
    assert.throws(() => reg.claimPorts('live/c', [6004]), /live\/b/);
    reg.close('test over');
  });
});

describe('StreamRegistry publisher timeout and close', () => {
  it('drops a publisher whose tracks received nothing, keeps one that sends', async () => {
    const reg = registry(5, 1);
    const silentPub = new FakePublisher('silent');
    const silent = reg.publish('live/silent', tracks(), silentPub);
    const waitingPub = new FakePublisher('silent with viewers');
    const waiting = reg.publish('live/viewed', tracks(), waitingPub);
    const viewer = new FakeViewer();
    waiting.addReader(viewer);
    const busyPub = new FakePublisher('busy');
    const busyTracks = tracks();
    const busy = reg.publish('live/busy', busyTracks, busyPub);
    let seq = 0;
    const feeder = setInterval(() => {
      const p = Buffer.from([0x41, 0x9a]);
      busyTracks[0].ingest(
        writeRtpPacket(
          { parts: [p], length: p.length, marker: true },
          { payloadType: 96, sequence: seq, timestamp: seq * 3000, ssrc: 1 },
        ),
      );
      seq++;
    }, 100);
    try {
      await sleep(2200);
    } finally {
      clearInterval(feeder);
    }
    assert.deepEqual(silentPub.closed, ['publisher timeout']);
    assert.equal(silent.state, 'ended', 'no viewers: ended at once');
    assert.equal(reg.get('live/silent'), undefined);
    assert.deepEqual(waitingPub.closed, ['publisher timeout']);
    assert.equal(waiting.state, 'waiting', 'viewers wait the grace time for a new publisher');
    assert.deepEqual(viewer.closed, []);
    assert.deepEqual(busyPub.closed, []);
    assert.equal(busy.state, 'active');
    reg.close('test over');
  });

  it('close() ends every stream, closing publishers and viewers', () => {
    const reg = registry();
    const p1 = new FakePublisher();
    const p2 = new FakePublisher();
    const a = reg.publish('live/a', tracks(), p1);
    const b = reg.publish('live/b', tracks(), p2);
    const v = new FakeViewer();
    b.addReader(v);
    const waitingPub = new FakePublisher();
    const c = reg.publish('live/c', tracks(), waitingPub);
    c.addReader(new FakeViewer());
    c.detach(waitingPub, 'gone');
    reg.close('server shutting down');
    assert.equal(a.state, 'ended');
    assert.equal(b.state, 'ended');
    assert.equal(c.state, 'ended');
    assert.deepEqual(p1.closed, ['server shutting down']);
    assert.deepEqual(p2.closed, ['server shutting down']);
    assert.deepEqual(v.closed, ['broadcast ended']);
    assert.equal(reg.streams.size, 0);
  });
});
