/** An ICY listener: a plain HTTP client (any MP3 player, a browser's audio element, curl) that
 * reads a live stream's audio as one byte stream, with ICY metadata blocks when it asked for
 * them. A reader of the core like any RTSP viewer: it counts against the limits, shows in the
 * client list and the access log, and a slow one is dropped without delaying anyone. */
import type { Socket } from 'node:net';
import type { ClientDirectory, ClientInfo, ClientRecord, CountedReader, ReaderStats, Stream, StreamTrack } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { AudioBytes } from '../readers/audio-bytes.js';
import { tcpUnsentBytes } from '../transport/native-fanout.js';
import { tapOf, type TapListener } from './audio-tap.js';
import { IcyInterleaver, metadataBlock } from './icy-metadata.js';

/** What a listener follows: one audio track of a live stream, in its byte form. */
export interface IcyFeed {
  stream: Stream;
  track: StreamTrack;
  audio: AudioBytes;
}

export interface IcyListenerOptions extends IcyFeed {
  socket: Socket;
  /** What to play while the stream's source is away (its path's fallback), when one is set and
   * live; asked each time the source goes away. */
  fallback?: () => Promise<IcyFeed | undefined>;
  /** Bytes between metadata blocks; undefined: the listener did not ask for metadata. */
  metaint: number | undefined;
  /** radio.burstBytes: recent audio sent at once. */
  burstBytes: number;
  /** radio.maxFlowControlTime, seconds, read at each write. */
  maxLagSeconds: () => number;
  /** The URL it asked for (no credentials), the user agent and the user, for the client list. */
  url: string;
  userAgent?: string;
  clients: ClientDirectory;
  log: Logger;
  /** Called once when it has ended (dropped or closed), with the reason. */
  onEnded: (l: IcyListener, reason: string) => void;
}

/** kbit/s assumed for a stream whose bitrate is not known yet (counted by the bandwidth limit). */
const DEFAULT_KBPS = 128;
/** The least backlog a listener is allowed, whatever the bitrate: one burst's worth of TCP. */
const MIN_BACKLOG_BYTES = 64 * 1024;
/** How often a listener's backlog in the kernel is looked at (a system call). */
const LAG_CHECK_MS = 2000;

/** The shared metadata block of a stream's current title, made once per title for all listeners. */
const blocks = new WeakMap<Stream, { version: number; block: Buffer }>();
function currentBlock(stream: Stream): Buffer {
  const memo = blocks.get(stream);
  if (memo && memo.version === stream.metadataVersion) return memo.block;
  const block = metadataBlock(stream.metadata.title ?? '', stream.metadata.url ?? '');
  blocks.set(stream, { version: stream.metadataVersion, block });
  return block;
}

export class IcyListener implements CountedReader, TapListener {
  readonly protocol = 'icy';
  readonly label: string;
  readonly path: string;
  readonly carried = true;
  readonly #o: IcyListenerOptions;
  readonly #icy: IcyInterleaver | undefined;
  readonly #since = Date.now();
  #bytes = 0;
  #frames = 0;
  #closed = false;
  #playing = false;
  #clientId: string | undefined;
  #lagCheckedAt = 0;
  /** The feed it follows now: its own stream's, or the fallback's while the source is away. */
  #feed: IcyFeed;

  constructor(o: IcyListenerOptions) {
    this.#o = o;
    this.#feed = { stream: o.stream, track: o.track, audio: o.audio };
    this.path = o.stream.path;
    this.label = `icy ${o.socket.remoteAddress ?? '?'}`;
    this.#icy = o.metaint === undefined ? undefined : new IcyInterleaver(o.metaint);
    o.socket.on('error', () => this.close('connection error'));
    o.socket.on('close', () => this.close('listener disconnected'));
    // Whatever a listener sends after its request is read and dropped.
    o.socket.on('data', () => undefined);
  }

  get playing(): boolean {
    return this.#playing && !this.#closed;
  }
  get closed(): boolean {
    return this.#closed;
  }

  kbps(): number {
    const { track, stream } = this.#feed;
    return track.bitrateKbps ?? stream.metadata.bitrateKbps ?? DEFAULT_KBPS;
  }

  stats(): ReaderStats {
    return { since: this.#since, bytes: this.#bytes, packets: this.#frames };
  }

  /** What the client list and the access log say of it. */
  #info(): ClientInfo {
    const o = this.#o;
    return { kind: 'icy', protocol: 'icy', address: o.socket.remoteAddress ?? '?', url: o.url, path: this.path, transport: 'TCP', userAgent: o.userAgent };
  }

  /** Sends the audio header a decoder needs (Ogg), the burst of recent audio, and follows the
   * track from here on. The response head has been written. */
  start(): void {
    if (this.#closed) return;
    const o = this.#o;
    this.#clientId = o.clients.add({
      ...this.#info(),
      figures: () => ({ bytesSent: this.#bytes, packetsSent: this.#frames, bytesReceived: 0, packetsLost: 0 }),
      close: (reason) => this.close(reason),
    });
    this.#playing = true;
    this.#follow(this.#feed, true);
  }

  /** Starts following `feed`: its decoder header (Ogg), a burst of its recent audio, then its
   * frames as they come. */
  #follow(feed: IcyFeed, burst: boolean): void {
    this.#feed = feed;
    const header = feed.audio.header();
    if (header.length > 0) this.#write(header);
    if (burst) {
      const recent = this.#burst();
      if (recent.length > 0) this.take(recent);
    }
    tapOf(feed.track, feed.audio).join(this);
    feed.stream.addReader(this);
  }

