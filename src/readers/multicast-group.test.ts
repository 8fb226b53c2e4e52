import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRtcpCompound } from '../rtcp/index.js';
import { silentLogger } from '../logging/index.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';
import { StreamRegistry } from '../core/stream-registry.js';
import { FakePublisher } from '../core/test-helpers/fakes.js';
import type { UdpForwardTarget } from './udp-forward-sink.js';
import { MulticastError, MulticastGroups, type MulticastSettings } from './multicast-group.js';
import { ipv4Text, parseMulticastRange } from '../net/multicast-range.js';
import { avFeeds } from './test-helpers/track-feed.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A memory sink that says whether it was closed. */
class ClosingSink extends MemorySink {
  closed = false;
  override close(): void {
    this.closed = true;
  }
}

function setup(over: Partial<MulticastSettings> = {}) {
  const settings: MulticastSettings = { groups: ['239.255.42.0/24'], portMin: 5004, portMax: 5999, ttl: 1, linger: 0.05, interface: '', ...over };
  const registry = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger() });
  const opened: { target: UdpForwardTarget; sinks: ClosingSink[] }[] = [];
  const groups = new MulticastGroups({
    settings: () => settings,
    rtcpInterval: () => 5,
    queueLimit: () => 1 << 20,
    cname: 'c',
    log: silentLogger(),
    open: async (target, tracks) => {
      const sinks = Array.from({ length: tracks }, () => new ClosingSink());
      opened.push({ target, sinks });
      return sinks;
    },
  });
  const live = (path: string) => {
    const [video, audio] = avFeeds();
    const stream = registry.publish(path, [video.track, audio.track], new FakePublisher(), 5);
    return { stream, video, audio };
  };
  return { settings, registry, groups, opened, live };
}

describe('parseMulticastRange', () => {
  it('reads CIDRs and single addresses of 224.0.0.0/4', () => {
    assert.deepEqual(parseMulticastRange('239.255.42.0/24'), { first: parseMulticastRange('239.255.42.0').first, count: 256 });
    const r = parseMulticastRange('239.255.42.77/30');
    assert.equal(ipv4Text(r.first), '239.255.42.76');
    assert.equal(r.count, 4);
    assert.equal(parseMulticastRange('239.1.2.3').count, 1);
  });

  it('refuses what is not a multicast range, saying why', () => {
    assert.throws(() => parseMulticastRange('10.0.0.0/8'), /not a multicast range/);
    assert.throws(() => parseMulticastRange('224.0.0.0/16'), /224\.0\.0\.0\/24/);
    assert.throws(() => parseMulticastRange('239.1.2.3/33'), /prefix length/);
    assert.throws(() => parseMulticastRange('ff02::1'), /not an IPv4/);
    assert.throws(() => parseMulticastRange('nonsense'), /not an IPv4/);
  });
});

