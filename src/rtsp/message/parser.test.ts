import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspParser, type ParserEvent, type RtspParserOptions } from './parser.js';

const b = (s: string) => Buffer.from(s, 'latin1');

// Header names in generated messages are unique case-insensitively: Headers groups repeated
// names under the first spelling, which the simple model below does not reproduce.

/** Events as plain data (Headers keeps its entries in a private field, invisible to deepEqual). */
function norm(events: ParserEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'request': {
        const r = e.request;
        return {
          t: 'req',
          m: r.method,
          u: r.uri,
          v: r.version,
          h: [...r.headers.entries()],
          b: r.body.toString('hex'),
        };
      }
      case 'response': {
        const r = e.response;
        return {
          t: 'res',
          v: r.version,
          s: r.status,
          r: r.reason,
          h: [...r.headers.entries()],
          b: r.body.toString('hex'),
        };
      }
      case 'frame':
        return { t: 'frame', c: e.frame.channel, p: e.frame.payload.toString('hex') };
      case 'data':
        return { t: 'data', d: e.data.toString('hex') };
      default:
        return { ...e };
    }
  });
}

/** Feeds `input` in the given chunk sizes pattern (split points) and returns all events. */
function feed(input: Buffer, splits: number[], opts?: RtspParserOptions): ParserEvent[] {
  const p = new RtspParser(opts);
  const out: ParserEvent[] = [];
  let prev = 0;
  for (const s of [...splits, input.length]) {
    if (s < prev) continue;
    out.push(...p.push(input.subarray(prev, s)));
    prev = s;
  }
  return out;
}

function one(input: string | Buffer, opts?: RtspParserOptions): ParserEvent[] {
  return new RtspParser(opts).push(typeof input === 'string' ? b(input) : input);
}

function bytewise(input: Buffer, opts?: RtspParserOptions): ParserEvent[] {
  const p = new RtspParser(opts);
  const out: ParserEvent[] = [];
  for (let i = 0; i < input.length; i++) out.push(...p.push(input.subarray(i, i + 1)));
  return out;
}

function requests(events: ParserEvent[]) {
  return events.map((e) => {
    if (e.type !== 'request') assert.fail(`expected a request, got ${JSON.stringify(norm([e]))}`);
    return e.request;
  });
}

// What ffmpeg (libavformat rtsp.c) sends for `ffmpeg -rtsp_transport udp -i rtsp://...`.
const FFMPEG = [
  'OPTIONS rtsp://127.0.0.1:8554/sample.mp4 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf60.16.100\r\n\r\n',
  'DESCRIBE rtsp://127.0.0.1:8554/sample.mp4 RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\nUser-Agent: Lavf60.16.100\r\n\r\n',
  'SETUP rtsp://127.0.0.1:8554/sample.mp4/trackID=1 RTSP/1.0\r\nTransport: RTP/AVP/UDP;unicast;client_port=5000-5001\r\nCSeq: 3\r\nUser-Agent: Lavf60.16.100\r\n\r\n',
  'SETUP rtsp://127.0.0.1:8554/sample.mp4/trackID=2 RTSP/1.0\r\nTransport: RTP/AVP/UDP;unicast;client_port=5002-5003\r\nCSeq: 4\r\nUser-Agent: Lavf60.16.100\r\nSession: 5F3A29C1\r\n\r\n',
  'PLAY rtsp://127.0.0.1:8554/sample.mp4 RTSP/1.0\r\nRange: npt=0.000-\r\nCSeq: 5\r\nUser-Agent: Lavf60.16.100\r\nSession: 5F3A29C1\r\n\r\n',
].join('');

// What GStreamer's rtspsrc sends when UDP and TCP are both allowed: a list of transports.
const GSTREAMER_SETUP =
  'SETUP rtsp://127.0.0.1:8554/sample.mp4/trackID=1 RTSP/1.0\r\n' +
  'CSeq: 3\r\n' +
  'Transport: RTP/AVP;unicast;client_port=40086-40087, RTP/AVP/TCP;unicast;interleaved=0-1\r\n' +
  'User-Agent: GStreamer/1.22.0\r\n' +
  'Date: Thu, 21 Nov 2024 05:00:00 GMT\r\n' +
  '\r\n';

