import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspParser } from './parser.js';
import { encodeInterleavedHeader, reasonPhrase, serializeRequest, serializeResponse } from './serialize.js';
import { Headers } from './types.js';

describe('reasonPhrase', () => {
  it('knows every RFC 2326 §7.1.1 status code', () => {
    const expected: Record<number, string> = {
      100: 'Continue',
      200: 'OK',
      201: 'Created',
      250: 'Low on Storage Space',
      300: 'Multiple Choices',
      301: 'Moved Permanently',
      302: 'Moved Temporarily',
      303: 'See Other',
      304: 'Not Modified',
      305: 'Use Proxy',
      400: 'Bad Request',
      401: 'Unauthorized',
      402: 'Payment Required',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      406: 'Not Acceptable',
      407: 'Proxy Authentication Required',
      408: 'Request Time-out',
      410: 'Gone',
      411: 'Length Required',
      412: 'Precondition Failed',
      413: 'Request Entity Too Large',
      414: 'Request-URI Too Large',
      415: 'Unsupported Media Type',
      451: 'Parameter Not Understood',
      452: 'Conference Not Found',
      453: 'Not Enough Bandwidth',
      454: 'Session Not Found',
      455: 'Method Not Valid in This State',
      456: 'Header Field Not Valid for Resource',
      457: 'Invalid Range',
      458: 'Parameter Is Read-Only',
      459: 'Aggregate operation not allowed',
      460: 'Only aggregate operation allowed',
      461: 'Unsupported transport',
      462: 'Destination unreachable',
      500: 'Internal Server Error',
      501: 'Not Implemented',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
      504: 'Gateway Time-out',
      505: 'RTSP Version not supported',
      551: 'Option not supported',
    };
    for (const [code, phrase] of Object.entries(expected)) assert.equal(reasonPhrase(Number(code)), phrase);
  });

  it('falls back to the class phrase for unregistered codes', () => {
    assert.equal(reasonPhrase(299), 'OK');
    assert.equal(reasonPhrase(499), 'Bad Request');
    assert.equal(reasonPhrase(999), 'Unknown');
  });
});

