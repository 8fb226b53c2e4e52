/** Tells an RTSP connection from an HTTP one by its first bytes, so both are served on the same
 * port: an opening request line with an HTTP method and `HTTP/1.x` is HTTP (a tunnel half, a
 * reference movie, whatever the HTTP router serves, or a method it answers 405), anything else is
 * RTSP. An opening goes to RTSP as soon as its first word rules HTTP out; otherwise the whole first
 * line decides, so a request split across reads and an RTSP method that begins like an HTTP one
 * (`GET_PARAMETER`, `PLAY`) are judged exactly. The RTSP parser then reads the HTTP head. */
import type { Socket } from 'node:net';
import { RtspParser } from '../message/parser.js';
import type { RtspRequest } from '../message/types.js';

export type Opening =
  /** RTSP: every byte read so far has been put back on the socket, which is left paused; the
   * caller attaches its reader and resumes it. */
  | { kind: 'rtsp' }
  /** HTTP: the request head (any method), and the bytes that followed it (a tunnelled POST's
   * base64 body, any body). The socket is paused with no reader attached. */
  | { kind: 'http'; request: RtspRequest; rest: Buffer[] }
  /** A first line another protocol takes (`lineOpening`: a SHOUTcast source's password), without
   * its line end, and the bytes after it. The socket is paused with no reader attached. */
  | { kind: 'line'; line: string; rest: Buffer };

export interface SniffOptions {
  /** Largest HTTP/RTSP head waited for, bytes. */
  maxHeaderBytes: number;
  /** Largest Content-Length the head parser accepts, bytes (no body is waited for: the first
   * line decides, and an HTTP body is handed over in `rest`). */
  maxBodyBytes: number;
  /** Milliseconds a connection may stay silent before it is dropped. */
  timeoutMs: number;
  /** Milliseconds a client that has begun its first message has to finish its head (default:
   * timeoutMs). */
  requestTimeoutMs?: number;
  /** Methods besides the HTTP ones that open an HTTP/1.x request here (an Icecast source's
   * `SOURCE`): the routes registered for them say which (`HttpRouter` methods). */
  extraMethods?: readonly string[];
  /** Whether a complete first line that is neither an RTSP nor an HTTP request line opens
   * another protocol here (DSS took SHOUTcast v1 and x-audiocast sources on its RTSP ports). With
   * it, an opening goes to RTSP early only when its first word is an RTSP method or its bytes are
   * binary; other openings wait for their first line. */
  lineOpening?: (line: string) => boolean;
}

const LF = 0x0a;
/** RTSP's methods (RFC 2326, 7826): an opening with one of these goes to RTSP at once. */
const RTSP_METHODS = ['OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'REDIRECT', 'PLAY_NOTIFY'];
/** An RTSP request line (any method): never another protocol's opening line. */
const RTSP_REQUEST_LINE = /^\S+[ \t]+\S+[ \t]+RTSP\/\d\.\d[ \t]*\r?$/;

/** Whether an opening starting with `start` may be a text line for `lineOpening`: printable, and
 * its first word, once complete, not an RTSP method. */
function mayBeLine(start: Buffer): boolean {
  for (const b of start) if ((b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09) || b > 0x7e) return false;
  const text = start.toString('latin1');
  const blank = text.search(/[ \t\r\n]/);
  return blank < 0 || !RTSP_METHODS.includes(text.slice(0, blank));
}
/** The HTTP methods told from RTSP here. OPTIONS is not one: RTSP clients open with it, and their
 * openings must reach the RTSP connection at once (its request timeout and 408 apply from the
 * first byte), so an HTTP OPTIONS is answered as RTSP, as it always was. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT'];
/** Bytes that settle whether an opening starts with one of HTTP_METHODS and a blank. */
const METHOD_BYTES = 8;

/** Whether an opening starting with `start` may still be an HTTP request: its first word is, or
 * so far begins, one of HTTP_METHODS. */
function mayBeHttp(start: string, methods: readonly string[]): boolean {
  const blank = start.search(/[ \t]/);
  if (blank >= 0) return methods.includes(start.slice(0, blank));
  return methods.some((m) => m.startsWith(start));
}
/** An HTTP/1.x request line: any method, one target, the version (blanks as the parser takes them). */
const HTTP_REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]+[^ \t]+[ \t]+HTTP\/1\.[01][ \t]*\r?$/;
/** The parser takes an HTTP opening only with the tunnel's methods; another method's head is
 * parsed under this one's name and given its own back. */
