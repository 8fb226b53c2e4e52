/** A connected internet radio broadcaster (an Icecast source, a SHOUTcast v1 or x-audiocast
 * source) as a source of the core: the audio bytes it sends are framed and packetized into one
 * audio track of a live stream at its mount, so ICY listeners and RTSP viewers alike take it.
 * When it drops out, its listeners wait the path's grace time for it (or another source) to come
 * back; a returning source of the same kind continues the same stream. */
import type { Socket } from 'node:net';
import type { ClientDirectory, ClientInfo, ClientRecord, Source, Stream, StreamMetadata, StreamRegistry } from '../core/index.js';
import { streamTracksFrom } from '../core/stream-tracks.js';
import type { Logger } from '../logging/index.js';
import { AudioFeed, type AudioCodec } from '../sources/audio-feed.js';

export interface RadioSourceOptions {
  /** The mount's stream key (its path without the leading slash). */
  key: string;
  socket: Socket;
  /** Audio bytes read with the request head. */
  rest: Buffer;
  codec: AudioCodec;
  /** What the source said about its broadcast (`ice-*`/`icy-*` headers). */
  info: StreamMetadata;
  /** `icecast`, `shoutcast` or `x-audiocast`, for logs and the client list. */
  protocol: string;
  user?: string;
  userAgent?: string;
  registry: StreamRegistry;
  /** The path's grace time, seconds. */
  graceTime: number;
  maxFrameBytes: number;
  maxPayloadSize: number;
  /** radio.sourceTimeout, seconds, read at each check. */
  sourceTimeout: () => number;
  clients: ClientDirectory;
  log: Logger;
  /** Called once when it has ended (the mount is free again). */
  onEnded: (s: RadioSource) => void;
}

/** How often a silent source is looked for. */
const SILENCE_CHECK_MS = 1000;

export class RadioSource implements Source {
  readonly kind = 'radio';
  readonly label: string;
  readonly #o: RadioSourceOptions;
  readonly #feed: AudioFeed;
  readonly #log: Logger;
  #stream: Stream | undefined;
  #closed = false;
  #lastData = Date.now();
  readonly #timer: NodeJS.Timeout;
  readonly #clientId: string | undefined;
  readonly #startedAt = Date.now();
  #mismatchLogged = false;

  constructor(o: RadioSourceOptions) {
    this.#o = o;
    const address = o.socket.remoteAddress ?? '?';
    this.label = `${o.protocol} ${address}${o.user ? ` (${o.user})` : ''}`;
    this.#log = o.log.child({ path: o.key, source: this.label });
    this.#feed = new AudioFeed({
      codec: o.codec,
      maxPayloadSize: o.maxPayloadSize,
      onFormat: (f) => this.#publish(f.format, f.bitrateKbps),
      onPacket: (rtp) => this.#stream?.tracks[0].ingest(rtp),
      onTags: (t) => {
        const title = [t.artist, t.title].filter((x) => x).join(' - ');
        if (title) this.#stream?.setMetadata({ title });
      },
    });
    this.#clientId = o.clients.add({
      ...this.#info(),
      figures: () => ({ bytesSent: 0, packetsSent: 0, bytesReceived: this.#feed.bytesIn, packetsLost: 0 }),
      close: (reason) => this.close(reason),
    });
    this.#timer = setInterval(() => this.#checkSilence(), SILENCE_CHECK_MS);
    this.#timer.unref();
    const socket = o.socket;
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('error', (e) => this.#log.debug({ err: e.message }, 'source connection error'));
    socket.on('close', () => this.close('source disconnected'));
    this.#log.info({ codec: o.codec, name: o.info.name }, 'radio source connected');
    if (o.rest.length > 0) this.#data(o.rest);
    socket.resume();
  }

  /** What the client list and the access log say of it. */
  #info(): ClientInfo {
    const o = this.#o;
    return { kind: 'publisher', protocol: o.protocol, address: o.socket.remoteAddress ?? '?', url: `/${o.key}`, path: o.key, transport: 'TCP', userAgent: o.userAgent, user: o.user };
  }

  /** The stream it feeds, once its first frames told what it sends. */
  get stream(): Stream | undefined {
    return this.#stream;
  }

  status(): Record<string, unknown> {
    return { protocol: this.#o.protocol, codec: this.#o.codec, bytesIn: this.#feed.bytesIn, framesIn: this.#feed.framesIn, ...this.#o.info };
  }

  #data(chunk: Buffer): void {
    if (this.#closed) return;
    this.#lastData = Date.now();
    this.#feed.push(chunk);
    if (this.#feed.mismatchedFrames > 0 && !this.#mismatchLogged) {
      this.#mismatchLogged = true;
      this.#log.warn({ mismatchedFrames: this.#feed.mismatchedFrames }, 'the source changed its sample rate or channel count mid-stream; those frames are dropped');
    }
  }

  #publish(format: Parameters<typeof streamTracksFrom>[0][number]['format'], bitrateKbps: number | undefined): void {
    if (this.#closed || this.#stream) return;
    const o = this.#o;
    const fresh = streamTracksFrom([{ format, bitrateKbps: bitrateKbps ?? o.info.bitrateKbps }], { maxFrameBytes: o.maxFrameBytes, log: this.#log });
    // A source coming back within the grace time continues the stream its listeners wait on.
    const waiting = o.registry.get(o.key);
    const tracks = waiting && waiting.state === 'waiting' && waiting.compatible(fresh) ? waiting.tracks : fresh;
    this.#stream = o.registry.publish(o.key, tracks, this, o.graceTime);
    this.#stream.setMetadata({ ...o.info, title: o.info.title ?? '' });
  }

  #checkSilence(): void {
    const limit = this.#o.sourceTimeout() * 1000;
    if (Date.now() - this.#lastData > limit) {
      this.#log.warn({ seconds: limit / 1000 }, 'radio source sent nothing; dropping it');
      this.close('source timeout');
    }
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#o.socket.destroy();
    this.#stream?.detach(this, reason);
    const record: ClientRecord = {
      ...this.#info(),
      status: 200,
      startedAt: this.#startedAt,
      endedAt: Date.now(),
      playStart: 0,
      fileLength: 0,
      fileSize: 0,
      audioCodec: this.#stream?.tracks[0].format.encodingName,
      bytesSent: 0,
      packetsSent: 0,
      bytesReceived: this.#feed.bytesIn,
      packetsLost: 0,
      reason,
    };
    this.#o.clients.end(this.#clientId, record);
    this.#log.info({ reason, bytesIn: this.#feed.bytesIn, framesIn: this.#feed.framesIn }, 'radio source ended');
    this.#o.onEnded(this);
  }
}
