/** RTSP 1.0 message serialisation (RFC 2326 §6, §7, §10.12). */

import type { RtspRequest, RtspResponse } from './types.js';

/** Reason phrases of RFC 2326 §7.1.1, the only ones an RTSP 1.0 peer may expect to see. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [200, 'OK'],
  [201, 'Created'],
  [250, 'Low on Storage Space'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Moved Temporarily'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Time-out'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Large'],
  [415, 'Unsupported Media Type'],
  [451, 'Parameter Not Understood'],
  [452, 'Conference Not Found'],
  [453, 'Not Enough Bandwidth'],
  [454, 'Session Not Found'],
  [455, 'Method Not Valid in This State'],
  [456, 'Header Field Not Valid for Resource'],
  [457, 'Invalid Range'],
  [458, 'Parameter Is Read-Only'],
  [459, 'Aggregate operation not allowed'],
  [460, 'Only aggregate operation allowed'],
  [461, 'Unsupported transport'],
  [462, 'Destination unreachable'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Time-out'],
  [505, 'RTSP Version not supported'],
  [551, 'Option not supported'],
]);

/** Standard reason phrase for `status`, or a generic one for its class when unregistered
 * (RFC 2326 §7.1.1: an unknown code is treated as the x00 code of its class). */
export function reasonPhrase(status: number): string {
  const known = REASONS.get(status);
  if (known !== undefined) return known;
  return REASONS.get(Math.floor(status / 100) * 100) ?? 'Unknown';
}

/** What `serializeRequest` needs: `version` defaults to RTSP/1.0 and `body` to none. */
export type OutgoingRequest = Omit<RtspRequest, 'version' | 'body'> & {
  version?: string;
  body?: Buffer | string;
};

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Any CR or LF in a header would let a value (often echoed from a peer) inject header lines or
// end the head early, so serialisation refuses rather than writes them.
// eslint-disable-next-line no-control-regex
const BAD_VALUE_RE = /[\x00-\x08\x0a-\x1f\x7f]/;

function headBuffer(
  startLine: string,
  headers: RtspResponse['headers'],
  body: Buffer | string | undefined,
): Buffer {
  const bodyBuf =
    body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `${startLine}\r\n`;
  for (const [name, value] of headers.entries()) {
    // Content-Length always reflects the body actually written; a stale caller value would
    // desynchronise the peer's framing.
    if (name.toLowerCase() === 'content-length') continue;
    if (!TOKEN_RE.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (BAD_VALUE_RE.test(value)) throw new TypeError(`invalid value for header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  if (bodyBuf !== undefined && bodyBuf.length > 0) head += `Content-Length: ${bodyBuf.length}\r\n`;
  head += '\r\n';
  const headBuf = Buffer.from(head, 'utf8');
  return bodyBuf !== undefined && bodyBuf.length > 0 ? Buffer.concat([headBuf, bodyBuf]) : headBuf;
}

/** `RTSP/1.0 <status> <reason>`, the headers in insertion order, Content-Length when there is a
 * body, then the body. Throws TypeError on a header name that is not a token or a value with
 * control characters, RangeError on a status outside 100..999. */
export function serializeResponse(res: RtspResponse): Buffer {
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 999)
    throw new RangeError(`invalid status ${res.status}`);
  const reason = res.reason ?? reasonPhrase(res.status);
  const version = res.version ?? 'RTSP/1.0';
  if (BAD_VALUE_RE.test(reason) || BAD_VALUE_RE.test(version)) throw new TypeError('invalid status line');
  return headBuffer(`${version} ${res.status} ${reason}`, res.headers, res.body);
}

/** `<method> <uri> RTSP/1.0`, the headers in insertion order, Content-Length when there is a
 * body, then the body. Throws TypeError on a method that is not a token, a URI with whitespace
 * or control characters, or a bad header. */
export function serializeRequest(req: OutgoingRequest): Buffer {
  const version = req.version ?? 'RTSP/1.0';
  if (!TOKEN_RE.test(req.method)) throw new TypeError(`invalid method ${JSON.stringify(req.method)}`);
  if (req.uri === '' || /\s/.test(req.uri) || BAD_VALUE_RE.test(req.uri))
    throw new TypeError('invalid request URI');
  if (!/^[A-Za-z]+\/\d+\.\d+$/.test(version)) throw new TypeError('invalid version');
  return headBuffer(`${req.method} ${req.uri} ${version}`, req.headers, req.body);
}

/** The 4-byte header of an interleaved frame (RFC 2326 §10.12): `$`, channel, 16-bit BE length.
 * Written separately so the payload can follow without being copied. */
export function encodeInterleavedHeader(channel: number, length: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255)
    throw new RangeError(`invalid channel ${channel}`);
  if (!Number.isInteger(length) || length < 0 || length > 65535)
    throw new RangeError(`invalid length ${length}`);
  const b = Buffer.allocUnsafe(4);
  b[0] = 0x24;
  b[1] = channel;
  b.writeUInt16BE(length, 2);
  return b;
}