describe('RtspParser: requests', () => {
  it('parses an ffmpeg session (OPTIONS, DESCRIBE, 2x SETUP, PLAY) pipelined in one chunk', () => {
    const reqs = requests(one(FFMPEG));
    assert.deepEqual(
      reqs.map((r) => [r.method, r.uri, r.version, r.headers.get('cseq')]),
      [
        ['OPTIONS', 'rtsp://127.0.0.1:8554/sample.mp4', 'RTSP/1.0', '1'],
        ['DESCRIBE', 'rtsp://127.0.0.1:8554/sample.mp4', 'RTSP/1.0', '2'],
        ['SETUP', 'rtsp://127.0.0.1:8554/sample.mp4/trackID=1', 'RTSP/1.0', '3'],
        ['SETUP', 'rtsp://127.0.0.1:8554/sample.mp4/trackID=2', 'RTSP/1.0', '4'],
        ['PLAY', 'rtsp://127.0.0.1:8554/sample.mp4', 'RTSP/1.0', '5'],
      ],
    );
    assert.equal(reqs[1].headers.get('Accept'), 'application/sdp');
    assert.equal(reqs[2].headers.get('TRANSPORT'), 'RTP/AVP/UDP;unicast;client_port=5000-5001');
    assert.equal(reqs[3].headers.get('session'), '5F3A29C1');
    assert.equal(reqs[4].headers.get('range'), 'npt=0.000-');
    for (const r of reqs) assert.equal(r.body.length, 0);
  });

  it('parses a GStreamer SETUP with a transport list', () => {
    const [r] = requests(one(GSTREAMER_SETUP));
    assert.equal(r.method, 'SETUP');
    assert.equal(
      r.headers.get('transport'),
      'RTP/AVP;unicast;client_port=40086-40087, RTP/AVP/TCP;unicast;interleaved=0-1',
    );
    assert.equal(r.headers.get('date'), 'Thu, 21 Nov 2024 05:00:00 GMT');
  });

  it('keeps header names as sent and looks them up case-insensitively', () => {
    const [r] = requests(one('OPTIONS * RTSP/1.0\r\ncseq: 7\r\nX-Custom:  spaced value  \r\n\r\n'));
    assert.equal(r.uri, '*');
    assert.deepEqual(
      [...r.headers.entries()],
      [
        ['cseq', '7'],
        ['X-Custom', 'spaced value'],
      ],
    );
  });

  it('gives identical results byte by byte and in one chunk', () => {
    const input = b(FFMPEG + GSTREAMER_SETUP);
    assert.deepEqual(norm(bytewise(input)), norm(one(input)));
    assert.equal(one(input).length, 6);
  });

  it('accepts bare LF line endings and mixed endings', () => {
    const reqs = requests(one('OPTIONS * RTSP/1.0\nCSeq: 1\n\nOPTIONS * RTSP/1.0\r\nCSeq: 2\n\r\n'));
    assert.deepEqual(
      reqs.map((r) => r.headers.get('cseq')),
      ['1', '2'],
    );
  });

  it('skips empty lines before and between messages', () => {
    const reqs = requests(
      one('\r\n\r\n\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n\r\n\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n'),
    );
    assert.equal(reqs.length, 2);
  });

  it('unfolds continuation lines', () => {
    const [r] = requests(
      one(
        'SETUP rtsp://h/a RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;\r\n client_port=5000-5001\r\n\tx=1\r\n\r\n',
      ),
    );
    assert.equal(r.headers.get('transport'), 'RTP/AVP;unicast; client_port=5000-5001 x=1');
  });

  it('reads a body by Content-Length, also split over chunks', () => {
    const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\n';
    const msg = `ANNOUNCE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}OPTIONS * RTSP/1.0\r\nCSeq: 3\r\n\r\n`;
    for (const events of [one(msg), bytewise(b(msg)), feed(b(msg), [10, 100])]) {
      const reqs = requests(events);
      assert.equal(reqs.length, 2);
      assert.equal(reqs[0].body.toString(), sdp);
      assert.equal(reqs[1].method, 'OPTIONS');
    }
  });

  it('treats Content-Length: 0 as no body', () => {
    const reqs = requests(
      one(
        'GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 0\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 10\r\n\r\n',
      ),
    );
    assert.equal(reqs.length, 2);
    assert.equal(reqs[0].body.length, 0);
  });

  it('returns a body fully inside the chunk as a view, without copying', () => {
    const chunk = b('SET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\nhello');
    const [r] = requests(new RtspParser().push(chunk));
    assert.equal(r.body.toString(), 'hello');
    assert.equal(r.body.buffer, chunk.buffer);
  });
});

