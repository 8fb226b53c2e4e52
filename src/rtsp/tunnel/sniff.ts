/** Tells an RTSP connection from an HTTP one by its first bytes, so both are served on the same
 * port: an opening `GET`/`POST` with `HTTP/1.x` is HTTP (tunnelling or a reference movie),
 * anything else is RTSP. The RTSP parser makes the call, so a request split across reads and an
 * RTSP method that merely starts with G or P are judged exactly. */
import type { Socket } from 'node:net';
import { RtspParser } from '../message/parser.js';
import type { RtspRequest } from '../message/types.js';

export type Opening =
  /** RTSP: every byte read so far has been put back on the socket, which is left paused; the
   * caller attaches its reader and resumes it. */
  | { kind: 'rtsp' }
  /** HTTP: the request head, and the bytes that followed it (a tunnelled POST's base64 body).
   * The socket is paused with no reader attached. */
  | { kind: 'http'; request: RtspRequest; rest: Buffer[] };

export interface SniffOptions {
  /** Largest HTTP/RTSP head waited for, bytes. */
  maxHeaderBytes: number;
  /** Largest RTSP body waited for before deciding, bytes. */
  maxBodyBytes: number;
  /** Milliseconds a connection may stay silent before it is dropped. */
  timeoutMs: number;
  /** Milliseconds a client that has begun its first message has to finish its head (default:
   * timeoutMs). */
  requestTimeoutMs?: number;
}

const G = 0x47;
const P = 0x50;

/** Watches the first bytes of `socket` and calls `decided` once (never if the socket closes or
 * times out first; it is then destroyed). */
export function sniffOpening(socket: Socket, opts: SniffOptions, decided: (o: Opening) => void): void {
  const parser = new RtspParser({ maxHeaderBytes: opts.maxHeaderBytes, maxBodyBytes: opts.maxBodyBytes, mode: 'server' });
  const seen: Buffer[] = [];
  let timer = setTimeout(() => socket.destroy(), opts.timeoutMs);
  timer.unref();
  const stop = () => {
    clearTimeout(timer);
    socket.pause();
    socket.off('data', onData);
    socket.off('close', onClose);
  };
  const asRtsp = (chunk: Buffer | undefined) => {
    stop();
    if (chunk) seen.push(chunk);
    socket.unshift(seen.length === 1 ? seen[0] : Buffer.concat(seen));
    decided({ kind: 'rtsp' });
  };
  const onData = (chunk: Buffer) => {
    if (seen.length === 0 && chunk[0] !== G && chunk[0] !== P) {
      asRtsp(chunk);
      return;
    }
    const events = parser.push(chunk);
    if (events.length === 0) {
      if (seen.length === 0 && opts.requestTimeoutMs !== undefined) {
        clearTimeout(timer);
        timer = setTimeout(() => socket.destroy(), opts.requestTimeoutMs);
        timer.unref();
      }
      seen.push(chunk);
      return;
    }
    const first = events[0];
    if (first.type === 'request' && parser.raw) {
      stop();
      const rest: Buffer[] = [];
      for (const ev of events) if (ev.type === 'data') rest.push(ev.data);
      decided({ kind: 'http', request: first.request, rest });
      return;
    }
    asRtsp(chunk);
  };
  const onClose = () => clearTimeout(timer);
  socket.on('data', onData);
  socket.on('close', onClose);
  socket.on('error', () => undefined);
}
