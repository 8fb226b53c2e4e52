import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../logging/index.js';
import { writeRtpPacket } from '../rtp/packet.js';
import { CoreEvents } from './events.js';
import { Stream } from './stream.js';
import { AAC, H264, FakePublisher, FakeViewer } from './test-helpers/fakes.js';
import { StreamTrack } from './stream-track.js';

const GRACE = 0.2;

function makeStream(graceTime = GRACE, events?: CoreEvents) {
  const tracks = [
    new StreamTrack({ id: 0, format: H264, width: 640, height: 360 }),
    new StreamTrack({ id: 1, format: AAC, bitrateKbps: 128 }),
  ];
  const ended: Stream[] = [];
  const stream = new Stream({
    path: 'live/cam1',
    tracks,
    graceTime,
    log: silentLogger(),
    events,
    onEnded: (s) => ended.push(s),
  });
  return { stream, tracks, ended };
}

/** Puts a keyframe into the video track's cache. */
function feedKeyframe(track: StreamTrack): void {
  const idr = Buffer.from([0x65, 0x88, 0x84]);
  track.ingest(
    writeRtpPacket(
      { parts: [idr], length: idr.length, marker: true },
      { payloadType: 96, sequence: 1, timestamp: 0, ssrc: 9 },
    ),
  );
}