describe('RtspParser: interleaved frames', () => {
  const frame = (channel: number, payload: Buffer) =>
    Buffer.concat([Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]), payload]);

  it('parses frames between requests', () => {
    const rtcp = Buffer.from([0x80, 0xc9, 0x00, 0x01, 1, 2, 3, 4]);
    const input = Buffer.concat([
      frame(1, rtcp),
      b('GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 7\r\nSession: 1\r\n\r\n'),
      frame(3, Buffer.alloc(0)),
      frame(0, Buffer.alloc(1400, 7)),
    ]);
    const events = one(input);
    assert.deepEqual(
      events.map((e) => e.type),
      ['frame', 'request', 'frame', 'frame'],
    );
    assert.deepEqual(norm(events), norm(bytewise(input)));
    const f = events[0];
    assert.ok(f.type === 'frame');
    assert.equal(f.frame.channel, 1);
    assert.deepEqual(f.frame.payload, rtcp);
    const last = events[3];
    assert.ok(last.type === 'frame' && last.frame.payload.length === 1400 && last.frame.channel === 0);
  });

  it('returns a frame fully inside the chunk as a view, without copying', () => {
    const chunk = frame(2, Buffer.from('abcdef'));
    const [e] = new RtspParser().push(chunk);
    assert.ok(e.type === 'frame');
    assert.equal(e.frame.payload.buffer, chunk.buffer);
    assert.equal(e.frame.payload.toString(), 'abcdef');
  });

  it('handles a frame split inside its 4-byte header and inside its payload', () => {
    const payload = Buffer.alloc(65535, 0xab);
    const input = frame(255, payload);
    for (const splits of [[1], [2], [3], [4], [5], [1, 2, 3], [30000, 60000]]) {
      const events = feed(input, splits);
      assert.equal(events.length, 1);
      const e = events[0];
      assert.ok(e.type === 'frame');
      assert.equal(e.frame.channel, 255);
      assert.ok(e.frame.payload.equals(payload));
    }
  });

  it('treats $ inside a message as data', () => {
    const [r] = requests(
      one('SET_PARAMETER rtsp://h/$a RTSP/1.0\r\nCSeq: 1\r\nX: $5\r\nContent-Length: 1\r\n\r\n$'),
    );
    assert.equal(r.uri, 'rtsp://h/$a');
    assert.equal(r.body.toString(), '$');
  });
});

describe('RtspParser: responses', () => {
  it('parses status lines with bodies (client mode)', () => {
    const sdp = 'v=0\r\n';
    const input = `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://h/a/\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}RTSP/1.0 454 Session Not Found\r\nCSeq: 3\r\n\r\nRTSP/1.0 200\r\nCSeq: 4\r\n\r\n`;
    const events = one(input, { mode: 'client' });
    assert.deepEqual(norm(events), norm(bytewise(b(input), { mode: 'client' })));
    assert.deepEqual(
      events.map((e) =>
        e.type === 'response'
          ? [e.response.version, e.response.status, e.response.reason, e.response.body.toString()]
          : e.type,
      ),
      [
        ['RTSP/1.0', 200, 'OK', sdp],
        ['RTSP/1.0', 454, 'Session Not Found', ''],
        ['RTSP/1.0', 200, '', ''],
      ],
    );
  });

  it('accepts server-to-client requests in client mode and responses in server mode', () => {
    assert.equal(
      one('ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n', { mode: 'client' })[0].type,
      'request',
    );
    assert.equal(one('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n')[0].type, 'response');
  });
});

