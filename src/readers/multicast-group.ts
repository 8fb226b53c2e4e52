/** Multicast out: every viewer of a live stream that asks for multicast shares one send of it to
 * one group. `MulticastGroups` gives each stream a group address and a block of even RTP ports
 * from the configured pool when its first multicast viewer sets up, and frees them a linger
 * after its last one leaves. While any of its viewers plays, the group's sender follows every
 * track of the stream as a relay forward leg does (a `RelayReader` over `UdpForwardSink`s: one
 * send per packet, whatever the number of viewers; track N at port + 2N, its RTCP sender reports
 * at the port above). A viewer's track holds a `MulticastMemberSink`: it sends nothing itself
 * (its RTP output only counts what the group sent while it played) and tells the group when it
 * plays, pauses and leaves. Protocol-neutral: the RTSP side writes the group into its reply. */
import type { Logger } from '../logging/index.js';
import type { Stream } from '../core/stream.js';
import type { StreamTrack } from '../core/stream-track.js';
import type { RtpSink } from '../transport/types.js';
import { ipv4Text, parseMulticastRange } from '../net/multicast-range.js';
import { RelayReader } from './relay-reader.js';
import { openUdpForward, type UdpForwardTarget } from './udp-forward-sink.js';

/** `multicast:` as the config reads it (read again for every new group, and the linger at each
 * leave, so a reload applies to groups made after it). */
export interface MulticastSettings {
  /** Pool of groups: CIDRs or single IPv4 multicast addresses; [] = multicast off. */
  groups: readonly string[];
  /** Even RTP ports given out (RTCP one above); a stream of N tracks takes 2N of them. */
  portMin: number;
  portMax: number;
  ttl: number;
  /** Seconds a group keeps sending (and keeps its address) after its last viewer stops. */
  linger: number;
  /** Local IPv4 address to send from (the outgoing interface); '' = the system's route. */
  interface: string;
}

export interface MulticastGroupsOptions {
  settings: () => MulticastSettings;
  /** Seconds between sender reports. */
  rtcpInterval: () => number;
  /** Bytes a group's socket may hold unsent before its track skips to the next keyframe. */
  queueLimit: () => number;
  cname: string;
  log: Logger;
  /** Opens the sinks of a new group (tests replace it). Default: `openUdpForward`. */
  open?: (target: UdpForwardTarget, tracks: number) => Promise<RtpSink[]>;
}

/** Why a viewer cannot have a group: `full` (no address or ports left in the pool) or `send`
 * (the group cannot be sent to from here: no route, a bad interface). */
export class MulticastError extends Error {
  constructor(
    message: string,
    readonly why: 'full' | 'send',
  ) {
    super(message);
    this.name = 'MulticastError';
  }
}

/** What status pages may show of a group. */
export interface MulticastGroupInfo {
  path: string;
  address: string;
  port: number;
  ttl: number;
  members: number;
  playing: number;
  sending: boolean;
  /** RTP packets the group has sent (the sum over its tracks, since it was made). */
  packets: number;
}

/** A sink that closes nothing: the group's sockets outlive each sending spell of its reader. */
function kept(s: RtpSink): RtpSink {
  return {
    kind: s.kind,
    sendRtp: (p) => s.sendRtp(p),
    sendRtcp: (p) => s.sendRtcp(p),
    get backlog() {
      return s.backlog;
    },
    close: () => undefined,
  };
}

export class MulticastGroups {
  readonly #o: MulticastGroupsOptions;
  readonly #groups = new Map<Stream, MulticastGroup>();
  /** Groups being opened, so two first SETUPs at once get the same one. */
  readonly #opening = new Map<Stream, Promise<MulticastGroup>>();
  /** Address and ports of groups whose sockets are opening. */
  readonly #claims = new Set<Claim>();

  constructor(opts: MulticastGroupsOptions) {
    this.#o = opts;
  }

  /** Why multicast is not offered at all now, or undefined when it is. */
  refusal(): string | undefined {
    return this.#o.settings().groups.length === 0 ? 'multicast delivery is turned off on this server (multicast.groups is empty)' : undefined;
  }

  /** A viewer's sink for `track` of `stream`: in the stream's group, made (address, ports,
   * sockets) for its first viewer. Throws MulticastError. */
  async join(stream: Stream, track: StreamTrack): Promise<MulticastMemberSink> {
    const index = stream.tracks.indexOf(track);
    if (index < 0) throw new RangeError(`track ${track.id} is not a track of ${stream.path}`);
    let g = this.#groups.get(stream);
    if (!g) {
      let opening = this.#opening.get(stream);
      if (!opening) {
        opening = this.#open(stream).finally(() => this.#opening.delete(stream));
        this.#opening.set(stream, opening);
      }
      g = await opening;
    }
    return g.member(index);
  }