describe('MulticastGroups', () => {
  it('gives a stream one group for all its viewers and tracks, and sends each packet once to it', async () => {
    const { groups, opened, live, registry } = setup();
    const { stream, video, audio } = live('live/a');
    const a = [await groups.join(stream, video.track), await groups.join(stream, audio.track)];
    const b = [await groups.join(stream, video.track), await groups.join(stream, audio.track)];
    assert.equal(opened.length, 1);
    assert.deepEqual(opened[0].target, { host: '239.255.42.0', port: 5004, ttl: 1, iface: undefined });
    assert.deepEqual(
      [...a, ...b].map((m) => `${m.address}:${m.port}/${m.ttl}`),
      ['239.255.42.0:5004/1', '239.255.42.0:5006/1', '239.255.42.0:5004/1', '239.255.42.0:5006/1'],
    );
    video.key();
    // Nobody plays yet: nothing is sent.
    assert.equal(opened[0].sinks[0].rtp.length, 0);
    assert.equal(a[0].sending, false);
    for (const m of [...a, ...b]) m.play();
    assert.equal(a[0].sending, true);
    // The first player starts the group on the keyframe held (two packets), with a sender report.
    assert.equal(opened[0].sinks[0].rtp.length, 2);
    assert.deepEqual(parseRtcpCompound(opened[0].sinks[0].rtcp[0]).map((p) => p.type), ['sr', 'sdes']);
    video.delta();
    audio.audio();
    assert.equal(opened[0].sinks[0].rtp.length, 4);
    assert.equal(opened[0].sinks[1].rtp.length, 1);
    // The members themselves send nothing.
    a[0].sendRtp();
    a[0].sendRtcp();
    assert.equal(opened[0].sinks[0].rtp.length, 4);
    assert.equal(opened[0].sinks[0].rtcp.length, 1);
    assert.equal(groups.list()[0].packets, 5);
    assert.equal(groups.list()[0].members, 4);
    registry.close('test over');
  });

  it('counts a stream once in bandwidth: only the first member playing a track pays for it', async () => {
    const { groups, live, registry } = setup();
    const { stream, video } = live('live/a');
    const a = await groups.join(stream, video.track);
    const b = await groups.join(stream, video.track);
    // Before anyone plays, each would pay (admission checks the one asking).
    assert.equal(a.pays, true);
    assert.equal(b.pays, true);
    a.play();
    b.play();
    assert.equal(a.pays, true);
    assert.equal(b.pays, false);
    a.close();
    assert.equal(b.pays, true);
    registry.close('test over');
  });

  it('gives other streams other groups and port blocks, and refuses when the pool is used up', async () => {
    const { groups, opened, live, registry } = setup({ groups: ['239.255.42.0/31'], portMin: 5000, portMax: 5011 });
    const one = live('live/1');
    const two = live('live/2');
    const three = live('live/3');
    await groups.join(one.stream, one.video.track);
    await groups.join(two.stream, two.video.track);
    assert.deepEqual(opened.map((o) => `${o.target.host}:${o.target.port}`), ['239.255.42.0:5000', '239.255.42.1:5004']);
    await assert.rejects(groups.join(three.stream, three.video.track), (e) => e instanceof MulticastError && e.why === 'full' && /no multicast group left/.test(e.message));
    registry.close('test over');
  });

  it('refuses when no block of ports is left', async () => {
    const { groups, live, registry } = setup({ portMin: 5000, portMax: 5005 });
    const one = live('live/1');
    const two = live('live/2');
    await groups.join(one.stream, one.video.track);
    await assert.rejects(groups.join(two.stream, two.video.track), /no multicast ports left for live\/2: its 2 track\(s\) need 4 ports/);
    registry.close('test over');
  });

  it('two first viewers at once share one group', async () => {
    const { groups, opened, live, registry } = setup();
    const { stream, video } = live('live/a');
    const [a, b] = await Promise.all([groups.join(stream, video.track), groups.join(stream, video.track)]);
    assert.equal(a.group, b.group);
    assert.equal(opened.length, 1);
    registry.close('test over');
  });

  it('says why the group cannot be sent to', async () => {
    const { groups, live, registry } = setup();
    const { stream, video } = live('live/a');
    const failing = new MulticastGroups({
      settings: () => ({ groups: ['239.255.42.0/24'], portMin: 5004, portMax: 5999, ttl: 1, linger: 0, interface: '' }),
      rtcpInterval: () => 5,
      queueLimit: () => 1 << 20,
      cname: 'c',
      log: silentLogger(),
      open: () => Promise.reject(new Error('connect ENETUNREACH')),
    });
    await assert.rejects(failing.join(stream, video.track), (e) => e instanceof MulticastError && e.why === 'send' && /cannot send to multicast group 239\.255\.42\.0: connect ENETUNREACH/.test(e.message));
    // The claim was given back: the next group takes the same address.
    await groups.join(stream, video.track);
    registry.close('test over');
  });

  it('stops sending a linger after the last player pauses, and frees the group a linger after the last leaves', async () => {
    const { groups, opened, live, registry } = setup({ linger: 0.05 });
    const { stream, video } = live('live/a');
    const a = await groups.join(stream, video.track);
    video.key();
    a.play();
    a.pause();
    // Within the linger it still sends; a PLAY back keeps the same send going.
    assert.equal(a.sending, true);
    a.play();
    await sleep(120);
    assert.equal(a.sending, true);
    a.pause();
    await sleep(120);
    assert.equal(a.sending, false);
    assert.ok(stream.readers.size === 0, 'the group no longer reads the stream');
    // BYE when it stopped; the group and its sockets are kept while the viewer is set up.
    assert.match(parseRtcpCompound(opened[0].sinks[0].rtcp.at(-1)!).map((p) => p.type).join('+'), /bye/);
    assert.equal(groups.list().length, 1);
    assert.equal(opened[0].sinks[0].closed, false);
    a.close();
    assert.equal(groups.list().length, 1, 'kept for the linger');
    await sleep(120);
    assert.equal(groups.list().length, 0);
    assert.equal(opened[0].sinks[0].closed, true);
    // A new viewer afterwards gets a new group, at the same address.
    const b = await groups.join(stream, video.track);
    assert.equal(b.address, '239.255.42.0');
    assert.notEqual(b.group, a.group);
    registry.close('test over');
  });

  it('ends with the broadcast: the group is freed once its viewers have left', async () => {
    const { groups, opened, live } = setup({ linger: 60 });
    const { stream, video } = live('live/a');
    const a = await groups.join(stream, video.track);
    video.key();
    a.play();
    stream.end('publisher gone');
    assert.equal(a.sending, false);
    a.close();
    assert.equal(groups.list().length, 0, 'no linger for a broadcast that ended');
    assert.equal(opened[0].sinks[0].closed, true);
  });

  it('close() stops every group at once', async () => {
    const { groups, live, registry } = setup({ linger: 60 });
    const { stream, video } = live('live/a');
    const a = await groups.join(stream, video.track);
    a.play();
    groups.close();
    assert.equal(groups.list().length, 0);
    assert.equal(a.sending, false);
    registry.close('test over');
  });
});
