/** A push destination of kind icecast: the path's first audio track that an ICY byte stream can
 * carry (MP3, AAC as ADTS, Opus in Ogg) fed to a mount of an Icecast 2 server as its source:
 * `PUT /mount` with Basic auth, the stream's station info as `ice-*` headers, then the audio as
 * listeners of this server get it (`audioBytesOf`, one build per frame shared with them). The
 * now-playing title follows with `/admin/metadata?mode=updinfo`. A refusal is reported with the
 * server's reason and tried again on the back-off; a far end that takes the audio more slowly
 * than it comes is dropped past a bounded backlog and reconnected. */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { PushDestination } from '../../config/index.js';
import { parseIcecastUrl, redactUrl, type IcecastUrl } from '../../config/index.js';
import type { Frame, Stream, StreamTrack, TrackReader } from '../../core/index.js';
import { audioBytesOf, type AudioBytes } from '../../readers/audio-bytes.js';
import type { RtpSink } from '../../transport/types.js';
import { DestinationLeg, type LegConnection, type LegContext, type LegHooks } from './leg.js';

/** How long connecting and the server's answer to the PUT may take. */
const ANSWER_TIMEOUT_MS = 10_000;
/** Longest answer head read; a longer one is not an Icecast server. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Body of a refusal kept for the reason (Icecast says why there). */
const MAX_REASON_BYTES = 1024;
/** kbit/s assumed when neither the track nor the source says. */
const DEFAULT_KBPS = 128;
/** The least backlog allowed whatever the bitrate. */
const MIN_BACKLOG_BYTES = 64 * 1024;
/** Seconds before a path without an audio track Icecast can carry is looked at again: its
 * tracks do not change while the stream lives (a republished stream is attached afresh). */
const NO_AUDIO_WAIT_S = 24 * 3600;

/** The stream has no track an Icecast mount can carry: trying again will not help. */
class NoAudioError extends Error {}

/** A header value from metadata (which came from the network): one line, bounded. */
function headerValue(v: string): string {
  // eslint-disable-next-line no-control-regex -- control characters would break the head
  return v.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 256);
}

/** The `ice-*` headers of the stream's station info (those it has). */
function iceHeaders(stream: Stream, track: StreamTrack): string[] {
  const m = stream.metadata;
  const out: string[] = [];
  const add = (name: string, v: string | number | undefined) => {
    if (v === undefined) return;
    const value = headerValue(String(v));
    if (value !== '') out.push(`${name}: ${value}`);
  };
  add('ice-name', m.name);
  add('ice-genre', m.genre);
  add('ice-description', m.description);
  add('ice-url', m.url);
  add('ice-bitrate', m.bitrateKbps ?? track.bitrateKbps);
  add('ice-public', m.public === undefined ? undefined : m.public ? 1 : 0);
  return out;
}

/** The answer's status line taken apart; undefined when it is not HTTP or ICY. */
function statusOf(head: string): { code: number; line: string } | undefined {
  const line = head.split('\r\n', 1)[0];
  const m = /^(?:HTTP\/\d\.\d|ICY) (\d{3})\b/.exec(line);
  return m ? { code: Number(m[1]), line: line.slice(0, 200) } : undefined;
}