describe('RtspParser: errors', () => {
  it('answers a malformed request line with a non-fatal 400 and goes on', () => {
    const events = one('DESCRIBE rtsp://h/a\r\nCSeq: 2\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 3\r\n\r\n');
    assert.deepEqual(norm(events)[0], {
      type: 'error',
      status: 400,
      reason: 'Bad Request',
      fatal: false,
      cseq: '2',
    });
    assert.equal(events[1].type, 'request');
  });

  it('rejects an unknown version with 505 and echoes the CSeq', () => {
    const events = one('OPTIONS * RTSP/2.0\r\nCSeq: 12\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 13\r\n\r\n');
    assert.deepEqual(norm(events)[0], {
      type: 'error',
      status: 505,
      reason: 'RTSP Version not supported',
      fatal: false,
      cseq: '12',
    });
    assert.equal(events[1].type, 'request');
  });

  it('skips the body of a rejected message', () => {
    const events = one(
      'SET_PARAMETER * RTSP/2.0\r\nCSeq: 1\r\nContent-Length: 4\r\n\r\nOPTIONS * RTSP/1.0\r\n\r\n',
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['error', 'request'],
    );
  });

  it('answers a header line without a colon with a non-fatal 400 carrying the CSeq', () => {
    const events = one(
      'OPTIONS * RTSP/1.0\r\nthis is not a header\r\nCSeq: 4\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n',
    );
    assert.deepEqual(norm(events)[0], {
      type: 'error',
      status: 400,
      reason: 'Bad Request',
      fatal: false,
      cseq: '4',
    });
    assert.equal(events[1].type, 'request');
  });

  it('rejects control characters (e.g. a lone CR) in headers', () => {
    const events = one('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: a\rInjected: 1\r\n\r\n');
    assert.equal(events[0].type, 'error');
    assert.equal((events[0] as { status: number }).status, 400);
  });

  it('closes on a header block over maxHeaderBytes with 413', () => {
    const events = one(`OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(9000)}\r\n\r\n`);
    assert.deepEqual(norm(events), [
      { type: 'error', status: 413, reason: 'Request Entity Too Large', fatal: true },
    ]);
    // A head of exactly maxHeaderBytes is accepted.
    const head = 'OPTIONS * RTSP/1.0\r\nX: ';
    const exact = `${head}${'a'.repeat(100 - head.length - 4)}\r\n\r\n`;
    assert.equal(exact.length, 100);
    assert.equal(one(exact, { maxHeaderBytes: 100 })[0].type, 'request');
    assert.equal(one(exact, { maxHeaderBytes: 99 })[0].type, 'error');
  });

  it('detects an oversized head without waiting for its end, even byte by byte', () => {
    const p = new RtspParser({ maxHeaderBytes: 64 });
    const events: ParserEvent[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) events.push(...p.push(b(i === 0 ? 'O' : 'x')));
    assert.equal(events.length, 1);
    assert.ok(p.failed);
  });

  it('closes on Content-Length over maxBodyBytes with 413', () => {
    const events = one('ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 65537\r\n\r\n');
    assert.deepEqual(norm(events), [
      { type: 'error', status: 413, reason: 'Request Entity Too Large', fatal: true, cseq: '1' },
    ]);
  });

  it('closes on an invalid or conflicting Content-Length with 400', () => {
    for (const cl of ['abc', '-1', '1.5', '', '0x10']) {
      const events = one(`ANNOUNCE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${cl}\r\n\r\n`);
      assert.deepEqual(
        norm(events),
        [{ type: 'error', status: 400, reason: 'Bad Request', fatal: true, cseq: '1' }],
        cl,
      );
    }
    const dup = one('ANNOUNCE rtsp://h/a RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx');
    assert.deepEqual(norm(dup), [{ type: 'error', status: 400, reason: 'Bad Request', fatal: true }]);
  });

  it('closes on too many headers with 400', () => {
    const many = Array.from({ length: 65 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    assert.deepEqual(norm(one(`OPTIONS * RTSP/1.0\r\n${many}\r\n`)), [
      { type: 'error', status: 400, reason: 'Bad Request', fatal: true },
    ]);
    assert.equal(one(`OPTIONS * RTSP/1.0\r\n${many}\r\n`, { maxHeaderCount: 65 })[0].type, 'request');
  });

  it('closes on garbage where a message should start, at once', () => {
    // A TLS ClientHello: first byte 0x16.
    const p = new RtspParser();
    const events = p.push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    assert.deepEqual(norm(events), [{ type: 'error', status: 400, reason: 'Bad Request', fatal: true }]);
    // After a valid request too.
    const e2 = one('OPTIONS * RTSP/1.0\r\n\r\n\x00\x01garbage');
    assert.deepEqual(
      e2.map((e) => e.type),
      ['request', 'error'],
    );
    assert.equal((e2[1] as { fatal: boolean }).fatal, true);
  });

  it('ignores all input after a fatal error', () => {
    const p = new RtspParser();
    assert.equal(p.push(b('\x7f')).length, 1);
    assert.ok(p.failed);
    assert.deepEqual(p.push(b('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')), []);
    assert.deepEqual(p.push(Buffer.from([0x24, 0, 0, 1, 9])), []);
    assert.equal(p.bufferedBytes, 0);
  });
});

describe('RtspParser: HTTP tunnelling opening', () => {
  it('parses an opening GET as a request with its HTTP version, then passes bytes through', () => {
    const p = new RtspParser();
    const events = p.push(
      b(
        'GET /sample.mp4 HTTP/1.0\r\nx-sessioncookie: abc123\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n',
      ),
    );
    const [r] = requests(events);
    assert.equal(r.method, 'GET');
    assert.equal(r.version, 'HTTP/1.0');
    assert.equal(r.headers.get('x-sessioncookie'), 'abc123');
    assert.ok(p.raw);
    assert.deepEqual(norm(p.push(b('anything'))), [{ t: 'data', d: b('anything').toString('hex') }]);
  });

  it('does not read the fake Content-Length of a tunnelling POST; the rest comes as data', () => {
    const input =
      'POST /sample.mp4 HTTP/1.1\r\nx-sessioncookie: abc123\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\nT1BUSU9OUyAqIFJUU1AvMS4wDQoNCg==';
    const events = one(input);
    assert.equal(events.length, 2);
    assert.ok(events[0].type === 'request' && events[0].request.version === 'HTTP/1.1');
    assert.ok(events[1].type === 'data' && events[1].data.toString() === 'T1BUSU9OUyAqIFJUU1AvMS4wDQoNCg==');
    // Byte by byte, the data arrives in pieces but is the same stream.
    const bw = bytewise(b(input));
    assert.equal(bw[0].type, 'request');
    assert.equal(
      Buffer.concat(bw.slice(1).map((e) => (e.type === 'data' ? e.data : Buffer.alloc(0)))).toString(),
      'T1BUSU9OUyAqIFJUU1AvMS4wDQoNCg==',
    );
  });

  it('answers HTTP after the opening, or other methods, with 505', () => {
    const late = one('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nGET / HTTP/1.0\r\n\r\n');
    assert.deepEqual(
      late.map((e) => (e.type === 'error' ? e.status : e.type)),
      ['request', 505],
    );
    assert.equal((one('OPTIONS * HTTP/1.1\r\n\r\n')[0] as { status: number }).status, 505);
    assert.equal((one('GET / HTTP/1.0\r\n\r\n', { mode: 'client' })[0] as { status: number }).status, 505);
  });

  it('passes bytes through after an HTTP response opening in client mode', () => {
    const events = one('HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\nRTSP/1.0', {
      mode: 'client',
    });
    assert.deepEqual(
      events.map((e) => e.type),
      ['response', 'data'],
    );
  });
});

// ---- property tests ----

const METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'ANNOUNCE',
  'RECORD',
];

type Item =
  | {
      kind: 'req';
      method: string;
      path: string;
      headers: [string, string][];
      body: Uint8Array | null;
      lf: boolean;
      blank: boolean;
    }
  | { kind: 'res'; status: number; reason: string; headers: [string, string][]; body: Uint8Array | null }
  | { kind: 'frame'; channel: number; payload: Uint8Array };

const headerArb = fc.tuple(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => n.toLowerCase() !== 'content-length'),
  fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/),
);
const bodyArb = fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: null });
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  fc.record({
    kind: fc.constant('req' as const),
    method: fc.constantFrom(...METHODS),
    path: fc.stringMatching(/^[a-zA-Z0-9/._=-]{0,30}$/),
    headers: fc.uniqueArray(headerArb, { maxLength: 6, selector: ([k]) => k.toLowerCase() }),
    body: bodyArb,
    lf: fc.boolean(),
    blank: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('res' as const),
    status: fc.integer({ min: 100, max: 599 }),
    reason: fc.stringMatching(/^([A-Za-z][A-Za-z ]{0,20}[A-Za-z])?$/),
    headers: fc.uniqueArray(headerArb, { maxLength: 4, selector: ([k]) => k.toLowerCase() }),
    body: bodyArb,
  }),
  fc.record({
    kind: fc.constant('frame' as const),
    channel: fc.integer({ min: 0, max: 255 }),
    payload: fc.uint8Array({ maxLength: 2000 }),
  }),
);

