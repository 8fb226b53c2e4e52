import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMulticast, openUdpForward, UdpForwardSink } from './udp-forward-sink.js';

/** A bound receiver keeping what arrives. */
async function receiver(opts: { port?: number; group?: string } = {}): Promise<{ socket: Socket; port: number; got: Buffer[] }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: opts.group !== undefined });
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(opts.port ?? 0, opts.group === undefined ? '127.0.0.1' : undefined, r));
  if (opts.group !== undefined) socket.addMembership(opts.group, '127.0.0.1');
  return { socket, port: socket.address().port, got };
}

/** An even port whose pair above is free, with receivers on both. */
async function receiverPair(group?: string): Promise<{ rtp: Awaited<ReturnType<typeof receiver>>; rtcp: Awaited<ReturnType<typeof receiver>> }> {
  for (;;) {
    const probe = await receiver();
    const port = probe.port % 2 === 0 ? probe.port : probe.port + 1;
    probe.socket.close();
    try {
      const rtp = await receiver({ port, group });
      const rtcp = await receiver({ port: port + 1, group }).catch((e: unknown) => {
        rtp.socket.close();
        throw e;
      });
      return { rtp, rtcp };
    } catch {
      // Taken meanwhile: try another.
    }
  }
}

const until = async (ok: () => boolean, ms = 2000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (ok()) return true;
  return ok();
};

const open: { close(): void }[] = [];
after(() => {
  for (const s of open) s.close();
});

describe('UdpForwardSink', () => {
  it('sends RTP to the port and RTCP to the port above, counting bytes', async () => {
    const { rtp, rtcp } = await receiverPair();
    open.push(rtp.socket, rtcp.socket);
    const sink = await UdpForwardSink.open({ host: '127.0.0.1', port: rtp.port, ttl: 5 }, rtp.port);
    open.push(sink);
    assert.equal(sink.address, '127.0.0.1');
    sink.sendRtp(Buffer.from('rtp-1'));
    sink.sendRtp(Buffer.from('rtp-2'));
    sink.sendRtcp(Buffer.from('rtcp'));
    assert.ok(await until(() => rtp.got.length === 2 && rtcp.got.length === 1));
    assert.deepEqual(rtp.got.map(String), ['rtp-1', 'rtp-2']);
    assert.equal(sink.bytesOut, 14);
    assert.equal(sink.packetsOut, 3);
    assert.equal(sink.sendErrors, 0);
    assert.equal(sink.backlog, 0, 'nothing waits for the kernel on loopback');
    sink.close();
    sink.sendRtp(Buffer.from('late'));
    assert.equal(sink.packetsOut, 3, 'nothing is sent once closed');
  });

  it('hears the far end RTCP on its RTCP socket', async () => {
    const { rtp, rtcp } = await receiverPair();
    open.push(rtp.socket, rtcp.socket);
    const sink = await UdpForwardSink.open({ host: 'localhost', port: rtp.port }, rtp.port);
    open.push(sink);
    const heard: string[] = [];
    sink.onRtcp((p) => heard.push(String(p)));
    const from = new Promise<{ address: string; port: number }>((resolve) => rtcp.socket.once('message', (_m, r) => resolve(r)));
    sink.sendRtcp(Buffer.from('sr'));
    // The receiver answers where the sender report came from, as receivers do.
    const r = await from;
    rtcp.socket.send('rr', r.port, r.address);
    assert.ok(await until(() => heard.length === 1));
    assert.deepEqual(heard, ['rr']);
  });

  it('counts sends to a port nobody listens on, never throwing', async () => {
    const probe = await receiver();
    const port = probe.port - (probe.port % 2);
    probe.socket.close();
    const sink = await UdpForwardSink.open({ host: '127.0.0.1', port }, port);
    open.push(sink);
    for (let i = 0; i < 20 && sink.sendErrors === 0; i++) {
      sink.sendRtp(Buffer.from('x'));
      await sleep(10);
    }
    assert.ok(sink.sendErrors > 0, 'ICMP port unreachable is counted');
    assert.match(sink.lastError ?? '', /ECONNREFUSED/);
  });

  it('sends to a multicast group on the interface asked for, with a TTL', async () => {
    const group = '239.255.77.12';
    const { rtp, rtcp } = await receiverPair(group);
    open.push(rtp.socket, rtcp.socket);
    const [sink] = await openUdpForward({ host: group, port: rtp.port, ttl: 1, iface: '127.0.0.1' }, 1);
    open.push(sink);
    sink.sendRtp(Buffer.from('to the group'));
    sink.sendRtcp(Buffer.from('sr'));
    assert.ok(await until(() => rtp.got.length === 1 && rtcp.got.length === 1), 'the group members on loopback receive both');
  });

  it('opens one pair per track, two ports apart, or none', async () => {
    const a = await receiverPair();
    open.push(a.rtp.socket, a.rtcp.socket);
    const sinks = await openUdpForward({ host: '127.0.0.1', port: a.rtp.port }, 2);
    open.push(...sinks);
    assert.deepEqual(sinks.map((s) => s.port), [a.rtp.port, a.rtp.port + 2]);
    await assert.rejects(openUdpForward({ host: '127.0.0.1', port: 65534 }, 2), /port 65536/);
    await assert.rejects(openUdpForward({ host: '127.0.0.1', port: 7000, iface: '192.0.2.250' }, 1), /cannot send to 127\.0\.0\.1 port 7000 from 192\.0\.2\.250: .*EADDRNOTAVAIL/);
    await assert.rejects(openUdpForward({ host: 'no-such-host.invalid', port: 7000 }, 1), /cannot send to no-such-host\.invalid port 7000: .*ENOTFOUND|EAI_AGAIN/);
  });

  it('tells multicast addresses', () => {
    assert.ok(isMulticast('239.1.2.3'));
    assert.ok(isMulticast('224.0.0.1'));
    assert.ok(!isMulticast('240.0.0.1'));
    assert.ok(!isMulticast('127.0.0.1'));
    assert.ok(isMulticast('ff15::1'));
    assert.ok(!isMulticast('::1'));
  });
});
