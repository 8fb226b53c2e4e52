/** Relay pull: `paths.<name>.source: rtsp://[user:password@]host[:port]/path` (or `rtsps://…`),
 * DSS's rtsp_source. DESCRIBE/SETUP/PLAY to the far end over `sourceTransport` with the URL's
 * credentials, a `Via` naming this server (and the relays the request that started it came
 * through) so that a chain leading back here is refused; the stream's tracks from the far end's
 * SDP, fed with what it sends.
 *
 * One start is one session. The PathManager owns the schedule: an always-on relay is started
 * with the server and again after each failure or drop, an on-demand one by its first viewer
 * (who waits up to `sourceDescribeTimeout`, then gets 504) and stopped `sourceIdleTimeout` after
 * the last one left. What lasts across starts is the relay's leg (`PullLeg`, one per configured
 * source): its back-off (`sourceRetry`: min, doubling at each failure up to max; max after a
 * loop), which it hands the PathManager as the time of the next attempt, and its figures and
 * state, emitted as `relay.state` and logged at each change.
 *
 * When the far end drops, viewers keep their sessions for graceTime: the stream waits, the next
 * start re-attaches to it when the description is compatible (same codecs: viewers resume on the
 * next keyframe), or ends it (viewers get BYE) and publishes the new one. */
import { RELAY_DEFAULTS, redactUrl } from '../config/index.js';
import type {
  ClientDirectory,
  CoreEvents,
  RelayState,
  RelayStatus,
  Source,
  SourceStart,
  SourceStarter,
  SourceStarters,
  Stream,
  StreamTrack,
} from '../core/index.js';
import { streamTracksFrom } from '../core/stream-tracks.js';
import type { Logger } from '../logging/index.js';
import { PullSession, RtspClientError, type PullOptions, type PullTrack } from '../rtsp/client/index.js';
import { LOOP_DETECTED } from '../rtsp/headers/via.js';
import { endWhenUnwatched, SourceError } from '../sources/index.js';
import { ListedLeg, schemeOf } from './listed-leg.js';
import { isLoopRefusal, relayVia } from './loop.js';
import { RtpLoss } from './rtp-loss.js';
import type { UdpPortAllocator } from '../transport/index.js';

export interface RelayStartersOptions {
  /** Where each leg's `relay.state` goes. */
  events: CoreEvents;
  /** This server's name in the Via of its requests (`resolveServerId`). */
  serverId: string;
  /** Local UDP ports for `sourceTransport: udp` (the server's rtp.portMin..portMax). */
  udpPorts?: UdpPortAllocator;
  /** Where each playing session is listed (Connected Users, kind `relay`); disconnecting it
   * there drops it like the far end hanging up, and the leg tries again on its back-off.
   * Default: none. */
  clients?: ClientDirectory;
}

/** The starters of `rtsp://` and `rtsps://` sources, each configured source keeping its leg
 * (back-off, figures) across its starts until its configuration ends. The composition root joins
 * them with the sources layer's (SOURCE_STARTERS). */
export function relayStarters(opts: RelayStartersOptions): Pick<SourceStarters, 'rtsp' | 'rtsps'> {
  // Keyed by the configuration's signal, so a leg goes when its configuration does.
  const legs = new WeakMap<AbortSignal, PullLeg>();
  const start: SourceStarter = (o) => {
    let leg = o.signal ? legs.get(o.signal) : undefined;
    if (!leg) {
      leg = new PullLeg(o, opts);
      if (o.signal) legs.set(o.signal, leg);
    }
    return leg.start(o);
  };
  return { rtsp: start, rtsps: start };
}

/** Seconds over which the leg's bitrate is measured. */
const RATE_WINDOW_MS = 5000;

const codecs = (tracks: readonly { format: { encodingName: string } }[]) =>
  tracks.map((t) => t.format.encodingName).join('+');

/** The status a viewer waiting for the relay gets when it fails: the far end's 404 as it is, 504
 * when it did not answer in time, 403 Loop Detected for a loop, else 502 (the far end failed). */
function statusOf(e: unknown): number {
  if (isLoopRefusal(e)) return 403;
  if (e instanceof RtspClientError) {
    if (e.code === 'timeout') return 504;
    if (e.code === 'status' && e.status === 404) return 404;
  }
  return 502;
}

