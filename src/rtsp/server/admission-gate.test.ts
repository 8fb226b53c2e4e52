import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, type AdmissionLimits } from '../../core/admission.js';
import { CoreEvents, type CoreEventMap } from '../../core/events.js';
import { Stream } from '../../core/stream.js';
import { silentLogger } from '../../logging/index.js';
import { Headers, type RtspRequest, type RtspResponse } from '../message/types.js';
import { AdmissionGate, rtspReaders } from './admission-gate.js';
import type { RtspConnection } from './connection.js';
import { RtspError } from './errors.js';
import { LiveViewerSession } from './live-viewer-session.js';
import { SessionMap } from './session.js';
import { SessionQuota } from './session-quota.js';

const request = (method: string, uri: string, headers: Record<string, string> = {}): RtspRequest => ({
  method,
  uri,
  version: 'RTSP/1.0',
  headers: new Headers({ CSeq: '1', ...headers }),
  body: Buffer.alloc(0),
});

// The gate reads only these of a connection (its address, whether it is open, its identity).
const connection = (remoteAddress = '10.0.0.1') => ({ remoteAddress, closed: false }) as RtspConnection & { closed: boolean };

function gateWith(limits: AdmissionLimits, inner: (req: RtspRequest, conn: RtspConnection) => RtspResponse) {
  const sessions = new SessionMap();
  const events = new CoreEvents();
  const refused: CoreEventMap['session.refused'][0][] = [];
  events.on('session.refused', (e) => refused.push(e));
  const admission = new Admission({ limits: () => limits, readers: () => rtspReaders(sessions) });
  const gate = new AdmissionGate({
    inner: { refusing: false, handle: (req, conn) => Promise.resolve(inner(req, conn)), decorate: () => {} },
    admission,
    sessions,
    events,
  });
  return { gate, sessions, refused, admission };
}

const ok = (headers: Record<string, string> = {}): RtspResponse => ({ status: 200, headers: new Headers(headers) });

describe('AdmissionGate', () => {
  it('answers 453 and closes the connection when the server is full, and reports the refusal', async () => {
    const { gate, refused } = gateWith({ maxConnections: 1, maxBandwidthKbps: 0 }, () => ok());
    await gate.handle(request('OPTIONS', 'rtsp://h/a.mp4'), connection());
    const over = gate.handle(request('DESCRIBE', 'rtsp://h/dir/a.mp4'), connection('10.0.0.2'));
    await assert.rejects(over, (e) => {
      assert.ok(e instanceof RtspError);
      assert.equal(e.status, 453);
      assert.equal(e.close, true);
      assert.equal(e.message, 'server full: 1 connections in use, limits.maxConnections is 1');
      return true;
    });
    assert.deepEqual(refused, [
      { protocol: 'rtsp', client: '10.0.0.2', path: 'dir/a.mp4', status: 453, reason: 'server full: 1 connections in use, limits.maxConnections is 1' },
    ]);
  });

  it('reports the handler’s own refusals (a session quota) but not a mistake in the request', async () => {
    const quota = new SessionQuota(() => ({ maxSessionsPerConnection: 1, maxSessionsPerIp: 0 }));
    const { gate, refused } = gateWith({ maxConnections: 0, maxBandwidthKbps: 0 }, (req, conn) => {
      if (req.method === 'DESCRIBE') throw new RtspError(404, 'not found: /nothing.mp4');
      quota.reserve(conn);
      return ok();
    });
    const conn = connection();
    await gate.handle(request('SETUP', 'rtsp://h/a.mp4/trackID=1'), conn);
    await assert.rejects(gate.handle(request('SETUP', 'rtsp://h/a.mp4/trackID=2'), conn), /maxSessionsPerConnection=1/);
    await assert.rejects(gate.handle(request('DESCRIBE', 'rtsp://h/nothing.mp4'), conn), /not found/);
    assert.equal(refused.length, 1);
    assert.equal(refused[0].path, 'a.mp4');
    assert.match(refused[0].reason, /^session refused: this connection holds 1 sessions \(limits\.maxSessionsPerConnection=1\)$/);
  });

  it('marks the connection a viewer was set up on, so it counts alone once that connection closes', async () => {
    const stream = new Stream({ path: 'live/x', tracks: [], graceTime: 0, log: silentLogger(), onEnded: () => {} });
    const viewer = new LiveViewerSession({ baseUrl: 'rtsp://h/live/x', clientAddress: '10.0.0.1', log: silentLogger(), cname: 't', live: stream, liveKey: 'live/x' });
    const { gate, sessions, admission } = gateWith({ maxConnections: 0, maxBandwidthKbps: 0 }, () => ok({ Session: `${viewer.id};timeout=60` }));
    sessions.set(viewer.id, viewer);
    const conn = connection();
    await gate.handle(request('SETUP', 'rtsp://h/live/x/trackID=1'), conn);
    assert.equal(viewer.carrier, conn);
    viewer.startLive(60);
    assert.equal(viewer.playing, true);
    assert.equal(admission.clientsInUse(), 1, 'the connection');
    conn.closed = true;
    assert.equal(admission.clientsInUse(), 1, 'the viewer playing on without it');
    viewer.close('teardown');
    assert.equal(admission.clientsInUse(), 0);
  });
});
