/** One destination of one path (a push or a forward), kept in line with the stream at that path:
 * while a stream is there it opens its connection (`connecting`), sends the stream through a
 * `RelayReader` (`playing`), and when the opening fails or the far end drops it waits and tries
 * again (`retrying`, min doubling up to max); when the stream ends, or the destination is removed,
 * it lets go of everything (`stopped`) until a stream is published there again. Every change is
 * one log line and one `relay.state` event. What differs between a push and a forward is only
 * how a connection is opened (`open`). */
import type { Config, Retry } from '../../config/index.js';
import type { ClientDirectory, CoreEvents, RelayState, RelayStatus, Stream } from '../../core/index.js';
import type { Logger } from '../../logging/index.js';
import { RelayReader } from '../../readers/index.js';
import type { UdpPortAllocator } from '../../transport/index.js';
import type { RtpSink } from '../../transport/types.js';
import { ListedLeg } from '../listed-leg.js';

/** What every leg is handed by `RelayDestinations`. */
export interface LegContext {
  events: CoreEvents;
  log: Logger;
  /** The running config: live.viewerQueueBytes when a connection opens. */
  config: () => Config;
  /** SDES CNAME of the sender reports. */
  cname: string;
  /** This server's name in the hop header (`Via`) of its pushes, after the relays the stream
   * came through. */
  serverId: string;
  /** Local UDP pairs for pushes over UDP: the server's own allocator (rtp.portMin..portMax). */
  ports: UdpPortAllocator;
  /** Where each playing connection is listed (Connected Users, kind `relay`). Default: none. */
  clients?: ClientDirectory;
}

/** What one attempt opened: a sink per stream track, in track order. */
export interface LegConnection {
  sinks: RtpSink[];
  /** Bytes (RTP and RTCP) handed on so far. */
  bytesOut(): number;
  /** Lets go of it (a push sends TEARDOWN); idempotent. */
  close(): void;
  /** The far end's address, when the connection knows it (else the host its URL names). */
  address?: string;
}

/** How Connected Users shows a leg's connections. */
export interface LegListing {
  /** `rtsp`, `rtsps`, `rtp`. */
  protocol: string;
  /** The host the destination names. */
  host: string;
  /** `tcp` or `udp`. */
  transport: string;
}

/** How a connection tells its leg what happens to it after it opened. */
export interface LegHooks {
  /** The far end dropped it (or refused it after it had opened). */
  dropped(error: string): void;
  /** RTCP from the far end about track `index`. */
  rtcp(index: number, packet: Buffer): void;
}

/** Seconds between attempts: min, doubling at each failure up to max; a success starts again
 * from min. */
export class Backoff {
  #next: number;
  constructor(readonly retry: Retry) {
    this.#next = retry.min;
  }
  /** The wait before the next attempt; the one after is twice as long (up to max). */
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.retry.max, d * 2);
    return d;
  }
  reset(): void {
    this.#next = this.retry.min;
  }
}

/** The span the bitrate is measured over. */
const BITRATE_WINDOW_MS = 5000;
/** At most one line per this many ms about a count that keeps growing (skipped frames, failed
 * sends): a far end in trouble must not flood the log. */
const COUNT_LOG_MS = 60_000;

/** A growing count logged at most once per COUNT_LOG_MS. */
export class ThrottledCount {
  #logged = 0;
  #at = Number.NEGATIVE_INFINITY;
  /** How much `count` grew since the last line when a line is due at `now`, else 0. */
  due(count: number, now: number): number {
    if (count === this.#logged || now - this.#at < COUNT_LOG_MS) return 0;
    const grew = count - this.#logged;
    this.#logged = count;
    this.#at = now;
    return grew;
  }
}

export abstract class DestinationLeg {
  readonly path: string;
  readonly role: 'push' | 'forward';
  /** The far end, never with a password. */
  readonly target: string;
  protected readonly ctx: LegContext;
  readonly #backoff: Backoff;
  #state: RelayState = 'stopped';
  #reconnects = 0;
  #lastError: string | undefined;
  #nextAttemptAt: number | undefined;
  /** The stream served (active, or waiting for its source within its grace time). */
  #stream: Stream | undefined;
  #conn: LegConnection | undefined;
  #reader: RelayReader | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped whenever what an attempt in flight would serve is let go: its result is then closed. */
  #generation = 0;
  /** What connections that ended had sent, had lost and had skipped. */
  #bytesBefore = 0;
  #lostBefore = 0;
  #droppedBefore = 0;
  readonly #droppedLog = new ThrottledCount();
  #lastReport = 0;
  readonly #listing: LegListing;
  /** The playing connection as Connected Users lists it. */
  #listed: ListedLeg | undefined;
  /** (Date.now(), bytesOut) each second, over the last BITRATE_WINDOW_MS. */
  readonly #samples: [number, number][] = [];

