/** A push destination (DSS's announced_destination): the path's stream announced to another
 * server with ANNOUNCE/SETUP/RECORD, over TCP (interleaved) or UDP, with the credentials of its
 * URL and a hop header naming the relays the stream came through (its source's `hops`) and this
 * server, and its tracks' RTP and sender reports sent on the session. The SDP is the one viewers
 * of the stream get from DESCRIBE. */
import { redactUrl, type PushDestination } from '../../config/index.js';
import type { Stream } from '../../core/index.js';
import { pushSession, type PushSession, type PushTrack } from '../../rtsp/client/index.js';
import { buildSdp } from '../../sdp/index.js';
import type { RtpSink } from '../../transport/types.js';
import { hostOf, schemeOf } from '../listed-leg.js';
import { isLoopRefusal, relayVia } from '../loop.js';
import { DestinationLeg, type LegConnection, type LegContext, type LegHooks } from './leg.js';

/** One pushed track as the stream's reader sees it. Over TCP the backlog is the connection's
 * unsent bytes, shared by the tracks, so a far end that reads too slowly makes every track skip
 * to its next keyframe long before the connection's own bound drops packets mid-frame. */
class PushSink implements RtpSink {
  readonly kind: 'tcp' | 'udp';
  readonly #session: PushSession;
  readonly #track: PushTrack;

  constructor(session: PushSession, track: PushTrack) {
    this.#session = session;
    this.#track = track;
    this.kind = track.channels === undefined ? 'udp' : 'tcp';
  }

  get backlog(): number {
    return this.kind === 'tcp' ? this.#session.connection.writableLength : 0;
  }

  sendRtp(packet: Buffer): void {
    this.#session.sendRtp(this.#track, packet);
  }

  sendRtcp(packet: Buffer): void {
    this.#session.sendRtcp(this.#track, packet);
  }

  /** The session is the leg's to close. */
  close(): void {}
}

export class PushLeg extends DestinationLeg {
  readonly #dest: PushDestination;

  constructor(path: string, dest: PushDestination, ctx: LegContext) {
    super({
      path,
      role: 'push',
      target: redactUrl(dest.url),
      retry: dest.retry,
      ctx,
      listing: { protocol: schemeOf(dest.url), host: hostOf(dest.url), transport: dest.transport },
    });
    this.#dest = dest;
  }

  /** The far end found this server in the hop header: the push leads back here (directly, or
   * through servers that push on). That will not mend itself soon: said plainly, tried at the
   * longest wait. */
  protected override retryAfter(e: unknown): number | undefined {
    if (!isLoopRefusal(e)) return undefined;
    this.ctx.log.warn({ path: this.path, role: 'push', target: this.target, err: e.message }, `relay loop: the push of ${this.path} to ${this.target} leads back to this server; refused there`);
    return this.#dest.retry.max;
  }

  protected async open(stream: Stream, hooks: LegHooks): Promise<LegConnection> {
    // o= names no address: which one the far end reaches us from is not known before connecting.
    const sdp = buildSdp(stream.description(), { serverAddress: '0.0.0.0' });
    const session = await pushSession(this.#dest.url, sdp, {
      transport: this.#dest.transport,
      // A stream announced to us by a relay goes on naming it: a chain of pushes back to it is seen.
      via: relayVia(stream.source?.hops ?? [], this.ctx.serverId),
      udpPorts: this.ctx.ports,
      log: this.ctx.log,
    });
    const close = () => {
      session.close().catch(() => undefined);
    };
    if (session.tracks.length !== stream.tracks.length) {
      close();
      throw new Error(`the far end set up ${session.tracks.length} of the ${stream.tracks.length} tracks announced`);
    }
    const ended = (reason: string, error: Error | undefined) => error?.message ?? `the session ended (${reason})`;
    session.on('end', (reason, error) => hooks.dropped(ended(reason, error)));
    session.on('rtcp', (track, packet) => hooks.rtcp(track.index, packet));
    if (session.ended) throw new Error(ended(session.endReason ?? 'closed', session.endError));
    return {
      sinks: session.tracks.map((t) => new PushSink(session, t)),
      bytesOut: () => session.tracks.reduce((n, t) => n + t.counts.bytes, 0),
      close,
      address: session.connection.remoteAddress,
    };
  }
}
