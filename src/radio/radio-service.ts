/** Internet radio: the Icecast 2 and SHOUTcast v1 source protocols in, ICY listeners out, as a
 * protocol adapter over the core. A mount is a path: `/radio` here is `rtsp://host:port/radio`
 * for RTSP viewers, and a playlist or an RTSP publisher at a path is heard by ICY listeners
 * too. Its HTTP routes serve the RTSP ports (through the shared router) and the radio ports,
 * whose own entry also takes SHOUTcast v1 and x-audiocast password lines (`radio-port.ts`). */
import type { Socket } from 'node:net';
import { formatBasicChallenge, parseAuthorization, type Authorizer } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Admission, ClientDirectory, CoreEvents, PathManager, Stream, StreamMetadata, StreamRegistry } from '../core/index.js';
import { streamKey } from '../core/index.js';
import { PathError } from '../vod/path-error.js';
import { httpHead, type HttpExchange, type HttpRequestHead, type HttpRoute } from '../http/index.js';
import type { Logger } from '../logging/index.js';
import { audioBytesOf } from '../readers/audio-bytes.js';
import { audioCodecOf, type AudioCodec } from '../sources/audio-feed.js';
import { IcyListener, type IcyFeed } from './listener.js';
import { RadioSource } from './radio-source.js';

export interface RadioServiceOptions {
  /** The running config, read at each use (reloads apply). */
  config: () => Config;
  registry: StreamRegistry;
  paths: PathManager;
  authorizer: Authorizer;
  admission: Admission;
  clients: ClientDirectory;
  events: CoreEvents;
  log: Logger;
}

/** The user whose password is radio.sourcePassword, as in Icecast. */
const SOURCE_USER = 'source';
/** Most listeners and sources held at once, whatever the limits say (a map fed from the network). */
const MAX_LISTENERS = 100_000;

/** Whether a connection's first line is a SHOUTcast v1 password (one word, `password` or
 * `password:#sid`) or a DSS x-audiocast `SOURCE password /mount` line: what the shared ports
 * hand to `shoutcastSource` rather than to RTSP. */
export function isSourceLine(line: string): boolean {
  return line.length <= 512 && (/^SOURCE[ \t]+\S+[ \t]+\/\S*$/.test(line) || /^\S+$/.test(line));
}

/** What a source said about itself, from `ice-*`, `icy-*` and x-audiocast headers. */
function sourceInfo(get: (name: string) => string | undefined): StreamMetadata {
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = get(n);
      if (v !== undefined && v !== '') return v;
    }
    return undefined;
  };
  const br = Number.parseInt(pick('ice-bitrate', 'icy-br', 'x-audiocast-bitrate') ?? '', 10);
  const pub = pick('ice-public', 'icy-pub', 'x-audiocast-public');
  return {
    name: pick('ice-name', 'icy-name', 'x-audiocast-name'),
    genre: pick('ice-genre', 'icy-genre', 'x-audiocast-genre'),
    description: pick('ice-description', 'icy-description', 'x-audiocast-description'),
    url: pick('ice-url', 'icy-url', 'x-audiocast-url'),
    bitrateKbps: Number.isFinite(br) && br > 0 && br < 100_000 ? br : undefined,
    public: pub === undefined ? undefined : pub === '1' || pub.toLowerCase() === 'yes' || pub.toLowerCase() === 'true',
  };
}

