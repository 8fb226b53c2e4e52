/** A forward destination (DSS's udp_destination): the path's RTP sent by UDP to host:port + 2N
 * for track N and its sender reports to the port above, unicast or multicast. Sends that fail
 * (nobody listening, a network down) are counted and logged at most once a minute; the stream
 * goes on. */
import type { UdpForward } from '../../config/index.js';
import { RELAY_DEFAULTS } from '../../config/index.js';
import type { Stream } from '../../core/index.js';
import { openUdpForward, type UdpForwardSink } from '../../readers/index.js';
import { DestinationLeg, ThrottledCount, type LegConnection, type LegContext, type LegHooks } from './leg.js';

/** `udp://host:port[?ttl=N&iface=ADDR]`, as the config writes it. */
export function forwardTarget(f: UdpForward): string {
  const host = f.host.includes(':') ? `[${f.host}]` : f.host;
  const params = [f.ttl === undefined ? '' : `ttl=${f.ttl}`, f.iface === undefined ? '' : `iface=${f.iface}`].filter((p) => p !== '');
  return `udp://${host}:${f.port}${params.length ? `?${params.join('&')}` : ''}`;
}

export class ForwardLeg extends DestinationLeg {
  readonly #dest: UdpForward;
  #sendErrors = 0;
  #lastError: string | undefined;
  readonly #errorLog = new ThrottledCount();
  /** Sends that failed on connections that ended. */
  #errorsBefore = 0;
  /** The sockets open now. */
  readonly #sinks = new Set<UdpForwardSink>();

  constructor(path: string, dest: UdpForward, ctx: LegContext) {
    // Opening can only fail on a name that does not resolve or an iface that is not ours: worth
    // trying again as a push is, on the default schedule.
    super({
      path,
      role: 'forward',
      target: forwardTarget(dest),
      retry: { ...RELAY_DEFAULTS.retry },
      ctx,
      listing: { protocol: 'rtp', host: dest.host, transport: 'udp' },
    });
    this.#dest = dest;
  }

  /** Sends that failed since the destination was configured. */
  get sendErrors(): number {
    return this.#sendErrors;
  }

  protected async open(stream: Stream, hooks: LegHooks): Promise<LegConnection> {
    const sinks = await openUdpForward(this.#dest, stream.tracks.length);
    sinks.forEach((s, i) => s.onRtcp((p) => hooks.rtcp(i, p)));
    for (const s of sinks) this.#sinks.add(s);
    return {
      sinks,
      bytesOut: () => sinks.reduce((n, s) => n + s.bytesOut, 0),
      close: () => {
        for (const s of sinks) {
          if (!this.#sinks.delete(s)) continue;
          this.#errorsBefore += s.sendErrors;
          s.close();
        }
      },
    };
  }

  override tick(now: number, reportMs: number): void {
    super.tick(now, reportMs);
    const open = [...this.#sinks];
    this.#sendErrors = open.reduce((n, s) => n + s.sendErrors, this.#errorsBefore);
    this.#lastError = open.map((s) => s.lastError).find((e) => e !== undefined) ?? this.#lastError;
    const since = this.#errorLog.due(this.#sendErrors, now);
    if (since === 0) return;
    const last = this.#lastError ?? 'unknown error';
    this.noteError(`UDP send failed: ${last}`);
    this.ctx.log.warn(
      { path: this.path, role: 'forward', target: this.target, sendErrors: this.#sendErrors, err: last },
      `relay forward ${this.path} → ${this.target}: ${since} UDP sends failed (${last}); the stream goes on`,
    );
  }
}
