import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ClientDirectory, CoreEvents, StreamRegistry, type ClientRecord, type Stream } from '../../core/index.js';
import { FakePublisher } from '../../core/test-helpers/fakes.js';
import { silentLogger } from '../../logging/index.js';
import { avFeeds } from '../../readers/test-helpers/track-feed.js';
import { liveOutput } from '../../readers/rtp-track-reader.js';
import { buildReceiverReport } from '../../rtcp/index.js';
import type { RtpSink } from '../../transport/types.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import type { RtspConnection } from './connection.js';
import { LiveViewerSession } from './live-viewer-session.js';
import { SessionMap } from './session.js';
import { presentationUrl, queryOf, SessionClients } from './session-clients.js';

const sink = (): RtpSink & { rtcp: Buffer[] } => {
  const rtcp: Buffer[] = [];
  return { kind: 'udp', backlog: 0, rtcp, sendRtp: () => undefined, sendRtcp: (p) => rtcp.push(p), close: () => undefined };
};

const registry = new StreamRegistry({ publisherTimeout: 3600, log: silentLogger(), events: new CoreEvents() });
after(() => registry.close('test over'));

function stream(key: string): Stream {
  return registry.publish(key, avFeeds().map((f) => f.track), new FakePublisher(), 0);
}

/** A live viewer of `key` with both tracks set up over UDP, as SETUP leaves it. */
function viewer(key: string): LiveViewerSession {
  const live = stream(key);
  const s = new LiveViewerSession({ baseUrl: `rtsp://h/${key}`, clientAddress: '::ffff:10.0.0.9', log: silentLogger(), cname: 'test', live, liveKey: key });
  for (const t of live.tracks) s.tracks.set(t.id, { id: t.id, transport: '', output: liveOutput(t, sink(), 'test'), live: t });
  return s;
}

function request(method: string, uri: string, headers: Record<string, string> = {}): RtspRequest {
  return { method, uri, version: 'RTSP/1.0', headers: new Headers({ CSeq: '1', ...headers }), body: Buffer.alloc(0) };
}

const response = (status: number, session?: string): RtspResponse => ({ status, headers: new Headers(session ? { Session: `${session};timeout=60` } : {}) });

function connection(over: Partial<Pick<RtspConnection, 'secure' | 'tunnelled'>> = {}): RtspConnection & { closes: number } {
  const c = { remoteAddress: '::ffff:10.0.0.9', secure: false, tunnelled: false, closes: 0, close: () => c.closes++, ...over };
  return c as unknown as RtspConnection & { closes: number };
}

function rig() {
  const records: ClientRecord[] = [];
  const directory = new ClientDirectory({ ended: (r) => records.push(r) });
  const sessions = new SessionMap();
  const clients = new SessionClients({ clients: directory, sessions, isLive: (p) => p === 'live/on' });
  return { records, directory, sessions, clients };
}

describe('request URLs in client records', () => {
  it('the query, when there is one', () => {
    assert.equal(queryOf('rtsp://h/a.mp4?x=1&y=2'), 'x=1&y=2');
    assert.equal(queryOf('rtsp://h/a.mp4?x=1#frag'), 'x=1');
    assert.equal(queryOf('rtsp://h/a.mp4?'), undefined);
    assert.equal(queryOf('rtsp://h/a.mp4'), undefined);
    assert.equal(queryOf(`rtsp://h/a?${'q'.repeat(5000)}`)!.length, 512, 'bounded');
  });

  it('the presentation URL: no credentials, query or track', () => {
    assert.equal(presentationUrl('rtsp://alice:secret@h:554/dir/a.mp4/trackID=2?x=1'), 'rtsp://h:554/dir/a.mp4');
    assert.equal(presentationUrl('rtsps://h/live/cam/streamid=0'), 'rtsps://h/live/cam');
    assert.equal(presentationUrl('/dir/a.mp4'), '/dir/a.mp4');
    assert.equal(presentationUrl('nonsense?x'), 'nonsense', 'what cannot be parsed is kept, without its query');
  });
});

describe('a viewer session’s figures', () => {
  it('counts RTP bytes with their headers, RTCP received, loss, jitter in ms and packets received', () => {
    const s = viewer('live/figures');
    const [video, audio] = [...s.tracks.values()];
    video.output.sent(100, 100_000);
    audio.output.sent(50, 10_000);
    assert.deepEqual(s.figures(), { bytesSent: 110_000 + 12 * 150, packetsSent: 150, bytesReceived: 0, packetsLost: 0, jitter: undefined, packetsReceived: undefined });
    video.firstSeq = 65_530;
    audio.firstSeq = 100;
    // The video's sequence numbers wrapped (one cycle): 100 expected, 4 lost.
    const rr = buildReceiverReport(1, [
      { ssrc: video.output.ssrc, fractionLost: 0, cumulativeLost: 4, highestSeq: 0x10000 + 93, jitter: 900, lsr: 0, dlsr: 0 },
      { ssrc: audio.output.ssrc, fractionLost: 0, cumulativeLost: 1, highestSeq: 149, jitter: 441, lsr: 0, dlsr: 0 },
    ]);
    s.onRtcp(video.id, rr);
    s.onRtcp(audio.id, rr);
    const f = s.figures();
    assert.equal(f.bytesReceived, 2 * rr.length);
    assert.equal(f.packetsLost, 5);
    assert.equal(f.jitter, 10, 'the worst track: 900/90000 s against 441/44100 s');
    assert.equal(f.packetsReceived, 96 + 49);
  });
});