describe('Stream publisher lifecycle', () => {
  it('is waiting until a publisher attaches, then active', () => {
    const { stream } = makeStream();
    assert.equal(stream.state, 'waiting');
    assert.equal(stream.source, undefined);
    assert.equal(stream.activeSince, 0);
    const pub = new FakePublisher();
    const before = Date.now();
    stream.attach(pub);
    assert.equal(stream.state, 'active');
    assert.equal(stream.source, pub);
    assert.ok(stream.activeSince >= before);
  });

  it('tells its source how many read it as readers come and go', () => {
    const { stream } = makeStream();
    const counts: number[] = [];
    const pub = Object.assign(new FakePublisher(), { readersChanged: (n: number) => counts.push(n) });
    stream.attach(pub);
    const a = new FakeViewer();
    stream.addReader(a);
    stream.addReader(new FakeViewer());
    stream.addReader(a);
    stream.removeReader(a, 'teardown');
    assert.deepEqual(counts, [1, 2, 1]);
  });

  it('does not resync viewers or rebase tracks on the first attach', () => {
    const { stream, tracks } = makeStream();
    const v = new FakeViewer();
    stream.addReader(v);
    feedKeyframe(tracks[0]);
    stream.attach(new FakePublisher());
    assert.equal(v.resyncs, 0);
    assert.equal(tracks[0].startFrames().length, 1, 'keyframe cache kept');
  });

  it('detach with viewers: waiting, viewers kept, nothing closed yet', () => {
    const { stream, ended } = makeStream();
    const pub = new FakePublisher();
    const v = new FakeViewer();
    stream.attach(pub);
    stream.addReader(v);
    stream.detach(pub, 'publisher left');
    assert.equal(stream.state, 'waiting');
    assert.equal(stream.source, undefined);
    assert.ok(stream.readers.has(v));
    assert.deepEqual(v.closed, []);
    assert.equal(ended.length, 0);
    stream.end('test over');
  });

  it('ignores detach from a publisher that is not the current one', () => {
    const { stream } = makeStream();
    const pub = new FakePublisher();
    stream.addReader(new FakeViewer());
    stream.attach(pub);
    stream.detach(new FakePublisher('someone else'), 'stray');
    assert.equal(stream.state, 'active');
    assert.equal(stream.source, pub);
    stream.end('test over');
  });

  it('a publisher back within the grace time continues the stream: tracks rebased, viewers resynced', async () => {
    const { stream, tracks, ended } = makeStream();
    const pub1 = new FakePublisher('first');
    const v1 = new FakeViewer();
    const v2 = new FakeViewer();
    stream.attach(pub1);
    stream.addReader(v1);
    stream.addReader(v2);
    feedKeyframe(tracks[0]);
    stream.detach(pub1, 'connection lost');
    await sleep(GRACE * 1000 * 0.4);
    const pub2 = new FakePublisher('second');
    stream.attach(pub2);
    assert.equal(stream.state, 'active');
    assert.equal(stream.source, pub2);
    assert.equal(v1.resyncs, 1);
    assert.equal(v2.resyncs, 1);
    assert.deepEqual(tracks[0].startFrames(), [], 'the old keyframe cache is gone');
    // The grace timer was cancelled: well past it, nothing has ended.
    await sleep(GRACE * 1000 * 1.5);
    assert.equal(stream.state, 'active');
    assert.deepEqual(v1.closed, []);
    assert.deepEqual(pub2.closed, []);
    assert.equal(ended.length, 0);
    stream.end('test over');
  });

  it('when the grace time runs out, viewers are closed and the stream ends once', async () => {
    const { stream, tracks, ended } = makeStream();
    const pub = new FakePublisher();
    const v = new FakeViewer();
    stream.attach(pub);
    stream.addReader(v);
    const reader = { deliver: () => {} };
    tracks[0].readers.add(reader);
    stream.detach(pub, 'connection lost');
    await sleep(GRACE * 1000 * 0.5);
    assert.equal(stream.state, 'waiting');
    assert.deepEqual(v.closed, []);
    await sleep(GRACE * 1000 + 100);
    assert.equal(stream.state, 'ended');
    assert.deepEqual(v.closed, ['broadcast ended']);
    assert.equal(stream.readers.size, 0);
    assert.equal(tracks[0].readers.size, 0);
    assert.deepEqual(ended, [stream]);
    assert.throws(() => stream.attach(new FakePublisher()), /ended/);
  });

  it('detach with no viewers ends at once', () => {
    const { stream, ended } = makeStream();
    const pub = new FakePublisher();
    stream.attach(pub);
    stream.detach(pub, 'publisher left');
    assert.equal(stream.state, 'ended');
    assert.deepEqual(ended, [stream]);
  });

  it('graceTime 0 ends at once even with viewers', () => {
    const { stream, ended } = makeStream(0);
    const pub = new FakePublisher();
    const v = new FakeViewer();
    stream.attach(pub);
    stream.addReader(v);
    stream.detach(pub, 'publisher left');
    assert.equal(stream.state, 'ended');
    assert.deepEqual(v.closed, ['broadcast ended']);
    assert.equal(ended.length, 1);
  });

  it('end() while a publisher is attached closes it and every viewer, once', () => {
    const { stream, ended } = makeStream();
    const pub = new FakePublisher();
    const v1 = new FakeViewer();
    const v2 = new FakeViewer();
    stream.attach(pub);
    stream.addReader(v1);
    stream.addReader(v2);
    stream.end('server shutting down');
    stream.end('again');
    assert.equal(stream.state, 'ended');
    assert.deepEqual(pub.closed, ['server shutting down']);
    assert.deepEqual(v1.closed, ['broadcast ended']);
    assert.deepEqual(v2.closed, ['broadcast ended']);
    assert.equal(stream.source, undefined);
    assert.equal(ended.length, 1);
  });

  it('a viewer that leaves while being closed does not disturb the others', () => {
    const { stream } = makeStream();
    stream.attach(new FakePublisher());
    const closed: string[] = [];
    const a = new (class extends FakeViewer {
      override close(): void {
        stream.removeReader(a, 'test');
        closed.push('a');
      }
    })();
    const b = new (class extends FakeViewer {
      override close(): void {
        closed.push('b');
      }
    })();
    stream.addReader(a);
    stream.addReader(b);
    stream.end('bye');
    assert.deepEqual(closed, ['a', 'b']);
  });
});