  #unfollow(feed: IcyFeed, reason: string): void {
    tapOf(feed.track, feed.audio).leave(this);
    feed.stream.removeReader(this, reason);
  }

  /** The source went away: play the fallback meanwhile, when the path has one live with audio a
   * player can take after this (the same kind of audio). */
  sourceLost(): void {
    const fallback = this.#o.fallback;
    if (!fallback || this.#closed) return;
    fallback().then(
      (feed) => {
        const own = this.#o.stream;
        if (!feed || this.#closed || this.#feed.stream !== own || own.state !== 'waiting') return;
        if (feed.audio.codec !== this.#o.audio.codec) {
          this.#o.log.info({ listener: this.label, fallback: feed.stream.path }, `fallback /${feed.stream.path} carries ${feed.audio.codec}, not ${this.#o.audio.codec}: the listener waits instead`);
          return;
        }
        this.#o.log.info({ listener: this.label, fallback: feed.stream.path }, `source away: playing /${feed.stream.path} meanwhile`);
        this.#icy?.forget();
        this.#follow(feed, false);
      },
      (e: unknown) => this.#o.log.info({ listener: this.label, err: (e as Error)?.message }, 'fallback not available'),
    );
  }

  /** The most recent audio, about burstBytes of it, in one buffer. Each frame's form is whole
   * audio frames (a fragment's bytes come with its last piece), so the burst starts on a frame
   * boundary. Forms are built oldest first, as a live listener would have: the Ogg form numbers
   * its pages in that order. It holds every frame delivered so far: the tap sends the rest. */
  #burst(): Buffer {
    const { track, audio } = this.#feed;
    const { burstBytes } = this.#o;
    if (burstBytes <= 0) return Buffer.alloc(0);
    const forms = track.startFrames(0).map((f) => f.form(audio.form));
    let bytes = 0;
    let first = forms.length;
    while (first > 0 && bytes < burstBytes) bytes += forms[--first].length;
    return Buffer.concat(forms.slice(first), bytes);
  }

  /** The next audio from the tap it follows. */
  take(audio: Buffer): void {
    if (this.#closed) return;
    this.#frames++;
    this.#write(audio);
  }

  #write(audio: Buffer): void {
    const { socket } = this.#o;
    const { stream } = this.#feed;
    if (socket.destroyed) return;
    this.#bytes += audio.length;
    if (this.#icy) {
      const pieces = this.#icy.interleave(audio, stream.metadataVersion, () => currentBlock(stream));
      socket.cork();
      for (const p of pieces) socket.write(p);
      socket.uncork();
    } else socket.write(audio);
    this.#checkLag();
  }

  /** Drops the listener once what waits for it, in Node and in the kernel, is more than
   * radio.maxFlowControlTime of audio. Node's buffer is free to read at every write; the
   * kernel's costs a system call, made every LAG_CHECK_MS at most. */
  #checkLag(): void {
    const { socket } = this.#o;
    const seconds = this.#o.maxLagSeconds();
    const limit = Math.max(MIN_BACKLOG_BYTES, ((this.kbps() * 1000) / 8) * seconds);
    let backlog = socket.writableLength;
    if (backlog <= limit) {
      const now = performance.now();
      if (now - this.#lagCheckedAt < LAG_CHECK_MS) return;
      this.#lagCheckedAt = now;
      backlog += tcpUnsentBytes(socket) ?? 0;
      if (backlog <= limit) return;
    }
    this.#o.log.warn({ listener: this.label, backlog, seconds }, `listener fell more than ${seconds} s behind; dropping it`);
    this.close(`fell more than ${seconds} s behind`, 'slow');
  }

  /** The source is back (audio needs no keyframe): from the fallback, back to its own stream. */
  resync(): void {
    const own = this.#o;
    if (this.#closed || this.#feed.stream === own.stream) return;
    this.#unfollow(this.#feed, 'the source is back');
    own.log.info({ listener: this.label }, `source back: playing /${own.stream.path} again`);
    this.#icy?.forget();
    this.#follow({ stream: own.stream, track: own.track, audio: own.audio }, false);
  }

  close(reason: string, why: 'slow' | 'normal' = 'normal'): void {
    if (this.#closed) return;
    this.#closed = true;
    const o = this.#o;
    if (this.#feed.stream !== o.stream) this.#unfollow(this.#feed, reason);
    this.#unfollow(o, reason);
    if (why === 'slow' || reason === 'connection error') o.socket.destroy();
    else o.socket.end();
    setTimeout(() => o.socket.destroy(), 5000).unref();
    if (this.#clientId !== undefined) {
      const record: ClientRecord = {
        ...this.#info(),
        status: 200,
        startedAt: this.#since,
        endedAt: Date.now(),
        playStart: 0,
        fileLength: 0,
        fileSize: 0,
        audioCodec: o.track.format.encodingName,
        bytesSent: this.#bytes,
        packetsSent: this.#frames,
        bytesReceived: 0,
        packetsLost: 0,
        reason,
      };
      o.clients.end(this.#clientId, record);
    }
    o.onEnded(this, why === 'slow' ? 'slow' : reason);
  }
}