function encode(items: Item[]): { bytes: Buffer; expected: unknown[] } {
  const parts: Buffer[] = [];
  const expected: unknown[] = [];
  for (const it of items) {
    if (it.kind === 'frame') {
      parts.push(
        Buffer.from([0x24, it.channel, it.payload.length >> 8, it.payload.length & 0xff]),
        Buffer.from(it.payload),
      );
      expected.push({ t: 'frame', c: it.channel, p: Buffer.from(it.payload).toString('hex') });
      continue;
    }
    const eol = it.kind === 'req' && it.lf ? '\n' : '\r\n';
    const headers = [...it.headers];
    if (it.body) headers.push(['Content-Length', String(it.body.length)]);
    const start =
      it.kind === 'req' ? `${it.method} rtsp://h/${it.path} RTSP/1.0` : `RTSP/1.0 ${it.status} ${it.reason}`;
    const head = `${it.kind === 'req' && it.blank ? eol : ''}${start}${eol}${headers.map(([k, v]) => `${k}: ${v}${eol}`).join('')}${eol}`;
    parts.push(b(head));
    if (it.body) parts.push(Buffer.from(it.body));
    const body = it.body ? Buffer.from(it.body).toString('hex') : '';
    if (it.kind === 'req')
      expected.push({ t: 'req', m: it.method, u: `rtsp://h/${it.path}`, v: 'RTSP/1.0', h: headers, b: body });
    else expected.push({ t: 'res', v: 'RTSP/1.0', s: it.status, r: it.reason, h: headers, b: body });
  }
  return { bytes: Buffer.concat(parts), expected };
}

