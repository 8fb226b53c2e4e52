import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { openUdpSockets } from '../../test/helpers/open-sockets.js';
import { silentLogger } from '../logging/index.js';
import { bindUdpPair, UdpPortAllocator, UdpSink } from './udp.js';

const bound = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });

describe('UDP transport error paths hold no sockets', () => {
  it('UdpSink.open closes the pair when the client port cannot be connected to', async () => {
    const before = openUdpSockets();
    for (let i = 0; i < 5; i++) {
      const pair = await bindUdpPair(new UdpPortAllocator({ min: 42000, max: 42999 }), '127.0.0.1');
      assert.equal(openUdpSockets(), before + 2);
      await assert.rejects(
        UdpSink.open({ pair, clientAddress: '127.0.0.1', clientRtpPort: 0, clientRtcpPort: 0, onRtcp: () => undefined, log: silentLogger() }),
      );
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(openUdpSockets(), before);
  });

  it('bindUdpPair closes what it bound when no pair is free', async () => {
    // A two-port range whose RTCP port is taken: every try binds RTP, then fails on RTCP.
    const blocker = await bound(43001);
    try {
      const before = openUdpSockets();
      await assert.rejects(bindUdpPair(new UdpPortAllocator({ min: 43000, max: 43001 }), '127.0.0.1'), /no free UDP port pair/);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(openUdpSockets(), before);
    } finally {
      blocker.close();
    }
  });
});
