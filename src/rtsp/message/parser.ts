/** Incremental RTSP 1.0 message parser (RFC 2326 §4, §6, §7, §10.12).
 *
 * API: `push(chunk)` takes the next bytes from the socket and returns the events they complete,
 * in wire order (an empty array when the chunk completes nothing). A pull-style return value
 * rather than callbacks keeps ordering explicit and lets the caller stop processing (e.g. after a
 * fatal error) without re-entrancy concerns.
 *
 * Memory: the only bytes ever held are the current message head (≤ maxHeaderBytes), the current
 * body (≤ maxBodyBytes, allocated once at its final size) or the current interleaved frame
 * (≤ 65535 + 4). Nothing is concatenated repeatedly, so feeding a message byte by byte is O(n).
 * A body or frame that lies entirely inside the chunk being pushed is returned as a `subarray`
 * of that chunk without copying. */

import { Headers, type InterleavedFrame, type RtspRequest, type RtspResponse } from './types.js';

export interface RtspParserOptions {
  /** Largest accepted start line + header block, terminating blank line included. Default 8192. */
  maxHeaderBytes?: number;
  /** Largest accepted Content-Length. Default 65536. */
  maxBodyBytes?: number;
  /** Largest accepted number of header fields in one message. Default 64. */
  maxHeaderCount?: number;
  /** Longest start line or header line, CRLF excluded: 414 for a start line, 413 for a header
   * line, both fatal. Default: maxHeaderBytes (no separate limit). */
  maxLineBytes?: number;
  /** Which interleaved channels are in use, to tell a real `$` frame from a `$` byte in garbage
   * while resynchronising (see `expectFrames`). Default: any channel. */
  frameChannel?: (channel: number) => boolean;
  /** 'server' (default): the connection may start with an HTTP GET/POST (HTTP tunnelling).
   * 'client': the connection may start with an HTTP status line (the tunnelled GET's answer).
   * Both modes accept requests and responses otherwise, because RTSP is bidirectional: a server
   * may send requests (GET_PARAMETER, ANNOUNCE, REDIRECT...) whose answers arrive at the server. */
  mode?: 'server' | 'client';
}

export interface ParserRequestEvent {
  type: 'request';
  request: RtspRequest;
}
export interface ParserResponseEvent {
  type: 'response';
  response: RtspResponse & { version: string; reason: string; body: Buffer };
}
export interface ParserFrameEvent {
  type: 'frame';
  frame: InterleavedFrame;
}
/** A message that could not be accepted. `status` is what a server should answer with.
 * Non-fatal errors replace exactly one message (its body, if any, has been skipped) and parsing
 * goes on; after a fatal error the parser ignores all input and the connection should be closed
 * once the error response is written. */
export interface ParserErrorEvent {
  type: 'error';
  status: number;
  reason: string;
  fatal: boolean;
  /** The offending message's CSeq when it could be read, to echo in the error response. */
  cseq?: string;
}
/** Raw bytes after a connection opened with an HTTP message (see `RtspParserOptions.mode`):
 * the parser no longer interprets anything, the caller owns the stream (e.g. the base64 RTSP
 * stream of a tunnelled POST). */
export interface ParserDataEvent {
  type: 'data';
  data: Buffer;
}
/** Bytes that were neither a message nor a frame, skipped on a connection carrying interleaved
 * data (see `RtspParser.expectFrames`) up to the next valid `$` frame or request line. */
export interface ParserSkippedEvent {
  type: 'skipped';
  bytes: number;
}
export type ParserEvent =
  | ParserRequestEvent
  | ParserResponseEvent
  | ParserFrameEvent
  | ParserErrorEvent
  | ParserDataEvent
  | ParserSkippedEvent;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const DOLLAR = 0x24;