describe('RtspParser: properties', () => {
  it('yields the same events for any split of any sequence of messages and frames', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (items, cuts) => {
          const { bytes, expected } = encode(items);
          const splits = cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
          assert.deepEqual(norm(feed(bytes, [])), expected);
          assert.deepEqual(norm(feed(bytes, splits)), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('yields the same events byte by byte', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 4 }), (items) => {
        const { bytes, expected } = encode(items);
        assert.deepEqual(norm(bytewise(bytes)), expected);
      }),
      { numRuns: 50 },
    );
  });

  const limits = { maxHeaderBytes: 512, maxBodyBytes: 1024, maxHeaderCount: 8 };

  function check(chunks: Uint8Array[], opts: RtspParserOptions): void {
    const p = new RtspParser(opts);
    const max = (opts.maxHeaderBytes ?? 8192) + (opts.maxBodyBytes ?? 65536) + 65536 + 4;
    for (const c of chunks) {
      const events = p.push(Buffer.from(c));
      assert.ok(Array.isArray(events));
      assert.ok(p.bufferedBytes <= max, `buffered ${p.bufferedBytes}`);
      if (p.failed) assert.equal(p.bufferedBytes, 0);
    }
  }

  it('never throws on arbitrary bytes and keeps memory bounded', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 20 }),
        fc.boolean(),
        (chunks, client) => {
          check(chunks, { ...limits, mode: client ? 'client' : 'server' });
          check(chunks, {});
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on near-valid input (fragments of real messages mixed with noise)', () => {
    const fragment = fc.oneof(
      fc
        .constantFrom(
          'OPTIONS * RTSP/1.0',
          'RTSP/1.0 200 OK',
          'GET / HTTP/1.0',
          'POST / HTTP/1.1',
          'SETUP rtsp://h/a RTSP/2.0',
          '\r\n',
          '\n',
          '\r',
          ' ',
          ':',
          '$',
          'CSeq: 1',
          'Content-Length: 5',
          'Content-Length: 99999999999999999999',
          'Content-Length: -3',
          '\t folded',
          '\x00',
        )
        .map((s) => b(s)),
      fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
      fc.constantFrom(FFMPEG, GSTREAMER_SETUP).map((s) => b(s)),
    );
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (frags, cuts, client) => {
          const bytes = Buffer.concat(frags);
          const splits = cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
          const opts: RtspParserOptions = { ...limits, mode: client ? 'client' : 'server' };
          // Split invariance holds for any input, valid or not...
          assert.deepEqual(norm(feed(bytes, splits, opts)), norm(feed(bytes, [], opts)));
          const chunks: Uint8Array[] = [];
          let prev = 0;
          for (const s of [...splits, bytes.length]) {
            chunks.push(bytes.subarray(prev, s));
            prev = s;
          }
          // ...and memory stays bounded.
          check(chunks, opts);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('parses large inputs in linear time (byte-by-byte 60 KiB body, 8 KiB head)', () => {
    const body = Buffer.alloc(60000, 0x41);
    const head = `ANNOUNCE rtsp://h/a RTSP/1.0\r\n${'X: y\r\n'.repeat(60)}Pad: ${'p'.repeat(7000)}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const input = Buffer.concat([b(head), body]);
    const t0 = performance.now();
    const events = bytewise(input, { maxHeaderCount: 100 });
    const ms = performance.now() - t0;
    assert.equal(events.length, 1);
    assert.ok(events[0].type === 'request' && events[0].request.body.equals(body));
    assert.ok(ms < 2000, `${ms} ms`);
  });
});

describe('RtspParser: line limits and partial messages', () => {
  it('answers a request line over maxLineBytes with 414 and a header line with 413, both fatal', () => {
    const long = `DESCRIBE rtsp://h/${'a'.repeat(300)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`;
    assert.deepEqual(norm(one(long, { maxLineBytes: 256 })), [{ type: 'error', status: 414, reason: 'Request-URI Too Large', fatal: true }]);
    assert.deepEqual(norm(bytewise(b(long), { maxLineBytes: 256 })), [{ type: 'error', status: 414, reason: 'Request-URI Too Large', fatal: true }]);
    const hdr = `OPTIONS * RTSP/1.0\r\nX: ${'v'.repeat(300)}\r\n\r\n`;
    assert.deepEqual(norm(one(hdr, { maxLineBytes: 256 })), [{ type: 'error', status: 413, reason: 'Request Entity Too Large', fatal: true }]);
    assert.deepEqual(norm(bytewise(b(hdr), { maxLineBytes: 256 })), [{ type: 'error', status: 413, reason: 'Request Entity Too Large', fatal: true }]);
    // Exactly at the limit (CRLF not counted) is fine.
    const exact = `OPTIONS * RTSP/1.0\r\nX: ${'v'.repeat(253)}\r\n\r\n`;
    assert.equal(one(exact, { maxLineBytes: 256 })[0].type, 'request');
    assert.equal(bytewise(b(exact), { maxLineBytes: 256 })[0].type, 'request');
  });

  it('says when a message or frame is incomplete', () => {
    const p = new RtspParser();
    assert.equal(p.partial, false);
    p.push(b('OPTIONS * RT'));
    assert.equal(p.partial, true);
    p.push(b('SP/1.0\r\nContent-Length: 3\r\n\r\nab'));
    assert.equal(p.partial, true);
    p.push(b('c'));
    assert.equal(p.partial, false);
    p.push(Buffer.from([0x24, 0, 0, 10, 0x80]));
    assert.equal(p.partial, true);
    p.push(Buffer.alloc(9));
    assert.equal(p.partial, false);
  });
});

