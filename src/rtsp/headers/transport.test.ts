import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeaderError } from '../../net/index.js';
import { formatTransport, parseTransport, type TransportSpec } from './transport.js';

describe('parseTransport', () => {
  it('parses what ffmpeg sends for UDP', () => {
    assert.deepEqual(parseTransport('RTP/AVP/UDP;unicast;client_port=5000-5001'), [
      {
        protocol: 'RTP',
        profile: 'AVP',
        lowerTransport: 'UDP',
        delivery: 'unicast',
        clientPort: [5000, 5001],
      },
    ]);
  });

  it('parses a GStreamer list of UDP and TCP alternatives', () => {
    assert.deepEqual(
      parseTransport('RTP/AVP;unicast;client_port=40086-40087, RTP/AVP/TCP;unicast;interleaved=0-1'),
      [
        {
          protocol: 'RTP',
          profile: 'AVP',
          lowerTransport: 'UDP',
          delivery: 'unicast',
          clientPort: [40086, 40087],
        },
        { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] },
      ],
    );
  });

  it('parses ffmpeg TCP and RECORD transports', () => {
    assert.deepEqual(parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record'), [
      {
        protocol: 'RTP',
        profile: 'AVP',
        lowerTransport: 'TCP',
        delivery: 'unicast',
        interleaved: [0, 1],
        mode: 'record',
      },
    ]);
  });

  it('expands single ports and channels to pairs', () => {
    const [s] = parseTransport('RTP/AVP;unicast;client_port=6970;server_port=7000;interleaved=4');
    assert.deepEqual(s.clientPort, [6970, 6971]);
    assert.deepEqual(s.serverPort, [7000, 7001]);
    assert.deepEqual(s.interleaved, [4, 5]);
  });

  it('parses the RFC 2326 multicast example and all other parameters', () => {
    const [s] = parseTransport(
      'RTP/SAVP;multicast;destination=224.2.0.1;source=10.0.0.1;port=3456-3457;ttl=16;layers=2;ssrc=0A13c760;mode="PLAY";append',
    );
    assert.deepEqual(s, {
      protocol: 'RTP',
      profile: 'SAVP',
      lowerTransport: 'UDP',
      delivery: 'multicast',
      destination: '224.2.0.1',
      source: '10.0.0.1',
      port: [3456, 3457],
      ttl: 16,
      layers: 2,
      ssrc: 0x0a13c760,
      mode: 'play',
      append: true,
    });
  });

  it('reads mode quoted or not, in any case', () => {
    for (const m of ['play', 'PLAY', '"PLAY"', '"Play"'])
      assert.equal(parseTransport(`RTP/AVP;mode=${m}`)[0].mode, 'play');
    assert.equal(parseTransport('RTP/AVP;mode="RECORD"')[0].mode, 'record');
    assert.equal(parseTransport('RTP/AVP;mode=receive')[0].mode, 'receive');
    assert.throws(() => parseTransport('RTP/AVP;mode=dance'), HeaderError);
  });

  it('keeps unknown parameters in order, and tolerates spaces and case', () => {
    const [s] = parseTransport(' rtp/avp/tcp ; Unicast ; Interleaved = 2 - 3 ; x-foo=bar ; RTCP-mux ;');
    assert.deepEqual(s, {
      protocol: 'RTP',
      profile: 'AVP',
      lowerTransport: 'TCP',
      delivery: 'unicast',
      interleaved: [2, 3],
      extra: [{ name: 'x-foo', value: 'bar' }, { name: 'RTCP-mux' }],
    });
  });

  it('handles a bare destination (RFC grammar allows it)', () => {
    assert.equal(parseTransport('RTP/AVP;unicast;destination')[0].destination, '');
  });

  it('throws HeaderError on invalid numbers and syntax', () => {
    for (const v of [
      '',
      ' , ',
      'RTP',
      'RTP/AVP/UDP/X',
      'RTP/AVP;client_port=70000-70001',
      'RTP/AVP;client_port=65535',
      'RTP/AVP;client_port=abc',
      'RTP/AVP;client_port=',
      'RTP/AVP;client_port',
      'RTP/AVP;client_port=1-2-3',
      'RTP/AVP;interleaved=256',
      'RTP/AVP;interleaved=255',
      'RTP/AVP;ttl=300',
      'RTP/AVP;ssrc=xyz',
      'RTP/AVP;ssrc=123456789',
      'RTP/AVP;source',
      'RTP/AVP;=1',
    ])
      assert.throws(() => parseTransport(v), HeaderError, v);
  });
});

