/** The destinations of every path (`paths.<name>.push`, rtsp:// or icecast://, and `.forward`,
 * from the YAML or a DSS relayconfig.xml), kept in line with the configuration and with the
 * streams: `apply()` after each (re)load starts what is new, stops what was removed or changed
 * and leaves the rest running; `path.published` / `path.unpublished` attach a path's
 * destinations to its stream and let go of it. One timer for all of them measures bitrates
 * and sends sender reports. */
import { pathPattern, type Config, type PushDestination, type UdpForward } from '../../config/index.js';
import type { ClientDirectory, CoreEventMap, CoreEvents, RelayStatus, StreamRegistry } from '../../core/index.js';
import type { Logger } from '../../logging/index.js';
import type { UdpPortAllocator } from '../../transport/index.js';
import { schemeOf } from '../listed-leg.js';
import { ForwardLeg } from './forward-leg.js';
import { IcecastLeg } from './icecast-leg.js';
import type { DestinationLeg, LegContext } from './leg.js';
import { PushLeg } from './push-leg.js';

export interface RelayDestinationsOptions {
  /** Where the paths' streams are. */
  registry: StreamRegistry;
  /** Streams published and ended are heard here; every leg's state change is reported here. */
  events: CoreEvents;
  /** The running config (rtp.rtcpInterval, live.viewerQueueBytes). */
  config: () => Config;
  log: Logger;
  /** This server's name in the hop header of its pushes (`Via: … RTSP/1.0 <serverId>`). */
  serverId: string;
  /** Local UDP pairs for pushes over UDP: the server's allocator (rtp.portMin..portMax), shared
   * with its viewers, publishers and pulls so that none of them probes a port another holds. */
  ports: UdpPortAllocator;
  /** The `paths:` entries to follow, with those of relays.dssConfig merged in. Default:
   * `config().paths`. */
  paths?: () => Config['paths'];
  /** Where each playing push and forward is listed (Connected Users, kind `relay`); disconnecting
   * one there drops it, and it tries again on its back-off. Default: none. */
  clients?: ClientDirectory;
}

/** How often bitrates are sampled and sender reports considered. */
const TICK_MS = 1000;

export class RelayDestinations {
  readonly #opts: RelayDestinationsOptions;
  readonly #ctx: LegContext;
  /** By `legKey`: a destination changed in any way is another leg. */
  readonly #legs = new Map<string, DestinationLeg>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  readonly #onPublished = (e: CoreEventMap['path.published'][0]): void => {
    this.#guard('path.published', () => this.#attach(e.path));
  };

  readonly #onUnpublished = (e: CoreEventMap['path.unpublished'][0]): void => {
    this.#guard('path.unpublished', () => {
      for (const leg of this.#legs.values()) if (leg.path === e.path) leg.streamGone();
    });
  };

  constructor(opts: RelayDestinationsOptions) {
    this.#opts = opts;
    this.#ctx = {
      events: opts.events,
      log: opts.log,
      config: opts.config,
      cname: `rivulet@${opts.serverId}`,
      serverId: opts.serverId,
      ports: opts.ports,
      clients: opts.clients,
    };
    opts.events.on('path.published', this.#onPublished);
    opts.events.on('path.unpublished', this.#onUnpublished);
    this.#timer = setInterval(() => this.#guard('tick', () => this.#tick()), TICK_MS);
    this.#timer.unref();
  }

  /** Brings the destinations in line with the paths' entries: a removed or changed one stops,
   * a new one starts (at once when its path's stream is active), the others run on. */
  apply(): void {
    if (this.#closed) return;
    const wanted = new Map<string, () => DestinationLeg>();
    const paths = (this.#opts.paths ?? (() => this.#opts.config().paths))();
    for (const [name, entry] of Object.entries(paths)) {
      // A ~regex names many paths: the schema refuses destinations there.
      if (pathPattern(name)) continue;
      for (const p of entry.push ?? []) wanted.set(legKey(name, 'push', p), () => this.#pushLeg(name, p));
      for (const f of entry.forward ?? []) wanted.set(legKey(name, 'forward', f), () => new ForwardLeg(name, f, this.#ctx));
    }
    for (const [key, leg] of this.#legs) {
      if (wanted.has(key)) continue;
      this.#legs.delete(key);
      leg.stop('removed from the configuration');
    }
    for (const [key, make] of wanted) {
      if (this.#legs.has(key)) continue;
      const leg = make();
      this.#legs.set(key, leg);
      const stream = this.#opts.registry.get(leg.path);
      if (stream?.state === 'active') leg.attach(stream);
      else leg.waiting();
    }
  }

  /** Every leg's state and figures, for the admin. */
  status(): RelayStatus[] {
    return [...this.#legs.values()].map((l) => l.status());
  }

  /** Stops every destination (pushes send TEARDOWN), the timer and the event listeners. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#opts.events.off('path.published', this.#onPublished);
    this.#opts.events.off('path.unpublished', this.#onUnpublished);
    for (const leg of this.#legs.values()) leg.stop('server shutting down');
    this.#legs.clear();
  }

  /** A push leg of the kind its URL's scheme says: an Icecast mount fed as its source, or an
   * RTSP server announced to. */
  #pushLeg(path: string, dest: PushDestination): DestinationLeg {
    return schemeOf(dest.url) === 'icecast' ? new IcecastLeg(path, dest, this.#ctx) : new PushLeg(path, dest, this.#ctx);
  }

  /** The path's destinations serve its stream, if one is active there. */
  #attach(path: string): void {
    const stream = this.#opts.registry.get(path);
    if (stream?.state !== 'active') return;
    for (const leg of this.#legs.values()) if (leg.path === path) leg.attach(stream);
  }

  #tick(): void {
    const now = Date.now();
    const reportMs = this.#opts.config().rtp.rtcpInterval * 1000;
    for (const leg of this.#legs.values()) leg.tick(now, reportMs);
  }

  /** Runs `fn` from an event or a timer, where an exception must not escape. */
  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#opts.log.error({ err: e }, `relay destinations: handling ${what} failed`);
    }
  }
}

/** What tells destinations apart: any change in one makes it another. */
function legKey(path: string, role: 'push' | 'forward', dest: PushDestination | UdpForward): string {
  return JSON.stringify([path, role, dest]);
}