  constructor(opts: { path: string; role: 'push' | 'forward'; target: string; retry: Retry; ctx: LegContext; listing: LegListing }) {
    this.#listing = opts.listing;
    this.path = opts.path;
    this.role = opts.role;
    this.target = opts.target;
    this.ctx = opts.ctx;
    this.#backoff = new Backoff(opts.retry);
  }

  /** Opens a connection for `stream`; rejects with the reason it cannot. */
  protected abstract open(stream: Stream, hooks: LegHooks): Promise<LegConnection>;

  /** Seconds to wait after `error` made an attempt fail, when not the back-off's next wait. */
  protected retryAfter(_error: unknown): number | undefined {
    return undefined;
  }

  get state(): RelayState {
    return this.#state;
  }

  /** A stream is active at the path: serve it (nothing changes if it is the one served). */
  attach(stream: Stream): void {
    if (this.#stream === stream) return;
    this.#release('a new broadcast replaced the stream');
    this.#stream = stream;
    this.#backoff.reset();
    this.#attempt();
  }

  /** Configured while no stream is active at the path: said once, so the log shows every
   * destination from the start. */
  waiting(): void {
    if (!this.#stream) this.#set('stopped', ` (until ${this.path} is published)`);
  }

  /** The path's stream may have ended (path.unpublished): stop if the one served has. */
  streamGone(): void {
    if (this.#stream?.state === 'ended') this.#streamEnded('the broadcast ended');
  }

  /** The destination is removed, or the server stops. */
  stop(reason: string): void {
    this.#release(reason);
    this.#stream = undefined;
    this.#set('stopped', ` (${reason})`);
  }

  /** Once a second: the bitrate sample and, every `reportMs`, sender reports. */
  tick(now: number, reportMs: number): void {
    this.#samples.push([now, this.bytesOut()]);
    while (this.#samples.length > 1 && now - this.#samples[0][0] > BITRATE_WINDOW_MS) this.#samples.shift();
    if (this.#reader && now - this.#lastReport >= reportMs) {
      this.#lastReport = now;
      this.#reader.sendReports();
    }
    const skipped = this.#droppedLog.due(this.dropped, now);
    if (skipped > 0) {
      this.ctx.log.warn(
        { path: this.path, role: this.role, target: this.target, framesSkipped: this.dropped },
        `relay ${this.role} ${this.path} → ${this.target}: skipped ${skipped} frames to the next keyframe: the far end takes the stream more slowly than it comes`,
      );
    }
  }

  /** Bytes sent on to the far end since the destination was configured. */
  bytesOut(): number {
    return this.#bytesBefore + (this.#conn?.bytesOut() ?? 0);
  }

  status(): RelayStatus {
    // From the oldest sample kept to now: a leg a second old already has a figure.
    const first = this.#samples[0];
    const bytesOut = this.bytesOut();
    const ms = first ? Date.now() - first[0] : 0;
    return {
      path: this.path,
      role: this.role,
      target: this.target,
      state: this.#state,
      ...(this.#nextAttemptAt === undefined ? {} : { nextAttemptAt: this.#nextAttemptAt }),
      reconnects: this.#reconnects,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      bytesIn: 0,
      bytesOut,
      packetsLost: this.#lostBefore + (this.#reader?.packetsLost ?? 0),
      bitrateKbps: ms > 0 ? Math.round(((bytesOut - first[1]) * 8) / ms) : 0,
    };
  }

  /** Frames skipped because the far end could not keep up, since the destination was configured. */
  get dropped(): number {
    return this.#droppedBefore + (this.#reader?.dropped ?? 0);
  }

  /** Notes a problem in the status without a state change (a forward's failing sends). */
  protected noteError(error: string): void {
    this.#lastError = error;
  }

  #attempt(): void {
    const stream = this.#stream;
    if (!stream) return;
    if (stream.state === 'ended') return this.#streamEnded('the broadcast ended');
    const gen = ++this.#generation;
    this.#timer = undefined;
    this.#nextAttemptAt = undefined;
    this.#set('connecting', '');
    const hooks: LegHooks = {
      dropped: (error) => {
        if (gen === this.#generation) this.#failed(error, 'dropped');
      },
      rtcp: (index, packet) => {
        if (gen === this.#generation) this.#reader?.onRtcp(index, packet);
      },
    };
    let opening: Promise<LegConnection>;
    try {
      opening = this.open(stream, hooks);
    } catch (e) {
      opening = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    opening.then(
      (conn) => {
        if (gen !== this.#generation) conn.close();
        else this.#playing(stream, conn);
      },
      (e: unknown) => {
        if (gen === this.#generation) this.#failed(e instanceof Error ? e.message : String(e), 'refused', this.retryAfter(e));
      },
    );
  }

  #playing(stream: Stream, conn: LegConnection): void {
    this.#conn = conn;
    // Ended while the connection opened (path.unpublished normally lets go of it first).
    if (stream.state === 'ended') return this.#streamEnded('the broadcast ended');
    let reader: RelayReader;
    try {
      reader = new RelayReader({
        stream,
        sinks: conn.sinks,
        protocol: `relay-${this.role}`,
        label: `${this.role} ${this.target}`,
        cname: this.ctx.cname,
        queueLimit: this.ctx.config().live.viewerQueueBytes,
        onClosed: (reason) => {
          if (this.#reader === reader) this.#streamEnded(reason);
        },
      });
    } catch (e) {
      this.#failed((e as Error).message, 'refused');
      return;
    }
    this.#reader = reader;
    this.#backoff.reset();
    this.#lastReport = Date.now();
    reader.start();
    this.#listed = new ListedLeg(this.ctx.clients, {
      ...this.#listing,
      target: this.target,
      path: this.path,
      address: conn.address ?? this.#listing.host,
      figures: () => ({
        bytesSent: conn.bytesOut(),
        packetsSent: reader.outputs.reduce((n, o) => n + o.packets, 0),
        bytesReceived: 0,
        packetsLost: reader.packetsLost,
      }),
      // Dropped as the far end dropping it would: tried again on the back-off.
      drop: (reason) => {
        if (this.#conn === conn) this.#failed(reason, 'dropped');
      },
    });
    this.#set('playing', '');
  }

  /** The attempt failed or the connection dropped: let go of it and try again later. */
  #failed(error: string, how: 'refused' | 'dropped', after?: number): void {
    this.#closeConnection(how === 'dropped' ? 'the far end dropped the relay' : 'relay refused');
    this.#reconnects++;
    this.#lastError = error;
    const next = this.#backoff.next();
    const wait = after ?? next;
    this.#nextAttemptAt = Date.now() + wait * 1000;
    this.#timer = setTimeout(() => this.#attempt(), wait * 1000);
    this.#timer.unref();
    this.#set('retrying', ` in ${wait} s (${how === 'dropped' ? 'dropped' : 'failed'}: ${error})`);
  }

  #streamEnded(reason: string): void {
    this.#release(reason);
    this.#stream = undefined;
    this.#set('stopped', ` until ${this.path} is published again (${reason})`);
  }

  /** Lets go of the stream's connection, reader and timer. */
  #release(reason: string): void {
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextAttemptAt = undefined;
    this.#closeConnection(reason);
  }

  #closeConnection(reason: string): void {
    this.#listed?.end();
    this.#listed = undefined;
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader) {
      this.#lostBefore += reader.packetsLost;
      this.#droppedBefore += reader.dropped;
      reader.leave(reason);
    }
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) {
      this.#bytesBefore += conn.bytesOut();
      conn.close();
    }
  }

  /** A state change: one log line, one event (even when the state stays, e.g. connecting
   * again: each attempt is news). `note` completes the line (empty, or starting with a space). */
  #set(state: RelayState, note: string): void {
    this.#state = state;
    const s = this.status();
    const line = `relay ${this.role} ${this.path} → ${this.target}: ${state}${note}`;
    const fields = { path: s.path, role: s.role, target: s.target, state, reconnects: s.reconnects, ...(state === 'retrying' ? { err: s.lastError, nextAttemptAt: s.nextAttemptAt } : {}) };
    if (state === 'retrying') this.ctx.log.warn(fields, line);
    else this.ctx.log.info(fields, line);
    try {
      this.ctx.events.emit('relay.state', s);
    } catch (e) {
      this.ctx.log.error({ err: e }, "a 'relay.state' listener failed");
    }
  }
}
