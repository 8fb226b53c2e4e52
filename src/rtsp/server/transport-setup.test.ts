import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtspError } from './errors.js';
import { retransmitSchema } from '../../config/schema.js';
import { silentLogger } from '../../logging/index.js';
import { MediaClock } from '../../rtp/media-clock.js';
import { RtpOutput } from '../../rtp/output.js';
import { MemorySink } from '../../transport/test-helpers/memory-sink.js';
import { bindUdpPair, UdpPortAllocator, UdpSink } from '../../transport/index.js';
import { asksReliableUdp, pickTransport, reliableUdpFor, stripMapped, wantsRecord } from './transport-setup.js';

/** Asserts `fn` throws an RtspError with `status` (and a message matching `msg`); returns it. */
function rtspError(fn: () => unknown, status: number, msg?: RegExp): RtspError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RtspError, `expected an RtspError, got ${String(err)}`);
  assert.equal(err.status, status, err.message);
  if (msg) assert.match(err.message, msg);
  return err;
}

describe('pickTransport for viewers (play)', () => {
  it('takes RTP/AVP unicast over UDP with client ports', () => {
    const { spec, tcp } = pickTransport('RTP/AVP;unicast;client_port=5000-5001', false);
    assert.equal(tcp, false);
    assert.deepEqual(spec.clientPort, [5000, 5001]);
  });

  it('takes RTP/AVP/TCP interleaved', () => {
    const { spec, tcp } = pickTransport('RTP/AVP/TCP;unicast;interleaved=2-3', false);
    assert.equal(tcp, true);
    assert.deepEqual(spec.interleaved, [2, 3]);
  });

  it('takes TCP without interleaved channels (the server picks them)', () => {
    const { spec, tcp } = pickTransport('RTP/AVP/TCP;unicast', false);
    assert.equal(tcp, true);
    assert.equal(spec.interleaved, undefined);
  });

  it('accepts an explicit mode=PLAY, quoted or not', () => {
    assert.equal(pickTransport('RTP/AVP;unicast;client_port=5000-5001;mode="PLAY"', false).tcp, false);
    assert.equal(pickTransport('RTP/AVP/TCP;interleaved=0-1;mode=play', false).tcp, true);
  });

  it('picks the first usable spec of a list', () => {
    // SAVP first (not supported), then TCP: TCP wins.
    let r = pickTransport(
      'RTP/SAVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1',
      false,
    );
    assert.equal(r.tcp, true);
    assert.equal(r.spec.profile, 'AVP');
    // Both usable: the client's order decides.
    r = pickTransport('RTP/AVP;unicast;client_port=6000-6001, RTP/AVP/TCP;unicast;interleaved=0-1', false);
    assert.equal(r.tcp, false);
    assert.deepEqual(r.spec.clientPort, [6000, 6001]);
    r = pickTransport('RTP/AVP/TCP;unicast;interleaved=4-5, RTP/AVP;unicast;client_port=6000-6001', false);
    assert.equal(r.tcp, true);
    // Multicast first, then unicast UDP.
    r = pickTransport('RTP/AVP;multicast;port=7000-7001,RTP/AVP;unicast;client_port=8000-8001', false);
    assert.equal(r.tcp, false);
    assert.deepEqual(r.spec.clientPort, [8000, 8001]);
  });

  it('rejects multicast for a file (the default) with 461 Unsupported transport, saying why', () => {
    const e = rtspError(
      () => pickTransport('RTP/AVP;multicast;destination=239.0.0.1;port=5000-5001', false),
      461,
      /multicast delivery is only offered for live streams/,
    );
    assert.equal(e.headers.Unsupported, 'transport');
    assert.equal(e.close, false);
  });

  it('takes multicast where it is offered (a live stream), in the order the client gives', () => {
    let r = pickTransport('RTP/AVP;multicast', false, false, true);
    assert.equal(r.tcp, false);
    assert.equal(r.spec.delivery, 'multicast');
    // ffmpeg's udp_multicast form.
    assert.equal(pickTransport('RTP/AVP/UDP;multicast', false, false, true).spec.delivery, 'multicast');
    r = pickTransport('RTP/AVP/TCP;interleaved=0-1,RTP/AVP;multicast', false, false, true);
    assert.equal(r.tcp, true);
  });

  it('says why multicast is refused for a live stream when it is off', () => {
    rtspError(() => pickTransport('RTP/AVP;multicast', false, false, 'multicast delivery is turned off on this server'), 461, /turned off/);
    // Over RTSPS, UDP of any kind is refused first.
    rtspError(() => pickTransport('RTP/AVP;multicast', false, true, true), 461, /RTSPS/);
  });

  it('refuses multicast for publishing', () => {
    rtspError(() => pickTransport('RTP/AVP;multicast;mode=record', true, false, true), 461, /publishing by multicast is not supported/);
  });

  it('takes RTP/AVPF from a viewer over UDP (retransmission on request)', () => {
    const { spec, tcp } = pickTransport('RTP/AVPF;unicast;client_port=5000-5001', false);
    assert.equal(spec.profile, 'AVPF');
    assert.equal(tcp, false);
  });

  it('rejects profiles other than AVP and AVPF with 461', () => {
    rtspError(() => pickTransport('RTP/SAVP;unicast;client_port=5000-5001', false), 461, /RTP\/SAVP/);
    rtspError(() => pickTransport('RTP/SAVPF/TCP;interleaved=0-1', false), 461);
    rtspError(() => pickTransport('RAW/RAW/UDP;unicast;client_port=5000-5001', false), 461);
  });

  it('needs client_port for UDP (400)', () => {
    rtspError(() => pickTransport('RTP/AVP;unicast', false), 400, /client_port/);
    rtspError(() => pickTransport('RTP/AVP/UDP;unicast;destination=10.0.0.1', false), 400, /client_port/);
  });

  it('answers 461 without a Transport header and 400 for a malformed one', () => {
    rtspError(() => pickTransport(undefined, false), 461);
    rtspError(() => pickTransport('', false), 461);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=70000-70001', false), 400, /Transport/);
    rtspError(() => pickTransport('not a transport', false), 400);
    rtspError(() => pickTransport('RTP/AVP;mode=teardown', false), 400);
  });

  it('refuses mode=record from a viewer', () => {
    rtspError(
      () => pickTransport('RTP/AVP;unicast;client_port=5000-5001;mode=record', false),
      461,
      /publishing/,
    );
    rtspError(() => pickTransport('RTP/AVP/TCP;interleaved=0-1;mode=receive', false), 461);
  });
});

