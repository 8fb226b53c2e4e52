import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../logging/index.js';
import { RtspError } from './errors.js';
import { PublisherSession } from './publisher-session.js';
import { SessionQuota } from './session-quota.js';

const session = () => new PublisherSession({ baseUrl: '', clientAddress: '10.0.0.1', log: silentLogger(), cname: 'x', liveKey: 'x' });

function refused(fn: () => unknown, key: RegExp): void {
  assert.throws(fn, (e) => e instanceof RtspError && e.status === 453 && key.test(e.message));
}

describe('SessionQuota', () => {
  it('caps sessions per connection and gives places back when sessions close', () => {
    const q = new SessionQuota(() => ({ maxSessionsPerConnection: 2, maxSessionsPerIp: 0 }));
    const conn = { remoteAddress: '10.0.0.1' };
    const a = session();
    const b = session();
    q.reserve(conn).hold(a);
    q.reserve(conn).hold(b);
    refused(() => q.reserve(conn), /limits\.maxSessionsPerConnection=2/);
    // Another connection from the same address is not limited by this one's count.
    q.reserve({ remoteAddress: '10.0.0.1' }).release();
    a.close('teardown');
    q.reserve(conn).hold(session());
    assert.equal(q.heldBy('10.0.0.1'), 2);
  });

  it('caps sessions per address over connections, IPv4-mapped or not; 0 lifts it', () => {
    let max = 2;
    const q = new SessionQuota(() => ({ maxSessionsPerConnection: 10, maxSessionsPerIp: max }));
    const t1 = q.reserve({ remoteAddress: '::ffff:10.0.0.2' });
    q.reserve({ remoteAddress: '10.0.0.2' }).hold(session());
    refused(() => q.reserve({ remoteAddress: '10.0.0.2' }), /10\.0\.0\.2 holds 2 sessions \(limits\.maxSessionsPerIp=2\)/);
    q.reserve({ remoteAddress: '10.0.0.3' }).release();
    t1.release();
    t1.release(); // a second release gives nothing back twice
    assert.equal(q.heldBy('10.0.0.2'), 1);
    q.reserve({ remoteAddress: '10.0.0.2' }).release();
    max = 0;
    for (let i = 0; i < 5; i++) q.reserve({ remoteAddress: '10.0.0.2' }).hold(session());
    assert.equal(q.heldBy('10.0.0.2'), 6);
  });

  it('forgets an address once its sessions are gone', () => {
    const q = new SessionQuota(() => ({ maxSessionsPerConnection: 10, maxSessionsPerIp: 10 }));
    const s = session();
    const t = q.reserve({ remoteAddress: '10.0.0.4' });
    t.hold(s);
    t.release(); // no-op once held
    assert.equal(q.heldBy('10.0.0.4'), 1);
    s.close('timeout');
    assert.equal(q.heldBy('10.0.0.4'), 0);
  });
});