describe('Stream.compatible', () => {
  const fmt = (media: string, encodingName: string, clockRate: number) => ({
    format: { media, encodingName, clockRate },
  });

  it('accepts the same media, encoding (any case) and clock per track', () => {
    const { stream } = makeStream();
    assert.equal(
      stream.compatible([fmt('video', 'H264', 90000), fmt('audio', 'MPEG4-GENERIC', 44100)]),
      true,
    );
    assert.equal(
      stream.compatible([fmt('video', 'h264', 90000), fmt('audio', 'mpeg4-generic', 44100)]),
      true,
    );
  });

  it('rejects another track count, order, encoding, clock or media', () => {
    const { stream } = makeStream();
    assert.equal(stream.compatible([fmt('video', 'H264', 90000)]), false);
    assert.equal(
      stream.compatible([fmt('audio', 'MPEG4-GENERIC', 44100), fmt('video', 'H264', 90000)]),
      false,
    );
    assert.equal(
      stream.compatible([fmt('video', 'H265', 90000), fmt('audio', 'MPEG4-GENERIC', 44100)]),
      false,
    );
    assert.equal(
      stream.compatible([fmt('video', 'H264', 90000), fmt('audio', 'MPEG4-GENERIC', 48000)]),
      false,
    );
    assert.equal(
      stream.compatible([fmt('application', 'H264', 90000), fmt('audio', 'MPEG4-GENERIC', 44100)]),
      false,
    );
  });
});

describe('Stream.description', () => {
  it('describes each track with its control and extra details', () => {
    const { stream } = makeStream();
    const d = stream.description();
    assert.equal(d.name, 'live/cam1');
    assert.equal(d.duration, undefined);
    assert.deepEqual(
      d.tracks.map((t) => [t.id, t.control, t.format.encodingName, t.width, t.height, t.bitrateKbps]),
      [
        [0, 'trackID=0', 'H264', 640, 360, undefined],
        [1, 'trackID=1', 'MPEG4-GENERIC', undefined, undefined, 128],
      ],
    );
  });
});

describe('Stream ends keyframe waits', () => {
  it('when the publisher leaves and when the stream ends', async () => {
    const { stream, tracks } = makeStream();
    stream.addReader(new FakeViewer());
    const pub = new FakePublisher();
    stream.attach(pub);
    const first = tracks[0].whenKeyframe(10_000);
    stream.detach(pub, 'gone');
    assert.equal(await first, false);
    stream.attach(new FakePublisher());
    const second = tracks[0].whenKeyframe(10_000);
    stream.end('shutdown');
    assert.equal(await second, false);
  });
});

describe('Stream events', () => {
  it('reports publishing, readers with what they took, and the end, in order', () => {
    const events = new CoreEvents();
    const seen: string[] = [];
    events.on('path.published', (e) => seen.push(`published ${e.path} by ${e.source.kind} ${e.tracks.join('+')}${e.resumed ? ' again' : ''}`));
    events.on('reader.added', (e) => seen.push(`reader+ ${e.reader.kind}`));
    events.on('reader.removed', (e) => seen.push(`reader- ${e.reader.kind} (${e.reason}) ${e.bytes} bytes`));
    events.on('path.unpublished', (e) => seen.push(`unpublished ${e.path} (${e.reason})`));
    const { stream } = makeStream(GRACE, events);
    const pub = new FakePublisher();
    stream.attach(pub);
    const v = new FakeViewer();
    stream.addReader(v);
    stream.addReader(v); // a second add of the same reader is not a second reader
    stream.detach(pub, 'gone');
    stream.attach(new FakePublisher());
    stream.end('shutdown');
    assert.deepEqual(seen, [
      'published live/cam1 by test H264+MPEG4-GENERIC',
      'reader+ test',
      'published live/cam1 by test H264+MPEG4-GENERIC again',
      'reader- test (broadcast ended) 0 bytes',
      'unpublished live/cam1 (shutdown)',
    ]);
    assert.equal(stream.readers.size, 0);
  });
});

describe('Stream metadata', () => {
  it('merges fields, ignores undefined, bumps the version only on a change, and bounds text', () => {
    const { stream } = makeStream();
    assert.deepEqual(stream.metadata, {});
    const v0 = stream.metadataVersion;
    stream.setMetadata({ name: 'Station', title: 'A - One' });
    assert.deepEqual(stream.metadata, { name: 'Station', title: 'A - One' });
    const v1 = stream.metadataVersion;
    assert.ok(v1 > v0);
    stream.setMetadata({ title: 'A - One', genre: undefined });
    assert.equal(stream.metadataVersion, v1, 'same values are no change');
    stream.setMetadata({ title: 'x'.repeat(5000) });
    assert.equal(stream.metadata.title?.length, 1024);
    assert.equal(stream.metadata.name, 'Station');
    assert.ok(Object.isFrozen(stream.metadata));
  });
});