/** The mount a request names: its decoded path segments, or undefined when it is not a path. */
function mountSegments(uri: string): string[] | undefined {
  let path = uri;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length);
  path = path.split(/[?#]/, 1)[0];
  if (!path.startsWith('/')) return undefined;
  try {
    const segs = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    if (segs.length === 0 || segs.some((s) => s === '.' || s === '..' || s.includes('/') || s.includes('\0'))) return undefined;
    return segs;
  } catch {
    return undefined;
  }
}

function query(uri: string): URLSearchParams {
  const q = uri.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
}

/** Basic credentials of a request, undefined when absent, malformed or not Basic. */
function basicLogin(req: HttpRequestHead): { user: string; password: string } | undefined {
  const h = req.headers.get('authorization');
  if (!h) return undefined;
  try {
    const c = parseAuthorization(h);
    return c.scheme === 'basic' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** The challenge of a refused source login, as Icecast words it. */
const CHALLENGE: [string, string][] = [['WWW-Authenticate', formatBasicChallenge('Icecast2 Server')]];

/** The address a client used to reach us: its Host header when that is a plain host[:port],
 * else the socket's own address (a header is never echoed into a playlist or URL unchecked). */
function hostOf(req: HttpRequestHead, socket: Socket): string {
  const host = req.headers.get('host');
  if (host && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) return host;
  const addr = socket.localAddress ?? '127.0.0.1';
  return `${addr.includes(':') ? `[${addr}]` : addr}:${socket.localPort}`;
}

/** The URL a listener used, for the client list and the access log. */
function listenUrl(req: HttpRequestHead, socket: Socket): string {
  const at = hostOf(req, socket);
  const path = req.uri.startsWith('/') ? req.uri : mountSegments(req.uri)?.map(encodeURIComponent).join('/') ?? '';
  return `http://${at}${path.startsWith('/') ? '' : '/'}${path}`.slice(0, 1024);
}

/** The head every listener response and refusal shares (no caching, any origin may play). */
const NO_CACHE: [string, string][] = [
  ['Cache-Control', 'no-cache, no-store'],
  ['Pragma', 'no-cache'],
  ['Expires', 'Mon, 26 Jul 1997 05:00:00 GMT'],
  ['Access-Control-Allow-Origin', '*'],
];

export class RadioService {
  readonly #o: RadioServiceOptions;
  readonly #log: Logger;
  /** Sources by mount: a mount has one source at a time (claimed at login, before any audio). */
  readonly #sources = new Map<string, RadioSource | 'starting'>();
  readonly #listeners = new Set<IcyListener>();
  /** Listeners dropped for falling behind (radio.maxFlowControlTime). */
  listenersDropped = 0;

  constructor(o: RadioServiceOptions) {
    this.#o = o;
    this.#log = o.log;
  }

  /** Every ICY listener now, for admission and status. */
  get listeners(): ReadonlySet<IcyListener> {
    return this.#listeners;
  }

  get sourceCount(): number {
    return this.#sources.size;
  }

  /** The HTTP routes, for the shared ports' router and the radio ports' own; `catchAll` (the
   * radio ports, where no reference movie answers other GETs) adds a 404 for any other target. */
  routes(opts: { catchAll?: boolean } = {}): HttpRoute[] {
    const notFound: HttpRoute = {
      name: 'radio unknown mount',
      methods: ['GET', 'HEAD'],
      matches: () => true,
      last: true,
      handle: (ex) => ex.reply(404, { body: 'The source is not available\n', headers: NO_CACHE }),
    };
    return [
      ...(opts.catchAll ? [notFound] : []),
      // A source may PUT to any target; matching by method keeps it out of other methods' 405s.
      { name: 'radio source', methods: ['PUT', 'SOURCE'], matches: (req) => req.method === 'PUT' || req.method === 'SOURCE', handle: (ex) => this.#icecastSource(ex) },
      {
        name: 'radio metadata',
        methods: ['GET'],
        matches: (req) => ['/admin.cgi', '/admin/metadata', '/admin/metadata.xsl'].includes(req.uri.split('?', 1)[0]),
        handle: (ex) => this.#metadataUpdate(ex),
      },
      { name: 'radio status', methods: ['GET', 'HEAD'], matches: (req) => req.uri.split('?', 1)[0] === '/status-json.xsl', handle: (ex) => this.#status(ex) },
      { name: 'radio playlist', methods: ['GET', 'HEAD'], matches: (req) => this.#playlistOf(req.uri) !== undefined, handle: (ex) => this.#playlist(ex) },
      { name: 'radio listener', methods: ['GET', 'HEAD'], matches: (req) => this.#isMount(mountSegments(req.uri)), handle: (ex) => this.#listen(ex) },
    ];
  }

  /** A live stream runs at these segments, or a configured source feeds them. */
  #isMount(segs: string[] | undefined): boolean {
    if (!segs) return false;
    const s = this.#o.registry.get(streamKey(segs));
    return (s !== undefined && s.state !== 'ended') || this.#o.paths.isConfigured(streamKey(segs));
  }

  /** `/mount.m3u` or `/mount.pls` of a mount: the mount's segments and the kind. */
  #playlistOf(uri: string): { segs: string[]; kind: 'm3u' | 'pls' } | undefined {
    const segs = mountSegments(uri);
    if (!segs) return undefined;
    const last = segs[segs.length - 1];
    const m = /^(.*)\.(m3u|pls)$/i.exec(last);
    if (!m || m[1] === '') return undefined;
    const mount = [...segs.slice(0, -1), m[1]];
    return this.#isMount(mount) ? { segs: mount, kind: m[2].toLowerCase() as 'm3u' | 'pls' } : undefined;
  }

  // ---- sources ----

  /** Icecast 2: `PUT /mount` (HTTP/1.1, often with `Expect: 100-continue`) or `SOURCE /mount
   * HTTP/1.0`, Basic login, then the audio. */
  async #icecastSource(ex: HttpExchange): Promise<void> {
    const { req, socket } = ex;
    const segs = mountSegments(req.uri);
    if (!segs) return ex.reply(400, { body: 'Invalid mountpoint\n' });
    const codec = audioCodecOf(req.headers.get('content-type') ?? 'audio/mpeg');
    if (!codec) return ex.reply(415, { body: `Content-Type ${req.headers.get('content-type')} is not MP3, AAC or Ogg/Opus\n` });
    const login = basicLogin(req);
    if (!login) return ex.reply(401, { body: 'You need to authenticate\n', headers: CHALLENGE });
    const key = streamKey(segs);
    const refused = await this.#admitSource(key, login.user, login.password, socket.remoteAddress ?? '?');
    if (refused) {
      const status = refused.status;
      return ex.reply(status, { body: `${refused.text}\n`, headers: status === 401 ? CHALLENGE : [] });
    }
    let head = '';
    if (req.method === 'PUT' && /100-continue/i.test(req.headers.get('expect') ?? '')) head += 'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n';
    head += httpHead(200, [], this.#o.config().rtsp.serverHeader).replace('Connection: close\r\n', '');
    socket.write(head);
    this.#startSource({
      key,
      socket,
      rest: Buffer.concat(ex.rest),
      codec,
      info: sourceInfo((n) => req.headers.get(n)),
      protocol: 'icecast',
      user: login.user,
      userAgent: req.headers.get('user-agent'),
    });
  }

  /** A SHOUTcast v1 source's password line (`password`, or `password:#sid`) or a DSS
   * x-audiocast `SOURCE password /mount` line, read by a radio port or the RTSP ports' entry; the headers and
   * audio follow. Answers as those protocols expect. */
  sourceLine(socket: Socket, line: string, rest: Buffer): void {
    this.#shoutcastSource(socket, line, rest).catch((e: unknown) => {
      this.#log.error({ err: (e as Error)?.stack ?? String(e) }, 'radio source failed');
      socket.destroy();
    });
  }

  async #shoutcastSource(socket: Socket, line: string, rest: Buffer): Promise<void> {
    const audiocast = /^SOURCE\s+(\S+)\s+(\/\S*)\s*$/.exec(line);
    const password = audiocast ? audiocast[1] : line.replace(/:#\d+$/, '');
    const mount = audiocast ? audiocast[2] : this.#o.config().radio.shoutcastMount;
    const segs = mountSegments(mount);
    const say = (text: string): void => {
      socket.end(text);
    };
    if (!segs) return say('Error - Mount Point Taken or Invalid\r\n');
    const key = streamKey(segs);
    const refused = await this.#admitSource(key, undefined, password, socket.remoteAddress ?? '?');
    if (refused) {
      if (refused.status === 403 && refused.taken) return say('Error - Mount Point Taken or Invalid\r\n');
      return say(audiocast ? 'ERROR - Bad Password\r\n' : 'invalid password\r\n');
    }
    socket.write(audiocast ? 'OK\r\n\r\n' : 'OK2\r\nicy-caps:11\r\n\r\n');
    // Header lines (icy-*, x-audiocast-*, content-type) up to a blank line, then audio.
    this.#readSourceHeaders(socket, rest, (headers, audio) => {
      const codec = audioCodecOf(headers.get('content-type') ?? 'audio/mpeg') ?? 'mp3';
      this.#startSource({
        key,
        socket,
        rest: audio,
        codec,
        info: sourceInfo((n) => headers.get(n)),
        protocol: audiocast ? 'x-audiocast' : 'shoutcast',
        userAgent: headers.get('user-agent'),
      });
    }, () => this.#sources.delete(key));
  }

  #readSourceHeaders(socket: Socket, first: Buffer, done: (h: Map<string, string>, audio: Buffer) => void, failed: () => void): void {
    const MAX = 16 * 1024;
    let buf = first;
    const timer = setTimeout(() => finish(false), 10_000);
    timer.unref();
    const finish = (ok: boolean, end = 0) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (!ok) {
        socket.destroy();
        failed();
        return;
      }
      socket.pause();
      const headers = new Map<string, string>();
      for (const line of buf.toString('latin1', 0, end).split(/\r?\n/)) {
        const m = /^([^:\s]+):\s*(.*?)\s*$/.exec(line);
        if (m) headers.set(m[1].toLowerCase(), m[2]);
      }
      done(headers, buf.subarray(end));
    };
    const scan = () => {
      // The headers end at a blank line; a source that sends none starts its audio at once
      // (an MPEG sync byte where a header line would begin).
      if (buf.length > 0 && buf[0] === 0xff) return finish(true, 0);
      for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
        if (buf[i + 1] === 0x0a) return finish(true, i + 2);
        if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return finish(true, i + 3);
        if (i === 0 || (i === 1 && buf[0] === 0x0d)) return finish(true, i + 1);
      }
      if (buf.length > MAX) finish(false);
    };
    const onData = (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      scan();
    };
    const onClose = () => finish(false);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
    if (buf.length > 0) scan();
  }

  /** Undefined when the source may publish at `key` (the mount is then claimed), else why not. */
  async #admitSource(key: string, user: string | undefined, password: string, address: string): Promise<{ status: 401 | 403 | 409; text: string; taken?: boolean } | undefined> {
    const cfg = this.#o.config();
    const answer = await this.#o.authorizer.checkPublisherLogin({ user, password, address, sharedUser: SOURCE_USER, sharedPassword: cfg.radio.sourcePassword });
    if (!answer.ok) {
      this.#o.events.emit('auth.failed', { protocol: 'icecast', client: address, path: key, user, reason: answer.reason });
      if (answer.delayMs > 0) await new Promise((r) => setTimeout(r, answer.delayMs).unref());
      return { status: 401, text: 'Authentication Required' };
    }
    try {
      this.#o.paths.checkPublisher(key);
    } catch (e) {
      if (e instanceof PathError) return { status: 403, text: 'Mountpoint in use', taken: true };
      throw e;
    }
    const running = this.#o.registry.get(key);
    if (this.#sources.has(key) || (running && running.state === 'active')) {
      this.#log.info({ path: key, client: address }, 'radio source refused: the mount already has a source');
      return { status: 403, text: 'Mountpoint in use', taken: true };
    }
    this.#sources.set(key, 'starting');
    return undefined;
  }

  #startSource(o: { key: string; socket: Socket; rest: Buffer; codec: AudioCodec; info: StreamMetadata; protocol: string; user?: string; userAgent?: string }): void {
    const cfg = this.#o.config();
    keepSourceAlive(o.socket);
    const source = new RadioSource({
      ...o,
      registry: this.#o.registry,
      graceTime: this.#o.paths.settingsFor(o.key).graceTime,
      maxFrameBytes: cfg.live.maxFrameBytes,
      maxPayloadSize: cfg.rtp.maxPayloadSize,
      sourceTimeout: () => this.#o.config().radio.sourceTimeout,
      clients: this.#o.clients,
      log: this.#log,
      onEnded: (s) => {
        if (this.#sources.get(o.key) === s) this.#sources.delete(o.key);
      },
    });
    this.#sources.set(o.key, source);
  }

  /** SHOUTcast `GET /admin.cgi?mode=updinfo&pass=…&song=…[&mount=…]` and Icecast 2 `GET
   * /admin/metadata?mount=…&mode=updinfo&song=…` with a Basic login. */
  async #metadataUpdate(ex: HttpExchange): Promise<void> {
    const q = query(ex.req.uri);
    if (q.get('mode') !== 'updinfo') return ex.reply(400, { body: 'mode=updinfo is the only mode\n' });
    const cfg = this.#o.config();
    const login = basicLogin(ex.req);
    const pass = q.get('pass');
    const user = login?.user ?? (pass !== null ? undefined : SOURCE_USER);
    const password = login?.password ?? pass ?? '';
    const address = ex.socket.remoteAddress ?? '?';
    const answer = await this.#o.authorizer.checkPublisherLogin({ user: user === 'admin' ? SOURCE_USER : user, password, address, sharedUser: SOURCE_USER, sharedPassword: cfg.radio.sourcePassword });
    if (!answer.ok) {
      if (answer.delayMs > 0) await new Promise((r) => setTimeout(r, answer.delayMs).unref());
      return ex.reply(401, { body: 'Authentication Required\n', headers: CHALLENGE });
    }
    const segs = mountSegments(q.get('mount') ?? cfg.radio.shoutcastMount);
    const stream = segs ? this.#o.registry.get(streamKey(segs)) : undefined;
    if (!stream || stream.state === 'ended') return ex.reply(404, { body: 'Source does not exist\n' });
    const song = (q.get('song') ?? '').slice(0, 1024);
    stream.setMetadata({ title: song });
    ex.reply(200, { type: 'text/xml', body: '<?xml version="1.0"?>\n<iceresponse><message>Metadata update successful</message><return>1</return></iceresponse>\n' });
  }

  /** Icecast's `/status-json.xsl`: every live audio mount with its station info, title and
   * listeners, for the now-playing widgets and monitors written for Icecast. */
  #status(ex: HttpExchange): void {
    const sources: Record<string, unknown>[] = [];
    const host = hostOf(ex.req, ex.socket);
    for (const stream of this.#o.registry.streams.values()) {
      if (stream.state === 'ended') continue;
      const track = stream.tracks.find((t) => audioBytesOf(t) !== undefined);
      if (!track) continue;
      const m = stream.metadata;
      let listeners = 0;
      for (const r of stream.readers) if (r instanceof IcyListener) listeners++;
      sources.push({
        listenurl: `http://${host}/${stream.path}`,
        server_name: m.name ?? stream.path,
        server_description: m.description,
        genre: m.genre,
        server_url: m.url,
        title: m.title,
        bitrate: m.bitrateKbps ?? (track.bitrateKbps ? Math.round(track.bitrateKbps) : undefined),
        server_type: audioBytesOf(track)?.contentType,
        listeners,
        stream_start_iso8601: new Date(stream.createdAt).toISOString(),
        live: stream.state === 'active',
      });
    }
    const body = JSON.stringify({ icestats: { admin: '', host, server_id: this.#o.config().rtsp.serverHeader, source: sources.length === 1 ? sources[0] : sources } });
    ex.reply(200, { type: 'application/json', body, headers: [['Access-Control-Allow-Origin', '*'], ['Cache-Control', 'no-cache']] });
  }

  // ---- listeners ----

  /** `/mount.m3u` and `/mount.pls`: a playlist pointing at the mount on the address the listener
   * used (its Host header), so it works behind any name or port. */
  #playlist(ex: HttpExchange): void {
    const p = this.#playlistOf(ex.req.uri)!;
    const url = `http://${hostOf(ex.req, ex.socket)}/${p.segs.map(encodeURIComponent).join('/')}`;
    const name = this.#o.registry.get(streamKey(p.segs))?.metadata.name ?? p.segs.join('/');
    if (p.kind === 'm3u') return ex.reply(200, { type: 'audio/x-mpegurl', body: `${url}\n` });
    ex.reply(200, { type: 'audio/x-scpls', body: `[playlist]\nNumberOfEntries=1\nFile1=${url}\nTitle1=${name.replace(/[\r\n]/g, ' ')}\nLength1=-1\nVersion=2\n` });
  }

  async #listen(ex: HttpExchange): Promise<void> {
    const { req, socket } = ex;
    const segs = mountSegments(req.uri)!;
    const cfg = this.#o.config();
    const address = socket.remoteAddress ?? '?';
    const refuse = (status: number, text: string) => {
      this.#o.events.emit('session.refused', { protocol: 'icy', client: address, path: streamKey(segs), status, reason: text });
      ex.reply(status, { body: `${text}\n`, headers: NO_CACHE });
    };
    let at: Awaited<ReturnType<RadioService['feedAt']>>;
    try {
      at = await this.feedAt(segs);
    } catch (e) {
      if (e instanceof PathError) return ex.reply(e.kind === 'forbidden' ? 403 : 404, { body: 'The source is not available\n', headers: NO_CACHE });
      throw e;
    }
    if (!at) return ex.reply(404, { body: 'The source is not available\n', headers: NO_CACHE });
    if (!at.track) return ex.reply(415, { body: `/${at.stream.path} carries no MP3, AAC or Opus audio an HTTP player can take; play it over RTSP\n`, headers: NO_CACHE });
    const found: IcyFeed = at;
    const stream = found.stream;
    if (socket.destroyed) return;
    if (this.#listeners.size >= MAX_LISTENERS) return refuse(503, 'Too many listeners');
    const wantsMeta = req.headers.get('icy-metadata') === '1';
    const fallbackPath = this.#o.paths.settingsFor(stream.path).fallback;
    const listener: IcyListener = new IcyListener({
      socket,
      stream,
      track: found.track,
      audio: found.audio,
      fallback: fallbackPath === undefined ? undefined : () => this.feedAt(fallbackPath.split('/')).then((f) => (f?.track ? f : undefined)),
      metaint: wantsMeta ? cfg.radio.metaint : undefined,
      burstBytes: cfg.radio.burstBytes,
      maxLagSeconds: () => this.#o.config().radio.maxFlowControlTime,
      url: listenUrl(req, socket),
      userAgent: req.headers.get('user-agent'),
      clients: this.#o.clients,
      log: this.#log,
      onEnded: (l, reason) => {
        this.#listeners.delete(l);
        this.#o.admission.leave(l);
        if (reason === 'slow') this.listenersDropped++;
      },
    });
    const client = this.#o.admission.admitClient(listener);
    const play = client.admit ? this.#o.admission.admitPlay(listener) : client;
    if (!play.admit) {
      this.#o.admission.leave(listener);
      return refuse(503, `Server full: ${play.reason}`);
    }
    const m = stream.metadata;
    const headers: [string, string][] = [['Content-Type', found.audio.contentType]];
    const put = (name: string, v: string | number | boolean | undefined) => {
      if (v !== undefined && v !== '') headers.push([name, String(v).replace(/[\r\n]/g, ' ').slice(0, 512)]);
    };
    put('icy-name', m.name ?? stream.path);
    put('icy-genre', m.genre);
    put('icy-description', m.description);
    put('icy-url', m.url);
    put('icy-br', m.bitrateKbps ?? (found.track.bitrateKbps ? Math.round(found.track.bitrateKbps) : undefined));
    put('icy-pub', m.public === undefined ? undefined : m.public ? 1 : 0);
    if (wantsMeta) put('icy-metaint', cfg.radio.metaint);
    headers.push(...NO_CACHE);
    socket.write(httpHead(200, headers, cfg.rtsp.serverHeader));
    if (req.method === 'HEAD') {
      this.#o.admission.started(listener);
      this.#o.admission.leave(listener);
      socket.end();
      return;
    }
    this.#listeners.add(listener);
    listener.start();
    this.#o.admission.started(listener);
    socket.resume();
  }

  /** The live stream at these segments (started if a source is configured there) and its first
   * audio track an HTTP player can take (`track` undefined when it has none); undefined when
   * nothing live is there. Throws PathError as the PathManager does. */
  async feedAt(segs: string[]): Promise<IcyFeed | { stream: Stream; track?: undefined } | undefined> {
    const target = await this.#o.paths.resolve(segs);
    if (target.kind !== 'live') return undefined;
    for (const track of target.stream.tracks) {
      const audio = audioBytesOf(track);
      if (audio) return { stream: target.stream, track, audio };
    }
    return { stream: target.stream };
  }

  /** Ends every source and listener (shutdown). */
  close(): void {
    for (const s of this.#sources.values()) if (s !== 'starting') s.close('server shutting down');
    for (const l of [...this.#listeners]) l.close('server shutting down');
  }
}

/** A source connection is watched by TCP keepalive (and radio.sourceTimeout for silence). */
function keepSourceAlive(socket: Socket): void {
  socket.setKeepAlive(true, 30_000);
  socket.setNoDelay(true);
}