describe('formatTransport', () => {
  it('writes the canonical form', () => {
    assert.equal(
      formatTransport({
        protocol: 'RTP',
        profile: 'AVP',
        lowerTransport: 'UDP',
        delivery: 'unicast',
        clientPort: [5000, 5001],
        serverPort: [6000, 6001],
        ssrc: 0xabc,
        mode: 'play',
      }),
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=00000ABC;mode="PLAY"',
    );
    assert.equal(
      formatTransport([
        { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] },
        { protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', destination: '' },
      ]),
      'RTP/AVP/TCP;unicast;interleaved=0-1,RTP/AVP;destination',
    );
  });

  it('writes the replies the server sends, byte for byte', () => {
    assert.equal(
      formatTransport({ protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2, 3], ssrc: 0x1234abcd, mode: 'play' }),
      'RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=1234ABCD;mode="PLAY"',
    );
    assert.equal(
      formatTransport(
        { protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', delivery: 'unicast', source: '10.0.0.1', clientPort: [5000, 5001], serverPort: [6970, 6971], ssrc: 7, mode: 'play' },
      ),
      'RTP/AVP;unicast;source=10.0.0.1;client_port=5000-5001;server_port=6970-6971;ssrc=00000007;mode="PLAY"',
    );
  });

  it('writes a bare lower-case mode when asked', () => {
    const tcp: TransportSpec = { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1], mode: 'record' };
    assert.equal(formatTransport(tcp, { bareMode: true }), 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    assert.equal(formatTransport(tcp), 'RTP/AVP/TCP;unicast;interleaved=0-1;mode="RECORD"');
    assert.equal(
      formatTransport(
        { protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [5000, 5001], serverPort: [6000, 6001], mode: 'record' },
        { bareMode: true },
      ),
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;mode=record',
    );
    assert.equal(formatTransport([tcp, tcp], { bareMode: true }), 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record,RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    assert.deepEqual(parseTransport(formatTransport(tcp, { bareMode: true })), [tcp]);
  });

  it('refuses out-of-range numbers', () => {
    assert.throws(
      () =>
        formatTransport({ protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', clientPort: [65536, 1] }),
      RangeError,
    );
    assert.throws(
      () => formatTransport({ protocol: 'RTP', profile: 'AVP', lowerTransport: 'UDP', ssrc: -1 }),
      RangeError,
    );
  });
});

const pairArb = (max: number) => fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max }));
const addr = fc.oneof(fc.ipV4(), fc.ipV6());
const specArb: fc.Arbitrary<TransportSpec> = fc.record(
  {
    protocol: fc.constant('RTP'),
    profile: fc.constantFrom('AVP', 'SAVP', 'AVPF', 'SAVPF'),
    lowerTransport: fc.constantFrom('UDP', 'TCP'),
    delivery: fc.constantFrom('unicast' as const, 'multicast' as const),
    destination: fc.oneof(fc.constant(''), addr),
    source: addr,
    interleaved: pairArb(255),
    append: fc.constant(true),
    ttl: fc.integer({ min: 0, max: 255 }),
    layers: fc.integer({ min: 1, max: 16 }),
    port: pairArb(65535),
    clientPort: pairArb(65535),
    serverPort: pairArb(65535),
    ssrc: fc.integer({ min: 0, max: 0xffffffff }),
    mode: fc.constantFrom('play' as const, 'record' as const, 'receive' as const),
    extra: fc.array(
      fc.record(
        {
          name: fc.stringMatching(/^x-[a-z0-9-]{1,10}$/),
          value: fc.stringMatching(/^[a-zA-Z0-9.:_-]{1,10}$/),
        },
        { requiredKeys: ['name'], noNullPrototype: true },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  },
  { requiredKeys: ['protocol', 'profile', 'lowerTransport'], noNullPrototype: true },
);

describe('Transport properties', () => {
  it('format → parse round-trips', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 3 }), (specs) => {
        assert.deepEqual(parseTransport(formatTransport(specs)), specs);
      }),
      { numRuns: 300 },
    );
  });

  it('random strings throw nothing but HeaderError', () => {
    const alphabet = fc.constantFrom(
      ...'RTP/AVPTCUDunicastmlient_portservedinlvd=-;,"0123456789 abcdefx'.split(''),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: alphabet }), fc.string({ unit: 'binary' })),
        (s) => {
          try {
            parseTransport(s);
          } catch (e) {
            assert.ok(e instanceof HeaderError, String(e));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('the RTP/AVPF profile (RFC 4585)', () => {
  it('parses what GStreamer sends when the SDP offers AVPF, and echoes it', () => {
    const [spec] = parseTransport('RTP/AVPF;unicast;client_port=40000-40001');
    assert.deepEqual(spec, { protocol: 'RTP', profile: 'AVPF', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [40000, 40001] });
    assert.equal(
      formatTransport({ ...spec, serverPort: [6970, 6971], ssrc: 0x1234, mode: 'play' }),
      'RTP/AVPF;unicast;client_port=40000-40001;server_port=6970-6971;ssrc=00001234;mode="PLAY"',
    );
    assert.equal(parseTransport('RTP/AVPF/TCP;unicast;interleaved=0-1')[0].lowerTransport, 'TCP');
  });
});
