/** The two HTTP connections of an RTSP-over-HTTP tunnel seen as one duplex byte stream, so an
 * RtspConnection runs over it unchanged: what it reads is the POST body decoded from base64, what
 * it writes (responses and interleaved RTP/RTCP) goes out on the GET connection. The pair lives
 * and dies together: either socket closing destroys the other and this stream. */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { Base64StreamDecoder } from './base64-stream.js';

export class TunnelSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Both halves arrived over TLS (RTSP-over-HTTPS on an RTSPS port). */
  readonly encrypted: boolean;
  /** What the RTSP connection over it tells its clients by (Connected Users' HTTP tunnel). */
  readonly tunnelled = true;
  readonly #get: Socket;
  readonly #post: Socket;
  readonly #decoder = new Base64StreamDecoder();

  constructor(get: Socket, post: Socket) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.#get = get;
    this.#post = post;
    this.remoteAddress = get.remoteAddress;
    this.remotePort = get.remotePort;
    this.localAddress = get.localAddress;
    this.localPort = get.localPort;
    const tls = (x: Socket) => (x as Socket & { encrypted?: boolean }).encrypted === true;
    this.encrypted = tls(get) && tls(post);
    const gone = () => this.destroy();
    get.on('close', gone);
    post.on('close', gone);
    // Socket errors end the pair; the 'close' that follows does the work.
    get.on('error', () => undefined);
    post.on('error', () => undefined);
  }

  /** Base64 text read from the POST connection. A decoding error destroys the tunnel with it. */
  feed(text: Buffer): void {
    if (this.destroyed) return;
    let bytes: Buffer;
    try {
      bytes = this.#decoder.push(text);
    } catch (e) {
      this.destroy(e as Error);
      return;
    }
    if (bytes.length > 0 && !this.push(bytes)) this.#post.pause();
  }

  setNoDelay(noDelay = true): this {
    this.#get.setNoDelay(noDelay);
    this.#post.setNoDelay(noDelay);
    return this;
  }

  override _read(): void {
    if (this.#post.isPaused()) this.#post.resume();
  }

  // The callback waits for the GET socket to take the bytes, so this stream's writableLength
  // counts what the kernel has not accepted yet (viewers' queue limits depend on it).
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#get.write(chunk, cb);
  }

  // Corked writes (a frame's packets) leave in one writev on the GET socket.
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.#get.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.#get.write(chunks[i].chunk);
    this.#get.write(chunks[chunks.length - 1].chunk, cb);
    this.#get.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#post.end();
    this.#get.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#get.destroy();
    this.#post.destroy();
    cb(err);
  }
}