const PARSED_AS = Buffer.from('GET');

/** Watches the first bytes of `socket` and calls `decided` once (never if the socket closes or
 * times out first; it is then destroyed). */
export function sniffOpening(socket: Socket, opts: SniffOptions, decided: (o: Opening) => void): void {
  const methods = opts.extraMethods?.length ? [...HTTP_METHODS, ...opts.extraMethods] : HTTP_METHODS;
  const parser = new RtspParser({ maxHeaderBytes: opts.maxHeaderBytes, maxBodyBytes: opts.maxBodyBytes, mode: 'server' });
  const seen: Buffer[] = [];
  let seenBytes = 0;
  /** The HTTP method, once the first line has shown one. */
  let method: string | undefined;
  let timer = setTimeout(() => socket.destroy(), opts.timeoutMs);
  timer.unref();
  const stop = () => {
    clearTimeout(timer);
    socket.pause();
    socket.off('data', onData);
    socket.off('close', onClose);
  };
  const asRtsp = () => {
    stop();
    socket.unshift(seen.length === 1 ? seen[0] : Buffer.concat(seen));
    decided({ kind: 'rtsp' });
  };
  /** Undecided after this chunk: a client that has begun its first message must finish it soon. */
  const waiting = () => {
    if (seen.length === 1 && opts.requestTimeoutMs !== undefined) {
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), opts.requestTimeoutMs);
      timer.unref();
    }
  };
  /** The bytes to parse once the first line is complete, or undefined when it is not HTTP. */
  const firstLine = (chunk: Buffer, lf: number): Buffer | undefined => {
    const head = seen.length === 1 ? chunk : Buffer.concat(seen);
    const m = HTTP_REQUEST_LINE.exec(head.toString('latin1', 0, seenBytes - chunk.length + lf));
    if (!m) return undefined;
    method = m[1];
    return method === 'GET' || method === 'POST' ? head : Buffer.concat([PARSED_AS, head.subarray(method.length)]);
  };
  const onData = (chunk: Buffer) => {
    seen.push(chunk);
    seenBytes += chunk.length;
    let toParse = chunk;
    if (method === undefined) {
      // RTSP methods, binary openings (interleaved data, TLS on a plain port, junk) go to RTSP as
      // soon as their first bytes rule HTTP out.
      if (seenBytes - chunk.length < METHOD_BYTES) {
        const start = seen.length === 1 ? chunk : Buffer.concat(seen);
        if (!mayBeHttp(start.toString('latin1', 0, METHOD_BYTES), methods) && !(opts.lineOpening && mayBeLine(start.subarray(0, 2 * METHOD_BYTES)))) {
          asRtsp();
          return;
        }
      }
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        // Over-long first lines are the RTSP parser's to refuse (414).
        if (seenBytes > opts.maxHeaderBytes) asRtsp();
        else waiting();
        return;
      }
      const http = firstLine(chunk, lf);
      if (!http) {
        const head = seen.length === 1 ? chunk : Buffer.concat(seen);
        const end = seenBytes - chunk.length + lf;
        const line = head.toString('latin1', 0, end).replace(/\r$/, '');
        if (opts.lineOpening && !RTSP_REQUEST_LINE.test(line) && mayBeLine(head.subarray(0, end)) && opts.lineOpening(line)) {
          stop();
          decided({ kind: 'line', line, rest: head.subarray(end + 1) });
          return;
        }
        asRtsp();
        return;
      }
      toParse = http;
    }
    const events = parser.push(toParse);
    if (events.length === 0) {
      waiting();
      return;
    }
    const first = events[0];
    if (first.type === 'request' && parser.raw) {
      stop();
      first.request.method = method!;
      const rest: Buffer[] = [];
      for (const ev of events) if (ev.type === 'data') rest.push(ev.data);
      decided({ kind: 'http', request: first.request, rest });
      return;
    }
    // A head the parser refused: the RTSP connection answers it.
    asRtsp();
  };
  const onClose = () => clearTimeout(timer);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', () => undefined);
}
