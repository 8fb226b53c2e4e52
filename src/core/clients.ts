/** Who is connected, whatever protocol they speak: the admin's Connected Users, the metrics and
 * the access log read clients here. A protocol adapter adds an entry when a client session
 * begins (an RTSP viewer or publisher, an HTTP tunnel, an ICY listener, a relay leg) and ends it
 * with its final record; the directory hands that record to `ended` (the composition root emits
 * it as the core event 'client.ended', which the access log writes). Entries are bounded by the sessions the adapters admit (limits.*), and the
 * directory refuses to grow past `MAX_CLIENTS` all the same. */

/** What kind of client a row of Connected Users is. */
export type ClientKind = 'rtsp-file' | 'rtsp-live' | 'publisher' | 'http-tunnel' | 'relay' | 'icy' | 'http';

/** What a client is, fixed when it arrives (and the few things learnt later, set on the entry). */
export interface ClientInfo {
  kind: ClientKind;
  /** `rtsp`, `rtsps`, `http`, `icy`, ... */
  protocol: string;
  /** The client's IP address (no port). */
  address: string;
  /** The URL as the client named it, without credentials. */
  url: string;
  /** The path it reads or feeds (a stream key or a file below the media folder). */
  path: string;
  /** `UDP`, `TCP` (interleaved or plain), `HTTP`, `TLS` ..., as the access log's `transport`. */
  transport: string;
  userAgent?: string;
  /** The user it signed in as. */
  user?: string;
}

/** A client's figures now. */
export interface ClientFigures {
  /** Media bytes sent to it (RTP payload and headers for RTP clients). */
  bytesSent: number;
  packetsSent: number;
  /** Bytes it sent us (RTCP, or media for a publisher). */
  bytesReceived: number;
  /** Packets its reports say it lost (RTCP), or we missed from it. */
  packetsLost: number;
  /** Interarrival jitter its reports give, in ms (the worst of its tracks), when it reported. */
  jitter?: number;
  /** RTP packets it said it received (RTCP), or that we received from it (a publisher, a relay
   * source), when known. */
  packetsReceived?: number;
  /** Packets sent to it again at its request (retransmission: RTX answering its NACKs, or
   * QuickTime's reliable UDP), when it asked for retransmission. */
  packetsResent?: number;
}

/** Kinds that feed the server rather than read from it: what they carry is what they send us. */
const SOURCE_KINDS: ReadonlySet<ClientKind> = new Set(['publisher']);

/** The bytes a client carries, for its bit rate: what it is sent, or for a publisher (and a relay
 * leg that only receives, a pull) what it sends us. */
export function bytesCarried(kind: ClientKind, f: ClientFigures): number {
  if (SOURCE_KINDS.has(kind)) return f.bytesReceived;
  if (kind === 'relay') return f.bytesSent + f.bytesReceived;
  return f.bytesSent;
}

/** % of packets lost (0–100): of those sent to it, or for a client that sends us media of those
 * it sent (received + lost). */
export function lossPercent(f: ClientFigures): number {
  const base = f.packetsSent > 0 ? f.packetsSent : (f.packetsReceived ?? 0) + f.packetsLost;
  return base > 0 ? Math.min(100, (100 * Math.max(0, f.packetsLost)) / base) : 0;
}

/** What an adapter registers. */
export interface ClientHandle extends ClientInfo {
  figures(): ClientFigures;
  /** Disconnect it (admin): the adapter ends the session the way its protocol says goodbye. */
  close(reason: string): void;
}

/** One line of the access log: what a session did, at its end (or a 401/403 refusal). Times
 * are Unix ms. Counters are the session's totals. */
export interface ClientRecord extends ClientInfo, ClientFigures {
  /** The last status the client was given (200, 401, 403, 404, 453...). */
  status: number;
  startedAt: number;
  endedAt: number;
  /** Seconds into the presentation where play started (the access log's c-starttime). */
  playStart: number;
  /** Length of the file in seconds (0 for live). */
  fileLength: number;
  /** Bytes of the file (0 for live). */
  fileSize: number;
  audioCodec?: string;
  videoCodec?: string;
  /** The query part of the URL. */
  query?: string;
  realm?: string;
  /** Why it ended. */
  reason: string;
}