/** An RTP-looking frame (version 2) on `channel`. */
const rtpFrame = (channel: number, len = 20, fill = 7) => {
  const payload = Buffer.alloc(len, fill);
  payload[0] = 0x80;
  return Buffer.concat([Buffer.from([0x24, channel, len >> 8, len & 0xff]), payload]);
};

describe('RtspParser: garbage between interleaved frames', () => {
  const frames = (events: ParserEvent[]) => events.filter((e) => e.type === 'frame').map((e) => (e.type === 'frame' ? e.frame.channel : -1));

  it('skips garbage after a frame to the next valid frame, and reports it', () => {
    const input = Buffer.concat([rtpFrame(0), Buffer.from([0x00, 0x17, 0xff, 0x10, 0x0d]), rtpFrame(1), b('junk, more junk'), rtpFrame(0)]);
    for (const events of [one(input), bytewise(input), feed(input, [3, 27, 30, 41])]) {
      assert.deepEqual(
        events.map((e) => (e.type === 'skipped' ? `skipped ${e.bytes}` : e.type)),
        ['frame', 'skipped 5', 'frame', 'skipped 15', 'frame'],
      );
      assert.deepEqual(frames(events), [0, 1, 0]);
    }
  });

  it('skips garbage that looks like the start of a request (capitals, a `$` without an RTP frame)', () => {
    const input = Buffer.concat([rtpFrame(2), b('GARBAGE\x00\x01'), b('ABC DEF\r\n'), Buffer.from([0x24, 5, 0, 30, 0x41]), b('XYZ'), rtpFrame(3)]);
    for (const events of [one(input), bytewise(input)]) {
      assert.deepEqual(frames(events), [2, 3]);
      assert.equal(events.filter((e) => e.type === 'skipped').length, 1);
    }
  });

  it('resumes at a request line after garbage', () => {
    const input = Buffer.concat([rtpFrame(0), Buffer.from([1, 2, 3, 0x0a, 0xfe]), b('GET_PARAMETER rtsp://h/a RTSP/1.0\r\nCSeq: 9\r\n\r\n'), rtpFrame(1)]);
    for (const events of [one(input), bytewise(input)]) {
      assert.deepEqual(
        events.map((e) => e.type),
        ['frame', 'skipped', 'request', 'frame'],
      );
      const r = events.find((e) => e.type === 'request');
      assert.ok(r?.type === 'request' && r.request.method === 'GET_PARAMETER' && r.request.headers.get('cseq') === '9');
    }
  });

  it('checks frame channels while resynchronising when told which are in use', () => {
    const input = Buffer.concat([rtpFrame(0), b('\x01'), rtpFrame(9), rtpFrame(1)]);
    const events = one(input, { frameChannel: (c) => c < 2 });
    assert.deepEqual(frames(events), [0, 1], 'the frame on unknown channel 9 after garbage is garbage too');
    assert.deepEqual(frames(one(Buffer.concat([rtpFrame(0), rtpFrame(9)]), { frameChannel: (c) => c < 2 })), [0, 9], 'without garbage every frame passes');
  });

  it('skips from the start once frames are expected, and stays fatal on a fresh connection', () => {
    const input = Buffer.concat([b('\x00\x00'), rtpFrame(0)]);
    const p = new RtspParser();
    p.expectFrames();
    assert.deepEqual(frames(p.push(input)), [0]);
    assert.equal(one(input)[0].type, 'error');
  });

  it('keeps memory bounded under endless garbage', () => {
    const p = new RtspParser({ maxLineBytes: 1024 });
    p.expectFrames();
    let x = 1;
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(4096);
      for (let k = 0; k < junk.length; k++) {
        x = (x * 1103515245 + 12345) >>> 0;
        junk[k] = x >>> 24 === 0x24 ? 0 : x >>> 24;
      }
      p.push(junk);
      assert.ok(p.bufferedBytes <= 1024 + 64, `holds ${p.bufferedBytes}`);
    }
    assert.equal(p.failed, false);
    assert.deepEqual(frames(p.push(Buffer.concat([b('\x00'), rtpFrame(4)]))), [4]);
  });

  it('recovers every frame and request around random garbage, for any split', () => {
    const garbageArb = fc
      .uint8Array({ minLength: 1, maxLength: 200 })
      // No `$` (it could start a plausible frame); ends on a byte that cannot run into a
      // following method name.
      .map((u) => Buffer.concat([Buffer.from(u.map((x) => (x === 0x24 ? 0x23 : x))), Buffer.from([0])]));
    const pieceArb = fc.oneof(
      fc.record({ kind: fc.constant('frame' as const), channel: fc.integer({ min: 0, max: 9 }), len: fc.integer({ min: 4, max: 1500 }) }),
      fc.record({ kind: fc.constant('req' as const), method: fc.constantFrom(...METHODS), cseq: fc.nat(9999) }),
      fc.record({ kind: fc.constant('junk' as const), bytes: garbageArb }),
    );
    fc.assert(
      fc.property(fc.array(pieceArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (pieces, cuts) => {
        const parts: Buffer[] = [rtpFrame(0, 8)];
        const want: string[] = ['f0'];
        for (const pc of pieces) {
          if (pc.kind === 'frame') {
            parts.push(rtpFrame(pc.channel, pc.len, pc.len & 0xff));
            want.push(`f${pc.channel}`);
          } else if (pc.kind === 'req') {
            parts.push(b(`${pc.method} rtsp://h/x RTSP/1.0\r\nCSeq: ${pc.cseq}\r\n\r\n`));
            want.push(`${pc.method}/${pc.cseq}`);
          } else parts.push(pc.bytes);
        }
        const bytes = Buffer.concat(parts);
        const splits = cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
        for (const events of [feed(bytes, []), feed(bytes, splits)]) {
          const got = events.flatMap((e) =>
            e.type === 'frame' ? [`f${e.frame.channel}`] : e.type === 'request' ? [`${e.request.method}/${e.request.headers.get('cseq')}`] : e.type === 'skipped' ? [] : [`?${e.type}`],
          );
          assert.deepEqual(got, want);
        }
        assert.deepEqual(norm(feed(bytes, splits)), norm(feed(bytes, [])));
      }),
      { numRuns: 300 },
    );
  });
});