// Parser states.
const IDLE = 0; // between messages
const HEAD = 1; // inside a start line + header block
const BODY = 2; // copying a body that spans chunks
const FRAME_HDR = 3; // inside the 4-byte `$` header
const FRAME_BODY = 4; // copying a frame payload that spans chunks
const RAW = 5; // after an HTTP opening: pass bytes through
const DEAD = 6; // after a fatal error
const SKIP = 7; // skipping garbage between interleaved frames, looking for a frame or request

/** Bytes allowed in the first word of a start line: RFC 7230 tchar (a method) plus '/', so that
 * `RTSP/1.0` and `HTTP/1.1` status lines pass. Anything else there is garbage (TLS hello, binary
 * junk, a desynchronised stream) and is rejected at once instead of buffering up to the limit. */
const FIRST_WORD = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  FIRST_WORD[c.charCodeAt(0)] = 1;

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE_RE = /^([^ \t]+)[ \t]+([^ \t]+)[ \t]+([^ \t]+)[ \t]*$/;
const VERSION_RE = /^[A-Za-z]+\/\d+\.\d+$/;
const STATUS_LINE_RE = /^([A-Za-z]+\/\d+\.\d+)[ \t]+(\d{3})(?:[ \t]+(.*))?$/;
/** CTLs other than HTAB. A lone CR inside a line counts: some peers treat it as a line break,
 * so letting it through could smuggle a header into a response that echoes a value. */
// eslint-disable-next-line no-control-regex
const CTL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
const HTTP_VERSION_RE = /^HTTP\/1\.[01]$/;
/** What must follow garbage for the parser to trust it as the next request: an RTSP method in
 * capitals, a URL, RTSP/1.0. Strict, so that random bytes practically never match. */
const RESYNC_REQUEST_RE = /^[A-Z][A-Z_]{2,31} (?:rtsps?:\/\/[!-~]+|\*|\/[!-~]*) RTSP\/1\.0\r?$/;
const RESYNC_STATUS_RE = /^RTSP\/1\.0 \d{3}(?: [ -~]*)?\r?$/;
const A = 0x41;
const Z = 0x5a;

/** A parsed head waiting for its body (an error event stands in for a rejected message). */
type PendingMessage = ParserRequestEvent | ParserResponseEvent | ParserErrorEvent;

const EMPTY = Buffer.alloc(0);

export class RtspParser {
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  readonly #maxHeaderCount: number;
  readonly #maxLineBytes: number;
  readonly #frameChannelOk: ((channel: number) => boolean) | undefined;
  readonly #mode: 'server' | 'client';
  /** Interleaved data flows on this connection: garbage is skipped, not fatal. */
  #framed = false;

  // SKIP state: bytes being searched for the next frame or request (bounded: only a possible
  // start of one is kept between pushes).
  #skip: Buffer = EMPTY;
  #skipLen = 0;
  #skipped = 0;

  #state = IDLE;
  /** True until the first message or frame: HTTP is only recognised as the connection's opening. */
  #opening = true;

  // HEAD state. The head is copied into #head (grown by doubling up to the limit) because it is
  // small and must be decoded as a whole; bodies and frames never go through it.
  #head: Buffer = EMPTY;
  #headLen = 0;
  #lineStart = 0;
  /** Still inside the first word of the start line (validated byte by byte). */
  #inFirstWord = false;

  // BODY state.
  #pending: PendingMessage | null = null;
  #body: Buffer = EMPTY;
  #bodyFilled = 0;

  // FRAME_HDR / FRAME_BODY states.
  readonly #frameHdr = Buffer.alloc(4);
  #frameHdrLen = 0;
  #frameChannel = 0;
  #frame: Buffer = EMPTY;
  #frameFilled = 0;

  constructor(options: RtspParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 8192;
    this.#maxBodyBytes = options.maxBodyBytes ?? 65536;
    this.#maxHeaderCount = options.maxHeaderCount ?? 64;
    this.#maxLineBytes = options.maxLineBytes ?? this.#maxHeaderBytes;
    this.#frameChannelOk = options.frameChannel;
    this.#mode = options.mode ?? 'server';
  }

