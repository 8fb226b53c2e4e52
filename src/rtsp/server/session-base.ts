/** What every RTSP session shares, whatever it carries: its id, the tracks a client set up and
 * their transports, keep-alive, the connection that owns its interleaved channels, close
 * listeners, and the log line on close. The kinds (file viewer, live viewer, publisher) are
 * subclasses with their own track type; `RtspSession` in `session.ts` is their union. A UDP
 * session outlives the RTSP connection that made it; a TCP-interleaved one dies with it. */
import type { ThinningStats } from '../../readers/thinning.js';
import { randomBytes } from 'node:crypto';
import type { ClientFigures } from '../../core/clients.js';
import type { Logger } from '../../logging/index.js';
import type { RtpOutput } from '../../rtp/output.js';
import type { Format } from '../../stream/types.js';

/** What every kind of session keeps per track. */
export interface SessionTrackBase {
  id: number;
  /** Transport header sent back in the SETUP response. */
  transport: string;
  /** Interleaved channels on the owning connection, when TCP. */
  channels?: [number, number];
}

/** A viewer's track: its RTP output (sink, SSRC, counts, RTCP), made at SETUP and kept until the
 * track goes, so counts and reports run on across PAUSE and PLAY. */
export interface ViewerTrackBase extends SessionTrackBase {
  output: RtpOutput;
  /** Sequence number of the first packet the viewer was sent (its first PLAY's RTP-Info): where
   * the packets its receiver reports count from start. */
  firstSeq?: number;
}

export type SessionKind = 'vod' | 'live' | 'record';
export type SessionState = 'ready' | 'playing' | 'paused' | 'recording';

export interface SessionOwner {
  /** Called when the session ends, so the connection can free its channels. */
  sessionClosed(session: RtspSessionBase<SessionTrackBase>): void;
}

export interface SessionBaseInit {
  /** Presentation URL as the client named it (for RTP-Info). */
  baseUrl: string;
  clientAddress: string;
  log: Logger;
  /** SDES CNAME for sender reports. */
  cname: string;
}

/** One track's counts for the close log line. */
export interface TrackStats {
  track: number;
  packets: number;
  bytes: number;
  lost: number;
  jitter: number;
  dropped?: number;
  /** A live viewer's thinning under loss: its level and how often it changed. */
  thinning?: Readonly<ThinningStats>;
}

/** A viewer track's counts for the close log line, from its output. */
export function outputStats(t: ViewerTrackBase): TrackStats {
  const o = t.output;
  return { track: t.id, packets: o.packets, bytes: o.octets, lost: o.reception.cumulativeLost, jitter: o.reception.jitter };
}

export abstract class RtspSessionBase<T extends SessionTrackBase> {
  abstract readonly kind: SessionKind;
  readonly id = BigInt.asIntN(64, randomBytes(8).readBigUInt64BE()).toString().replace('-', '');
  readonly tracks = new Map<number, T>();
  readonly createdAt = Date.now();
  readonly baseUrl: string;
  readonly clientAddress: string;
  readonly log: Logger;
  readonly cname: string;
  lastActivity = Date.now();
  /** The connection that carries interleaved data, if any track uses TCP. */
  owner: SessionOwner | undefined;
  readonly #closeListeners: ((reason: string) => void)[] = [];
  #closed = false;

  constructor(init: SessionBaseInit) {
    this.baseUrl = init.baseUrl;
    this.clientAddress = init.clientAddress;
    this.log = init.log;
    this.cname = init.cname;
  }

  abstract get state(): SessionState;

  /** PLAY (viewers) or RECORD (publishers) has been accepted at least once. A session that never
   * starts holds ports for nothing, so keep-alives do not save it from the reaper. */
  abstract get started(): boolean;

  /** RTP from the client on a track (publishers over TCP). */
  abstract onRtp(trackId: number, packet: Buffer): void;

  /** RTCP from a track's client, for the kind to read (receiver reports, or a publisher's SRs). */
  protected abstract rtcp(track: T, packet: Buffer): void;

  /** Closes a track's sockets. */
  protected abstract releaseTrack(track: T): void;

  /** The kind's part of closing, before sockets close: stop sending, BYE. */
  protected abstract endMedia(reason: string): void;

  /** The kind's part of closing, once its channels are freed and before close listeners run. */
  protected ended(_reason: string): void {}

  protected abstract trackStats(track: T): TrackStats;

  /** A track's payload format (its codec, clock rate). */
  protected abstract formatOf(track: T): Format;

  /** What the session carried so far, for Connected Users and the access log: computed when
   * asked (every few seconds at most), never per packet. */
  abstract figures(): ClientFigures;

  /** The payload formats of the tracks set up now. */
  formats(): Format[] {
    return [...this.tracks.values()].map((t) => this.formatOf(t));
  }

  get closed(): boolean {
    return this.#closed;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /** Date.now() when the client was last heard from: a request or RTCP. */
  get lastHeard(): number {
    return this.lastActivity;
  }

  /** Runs `fn` once when the session closes (at once if it already has): quotas are given back,
   * a PLAY stops waiting. Returns a function that removes `fn` if it has not run yet. */
  whenClosed(fn: (reason: string) => void): () => void {
    if (this.#closed) {
      fn('closed');
      return () => {};
    }
    this.#closeListeners.push(fn);
    return () => {
      const i = this.#closeListeners.indexOf(fn);
      if (i >= 0) this.#closeListeners.splice(i, 1);
    };
  }

  /** RTCP from the client on a track: receiver reports from viewers, SRs from publishers. */
  onRtcp(trackId: number, packet: Buffer): void {
    this.touch();
    const t = this.tracks.get(trackId);
    if (t) this.rtcp(t, packet);
  }

  removeTrack(trackId: number): void {
    const t = this.tracks.get(trackId);
    if (!t) return;
    this.releaseTrack(t);
    this.tracks.delete(trackId);
  }

  /** Ends the session: the kind stops its media (BYE to viewers; a closed transport drops it),
   * sockets closed. Idempotent. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.endMedia(reason);
    for (const t of this.tracks.values()) this.releaseTrack(t);
    this.owner?.sessionClosed(this);
    this.ended(reason);
    for (const fn of this.#closeListeners.splice(0)) {
      try {
        fn(reason);
      } catch (e) {
        this.log.error({ session: this.id, err: (e as Error).stack ?? String(e) }, 'session close listener failed');
      }
    }
    const stats = [...this.tracks.values()].map((t) => this.trackStats(t));
    this.log.info({ session: this.id, kind: this.kind, reason, tracks: stats }, 'session closed');
  }
}