describe('pickTransport for publishers (record)', () => {
  it('takes mode=record over TCP and UDP', () => {
    let r = pickTransport('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record', true);
    assert.equal(r.tcp, true);
    assert.equal(r.spec.mode, 'record');
    r = pickTransport('RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record', true);
    assert.equal(r.tcp, false);
    assert.deepEqual(r.spec.clientPort, [5000, 5001]);
  });

  it('takes mode=receive and a quoted, upper-case mode', () => {
    assert.equal(pickTransport('RTP/AVP/TCP;interleaved=0-1;mode=receive', true).spec.mode, 'receive');
    assert.equal(pickTransport('RTP/AVP/TCP;interleaved=0-1;mode="RECORD"', true).spec.mode, 'record');
  });

  it('refuses a play transport (explicit or by default) with 461', () => {
    rtspError(() => pickTransport('RTP/AVP/TCP;interleaved=0-1', true), 461, /mode=record/);
    rtspError(
      () => pickTransport('RTP/AVP;unicast;client_port=5000-5001;mode=play', true),
      461,
      /mode=record/,
    );
  });

  it('skips play specs in a list for the record one', () => {
    const r = pickTransport(
      'RTP/AVP;unicast;client_port=5000-5001;mode=play,RTP/AVP/TCP;interleaved=0-1;mode=record',
      true,
    );
    assert.equal(r.tcp, true);
    assert.equal(r.spec.mode, 'record');
  });

  it('still needs client_port for UDP', () => {
    rtspError(() => pickTransport('RTP/AVP;unicast;mode=record', true), 400, /client_port/);
  });
});

describe('wantsRecord', () => {
  it('is true when any spec asks for record or receive', () => {
    assert.equal(wantsRecord('RTP/AVP/TCP;interleaved=0-1;mode=record'), true);
    assert.equal(wantsRecord('RTP/AVP;unicast;client_port=5000-5001;mode=receive'), true);
    assert.equal(wantsRecord('RTP/AVP;unicast;client_port=5000-5001;mode="RECORD"'), true);
    assert.equal(
      wantsRecord('RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;interleaved=0-1;mode=record'),
      true,
    );
  });

  it('is false for play, no mode, no header or a malformed header', () => {
    assert.equal(wantsRecord('RTP/AVP;unicast;client_port=5000-5001'), false);
    assert.equal(wantsRecord('RTP/AVP/TCP;interleaved=0-1;mode=play'), false);
    assert.equal(wantsRecord(undefined), false);
    assert.equal(wantsRecord(''), false);
    assert.equal(wantsRecord('RTP/AVP;client_port=99999;mode=record'), false);
  });
});