/** A client as Connected Users lists it. */
export interface ClientRow extends ClientInfo, ClientFigures {
  id: string;
  startedAt: number;
  /** kbit/s over the last sampling interval. */
  bitrateKbps: number;
  /** % of packets lost (0–100). */
  lossPercent: number;
}

/** A bound on what the network can make the directory hold. */
export const MAX_CLIENTS = 200_000;

interface Entry {
  id: string;
  startedAt: number;
  handle: ClientHandle;
  /** Bytes sent at the last sample and when, for the bit rate. */
  sampleBytes: number;
  sampleAt: number;
  bitrateKbps: number;
}

export class ClientDirectory {
  readonly #entries = new Map<string, Entry>();
  readonly #ended: (r: ClientRecord) => void;
  #next = 1;
  /** Connections ever added, for the Snapshot's total connections. */
  #total = 0;
  /** Bytes sent by clients that ended, so totals survive them. */
  #bytesEnded = 0;

  constructor(opts: { ended?: (r: ClientRecord) => void } = {}) {
    this.#ended = opts.ended ?? (() => {});
  }

  /** Registers a client; returns its id, or undefined when the directory is full (the adapter
   * still serves it, it is just not listed). */
  add(handle: ClientHandle): string | undefined {
    if (this.#entries.size >= MAX_CLIENTS) return undefined;
    const id = String(this.#next++);
    const now = Date.now();
    this.#entries.set(id, { id, startedAt: now, handle, sampleBytes: 0, sampleAt: now, bitrateKbps: 0 });
    this.#total++;
    return id;
  }

  /** The client left: drops it and hands its record to `ended` (the access log). `record` may be undefined for a client that should leave no line. */
  end(id: string | undefined, record?: ClientRecord): void {
    const e = id === undefined ? undefined : this.#entries.get(id);
    if (e) {
      this.#entries.delete(id!);
      this.#bytesEnded += e.handle.figures().bytesSent;
    }
    if (record) this.#ended(record);
  }

  /** A refusal that leaves an access-log line but never was a client (a 401 or 403). */
  refused(record: ClientRecord): void {
    this.#ended(record);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Clients ever added since the server started. */
  get totalConnections(): number {
    return this.#total;
  }

  /** Bytes sent to every client since the server started, those still connected included. */
  get totalBytesSent(): number {
    let n = this.#bytesEnded;
    for (const e of this.#entries.values()) n += e.handle.figures().bytesSent;
    return n;
  }

  /** Updates each client's bit rate from the bytes sent since the last call; the owner calls it
   * every few seconds. */
  sample(now = Date.now()): void {
    for (const e of this.#entries.values()) {
      const bytes = bytesCarried(e.handle.kind, e.handle.figures());
      const dt = now - e.sampleAt;
      if (dt <= 0) continue;
      e.bitrateKbps = ((bytes - e.sampleBytes) * 8) / dt;
      e.sampleBytes = bytes;
      e.sampleAt = now;
    }
  }

  list(): ClientRow[] {
    return [...this.#entries.values()].map((e) => this.#row(e));
  }

  get(id: string): ClientRow | undefined {
    const e = this.#entries.get(id);
    return e && this.#row(e);
  }

  /** Disconnects a client; false when there is none by that id. */
  disconnect(id: string, reason = 'disconnected by the administrator'): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    e.handle.close(reason);
    return true;
  }

  #row(e: Entry): ClientRow {
    const h = e.handle;
    const f = h.figures();
    return {
      id: e.id,
      kind: h.kind,
      protocol: h.protocol,
      address: h.address,
      url: h.url,
      path: h.path,
      transport: h.transport,
      userAgent: h.userAgent,
      user: h.user,
      startedAt: e.startedAt,
      ...f,
      bitrateKbps: Math.round(e.bitrateKbps),
      lossPercent: lossPercent(f),
    };
  }
}
