import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientDirectory } from '../core/index.js';
import { hostOf, ListedLeg, schemeOf } from './listed-leg.js';

describe('ListedLeg', () => {
  it('reads the scheme and host of a leg URL', () => {
    assert.equal(schemeOf('RTSPS://h/x'), 'rtsps');
    assert.equal(schemeOf('udp://239.1.1.1:5000'), 'udp');
    assert.equal(schemeOf('no scheme'), '');
    assert.equal(hostOf('rtsp://bob:pw@origin.example:8554/live'), 'origin.example');
    assert.equal(hostOf('rtsp://[::1]:554/live'), '::1');
    assert.equal(hostOf('not a url'), '');
  });

  it('is listed as a relay without credentials until it ends; a disconnect drops it', () => {
    const d = new ClientDirectory();
    const dropped: string[] = [];
    const leg = new ListedLeg(d, {
      target: 'rtsp://bob:pw@origin:554/live/a',
      path: 'a',
      protocol: 'rtsp',
      address: '10.1.1.1',
      transport: 'udp',
      figures: () => ({ bytesSent: 0, packetsSent: 0, bytesReceived: 5000, packetsLost: 2, packetsReceived: 40 }),
      drop: (reason) => dropped.push(reason),
    });
    const [row] = d.list();
    assert.deepEqual(
      { kind: row.kind, url: row.url, transport: row.transport, address: row.address, path: row.path, lossPercent: row.lossPercent },
      { kind: 'relay', url: 'rtsp://origin:554/live/a', transport: 'UDP', address: '10.1.1.1', path: 'a', lossPercent: (100 * 2) / 42 },
    );
    d.disconnect(row.id, 'by hand');
    assert.deepEqual(dropped, ['by hand']);
    leg.end();
    leg.end();
    assert.equal(d.size, 0);
    new ListedLeg(undefined, { target: 'x', path: 'a', protocol: 'rtsp', address: '', transport: 'tcp', figures: () => ({ bytesSent: 0, packetsSent: 0, bytesReceived: 0, packetsLost: 0 }), drop: () => undefined }).end();
  });
});