describe('serializeResponse', () => {
  it('writes the status line, headers in order and a blank line', () => {
    const out = serializeResponse({
      status: 200,
      headers: new Headers({ CSeq: 1, Public: 'OPTIONS, DESCRIBE' }),
    });
    assert.equal(out.toString(), 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n');
  });

  it('adds Content-Length for a body and replaces a stale one', () => {
    const sdp = 'v=0\r\ns=é\r\n';
    const out = serializeResponse({
      status: 200,
      headers: new Headers([
        ['CSeq', '2'],
        ['Content-Length', '999'],
        ['Content-Type', 'application/sdp'],
      ]),
      body: sdp,
    });
    const len = Buffer.byteLength(sdp);
    assert.equal(
      out.toString(),
      `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${len}\r\n\r\n${sdp}`,
    );
    const empty = serializeResponse({
      status: 200,
      headers: new Headers({ 'Content-Length': 5 }),
      body: Buffer.alloc(0),
    });
    assert.equal(empty.toString(), 'RTSP/1.0 200 OK\r\n\r\n');
  });

  it('uses the standard phrase for error codes and a custom one when given', () => {
    assert.match(
      serializeResponse({ status: 454, headers: new Headers() }).toString(),
      /^RTSP\/1\.0 454 Session Not Found\r\n/,
    );
    assert.match(
      serializeResponse({ status: 461, headers: new Headers() }).toString(),
      /^RTSP\/1\.0 461 Unsupported transport\r\n/,
    );
    assert.match(
      serializeResponse({ status: 200, reason: 'Fine', headers: new Headers() }).toString(),
      /^RTSP\/1\.0 200 Fine\r\n/,
    );
  });

  it('refuses CR/LF in header values (response splitting) and bad names or status', () => {
    assert.throws(
      () => serializeResponse({ status: 200, headers: new Headers({ CSeq: '1\r\nX: y' }) }),
      TypeError,
    );
    assert.throws(
      () => serializeResponse({ status: 200, headers: new Headers({ 'Bad Name': 'x' }) }),
      TypeError,
    );
    assert.throws(
      () => serializeResponse({ status: 200, reason: 'a\nb', headers: new Headers() }),
      TypeError,
    );
    assert.throws(() => serializeResponse({ status: 20, headers: new Headers() }), RangeError);
  });
});

describe('serializeRequest', () => {
  it('writes a request the parser reads back', () => {
    const out = serializeRequest({
      method: 'SETUP',
      uri: 'rtsp://h/a/trackID=1',
      headers: new Headers([
        ['CSeq', '3'],
        ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1'],
      ]),
    });
    assert.equal(
      out.toString(),
      'SETUP rtsp://h/a/trackID=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n',
    );
    assert.throws(
      () => serializeRequest({ method: 'BAD METHOD', uri: '*', headers: new Headers() }),
      TypeError,
    );
    assert.throws(
      () => serializeRequest({ method: 'OPTIONS', uri: 'a b', headers: new Headers() }),
      TypeError,
    );
  });

  it('round-trips random requests and responses through the parser', () => {
    const headers = fc
      .uniqueArray(
        fc.tuple(
          fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/),
          fc.stringMatching(/^([!-~]([ -~]{0,20}[!-~])?)?$/),
        ),
        { maxLength: 5, selector: ([k]) => k.toLowerCase() },
      )
      .map((hs) => hs.filter(([k]) => k.toLowerCase() !== 'content-length'));
    fc.assert(
      fc.property(
        fc.constantFrom('OPTIONS', 'DESCRIBE', 'SET_PARAMETER', 'ANNOUNCE'),
        fc.stringMatching(/^[a-z0-9/._-]{1,20}$/),
        headers,
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 100, max: 999 }),
        (method, path, hs, body, status) => {
          const p = new RtspParser();
          const req = serializeRequest({
            method,
            uri: `rtsp://h/${path}`,
            headers: new Headers(hs),
            body: Buffer.from(body),
          });
          const res = serializeResponse({ status, headers: new Headers(hs), body: Buffer.from(body) });
          const [e1, e2, ...rest] = p.push(Buffer.concat([req, res]));
          assert.equal(rest.length, 0);
          assert.ok(e1.type === 'request' && e2.type === 'response');
          const cl: [string, string][] = body.length > 0 ? [['Content-Length', String(body.length)]] : [];
          assert.equal(e1.request.method, method);
          assert.deepEqual([...e1.request.headers.entries()], [...hs, ...cl]);
          assert.ok(e1.request.body.equals(Buffer.from(body)));
          assert.equal(e2.response.status, status);
          assert.equal(e2.response.reason, reasonPhrase(status));
          assert.deepEqual([...e2.response.headers.entries()], [...hs, ...cl]);
          assert.ok(e2.response.body.equals(Buffer.from(body)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('encodeInterleavedHeader', () => {
  it('writes $, channel and a 16-bit big-endian length', () => {
    assert.deepEqual([...encodeInterleavedHeader(1, 0x1234)], [0x24, 1, 0x12, 0x34]);
    assert.deepEqual([...encodeInterleavedHeader(255, 65535)], [0x24, 255, 0xff, 0xff]);
    assert.deepEqual([...encodeInterleavedHeader(0, 0)], [0x24, 0, 0, 0]);
  });

  it('rejects out-of-range channels and lengths', () => {
    assert.throws(() => encodeInterleavedHeader(256, 1), RangeError);
    assert.throws(() => encodeInterleavedHeader(-1, 1), RangeError);
    assert.throws(() => encodeInterleavedHeader(0, 65536), RangeError);
    assert.throws(() => encodeInterleavedHeader(0, 1.5), RangeError);
  });

  it('produces frames the parser reads back', () => {
    const payload = Buffer.from('rtp!');
    const [e] = new RtspParser().push(Buffer.concat([encodeInterleavedHeader(4, payload.length), payload]));
    assert.ok(e.type === 'frame' && e.frame.channel === 4 && e.frame.payload.equals(payload));
  });
});