/** A refusal's body as one line of text (Icecast answers with a little HTML). */
function reasonText(body: Buffer): string {
  return body
    .toString('latin1')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** Connects and sends the PUT (its head made once connected: a source sets the station info
 * just after publishing); resolves with the socket once the server said go on (100 or 2xx),
 * rejects with what it said otherwise. */
function openSource(url: IcecastUrl, head: () => string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.host, port: url.port });
    socket.setNoDelay(true);
    let answer = Buffer.alloc(0);
    /** Set once a refusal's status came: its body (the reason) is read until the server
     * closes, or for a moment. */
    let refusal: { line: string; body: Buffer[]; size: number } | undefined;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (!error) return resolve(socket);
      socket.destroy();
      reject(error);
    };
    const fail = (why: string) => {
      if (!refusal) return settle(new Error(why));
      const reason = reasonText(Buffer.concat(refusal.body));
      settle(new Error(`refused: ${refusal.line}${reason ? ` (${reason})` : ''}`));
    };
    let timer = setTimeout(() => fail(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`), ANSWER_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      if (refusal) {
        const part = d.subarray(0, MAX_REASON_BYTES - refusal.size);
        refusal.body.push(part);
        refusal.size += part.length;
        if (refusal.size >= MAX_REASON_BYTES) fail('');
        return;
      }
      answer = Buffer.concat([answer, d]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (answer.length > MAX_HEAD_BYTES) fail('the answer is not HTTP (no end of head)');
        return;
      }
      const status = statusOf(answer.subarray(0, end).toString('latin1'));
      if (!status) return fail(`the answer is not HTTP: ${JSON.stringify(answer.subarray(0, 80).toString('latin1'))}`);
      if (status.code === 100 || (status.code >= 200 && status.code < 300)) return settle();
      refusal = { line: status.line, body: [], size: 0 };
      clearTimeout(timer);
      timer = setTimeout(() => fail(''), 500);
      onData(answer.subarray(end + 4));
    };
    const onError = (e: Error) => fail(e.message);
    const onClose = () => fail('the server closed the connection before answering');
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(head()));
  });
}

/** A sink that takes nothing: the relay reader follows the stream for the leg's lifecycle (grace
 * time, end of stream, client list), while the audio goes to Icecast through a track reader of
 * its own, in the byte form listeners share. */
class IdleSink implements RtpSink {
  readonly kind = 'tcp';
  readonly backlog = 0;
  sendRtp(): void {}
  sendRtcp(): void {}
  close(): void {}
}

/** One connection to the Icecast server: the audio track's frames written to its socket. */
class IcecastSourceConnection implements TrackReader {
  readonly #socket: Socket;
  readonly #track: StreamTrack;
  readonly #audio: AudioBytes;
  readonly #stream: Stream;
  readonly #hooks: LegHooks;
  readonly #maxBacklog: () => number;
  readonly #onTitle: (title: string) => void;
  #bytes = 0;
  #closed = false;
  #metadataVersion = -1;

  constructor(o: { socket: Socket; stream: Stream; track: StreamTrack; audio: AudioBytes; hooks: LegHooks; maxLagSeconds: () => number; onTitle: (title: string) => void }) {
    this.#socket = o.socket;
    this.#stream = o.stream;
    this.#track = o.track;
    this.#audio = o.audio;
    this.#hooks = o.hooks;
    this.#onTitle = o.onTitle;
    const kbps = () => o.track.bitrateKbps ?? o.stream.metadata.bitrateKbps ?? DEFAULT_KBPS;
    this.#maxBacklog = () => Math.max(MIN_BACKLOG_BYTES, ((kbps() * 1000) / 8) * o.maxLagSeconds());
    const socket = o.socket;
    // Icecast says nothing once streaming; whatever comes is read and dropped.
    socket.on('data', () => undefined);
    socket.on('error', (e) => this.#drop(e.message));
    socket.on('close', () => this.#drop('the server closed the connection'));
    const header = o.audio.header();
    if (header.length > 0) this.#write(header);
    this.#checkTitle();
    o.track.readers.add(this);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get address(): string | undefined {
    return this.#socket.remoteAddress;
  }

  deliver(frame: Frame): void {
    if (this.#closed) return;
    const bytes = frame.form(this.#audio.form);
    if (bytes.length > 0) this.#write(bytes);
    this.#checkTitle();
  }

  resync(): void {
    // Audio needs no keyframe: a returning source's frames follow on.
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#track.readers.delete(this);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  #write(b: Buffer): void {
    if (this.#socket.destroyed) return;
    this.#bytes += b.length;
    this.#socket.write(b);
    const backlog = this.#socket.writableLength;
    if (backlog > this.#maxBacklog()) {
      this.#drop(`the server took the audio too slowly (${backlog} bytes waiting)`);
    }
  }

  /** A title the server has not been told yet (read at each frame: a number compared). */
  #checkTitle(): void {
    if (this.#stream.metadataVersion === this.#metadataVersion) return;
    this.#metadataVersion = this.#stream.metadataVersion;
    const title = this.#stream.metadata.title;
    if (title !== undefined) this.#onTitle(title);
  }

  #drop(why: string): void {
    if (this.#closed) return;
    this.close();
    this.#socket.destroy();
    this.#hooks.dropped(why);
  }
}

export class IcecastLeg extends DestinationLeg {
  readonly #url: IcecastUrl;
  /** The title the server was last told (or is being told), and one waiting behind it. */
  #titleSent: string | undefined;
  #titleSending = false;
  #titleNext: string | undefined;
  #titleFailedLogged: string | undefined;

  constructor(path: string, dest: PushDestination, ctx: LegContext) {
    const url = parseIcecastUrl(dest.url);
    // The schema let only a valid URL through.
    if (typeof url === 'string') throw new Error(`${url} (${redactUrl(dest.url)})`);
    super({ path, role: 'push', target: url.url, retry: dest.retry, ctx, listing: { protocol: 'icecast', host: url.host, transport: 'tcp' } });
    this.#url = url;
  }

  /** No audio track Icecast can carry: said once, not tried again until a stream is published
   * anew (its tracks cannot change before). */
  protected override retryAfter(e: unknown): number | undefined {
    return e instanceof NoAudioError ? NO_AUDIO_WAIT_S : undefined;
  }

  protected async open(stream: Stream, hooks: LegHooks): Promise<LegConnection> {
    const track = stream.tracks.find((t) => audioBytesOf(t) !== undefined);
    const audio = track && audioBytesOf(track);
    if (!track || !audio) {
      const formats = stream.tracks.map((t) => t.format.encodingName).join(', ') || 'none';
      throw new NoAudioError(`${stream.path} has no audio track an Icecast mount can carry (MP3, AAC or Opus; its tracks: ${formats})`);
    }
    const u = this.#url;
    const host = u.host.includes(':') ? `[${u.host}]` : u.host;
    const head = () => [
      `PUT ${u.mount} HTTP/1.1`,
      `Host: ${host}:${u.port}`,
      `Authorization: Basic ${Buffer.from(`${u.user}:${u.password}`).toString('base64')}`,
      `User-Agent: ${this.#agent()}`,
      `Content-Type: ${audio.contentType}`,
      ...iceHeaders(stream, track),
      'Expect: 100-continue',
      '',
      '',
    ].join('\r\n');
    const socket = await openSource(u, head);
    this.#titleSent = undefined;
    const conn = new IcecastSourceConnection({
      socket,
      stream,
      track,
      audio,
      hooks,
      maxLagSeconds: () => this.ctx.config().radio.maxFlowControlTime,
      onTitle: (title) => this.#sendTitle(title),
    });
    return {
      sinks: stream.tracks.map(() => new IdleSink()),
      bytesOut: () => conn.bytes,
      close: () => conn.close(),
      address: conn.address,
    };
  }

  #agent(): string {
    return this.ctx.config().rtsp.serverHeader || 'Rivulet';
  }

  /** `GET /admin/metadata?mount=…&mode=updinfo&song=…` with the source's login: one request at
   * a time, the newest title waiting behind it. A failure is logged once per title. */
  #sendTitle(title: string): void {
    if (this.#titleSending) {
      this.#titleNext = title;
      return;
    }
    // A new connection starts with no title: an empty one need not be said.
    if (title === (this.#titleSent ?? '')) return;
    this.#titleSent = title;
    this.#titleSending = true;
    const u = this.#url;
    let mount = u.mount;
    try {
      mount = decodeURIComponent(u.mount);
    } catch {
      // Checked by the schema; kept as written otherwise.
    }
    const query = new URLSearchParams({ mount, mode: 'updinfo', song: title, charset: 'UTF-8' });
    let answered = false;
    const done = (error?: string) => {
      if (answered) return;
      answered = true;
      this.#titleSending = false;
      if (error && this.#titleFailedLogged !== title) {
        this.#titleFailedLogged = title;
        this.ctx.log.warn({ path: this.path, target: this.target, err: error }, `relay push ${this.path} → ${this.target}: the server did not take the title: ${error}`);
      }
      const next = this.#titleNext;
      this.#titleNext = undefined;
      if (next !== undefined) this.#sendTitle(next);
    };
    const req = request(
      {
        host: u.host,
        port: u.port,
        path: `/admin/metadata?${query.toString()}`,
        headers: { Authorization: `Basic ${Buffer.from(`${u.user}:${u.password}`).toString('base64')}`, 'User-Agent': this.#agent() },
        timeout: ANSWER_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200 ? undefined : `${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        res.on('error', (e) => done(e.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (e) => done(e.message));
    req.end();
  }
}