  /** True after a fatal error: all further input is ignored. */
  get failed(): boolean {
    return this.#state === DEAD;
  }

  /** True after an HTTP opening: further input comes back as `data` events. */
  get raw(): boolean {
    return this.#state === RAW;
  }

  /** Declares that interleaved `$` frames flow on this connection (a TCP transport was set up).
   * From then on (and after the first frame in any case), bytes that start neither a frame nor
   * a plausible request are skipped up to the next valid `$` frame (known channel, RTP/RTCP
   * version 2) or `METHOD url RTSP/1.0` line, with a `skipped` event, instead of ending the
   * connection: a desynchronised or noisy peer loses the garbage, not the session. */
  expectFrames(): void {
    this.#framed = true;
  }

  /** True while a message, frame or garbage run is incomplete (for request time limits). */
  get partial(): boolean {
    const s = this.#state;
    return s === HEAD || s === BODY || s === FRAME_HDR || s === FRAME_BODY || s === SKIP;
  }

  /** Bytes currently held for an incomplete message or frame (for memory accounting). */
  get bufferedBytes(): number {
    switch (this.#state) {
      case SKIP:
        return this.#skipLen;
      case HEAD:
        return this.#headLen;
      case BODY:
        return this.#bodyFilled;
      case FRAME_HDR:
        return this.#frameHdrLen;
      case FRAME_BODY:
        return this.#frameHdrLen + this.#frameFilled;
      default:
        return 0;
    }
  }

  /** Feeds the next bytes; returns the events they complete, in order. Never throws on input. */
  push(chunk: Buffer): ParserEvent[] {
    const out: ParserEvent[] = [];
    // Leaving SKIP hands back the bytes from the frame or request found, to be parsed normally.
    let input: Buffer | null = chunk;
    while (input !== null) input = this.#run(input, out);
    return out;
  }