describe('SessionClients', () => {
  it('lists a session from its SETUP, keeps its last status and play start, and leaves a record when it closes', () => {
    const r = rig();
    const s = viewer('live/one');
    r.sessions.set(s.id, s);
    const conn = connection();
    r.clients.heard(request('DESCRIBE', 'rtsp://h/live/one?token=7', { 'User-Agent': 'Lavf60' }), conn);
    r.clients.setUp(response(200, s.id), request('SETUP', 'rtsp://bob:pw@h/live/one/trackID=1'), conn, { user: 'bob', realm: 'R' });
    const [row] = r.directory.list();
    assert.deepEqual(
      { kind: row.kind, protocol: row.protocol, address: row.address, url: row.url, path: row.path, transport: row.transport, userAgent: row.userAgent, user: row.user },
      { kind: 'rtsp-live', protocol: 'rtsp', address: '10.0.0.9', url: 'rtsp://h/live/one', path: 'live/one', transport: 'UDP', userAgent: 'Lavf60', user: 'bob' },
    );
    r.clients.played(s, 0);
    r.clients.answered(request('PLAY', 'rtsp://h/live/one', { Session: s.id }), response(200));
    r.clients.answered(request('GET_PARAMETER', 'rtsp://h/live/one', { Session: s.id }), response(454));
    r.clients.answered(request('OPTIONS', 'rtsp://h/live/one'), response(200));
    s.close('teardown');
    assert.equal(r.directory.size, 0);
    assert.equal(r.records.length, 1);
    const rec = r.records[0];
    assert.equal(rec.status, 454, 'the last status the session was answered');
    assert.equal(rec.reason, 'teardown');
    assert.equal(rec.videoCodec, 'H264');
    assert.equal(rec.audioCodec, 'MPEG4-GENERIC');
    assert.equal(rec.query, 'token=7', "the DESCRIBE's query");
    assert.equal(rec.realm, 'R');
    assert.equal(rec.playStart, 0);
    assert.equal(rec.fileLength, 0);
    assert.equal(rec.startedAt, s.createdAt);
  });

  it('disconnecting it says BYE, forgets the session and closes its connection', () => {
    const r = rig();
    const s = viewer('live/two');
    r.sessions.set(s.id, s);
    const conn = connection({ tunnelled: true });
    r.clients.setUp(response(200, s.id), request('SETUP', 'rtsp://h/live/two/trackID=1'), conn, {});
    const [row] = r.directory.list();
    assert.equal(row.kind, 'http-tunnel');
    assert.equal(row.transport, 'HTTP');
    assert.equal(r.directory.disconnect(row.id), true);
    assert.ok(s.closed);
    assert.equal(r.sessions.size, 0);
    assert.equal(conn.closes, 1);
    for (const t of s.tracks.values()) assert.ok((t.output.sink as ReturnType<typeof sink>).rtcp.length > 0, 'a BYE on every track');
    assert.equal(r.records[0].reason, 'disconnected by the administrator');
    assert.equal(r.records[0].realm, undefined, 'no login, no realm');
  });

  it('a 401 or 403 to DESCRIBE, SETUP, PLAY or ANNOUNCE is a record of its own', () => {
    const r = rig();
    const conn = connection({ secure: true });
    const refusal = { status: 401, reason: 'needs a login', access: 'read' as const, path: 'live/on', user: 'eve', realm: 'R' };
    r.clients.refused(request('DESCRIBE', 'rtsps://eve:x@h/live/on?a=b', { 'User-Agent': 'Lavf60' }), conn, refusal);
    r.clients.refused(request('DESCRIBE', 'rtsps://h/a.mp4'), conn, { ...refusal, status: 403, path: 'a.mp4', user: undefined });
    r.clients.refused(request('ANNOUNCE', 'rtsps://h/live/new'), conn, { ...refusal, access: 'write', path: 'live/new' });
    r.clients.refused(request('RECORD', 'rtsps://h/live/new'), conn, { ...refusal, access: 'write', path: 'live/new' });
    assert.equal(r.directory.size, 0, 'never listed');
    assert.deepEqual(
      r.records.map((x) => [x.kind, x.status, x.protocol, x.url, x.user, x.query, x.userAgent]),
      [
        ['rtsp-live', 401, 'rtsps', 'rtsps://h/live/on', 'eve', 'a=b', 'Lavf60'],
        ['rtsp-file', 403, 'rtsps', 'rtsps://h/a.mp4', undefined, undefined, undefined],
        ['publisher', 401, 'rtsps', 'rtsps://h/live/new', 'eve', undefined, undefined],
      ],
    );
    assert.equal(r.records[0].realm, 'R');
    assert.equal(r.records[0].reason, 'needs a login');
    assert.equal(r.records[0].startedAt, r.records[0].endedAt);
  });

  it('lists nothing without a directory', () => {
    const sessions = new SessionMap();
    const clients = new SessionClients({ sessions, isLive: () => false });
    const s = viewer('live/three');
    sessions.set(s.id, s);
    clients.setUp(response(200, s.id), request('SETUP', 'rtsp://h/live/three/trackID=1'), connection(), {});
    clients.refused(request('DESCRIBE', 'rtsp://h/x'), connection(), { status: 401, reason: '', access: 'read', path: 'x' });
    s.close('teardown');
  });
});
