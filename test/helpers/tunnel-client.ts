/** A scripted QuickTime-style RTSP-over-HTTP tunnel: a GET whose answer carries the server's
 * RTSP output, and a POST carrying base64 requests, joined as one Duplex for RawRtspClient. */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { sleep } from './rtsp-client.js';

export interface TunnelOptions {
  path?: string;
  cookie?: string;
  /** Open the POST first and the GET this many ms later. */
  postFirstMs?: number;
  /** Write the base64 text one character per TCP write, a few ms apart. */
  byteByByte?: boolean;
}

export interface ClientTunnel {
  stream: Duplex;
  get: Socket;
  post: Socket;
  /** The GET answer's status line and headers. */
  head: Promise<string>;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

export async function openTunnel(port: number, opts: TunnelOptions = {}): Promise<ClientTunnel> {
  const path = opts.path ?? '/';
  const cookie = opts.cookie ?? randomBytes(11).toString('hex');
  const openGet = async () => {
    const get = await open(port);
    get.setNoDelay(true);
    get.write(`GET ${path} HTTP/1.0\r\nx-sessioncookie: ${cookie}\r\nAccept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n`);
    return get;
  };
  const openPost = async () => {
    const post = await open(port);
    post.setNoDelay(true);
    post.write(`POST ${path} HTTP/1.0\r\nx-sessioncookie: ${cookie}\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n`);
    return post;
  };
  let get: Socket;
  let post: Socket;
  if (opts.postFirstMs !== undefined) {
    post = await openPost();
    await sleep(opts.postFirstMs);
    get = await openGet();
  } else {
    get = await openGet();
    post = await openPost();
  }
  let writing = Promise.resolve();
  let headText = '';
  let resolveHead: (h: string) => void = () => undefined;
  const head = new Promise<string>((r) => (resolveHead = r));
  let inBody = false;
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('base64');
      if (!opts.byteByByte) {
        post.write(text, cb);
        return;
      }
      writing = writing.then(async () => {
        for (const c of text) {
          post.write(c);
          await sleep(2);
        }
      });
      writing.then(() => cb(), cb);
    },
    destroy(err, cb) {
      get.destroy();
      post.destroy();
      cb(err);
    },
  });
  get.on('data', (d: Buffer) => {
    if (inBody) {
      stream.push(d);
      return;
    }
    headText += d.toString('latin1');
    const end = headText.indexOf('\r\n\r\n');
    if (end < 0) return;
    inBody = true;
    resolveHead(headText.slice(0, end));
    const rest = Buffer.from(headText.slice(end + 4), 'latin1');
    if (rest.length) stream.push(rest);
  });
  get.on('close', () => {
    resolveHead(headText);
    stream.push(null);
    stream.destroy();
  });
  get.on('error', () => undefined);
  post.on('error', () => undefined);
  return { stream, get, post, head };
}