  #run(chunk: Buffer, out: ParserEvent[]): Buffer | null {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case IDLE: {
          const b = chunk[i];
          // Empty lines between messages are tolerated (RFC 2616 §4.1 robustness rule; some
          // clients send a stray CRLF after a body).
          if (b === CR || b === LF) {
            i++;
            break;
          }
          if (this.#framed && b !== DOLLAR && (b < A || b > Z)) {
            this.#enterSkip(EMPTY);
            break;
          }
          if (b === DOLLAR) {
            this.#opening = false;
            if (n - i >= 4) {
              // Fast path: whole 4-byte header in this chunk.
              const channel = chunk[i + 1];
              const len = chunk.readUInt16BE(i + 2);
              i += 4;
              i = this.#startFrame(chunk, i, channel, len, out);
            } else {
              this.#frameHdrLen = 0;
              this.#state = FRAME_HDR;
            }
            break;
          }
          this.#headLen = 0;
          this.#lineStart = 0;
          this.#inFirstWord = true;
          this.#state = HEAD;
          break;
        }
        case HEAD:
          i = this.#consumeHead(chunk, i, out);
          break;
        case BODY: {
          const take = Math.min(n - i, this.#body.length - this.#bodyFilled);
          chunk.copy(this.#body, this.#bodyFilled, i, i + take);
          this.#bodyFilled += take;
          i += take;
          if (this.#bodyFilled === this.#body.length) {
            const body = this.#body;
            this.#body = EMPTY;
            this.#bodyFilled = 0;
            this.#state = IDLE;
            this.#finish(body, out);
          }
          break;
        }
        case FRAME_HDR: {
          while (i < n && this.#frameHdrLen < 4) this.#frameHdr[this.#frameHdrLen++] = chunk[i++];
          if (this.#frameHdrLen === 4) {
            this.#frameHdrLen = 0;
            i = this.#startFrame(chunk, i, this.#frameHdr[1], this.#frameHdr.readUInt16BE(2), out);
          }
          break;
        }
        case FRAME_BODY: {
          const take = Math.min(n - i, this.#frame.length - this.#frameFilled);
          chunk.copy(this.#frame, this.#frameFilled, i, i + take);
          this.#frameFilled += take;
          i += take;
          if (this.#frameFilled === this.#frame.length) {
            out.push({ type: 'frame', frame: { channel: this.#frameChannel, payload: this.#frame } });
            this.#framed = true;
            this.#frame = EMPTY;
            this.#frameFilled = 0;
            this.#state = IDLE;
          }
          break;
        }
        case RAW:
          out.push({ type: 'data', data: i === 0 ? chunk : chunk.subarray(i) });
          i = n;
          break;
        case SKIP:
          this.#skipAppend(chunk, i);
          return this.#scanSkip(out);
        default: // DEAD
          return null;
      }
    }
    return null;
  }

  #enterSkip(prefix: Buffer): void {
    this.#state = SKIP;
    this.#head = EMPTY;
    this.#headLen = 0;
    this.#skipLen = 0;
    if (prefix.length > 0) this.#skipAppend(prefix, 0);
  }

  #skipAppend(chunk: Buffer, from: number): void {
    const len = chunk.length - from;
    const need = this.#skipLen + len;
    if (need > this.#skip.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 256, this.#skip.length * 2));
      this.#skip.copy(grown, 0, 0, this.#skipLen);
      this.#skip = grown;
    }
    chunk.copy(this.#skip, this.#skipLen, from);
    this.#skipLen = need;
  }

  /** Looks for a valid frame or request in the skipped bytes. Found: returns the bytes from
   * there on, to be parsed normally. Not found: keeps only what may still start one. */
  #scanSkip(out: ParserEvent[]): Buffer | null {
    const buf = this.#skip.subarray(0, this.#skipLen);
    let keep = buf.length;
    for (let p = 0; p < buf.length; p++) {
      const b = buf[p];
      if (b === DOLLAR) {
        if (buf.length - p < 5) {
          keep = Math.min(keep, p);
          break;
        }
        const channel = buf[p + 1];
        const len = buf.readUInt16BE(p + 2);
        if (len >= 4 && buf[p + 4] >> 6 === 2 && (this.#frameChannelOk?.(channel) ?? true)) return this.#leaveSkip(buf, p, out);
      } else if (b >= A && b <= Z) {
        let q = p + 1;
        while (q < buf.length && q - p <= 32 && ((buf[q] >= A && buf[q] <= Z) || buf[q] === 0x5f || buf[q] === 0x2f || buf[q] === 0x2e || (buf[q] >= 0x30 && buf[q] <= 0x39))) q++;
        if (q < buf.length && buf[q] !== SP) continue;
        const lf = buf.indexOf(LF, p);
        if (lf < 0) {
          if (buf.length - p <= this.#maxLineBytes) keep = Math.min(keep, p);
          continue;
        }
        const line = buf.toString('latin1', p, lf);
        const ok = this.#mode === 'server' ? RESYNC_REQUEST_RE.test(line) : RESYNC_STATUS_RE.test(line) || RESYNC_REQUEST_RE.test(line);
        if (ok) return this.#leaveSkip(buf, p, out);
      }
    }
    this.#skipped += keep;
    buf.copy(this.#skip, 0, keep);
    this.#skipLen = buf.length - keep;
    if (this.#skip.length > 4 * Math.max(this.#maxLineBytes, 1024) && this.#skipLen < 1024) {
      // Release a buffer grown for one big chunk of garbage.
      const small = Buffer.allocUnsafe(Math.max(this.#skipLen, 256));
      this.#skip.copy(small, 0, 0, this.#skipLen);
      this.#skip = small;
    }
    return null;
  }

  #leaveSkip(buf: Buffer, p: number, out: ParserEvent[]): Buffer {
    const rest = Buffer.from(buf.subarray(p));
    out.push({ type: 'skipped', bytes: this.#skipped + p });
    this.#skipped = 0;
    this.#skip = EMPTY;
    this.#skipLen = 0;
    this.#state = IDLE;
    return rest;
  }

  /** Begins a frame whose header has been read; returns the new read position. */
  #startFrame(chunk: Buffer, i: number, channel: number, len: number, out: ParserEvent[]): number {
    if (chunk.length - i >= len) {
      out.push({ type: 'frame', frame: { channel, payload: chunk.subarray(i, i + len) } });
      this.#framed = true;
      this.#state = IDLE;
      return i + len;
    }
    // Allocated once at its final size: at most 64 KiB, so an idle peer cannot make it grow.
    this.#frameChannel = channel;
    this.#frame = Buffer.allocUnsafe(len);
    this.#frameFilled = chunk.length - i;
    chunk.copy(this.#frame, 0, i);
    this.#state = FRAME_BODY;
    return chunk.length;
  }

  /** Copies head bytes until the blank line that ends the head; returns the new read position. */
  #consumeHead(chunk: Buffer, i: number, out: ParserEvent[]): number {
    const n = chunk.length;
    while (i < n) {
      if (this.#inFirstWord) {
        let j = i;
        while (j < n) {
          const b = chunk[j];
          if (b === SP || b === HT || b === CR || b === LF) {
            this.#inFirstWord = false;
            break;
          }
          if (FIRST_WORD[b] === 0) {
            if (this.#framed) {
              this.#toSkip(chunk, i, j);
              return j;
            }
            this.#fatal(400, 'Bad Request', out);
            return n;
          }
          j++;
        }
        if (!this.#append(chunk, i, j, out)) return this.#state === SKIP ? j : n;
        i = j;
        continue;
      }
      const lf = chunk.indexOf(LF, i);
      const end = lf === -1 ? n : lf + 1;
      if (this.#framed && this.#lineStart === 0) {
        // Among interleaved data a start line must be text: binary bytes mean garbage (or a
        // frame after it), to be skipped now rather than swallowed into a head.
        const bad = this.#firstBinary(chunk, i, end);
        if (bad >= 0) {
          this.#toSkip(chunk, i, bad);
          return bad;
        }
      }
      if (!this.#append(chunk, i, end, out)) return this.#state === SKIP ? end : n;
      i = end;
      if (lf === -1) return i;
      if (this.#framed && this.#lineStart === 0 && !this.#plausibleStartLine()) {
        this.#toSkip(chunk, i, i);
        return i;
      }
      const lineLen = this.#headLen - this.#lineStart; // LF included
      const empty = lineLen === 1 || (lineLen === 2 && this.#head[this.#headLen - 2] === CR);
      // The first line is never empty: IDLE skips CR/LF before entering HEAD.
      if (empty) {
        this.#state = IDLE;
        return this.#parseHead(chunk, i, out);
      }
      this.#lineStart = this.#headLen;
    }
    return i;
  }

  /** Garbage taken for a start line: it and what follows go to SKIP, minus its first byte
   * (known not to start anything valid). */
  #toSkip(chunk: Buffer, start: number, end: number): void {
    const head = this.#head.subarray(0, this.#headLen);
    const bytes = Buffer.concat([head, chunk.subarray(start, end)]);
    this.#skipped += 1;
    this.#enterSkip(bytes.subarray(1));
  }

  /** Index of the first byte in chunk[from, end) that cannot be in a text line (a control
   * character other than HT, a CR not followed by LF, DEL or non-ASCII), or -1. */
  #firstBinary(chunk: Buffer, from: number, end: number): number {
    for (let k = from; k < end; k++) {
      const c = chunk[k];
      const prevCr = k > from ? chunk[k - 1] === CR : this.#headLen > 0 && this.#head[this.#headLen - 1] === CR;
      if (prevCr && c !== LF) return k;
      if (c >= 0x7f || (c < 0x20 && c !== HT && c !== CR && c !== LF)) return k;
    }
    return -1;
  }

  /** Is the completed first line in #head shaped like a request or status line? */
  #plausibleStartLine(): boolean {
    const line = this.#head.toString('latin1', 0, this.#headLen).replace(/\r?\n$/, '');
    if (STATUS_LINE_RE.test(line)) return true;
    const m = REQUEST_LINE_RE.exec(line);
    return m !== null && TOKEN_RE.test(m[1]) && VERSION_RE.test(m[3]);
  }

  /** Adds chunk[start, end) to the head, enforcing maxHeaderBytes and maxLineBytes. False after
   * a fatal error, or after garbage went to SKIP. */
  #append(chunk: Buffer, start: number, end: number, out: ParserEvent[]): boolean {
    const len = end - start;
    if (len === 0) return true;
    const need = this.#headLen + len;
    // The line's CR and LF are not counted.
    const last = chunk[end - 1];
    const beforeLast = end - 2 >= start ? chunk[end - 2] : this.#head[this.#headLen - 1];
    const ending = last === CR ? 1 : last === LF ? (beforeLast === CR && need - this.#lineStart >= 2 ? 2 : 1) : 0;
    const lineBytes = need - this.#lineStart - ending;
    if (need > this.#maxHeaderBytes || lineBytes > this.#maxLineBytes) {
      if (this.#framed && this.#lineStart === 0) {
        this.#toSkip(chunk, start, end);
        return false;
      }
      // An over-long header line is answered like an over-long head (RTSP 1.0 has no 431).
      if (this.#lineStart === 0 && need <= this.#maxHeaderBytes) this.#fatal(414, 'Request-URI Too Large', out);
      else this.#fatal(413, 'Request Entity Too Large', out);
      return false;
    }
    if (need > this.#head.length) {
      let size = Math.max(256, this.#head.length * 2);
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(Math.min(size, this.#maxHeaderBytes));
      this.#head.copy(grown, 0, 0, this.#headLen);
      this.#head = grown;
    }
    chunk.copy(this.#head, this.#headLen, start, end);
    this.#headLen = need;
    return true;
  }

  #fatal(status: number, reason: string, out: ParserEvent[], cseq?: string): void {
    const ev: ParserErrorEvent = { type: 'error', status, reason, fatal: true };
    if (cseq !== undefined) ev.cseq = cseq;
    out.push(ev);
    this.#state = DEAD;
    this.#head = EMPTY;
    this.#body = EMPTY;
    this.#frame = EMPTY;
    this.#pending = null;
  }

  /** Parses the complete head in #head and starts its body; returns the new read position. */
  #parseHead(chunk: Buffer, i: number, out: ParserEvent[]): number {
    const opening = this.#opening;
    this.#opening = false;
    // UTF-8 so raw non-ASCII request URIs (sent by some clients) survive; invalid sequences
    // become U+FFFD and can never form CR/LF.
    const text = this.#head.toString('utf8', 0, this.#headLen);
    this.#headLen = 0;
    // Release a head buffer grown for an unusually large message.
    if (this.#head.length > 1024) this.#head = EMPTY;

    const lines = text.split('\n');
    lines.length -= 2; // the blank line and the empty remainder after its LF
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k];
      if (l.charCodeAt(l.length - 1) === CR) lines[k] = l.slice(0, -1);
    }

    // Header fields first: CSeq is needed to answer whatever is wrong with the start line.
    let error: { status: number; reason: string } | null = null;
    const fields: [string, string][] = [];
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k];
      if (CTL_RE.test(line)) {
        error ??= { status: 400, reason: 'Bad Request' };
        continue;
      }
      const c0 = line.charCodeAt(0);
      if (c0 === SP || c0 === HT) {
        // Obsolete line folding (RFC 2616 §2.2): continues the previous field's value.
        const prev = fields[fields.length - 1];
        if (prev === undefined) error ??= { status: 400, reason: 'Bad Request' };
        else prev[1] = prev[1] === '' ? line.trim() : `${prev[1]} ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trimEnd() : '';
      if (!TOKEN_RE.test(name)) {
        error ??= { status: 400, reason: 'Bad Request' };
        continue;
      }
      if (fields.length === this.#maxHeaderCount) {
        this.#fatal(400, 'Bad Request', out);
        return chunk.length;
      }
      fields.push([name, line.slice(colon + 1).trim()]);
    }
    const headers = new Headers(fields);
    const cseq = headers.get('cseq');

    // Start line.
    let request: RtspRequest | undefined;
    let response: ParserResponseEvent['response'] | undefined;
    const first = lines[0];
    const status = CTL_RE.test(first) ? null : STATUS_LINE_RE.exec(first);
    if (status !== null) {
      response = {
        version: status[1],
        status: Number(status[2]),
        reason: (status[3] ?? '').trim(),
        headers,
        body: EMPTY,
      };
    } else {
      const m = CTL_RE.test(first) ? null : REQUEST_LINE_RE.exec(first);
      if (m === null || !TOKEN_RE.test(m[1]) || !VERSION_RE.test(m[3])) {
        error = { status: 400, reason: 'Bad Request' };
      } else {
        request = { method: m[1], uri: m[2], version: m[3], headers, body: EMPTY };
        if (m[3] !== 'RTSP/1.0' && error === null) {
          const http =
            opening &&
            this.#mode === 'server' &&
            HTTP_VERSION_RE.test(m[3]) &&
            (m[1] === 'GET' || m[1] === 'POST');
          if (http) {
            // HTTP tunnelling: the POST's Content-Length is a fake (the body is an open-ended
            // base64 stream), so no body is read; the caller takes the rest as raw data.
            out.push({ type: 'request', request });
            return this.#enterRaw(chunk, i, out);
          }
          error = { status: 505, reason: 'RTSP Version not supported' };
        }
      }
    }
    if (response !== undefined && error === null && opening && this.#mode === 'client') {
      if (HTTP_VERSION_RE.test(response.version)) {
        out.push({ type: 'response', response });
        return this.#enterRaw(chunk, i, out);
      }
    }

    // Framing must be trusted even for a rejected message, so Content-Length problems are fatal:
    // guessing wrong would parse the body as the next message.
    const lengths = headers.getAll('content-length');
    let length = 0;
    if (lengths.length > 0) {
      const v = lengths[0];
      if (!/^\d+$/.test(v) || lengths.some((x) => x !== v)) {
        this.#fatal(400, 'Bad Request', out, cseq);
        return chunk.length;
      }
      length = Number(v);
      if (length > this.#maxBodyBytes) {
        this.#fatal(413, 'Request Entity Too Large', out, cseq);
        return chunk.length;
      }
    }

    if (error !== null) {
      const ev: ParserErrorEvent = {
        type: 'error',
        status: error.status,
        reason: error.reason,
        fatal: false,
      };
      if (cseq !== undefined) ev.cseq = cseq;
      this.#pending = ev;
    } else if (request !== undefined) this.#pending = { type: 'request', request };
    else if (response !== undefined) this.#pending = { type: 'response', response };

    if (length === 0) {
      this.#finish(EMPTY, out);
      return i;
    }
    if (chunk.length - i >= length) {
      this.#finish(chunk.subarray(i, i + length), out);
      return i + length;
    }
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyFilled = chunk.length - i;
    chunk.copy(this.#body, 0, i);
    this.#state = BODY;
    return chunk.length;
  }

  #enterRaw(chunk: Buffer, i: number, out: ParserEvent[]): number {
    this.#state = RAW;
    this.#head = EMPTY;
    if (i < chunk.length) out.push({ type: 'data', data: chunk.subarray(i) });
    return chunk.length;
  }

  /** Emits the pending message with its body. */
  #finish(body: Buffer, out: ParserEvent[]): void {
    const p = this.#pending;
    this.#pending = null;
    if (p === null) return;
    if (p.type === 'request') p.request.body = body;
    else if (p.type === 'response') p.response.body = body;
    out.push(p);
  }
}