  /** The groups now. */
  list(): MulticastGroupInfo[] {
    return [...this.#groups.values()].map((g) => g.info());
  }

  /** Every group stops at once (shutdown). */
  close(): void {
    for (const g of [...this.#groups.values()]) g.release('server stopping');
  }

  async #open(stream: Stream): Promise<MulticastGroup> {
    const s = this.#o.settings();
    const tracks = stream.tracks.length;
    const claim = this.#allocate(s, tracks, stream.path);
    const { address, port } = claim;
    const target: UdpForwardTarget = { host: address, port, ttl: s.ttl, iface: s.interface || undefined };
    // Claimed while the sockets open, so a group opened meanwhile for another stream takes others.
    this.#claims.add(claim);
    let sinks: RtpSink[];
    try {
      sinks = await (this.#o.open ?? openUdpForward)(target, tracks);
    } catch (e) {
      throw new MulticastError(`cannot send to multicast group ${address}: ${(e as Error).message}`, 'send');
    } finally {
      this.#claims.delete(claim);
    }
    const g = new MulticastGroup({
      stream,
      address,
      port,
      ttl: s.ttl,
      sinks,
      owner: this.#o,
      released: () => this.#groups.delete(stream),
    });
    if (stream.state === 'ended') {
      g.release('broadcast ended');
      throw new MulticastError(`broadcast '${stream.path}' ended`, 'send');
    }
    this.#groups.set(stream, g);
    this.#o.log.info({ path: stream.path, group: address, port, ttl: s.ttl, tracks }, `multicast group ${address} port ${port} given to ${stream.path}`);
    return g;
  }

  /** The first free address of the pool and the lowest block of 2 × `tracks` ports (from an
   * even one) that no other group, open or opening, uses. */
  #allocate(s: MulticastSettings, tracks: number, path: string): Claim {
    const claimed = [...this.#groups.values(), ...this.#claims];
    const used = new Set(claimed.map((g) => g.address));
    let address: string | undefined;
    for (const text of s.groups) {
      const r = parseMulticastRange(text);
      // At most `used.size` addresses of a range are taken: the search ends within that many.
      for (let i = 0; i < r.count && address === undefined; i++) {
        const a = ipv4Text(r.first + i);
        if (!used.has(a)) address = a;
      }
      if (address !== undefined) break;
    }
    if (address === undefined) throw new MulticastError(`no multicast group left for ${path}: all ${used.size} of multicast.groups are in use`, 'full');
    const span = 2 * tracks;
    const blocks = claimed.map((g) => [g.port, g.port + g.span] as const).sort((a, b) => a[0] - b[0]);
    let port = s.portMin + (s.portMin % 2);
    for (const [from, to] of blocks) {
      if (port + span <= from) break;
      if (to > port) port = to + (to % 2);
    }
    if (port + span - 1 > s.portMax) {
      throw new MulticastError(`no multicast ports left for ${path}: its ${tracks} track(s) need ${span} ports and multicast.portMin-portMax (${s.portMin}-${s.portMax}) is taken by ${claimed.length} group(s)`, 'full');
    }
    return { address, port, span };
  }
}

/** An address and a block of ports, from `port` for `span` ports. */
interface Claim {
  address: string;
  port: number;
  span: number;
}

interface GroupInit {
  stream: Stream;
  address: string;
  port: number;
  ttl: number;
  sinks: RtpSink[];
  owner: MulticastGroupsOptions;
  released: () => void;
}

/** One stream's group: its address and ports, its sockets, its members, and its sender while any
 * member plays. */
export class MulticastGroup {
  readonly stream: Stream;
  readonly address: string;
  readonly port: number;
  readonly ttl: number;
  /** Ports it holds from `port`: two per track. */
  readonly span: number;
  readonly #sinks: RtpSink[];
  readonly #o: MulticastGroupsOptions;
  readonly #released: () => void;
  readonly #members = new Set<MulticastMemberSink>();
  #reader: RelayReader | undefined;
  #srTimer: NodeJS.Timeout | undefined;
  #linger: NodeJS.Timeout | undefined;
  /** Packets sent by sending spells that have ended. */
  #packetsBefore = 0;
  #done = false;

  constructor(init: GroupInit) {
    this.stream = init.stream;
    this.address = init.address;
    this.port = init.port;
    this.ttl = init.ttl;
    this.span = 2 * init.stream.tracks.length;
    this.#sinks = init.sinks;
    this.#o = init.owner;
    this.#released = init.released;
  }

  get sending(): boolean {
    return this.#reader !== undefined;
  }

  get released(): boolean {
    return this.#done;
  }

  /** A new member's sink for the track at `index`. */
  member(index: number): MulticastMemberSink {
    if (this.#done) throw new MulticastError(`the multicast group of '${this.stream.path}' has stopped`, 'send');
    const m = new MulticastMemberSink(this, index);
    this.#members.add(m);
    return m;
  }

  /** The member that pays for track `index` in bandwidth: the first one playing it. */
  payer(index: number): MulticastMemberSink | undefined {
    for (const m of this.#members) if (m.index === index && m.playing) return m;
    return undefined;
  }

  info(): MulticastGroupInfo {
    let playing = 0;
    for (const m of this.#members) if (m.playing) playing++;
    const now = this.#reader?.stats().packets ?? 0;
    return { path: this.stream.path, address: this.address, port: this.port, ttl: this.ttl, members: this.#members.size, playing, sending: this.sending, packets: this.#packetsBefore + now };
  }

  /** A member left (its session closed or dropped the track). */
  leave(m: MulticastMemberSink): void {
    this.#members.delete(m);
    this.changed();
  }

  /** A member started, paused or left: sending starts with the first member playing, and stops
   * a linger after the last one stops; the address and ports are given back a linger after the
   * last member leaves (at once when the broadcast has ended). */
  changed(): void {
    if (this.#done) return;
    // Its viewers are closed by the stream and leave one by one; the last frees the group.
    if (this.stream.state === 'ended') {
      this.#stop('broadcast ended');
      if (this.#members.size === 0) this.release('broadcast ended');
      return;
    }
    let playing = false;
    for (const m of this.#members) playing ||= m.playing;
    if (playing) {
      if (this.#linger) clearTimeout(this.#linger);
      this.#linger = undefined;
      if (!this.#reader) this.#start();
      return;
    }
    if (!this.#reader && this.#members.size > 0) return;
    if (this.#linger) return;
    const linger = this.#o.settings().linger;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      this.#stop('no multicast viewer left');
      if (this.#members.size === 0) this.release('no multicast viewer left');
    }, linger * 1000);
    this.#linger.unref();
  }

  /** Stops sending and gives the address and ports back. Idempotent. */
  release(reason: string): void {
    if (this.#done) return;
    this.#stop(reason);
    this.#done = true;
    if (this.#linger) clearTimeout(this.#linger);
    for (const s of this.#sinks) s.close();
    this.#released();
    this.#o.log.info({ path: this.stream.path, group: this.address, port: this.port, reason, packets: this.#packetsBefore }, `multicast group ${this.address} port ${this.port} of ${this.stream.path} released: ${reason}`);
  }

  #start(): void {
    const reader = new RelayReader({
      stream: this.stream,
      sinks: this.#sinks.map(kept),
      protocol: 'rtsp-multicast',
      label: `multicast ${this.address}:${this.port}`,
      cname: this.#o.cname,
      queueLimit: this.#o.queueLimit(),
      // The broadcast ended under it.
      onClosed: () => {
        this.#ended(reader);
        this.changed();
      },
    });
    this.#reader = reader;
    reader.start();
    this.#srTimer = setInterval(() => reader.sendReports(), this.#o.rtcpInterval() * 1000);
    this.#srTimer.unref();
    this.#o.log.info({ path: this.stream.path, group: this.address, port: this.port }, `multicast group ${this.address} port ${this.port} sending ${this.stream.path}`);
  }

  #stop(reason: string): void {
    const r = this.#reader;
    if (!r) return;
    this.#ended(r);
    r.leave(reason);
  }

  #ended(r: RelayReader): void {
    if (this.#reader !== r) return;
    this.#packetsBefore += r.stats().packets;
    this.#reader = undefined;
    if (this.#srTimer) clearInterval(this.#srTimer);
    this.#srTimer = undefined;
  }
}

/** A multicast viewer's end of one track: the group sends, this only follows the viewer's state.
 * Its RTP output counts what was sent to the group while the viewer played; its sender reports
 * and BYE go nowhere (the group's own go to every member). */
export class MulticastMemberSink implements RtpSink {
  readonly kind = 'udp' as const;
  readonly backlog = 0;
  readonly nativeFd = -1;
  readonly group: MulticastGroup;
  /** The track's place in the stream: its ports are the group's port + 2 × index. */
  readonly index: number;
  #playing = false;
  #left = false;

  constructor(group: MulticastGroup, index: number) {
    this.group = group;
    this.index = index;
  }

  get address(): string {
    return this.group.address;
  }

  /** RTP port of this track (RTCP one above). */
  get port(): number {
    return this.group.port + 2 * this.index;
  }

  get ttl(): number {
    return this.group.ttl;
  }

  get playing(): boolean {
    return this.#playing;
  }

  /** Whether the group is sending already: a viewer starting now joins mid-stream (its first
   * packet is the track's next one, not the keyframe cache). */
  get sending(): boolean {
    return this.group.sending;
  }

  /** Whether this member's track counts in bandwidth: the group sends it once, so only its first
   * member playing it (or, before any plays, any member asking to) counts it. */
  get pays(): boolean {
    const p = this.group.payer(this.index);
    return p === undefined || p === this;
  }

  play(): void {
    if (this.#left || this.#playing) return;
    this.#playing = true;
    this.group.changed();
  }

  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    this.group.changed();
  }

  sendRtp(): void {}

  sendRtcp(): void {}

  /** The viewer left the group. Idempotent. */
  close(): void {
    if (this.#left) return;
    this.#left = true;
    this.#playing = false;
    this.group.leave(this);
  }
}
