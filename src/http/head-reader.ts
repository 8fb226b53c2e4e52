/** Reads the opening of a connection on a port that speaks plain HTTP and older line protocols
 * (the radio ports: an Icecast source's `PUT`/`SOURCE … HTTP/1.0`, a listener's `GET`, or a
 * SHOUTcast v1 source's bare password line): either an HTTP/1.x request head, or the first line
 * when it is not an HTTP request line. Bounded in bytes and time; the socket is left paused with
 * no reader attached, and what followed the head is handed over. */
import type { Socket } from 'node:net';
import type { HttpRequestHead } from './router.js';

/** An HTTP request head as read here: headers by lower-case name (a repeated name keeps its
 * first value, which is all the routes here read). */
export class ParsedHttpHead implements HttpRequestHead {
  readonly #headers = new Map<string, string>();

  constructor(
    readonly method: string,
    readonly uri: string,
    readonly version: string,
  ) {}

  get headers(): HttpRequestHead['headers'] {
    const h = this.#headers;
    return { get: (n) => h.get(n.toLowerCase()), has: (n) => h.has(n.toLowerCase()) };
  }

  /** Keeps the first value of each name. */
  add(name: string, value: string): void {
    const k = name.toLowerCase();
    if (!this.#headers.has(k)) this.#headers.set(k, value);
  }
}

export type HeadResult =
  | { kind: 'http'; head: ParsedHttpHead; rest: Buffer }
  /** The first line was not an HTTP request line: the line without its end, and the bytes after it. */
  | { kind: 'line'; line: string; rest: Buffer }
  /** Malformed, too large or too slow: the reason, for the log (the socket is left to the caller). */
  | { kind: 'bad'; reason: string; status: 400 | 408 | 413 | 431 };

export interface HeadReaderOptions {
  /** Largest head, bytes. */
  maxHeaderBytes: number;
  /** Most header fields. */
  maxHeaderCount: number;
  /** Milliseconds to wait for the whole head. */
  timeoutMs: number;
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +(\S+) +(HTTP\/1\.[01])$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;

/** Calls `done` once with what the connection opened with. */
export function readHttpHead(socket: Socket, opts: HeadReaderOptions, done: (r: HeadResult) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let settled = false;
  const timer = setTimeout(() => finish({ kind: 'bad', status: 408, reason: `no complete request within ${opts.timeoutMs} ms` }), opts.timeoutMs);
  timer.unref();
  function finish(r: HeadResult): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    done(r);
  }
  function onClose(): void {
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
  }
  function onData(chunk: Buffer): void {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const firstEnd = buf.indexOf(0x0a);
    if (firstEnd < 0) {
      if (buf.length > opts.maxHeaderBytes) finish({ kind: 'bad', status: 431, reason: `request line over ${opts.maxHeaderBytes} bytes` });
      return;
    }
    const first = buf.toString('latin1', 0, firstEnd).replace(/\r$/, '');
    if (!REQUEST_LINE.test(first)) {
      finish({ kind: 'line', line: first, rest: buf.subarray(firstEnd + 1) });
      return;
    }
    const end = headEnd(buf);
    if (end < 0) {
      if (buf.length > opts.maxHeaderBytes) finish({ kind: 'bad', status: 431, reason: `request head over ${opts.maxHeaderBytes} bytes` });
      return;
    }
    if (end > opts.maxHeaderBytes) {
      finish({ kind: 'bad', status: 431, reason: `request head over ${opts.maxHeaderBytes} bytes` });
      return;
    }
    finish(parseHead(buf, end, opts.maxHeaderCount));
  }
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.resume();
}

/** Index just past the blank line ending the head (CRLF or bare LF line ends), or -1. */
function headEnd(buf: Buffer): number {
  for (let i = buf.indexOf(0x0a); i >= 0 && i < buf.length; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

function parseHead(buf: Buffer, end: number, maxHeaderCount: number): HeadResult {
  const lines = buf.toString('latin1', 0, end).split(/\r?\n/);
  const m = REQUEST_LINE.exec(lines[0])!;
  const head = new ParsedHttpHead(m[1], m[2], m[3]);
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const h = HEADER_LINE.exec(line);
    if (!h) return { kind: 'bad', status: 400, reason: `malformed header line '${line.slice(0, 80)}'` };
    if (++count > maxHeaderCount) return { kind: 'bad', status: 431, reason: `more than ${maxHeaderCount} header fields` };
    head.add(h[1], h[2]);
  }
  return { kind: 'http', head, rest: buf.subarray(end) };
}