describe('stripMapped', () => {
  it('turns an IPv4-mapped IPv6 address into IPv4 and leaves others alone', () => {
    assert.equal(stripMapped('::ffff:192.168.1.2'), '192.168.1.2');
    assert.equal(stripMapped('192.168.1.2'), '192.168.1.2');
    assert.equal(stripMapped('::1'), '::1');
  });
});

describe('pickTransport: client ports checked before anything is bound', () => {
  it('answers 400 for a port outside 1-65535 (0-0, above 65535)', () => {
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=0-0', false), 400, /outside 1-65535/);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5000-0', false), 400, /outside/);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=0-0;mode=record', true), 400, /outside/);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=65536-65537', false), 400);
  });

  it('answers 461 for an odd RTP port or one port for both', () => {
    const e = rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5001-5002', false), 461, /even/);
    assert.equal(e.headers.Unsupported, 'transport');
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5001', false), 461, /even/);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5000-5000', false), 461, /two ports/);
  });

  it('still takes a later usable spec after a bad one', () => {
    const r = pickTransport('RTP/AVP;unicast;client_port=0-0,RTP/AVP/TCP;interleaved=0-1', false);
    assert.equal(r.tcp, true);
    assert.deepEqual(pickTransport('RTP/AVP;unicast;client_port=5000-5003', false).spec.clientPort, [5000, 5003]);
  });
});

describe('pickTransport on a TLS (RTSPS) connection', () => {
  it('refuses UDP with 461 naming RTSPS, for viewers and publishers', () => {
    const e = rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5000-5001', false, true), 461, /RTSPS.*interleaved/);
    assert.equal(e.headers.Unsupported, 'transport');
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=5000-5001;mode=record', true, true), 461, /RTSPS/);
    rtspError(() => pickTransport('RTP/AVP;unicast;client_port=0-0', false, true), 461, /RTSPS/);
  });

  it('takes interleaved TCP, also after an offered UDP spec', () => {
    assert.equal(pickTransport('RTP/AVP/TCP;unicast;interleaved=0-1', false, true).tcp, true);
    assert.equal(pickTransport('RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1', false, true).tcp, true);
    assert.equal(pickTransport('RTP/AVP/TCP;interleaved=0-1;mode=record', true, true).tcp, true);
  });
});

describe("QuickTime's reliable UDP at SETUP (x-Retransmit)", () => {
  const settings = (enabled = true) => retransmitSchema.parse({ reliableUdp: { enabled } });

  it('knows our-retransmit, with or without its window, and nothing else', () => {
    assert.equal(asksReliableUdp('our-retransmit;window=128'), true);
    assert.equal(asksReliableUdp(' Our-Retransmit '), true);
    assert.equal(asksReliableUdp('their-retransmit;window=128'), false);
    assert.equal(asksReliableUdp(''), false);
    assert.equal(asksReliableUdp(undefined), false);
  });

  it('a unicast UDP track gets it and the header back verbatim; TCP, a bad header or the feature off: no', async () => {
    const pair = await bindUdpPair(new UdpPortAllocator({ min: 40000, max: 60000 }), '127.0.0.1');
    const sink = await UdpSink.open({ pair, clientAddress: '127.0.0.1', clientRtpPort: 9, clientRtcpPort: 10, onRtcp: () => undefined, log: silentLogger() });
    try {
      const udp = () => new RtpOutput({ sink, payloadType: 96, clock: new MediaClock(90000), cname: 'c' });
      const off = udp();
      assert.equal(reliableUdpFor('our-retransmit;window=128', off, settings(false), 500), undefined);
      assert.equal(off.reliableUdp, undefined);
      assert.equal(reliableUdpFor('nope', udp(), settings(), 500), undefined);
      const on = udp();
      assert.equal(reliableUdpFor('our-retransmit;window=128', on, settings(), 500), 'our-retransmit;window=128');
      assert.equal(on.reliableUdp?.windowBytes, 24 * 1024, 'half the 48 KB window of a 500 kbit/s stream (slow start)');
      const tcp = new RtpOutput({ sink: new MemorySink(), payloadType: 96, clock: new MediaClock(90000), cname: 'c' });
      assert.equal(reliableUdpFor('our-retransmit', tcp, settings(), 500), undefined);
      on.close();
    } finally {
      sink.close();
    }
  });
});