/** One configured relay source over its starts: back-off, state, figures. */
class PullLeg {
  readonly #key: string;
  /** The URL without its password, for logs and status. */
  readonly #target: string;
  readonly #opts: RelayStartersOptions;
  readonly #log: Logger;
  readonly #status: RelayStatus;
  /** Failed attempts in a row (a drop after playing counts as the first). */
  #failures = 0;
  #current: RelayPull | undefined;
  #rateSince = Date.now();
  #rateBytes = 0;
  #lastPacketAt = 0;

  constructor(o: SourceStart, opts: RelayStartersOptions) {
    this.#key = o.key;
    this.#target = redactUrl(o.target);
    this.#opts = opts;
    this.#log = o.log;
    this.#status = {
      path: o.key,
      role: 'source',
      target: this.#target,
      state: 'stopped',
      reconnects: 0,
      bytesIn: 0,
      bytesOut: 0,
      packetsLost: 0,
      bitrateKbps: 0,
    };
    o.signal?.addEventListener('abort', () => this.#stop(), { once: true });
  }

  /** Where the leg stands now, figures up to date. */
  snapshot(): RelayStatus {
    const now = Date.now();
    if (now - this.#lastPacketAt > RATE_WINDOW_MS) this.#status.bitrateKbps = 0;
    // Before the first window is complete, what the current one holds (after a second of it).
    else if (this.#status.bitrateKbps === 0 && now - this.#rateSince >= 1000)
      this.#status.bitrateKbps = Math.round((this.#rateBytes * 8) / (now - this.#rateSince));
    return { ...this.#status };
  }

  /** One attempt: DESCRIBE, SETUP, PLAY, then the stream published (or re-attached to). */
  async start(o: SourceStart): Promise<Stream> {
    this.#set('connecting', { attempt: this.#failures + 1 });
    let pull: RelayPull;
    let waiting: Stream | undefined;
    let reuse: StreamTrack[] | undefined;
    try {
      const session = await this.#open(o);
      const media = session.description.media;
      const existing = o.registry.get(o.key);
      waiting = existing && existing.state !== 'ended' ? existing : undefined;
      reuse = waiting?.compatible(media) ? waiting.tracks : undefined;
      pull = new RelayPull(
        this,
        session,
        reuse ??
          streamTracksFrom(media, { maxFrameBytes: o.maxFrameBytes, log: o.log.child({ path: o.key }) }),
        o,
      );
      try {
        await session.play();
        if (session.ended)
          throw (
            session.endError ??
            new RtspClientError('closed', `${this.#target} ended the session as it started playing`)
          );
      } catch (e) {
        await session.close();
        throw e;
      }
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw this.#failed(e, o);
    }
    const was = waiting && !reuse ? codecs(waiting.tracks) : undefined;
    if (was !== undefined) {
      // Viewers cannot carry on across a change of codec: they get BYE, newcomers the new one.
      this.#log.info(
        { path: o.key, target: this.#target, was, now: codecs(pull.tracks) },
        'relay source came back with another description',
      );
      waiting?.end(`its relay source came back with another description (${was} → ${codecs(pull.tracks)})`);
    }
    const stream = o.registry.publish(o.key, pull.tracks, pull, o.graceTime);
    const transport = o.entry?.sourceTransport ?? RELAY_DEFAULTS.transport;
    pull.published(stream, o.idleTimeout, this.#opts.clients, transport);
    this.#current = pull;
    this.#failures = 0;
    this.#set('playing', {
      tracks: codecs(pull.tracks),
      transport,
      resumed: reuse !== undefined,
    });
    return stream;
  }

  /** Opens the session; an on-demand one within sourceDescribeTimeout (the first viewer waits
   * for it), after which a late session is closed as it arrives. */
  async #open(o: SourceStart): Promise<PullSession> {
    const options: PullOptions = {
      transport: o.entry?.sourceTransport ?? RELAY_DEFAULTS.transport,
      via: relayVia(o.hops, this.#opts.serverId),
      udpPorts: this.#opts.udpPorts,
      log: this.#log,
    };
    const opening = PullSession.open(o.target, options);
    const t = o.timings;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const cut = new Promise<never>((_, reject) => {
      if (t?.onDemand) {
        const why = `${this.#target} did not describe the stream within ${t.describeTimeout} s (paths.${o.key}.sourceDescribeTimeout)`;
        timer = setTimeout(() => reject(new RtspClientError('timeout', why)), t.describeTimeout * 1000);
      }
      // Removed, stopped or shut down meanwhile: nobody waits for this session any more.
      onAbort = () =>
        reject(new SourceError(`relay source of '${o.key}' was stopped while it connected`, 404));
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([opening, cut]);
    } catch (e) {
      // The session may still open: it is closed as it does (the client cannot be interrupted).
      opening.then(
        (s) => void s.close(),
        () => undefined,
      );
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A failed attempt: counted, the next one timed, logged; the SourceError to throw. */
  #failed(e: unknown, o: SourceStart): SourceError {
    const loop = isLoopRefusal(e);
    const message = (e as Error).message;
    this.#failures++;
    this.#status.reconnects++;
    this.#status.lastError = message;
    const retryAt = this.#retryAt(loop, o);
    // Nothing tries again for an on-demand relay nobody waits for: the next viewer starts it.
    const stream = o.registry.get(o.key);
    const waited =
      !o.timings?.onDemand || (stream !== undefined && stream.state === 'waiting' && stream.readers.size > 0);
    if (loop)
      this.#log.warn(
        { path: o.key, target: this.#target, err: message },
        `relay loop: ${this.#target} leads back to this server`,
      );
    if (waited) this.#set('retrying', { nextAttemptAt: retryAt, err: message });
    else this.#set('stopped', { err: message });
    return new SourceError(
      `relay source ${this.#target}: ${message}`,
      statusOf(e),
      waited ? retryAt : undefined,
      { retry: 'backoff', phrase: loop ? LOOP_DETECTED : undefined },
    );
  }

  /** Unix ms of the next attempt: sourceRetry's min doubled for each failure in a row, at most
   * its max; the max at once after a loop (it will not mend itself soon). */
  #retryAt(loop: boolean, o: SourceStart): number {
    const { min, max } = o.timings?.retry ?? RELAY_DEFAULTS.retry;
    const s = loop ? max : Math.min(max, min * 2 ** Math.max(0, this.#failures - 1));
    return Date.now() + s * 1000;
  }

  /** The far end dropped a playing session (or sent nothing for too long). */
  lost(pull: RelayPull, why: string, o: SourceStart): number {
    if (this.#current === pull) this.#current = undefined;
    this.#failures = 1;
    this.#status.reconnects++;
    this.#status.lastError = why;
    const retryAt = this.#retryAt(false, o);
    this.#set('retrying', { nextAttemptAt: retryAt, err: why });
    return retryAt;
  }

  /** Its stream ended (no viewers left, the operator, a reload, shutdown): nothing plays. */
  ended(pull: RelayPull, reason: string): void {
    if (this.#current !== pull) return;
    this.#current = undefined;
    this.#set('stopped', { reason });
  }

  /** Bytes received (RTP and RTCP). */
  count(bytes: number): void {
    const now = Date.now();
    this.#status.bytesIn += bytes;
    this.#lastPacketAt = now;
    this.#rateBytes += bytes;
    if (now - this.#rateSince >= RATE_WINDOW_MS) {
      this.#status.bitrateKbps = Math.round((this.#rateBytes * 8) / (now - this.#rateSince));
      this.#rateSince = now;
      this.#rateBytes = 0;
    }
  }

  /** RTP packets found missing by sequence number. */
  lose(packets: number): void {
    this.#status.packetsLost += packets;
  }

  /** The configuration ended (removed, changed, stopped by the operator, shutdown). */
  #stop(): void {
    const pull = this.#current;
    this.#current = undefined;
    pull?.shut();
    if (this.#status.state !== 'stopped') this.#set('stopped', { reason: 'its configuration ended' });
  }

  #set(state: RelayState, detail: Record<string, unknown> = {}): void {
    this.#status.state = state;
    if (state === 'retrying') this.#status.nextAttemptAt = detail.nextAttemptAt as number;
    else delete this.#status.nextAttemptAt;
    const s = this.snapshot();
    const line = {
      path: this.#key,
      target: this.#target,
      reconnects: s.reconnects,
      bytesIn: s.bytesIn,
      packetsLost: s.packetsLost,
      ...detail,
    };
    if (state === 'retrying') {
      const retryInSeconds = Math.round(((detail.nextAttemptAt as number) - Date.now()) / 100) / 10;
      this.#log.warn(
        { ...line, nextAttemptAt: undefined, retryInSeconds },
        `relay source retrying in ${retryInSeconds} s`,
      );
    } else this.#log.info(line, `relay source ${state}`);
    try {
      this.#opts.events.emit('relay.state', s);
    } catch (e) {
      this.#log.error({ err: (e as Error).stack ?? String(e) }, 'a relay.state listener failed');
    }
  }
}

/** One pulled session feeding the stream: the stream's Source while it plays. */
class RelayPull implements Source {
  readonly kind = 'relay-pull';
  readonly label: string;
  readonly tracks: StreamTrack[];
  readonly #leg: PullLeg;
  readonly #session: PullSession;
  readonly #start: SourceStart;
  #stream: Stream | undefined;
  #idle: NodeJS.Timeout | undefined;
  #done = false;
  /** Per track: packets missing by sequence number. */
  readonly #loss: RtpLoss[];
  /** Packets missing in this session, for Connected Users. */
  #lost = 0;
  #listed: ListedLeg | undefined;

  constructor(leg: PullLeg, session: PullSession, tracks: StreamTrack[], o: SourceStart) {
    this.#leg = leg;
    this.#session = session;
    this.tracks = tracks;
    this.#start = o;
    this.label = `relay ${redactUrl(o.target)}`;
    this.#loss = tracks.map(() => new RtpLoss());
    // Packets only flow after PLAY, which follows; they feed the tracks once published.
    session.on('rtp', (t, p) => this.#rtp(t, p));
    session.on('rtcp', (t, p) => this.#rtcp(t, p));
    session.on('end', (reason, err) => this.#ended(reason, err?.message));
  }

  /** It now feeds `stream`; an on-demand one ends it after `idleTimeout` s without viewers. It is
   * listed in `clients` while it does. */
  published(stream: Stream, idleTimeout: number | undefined, clients: ClientDirectory | undefined, transport: string): void {
    this.#stream = stream;
    this.#idle = endWhenUnwatched(stream, idleTimeout);
    const target = this.#start.target;
    this.#listed = new ListedLeg(clients, {
      target,
      path: this.#start.key,
      protocol: schemeOf(target),
      address: this.#session.connection.remoteAddress,
      transport,
      figures: () => {
        let bytesReceived = 0;
        let packetsReceived = 0;
        for (const t of this.#session.tracks) {
          bytesReceived += t.counts.bytes;
          packetsReceived += t.counts.rtpPackets;
        }
        return { bytesSent: 0, packetsSent: 0, bytesReceived, packetsLost: this.#lost, packetsReceived };
      },
      drop: (reason) => this.#ended('disconnected', reason),
    });
  }

  status(): Record<string, unknown> {
    return { ...this.#leg.snapshot() };
  }

  #rtp(t: PullTrack, packet: Buffer): void {
    const track = this.#stream && !this.#done ? this.tracks[t.index] : undefined;
    if (!track) return;
    this.#leg.count(packet.length);
    const missing = this.#loss[t.index].packet(packet);
    if (missing > 0) {
      this.#lost += missing;
      this.#leg.lose(missing);
    }
    track.ingest(packet);
  }

  #rtcp(t: PullTrack, packet: Buffer): void {
    const track = this.#stream && !this.#done ? this.tracks[t.index] : undefined;
    if (!track) return;
    this.#leg.count(packet.length);
    track.onSourceRtcp(packet);
  }

  /** Stream.end (it ended for good), the registry's publisher timeout (the stream waits). */
  close(reason: string): void {
    if (this.#done) return;
    this.#finish();
    if (this.#stream?.state === 'ended') this.#leg.ended(this, reason);
    else this.#dropped(`${reason} (sent nothing for too long)`);
  }

  /** The configuration ended: the session goes; the PathManager ends the stream. */
  shut(): void {
    if (!this.#done) this.#finish();
  }

  #finish(): void {
    this.#done = true;
    if (this.#idle) clearInterval(this.#idle);
    this.#listed?.end();
    void this.#session.close();
  }

  /** The session ended on its own (the far end hung up, sent BYE, went silent, or redirected),
   * or the operator disconnected it (Connected Users): viewers wait, the leg tries again. */
  #ended(reason: string, err: string | undefined): void {
    if (this.#done || !this.#stream) return;
    this.#finish();
    this.#dropped(err ?? `the session ended (${reason})`);
  }

  /** Viewers wait graceTime; the PathManager starts the relay again at its back-off's time. */
  #dropped(why: string): void {
    const stream = this.#stream;
    if (!stream || stream.state === 'ended') return;
    const retryAt = this.#leg.lost(this, why, this.#start);
    this.#start.dropped(retryAt);
    stream.detach(this, `relay source lost: ${why}`);
  }
}
