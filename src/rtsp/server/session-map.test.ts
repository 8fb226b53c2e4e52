import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../logging/index.js';
import { Stream } from '../../core/stream.js';
import { LiveViewerSession } from './live-viewer-session.js';
import { SessionMap } from './session.js';

describe('SessionMap', () => {
  it('forgets a session the moment it closes', () => {
    const m = new SessionMap();
    const s = new LiveViewerSession({
      baseUrl: 'rtsp://h/x',
      clientAddress: '127.0.0.1',
      log: silentLogger(),
      cname: 't',
      live: new Stream({ path: 'x', tracks: [], graceTime: 0, log: silentLogger(), onEnded: () => {} }),
      liveKey: 'x',
    });
    m.set(s.id, s);
    assert.equal(m.get(s.id), s);
    assert.equal(m.has(s.id), true);
    s.close('broadcast ended');
    assert.equal(m.has(s.id), false);
    assert.equal(m.get(s.id), undefined);
    assert.equal(m.size, 0);
  });
});
