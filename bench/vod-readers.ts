/** Many RTSP viewers for the VOD benchmark (bench/vod.ts), each at its own seek point, spread
 * over several reader processes so the reader is not what limits the figures.
 *
 * `runReaders(plan)` (in the benchmark's process) forks `plan.procs` workers (this file with
 * VOD_READERS_WORKER=1), gives each every procs-th session of one ramp (`plan.ramp` new sessions
 * per second over all groups), waits until the sessions play (or a cap passes), settles, then
 * measures a window: per session SETUP→PLAY time, PLAY response→first RTP packet, RTP sequence
 * gaps per SSRC, packets and bytes, and media time advanced (RTP timestamp span / the clock
 * rate of the SDP's rtpmap); the server's process tree CPU and RSS; the readers' own CPU and
 * event-loop utilisation. A session is starved when it received less than 95 % of its group's
 * bitrate or its media time advanced less than 95 % of the window.
 *
 * Per packet a worker reads only the 12-byte RTP header: TCP interleaved frames in place (a frame
 * split across reads costs a 16-byte copy, never a concat); UDP datagrams in C when the bench
 * addon is built (build/Release/rivulet_bench_recv.node, bench/native/udp-recv.c: its own
 * sockets drained with recvmmsg every 10 ms: ~2 µs per datagram, mostly the kernel's, against ~6 µs),
 * otherwise as dgram 'message' events. RIVULET_BENCH_UDP_RECV=dgram forces the dgram path. */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** One kind of viewer: `n` sessions of `url`. `durationS` set: a file, each session at its own
 * seek point that cannot reach the end before the run ends; unset: live, at npt=0. */
export interface ReaderGroup {
  name: string;
  url: string;
  n: number;
  /** Bits per second of the media data (for the starved test). */
  bitrate: number;
  durationS?: number;
}

export interface ReaderPlan {
  groups: ReaderGroup[];
  transport: 'udp' | 'tcp';
  /** Server processes (and their descendants) whose CPU and RSS are measured. */
  pids: number[];
  /** Reader processes (default 1). */
  procs?: number;
  /** New sessions per second over all groups (default 100). */
  ramp?: number;
  /** Seconds between the ramp and the window (default 5). */
  settleS?: number;
  /** Measurement window in seconds (default 15). */
  windowS?: number;
  /** Seconds after the planned end of the ramp that sessions still setting up are given before
   * the window starts without them (default 60). */
  setupCapS?: number;
  /** Seconds a file viewer keeps from the end of the file, on top of the run's time (default 5). */
  marginS?: number;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface GroupResult {
  requested: number;
  playing: number;
  failed: number;
  failures: Record<string, number>;
  setup_ms: Percentiles;
  first_packet_ms: Percentiles;
  starved: number;
  /** Starved sessions whose position reached the end of the file (the run outlasted the seek). */
  starved_at_end: number;
  no_packet: number;
  lost: number;
  /** Sequence gaps from each session's first packet to the window's end. */
  lost_all: number;
  /** Packets older than their track's last (from the first packet on). */
  reordered: number;
  sessions_with_loss: number;
  pkts: number;
  kbit_per_s_per_session: number;
  min_kbit_per_s: number | null;
  min_media_s: number | null;
  seek_s_max: number;
}

export interface ReaderRun {
  transport: string;
  procs: number;
  ramp_s: number;
  window_s: number;
  groups: Record<string, GroupResult>;
  server_cpu_pct: number | null;
  server_rss_MiB: number | null;
  server_threads: number | null;
  /** All reader processes together, % of one core. */
  reader_cpu_pct: number;
  /** The busiest reader process's event-loop utilisation (1 = saturated: the reader limits). */
  reader_elu_max: number;
  reader_rss_MiB: number;
  /** How the readers received UDP: 'native' (bench/native/udp-recv.c), 'dgram' (the addon is not
   * built, or RIVULET_BENCH_UDP_RECV=dgram), null over TCP. */
  udp_receiver: 'native' | 'dgram' | null;
  /** This host's UDP receive-buffer drops in the window and over the whole run (reader-side
   * drops, not the server's; counts every process on the host). */
  udp_rcvbuf_errors: number;
  udp_rcvbuf_errors_run: number;
}

interface SessionSpec {
  j: number;
  group: number;
  url: string;
  seek: number;
  /** Start time, ms after the ramp's t0. */
  at: number;
}

interface SessionResult {
  j: number;
  group: number;
  ok: boolean;
  reason?: string;
  setupMs?: number;
  firstPktMs?: number;
  pkts: number;
  bytes: number;
  lost: number;
  lostAll: number;
  /** Packets older than their track's last one (their gap was counted as lost). */
  reordered: number;
  mediaS: number;
  posS: number;
}

type ToWorker =
  | {
      type: 'plan';
      specs: SessionSpec[];
      t0: number;
      transport: 'udp' | 'tcp';
      portBase: number;
      portSpan: number;
    }
  | { type: 'snap0' }
  | { type: 'snap1' }
  | { type: 'stop' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'ramped' }
  | {
      type: 'result';
      sessions: SessionResult[];
      windowS: number;
      cpuPct: number;
      elu: number;
      rssMiB: number;
      udpReceiver: 'native' | 'dgram';
    }
  | { type: 'stopped' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100;

// ---------------------------------------------------------------- worker: the native UDP receiver

/** bench/native/udp-recv.c. */
export interface UdpRecvAddon {
  /** Binds 127.0.0.1:port and port+1 (non-blocking, SO_RCVBUF rcvbuf); the RTP socket counts into
   * `slot` of the stats drain gets. null when a port is in use. */
  bindPair(port: number, rcvbuf: number, slot: number): [number, number] | null;
  /** Reads every socket with data; returns the RTP packets counted. */
  drain(stats: Float64Array): number;
  close(fds: Int32Array): void;
  /** CLOCK_REALTIME in ms: the clock of S.firstAt. */
  now(): number;
  readonly STRIDE: number;
}

/** Per-slot fields of the native receiver's stats (the S_ enum of udp-recv.c). */
export const S = {
  pkts: 0,
  bytes: 1,
  lost: 2,
  ssrc: 3,
  lastSeq: 4,
  firstTs: 5,
  lastTs: 6,
  firstAt: 7,
  reordered: 8,
} as const;
const STRIDE = 9;

/** The addon, or undefined when it is not built (or RIVULET_BENCH_UDP_RECV=dgram). */
export function loadUdpRecv(): UdpRecvAddon | undefined {
  if (process.env.RIVULET_BENCH_UDP_RECV === 'dgram') return undefined;
  try {
    const a = createRequire(import.meta.url)('../build/Release/rivulet_bench_recv.node') as UdpRecvAddon;
    return a.STRIDE === STRIDE ? a : undefined;
  } catch {
    return undefined;
  }
}

/** Stats for the native receiver's sockets, one slot per RTP socket, drained every `pollMs`. */
export class NativeUdp {
  stats = new Float64Array(0);
  #slots = 0;
  #timer: NodeJS.Timeout | undefined;
  constructor(readonly addon: UdpRecvAddon) {}

  /** Slot `s`'s counters (a view: it follows the stats until they grow), indexed by `S`. */
  statsOf(s: number): Float64Array {
    return this.stats.subarray(s * STRIDE, (s + 1) * STRIDE);
  }

  /** A new slot, its sequence state unset. */
  slot(): number {
    const s = this.#slots++;
    if ((s + 1) * STRIDE > this.stats.length) {
      const grown = new Float64Array(Math.max(64, 2 * this.#slots) * STRIDE);
      grown.set(this.stats);
      this.stats = grown;
    }
    this.stats.fill(0, s * STRIDE, (s + 1) * STRIDE);
    for (const k of [S.ssrc, S.firstTs, S.firstAt]) this.stats[s * STRIDE + k] = -1;
    return s;
  }

  /** Binds an even/odd UDP pair from `next()` onwards, skipping ports in use. */
  bindPair(next: () => number, rcvbuf: number, slot: number): [number, number, number] {
    for (let tries = 0; tries < 2000; tries++) {
      const p = next();
      const fds = this.addon.bindPair(p, rcvbuf, slot);
      if (fds) return [p, ...fds];
    }
    throw new Error('no free UDP port pair');
  }

  drain(): void {
    this.addon.drain(this.stats);
  }

  start(pollMs = 10): void {
    this.#timer ??= setInterval(() => this.drain(), pollMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** ms to subtract from S.firstAt (realtime) to get performance.now() time. */
  clockOffset(): number {
    return this.addon.now() - performance.now();
  }
}

// ---------------------------------------------------------------- worker: the sessions

class Track {
  pkts = 0;
  bytes = 0;
  lost = 0;
  reordered = 0;
  ssrc = -1;
  lastSeq = -1;
  firstTs = -1;
  lastTs = 0;
  /** RTP timestamp at the window's start; -2 before it, -1 until the first packet inside it. */
  winTs = -2;
  snap = { pkts: 0, bytes: 0, lost: 0 };
  /** The native receiver's slot, -1 over dgram or TCP. */
  slot = -1;
  /** First packet's arrival, performance.now() time (native receiver: from the kernel's stamp). */
  firstAt = -1;
  constructor(readonly clock: number) {}

  /** Takes the native receiver's counters; `off` from NativeUdp.clockOffset(). */
  sync(st: Float64Array, off: number): void {
    const o = this.slot * STRIDE;
    this.pkts = st[o + S.pkts];
    this.bytes = st[o + S.bytes];
    this.lost = st[o + S.lost];
    this.reordered = st[o + S.reordered];
    this.firstTs = st[o + S.firstTs];
    this.lastTs = st[o + S.lastTs];
    if (st[o + S.firstAt] >= 0) this.firstAt = st[o + S.firstAt] - off;
    // No packet at the window's start (snap0): its first packet is the window's first.
    if (this.winTs === -1 && this.pkts > 0) this.winTs = this.firstTs;
  }

  onRtp(b: Buffer, off: number, len: number): void {
    if (len < 12 || b[off] >> 6 !== 2) return;
    this.pkts++;
    this.bytes += len;
    if (this.firstAt < 0) this.firstAt = performance.now();
    const seq = (b[off + 2] << 8) | b[off + 3];
    const ts = b.readUInt32BE(off + 4);
    const ssrc = b.readUInt32BE(off + 8);
    if (this.winTs === -1) this.winTs = ts;
    if (this.firstTs < 0) this.firstTs = ts;
    this.lastTs = ts;
    if (ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.lastSeq = seq;
      return;
    }
    const d = (seq - this.lastSeq) & 0xffff;
    if (d === 0) return; // duplicate
    if (d > 0x8000) {
      this.reordered++; // its gap was counted as lost
      return;
    }
    this.lost += d - 1;
    this.lastSeq = seq;
  }

  /** Seconds of media between `from` and the last timestamp (0 when it went backwards). */
  span(from: number): number {
    if (from < 0 || this.clock <= 0) return 0;
    const d = (this.lastTs - from) >>> 0;
    return d > 0x80000000 ? 0 : d / this.clock;
  }
}

interface Response {
  /** performance.now() when the response was parsed (before any RTP after it in the same read). */
  at: number;
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface SdpMedia {
  type: string;
  control: string;
  clock: number;
}

/** The media of an SDP with each one's control URL (resolved against `base`) and RTP clock rate. */
function parseSdp(sdp: string, base: string): SdpMedia[] {
  const out: SdpMedia[] = [];
  let cur: (SdpMedia & { pt: string }) | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const f = line.slice(2).split(' ');
      cur = { type: f[0], control: '', clock: 0, pt: f[3] ?? '' };
      out.push(cur);
    } else if (cur && line.startsWith('a=control:')) cur.control = line.slice(10).trim();
    else if (cur && line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+) [^/]+\/(\d+)/.exec(line);
      if (m && m[1] === cur.pt) cur.clock = Number(m[2]);
    }
  }
  for (const m of out)
    if (!/^rtsp:\/\//i.test(m.control))
      m.control = base.endsWith('/') ? base + m.control : `${base}/${m.control}`;
  return out.map(({ type, control, clock }) => ({ type, control, clock }));
}

/** Binds `s` to 127.0.0.1:`port`; later errors (none expected on a bound socket) are ignored. */
function bind(s: dgram.Socket, port: number): Promise<void> {
  return new Promise((res, rej) => {
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => {
      s.off('error', rej).on('error', () => {});
      res();
    });
  });
}

/** Binds an even/odd UDP pair from `next()` onwards, skipping ports in use. */
async function bindPair(next: () => number, rcvbuf: number): Promise<[number, dgram.Socket, dgram.Socket]> {
  for (let tries = 0; tries < 2000; tries++) {
    const p = next();
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    try {
      await bind(a, p);
      await bind(b, p + 1);
      try {
        a.setRecvBufferSize(rcvbuf);
      } catch {
        // Capped by net.core.rmem_max: the default stands.
      }
      return [p, a, b];
    } catch {
      a.close();
      b.close();
    }
  }
  throw new Error('no free UDP port pair');
}

class Session {
  playAt = -1;
  setupMs: number | undefined;
  tracks: Track[] = [];
  state: 'init' | 'playing' | 'failed' | 'closing' = 'init';
  reason: string | undefined;
  /** Not playing when the window started: its window figures would be partial. */
  late = false;
  #sock: net.Socket | undefined;
  #udp: dgram.Socket[] = [];
  #fds: number[] = [];
  #cseq = 0;
  #waiters = new Map<number, { res: (r: Response) => void; rej: (e: Error) => void }>();
  #session = '';
  #base = '';
  #keepalive: NodeJS.Timeout | undefined;
  // TCP stream state: bytes of a frame still to skip, a split frame header, a partial RTSP message.
  #skip = 0;
  #hdr = Buffer.alloc(16);
  #hfill = 0;
  #need = 16;
  #text: Buffer | undefined;

  constructor(
    readonly spec: SessionSpec,
    readonly transport: 'udp' | 'tcp',
    readonly nextPort: () => number,
    readonly native?: NativeUdp,
  ) {}

  /** The first packet's arrival over all tracks (performance.now() time), -1 before it. */
  get firstAt(): number {
    const ts = this.tracks.filter((t) => t.firstAt >= 0).map((t) => t.firstAt);
    return ts.length ? Math.min(...ts) : -1;
  }

  async start(): Promise<void> {
    const u = new URL(this.spec.url);
    const sock = net.connect({ host: u.hostname, port: Number(u.port || 554) });
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.#onData(d));
    sock.on('error', (e) => this.#fail(e.message));
    sock.on('close', () => this.#fail('connection closed'));
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    const d = await this.#req('DESCRIBE', this.spec.url, { Accept: 'application/sdp' });
    if (d.status !== 200) throw new Error(`DESCRIBE ${d.status}`);
    this.#base = d.headers['content-base'] ?? this.spec.url;
    const medias = parseSdp(d.body, this.#base);
    let t0 = -1;
    for (const [i, m] of medias.entries()) {
      const tr = new Track(m.clock);
      this.tracks.push(tr);
      let transport = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
      if (this.transport === 'udp' && this.native) {
        tr.slot = this.native.slot();
        const [p, rtp, rtcp] = this.native.bindPair(this.nextPort, 262144, tr.slot);
        this.#fds.push(rtp, rtcp);
        transport = `RTP/AVP;unicast;client_port=${p}-${p + 1}`;
      } else if (this.transport === 'udp') {
        const [p, rtp, rtcp] = await bindPair(this.nextPort, 262144);
        this.#udp.push(rtp, rtcp);
        rtp.on('message', (b: Buffer) => tr.onRtp(b, 0, b.length));
        transport = `RTP/AVP;unicast;client_port=${p}-${p + 1}`;
      }
      if (t0 < 0) t0 = performance.now();
      const r = await this.#req(
        'SETUP',
        m.control,
        this.#session ? { Transport: transport, Session: this.#session } : { Transport: transport },
      );
      if (r.status !== 200) throw new Error(`SETUP ${r.status}`);
      if (!this.#session) this.#session = (r.headers.session ?? '').split(';')[0].trim();
    }
    const range = `npt=${this.spec.seek.toFixed(3)}-`;
    const p = await this.#req('PLAY', this.#base, { Session: this.#session, Range: range });
    if (p.status !== 200) throw new Error(`PLAY ${p.status}`);
    this.playAt = p.at;
    this.setupMs = this.playAt - t0;
    this.state = 'playing';
    // Rivulet's and gst's session timeout is 60 s; a GET_PARAMETER every 20 s keeps it.
    this.#keepalive = setInterval(
      () => void this.#req('GET_PARAMETER', this.#base, { Session: this.#session }).catch(() => {}),
      20_000,
    );
  }

  #req(method: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
    const cseq = ++this.#cseq;
    let s = `${method} ${url} RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: rivulet-bench-vod\r\n`;
    for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
    return new Promise((res, rej) => {
      if (!this.#sock || this.#sock.destroyed) return rej(new Error(this.reason ?? 'connection closed'));
      this.#waiters.set(cseq, { res, rej });
      this.#sock.write(`${s}\r\n`);
    });
  }

  #fail(reason: string): void {
    if (this.state === 'closing') return;
    this.reason ??= reason;
    if (this.state === 'playing') this.state = 'failed';
    for (const w of this.#waiters.values()) w.rej(new Error(reason));
    this.#waiters.clear();
  }

  /** RTSP responses and interleaved frames; RTP frames are counted where they lie in `c`. */
  #onData(chunk: Buffer): void {
    let c = chunk;
    if (this.#text) {
      c = Buffer.concat([this.#text, chunk]); // an RTSP message split across reads: rare
      this.#text = undefined;
    }
    const end = c.length;
    let o = 0;
    while (o < end) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, end - o);
        this.#skip -= k;
        o += k;
      } else if (this.#hfill === 0 && c[o] === 0x24 && end - o >= 16) {
        const len = c.readUInt16BE(o + 2);
        if ((c[o + 1] & 1) === 0) this.tracks[c[o + 1] >> 1]?.onRtp(c, o + 4, len);
        const next = o + 4 + len;
        if (next > end) this.#skip = next - end;
        o = Math.min(next, end);
      } else if (this.#hfill > 0 || c[o] === 0x24) {
        // A frame header split across reads: gather '$', channel, length and 12 RTP bytes.
        while (o < end && (this.#hfill < 4 || this.#hfill < this.#need)) {
          this.#hdr[this.#hfill++] = c[o++];
          if (this.#hfill === 4) this.#need = 4 + Math.min(12, this.#hdr.readUInt16BE(2));
        }
        if (this.#hfill < 4 || this.#hfill < this.#need) return;
        const len = this.#hdr.readUInt16BE(2);
        if ((this.#hdr[1] & 1) === 0) this.tracks[this.#hdr[1] >> 1]?.onRtp(this.#hdr, 4, len);
        this.#skip = len - (this.#need - 4);
        this.#hfill = 0;
        this.#need = 16;
      } else {
        const used = this.#message(c.subarray(o));
        if (used < 0) {
          if (end - o > 65536) {
            this.#fail('unparsable data from the server');
            this.#sock?.destroy();
          } else this.#text = c.subarray(o);
          return;
        }
        o += used;
      }
    }
  }

  /** Handles one RTSP message at the start of `b`: the bytes it took, -1 when incomplete. */
  #message(b: Buffer): number {
    const he = b.indexOf('\r\n\r\n');
    if (he < 0) return -1;
    const lines = b.toString('latin1', 0, he).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const size = he + 4 + Number(headers['content-length'] ?? 0);
    if (b.length < size) return -1;
    const m = /^RTSP\/1\.0 (\d+)/.exec(lines[0]);
    const w = m ? this.#waiters.get(Number(headers.cseq)) : undefined;
    if (m && w) {
      this.#waiters.delete(Number(headers.cseq));
      w.res({ at: performance.now(), status: Number(m[1]), headers, body: b.toString('utf8', he + 4, size) });
    }
    return size;
  }

  /** Takes the native receiver's counters into the tracks (no-op over dgram or TCP). */
  sync(st: Float64Array, off: number): void {
    for (const t of this.tracks) if (t.slot >= 0) t.sync(st, off);
  }

  snap0(): void {
    this.late = this.state !== 'playing';
    for (const t of this.tracks) {
      t.snap = { pkts: t.pkts, bytes: t.bytes, lost: t.lost };
      t.winTs = t.pkts ? t.lastTs : -1;
    }
  }

  result(): SessionResult {
    let pkts = 0;
    let bytes = 0;
    let lost = 0;
    let lostAll = 0;
    let reordered = 0;
    for (const t of this.tracks) {
      reordered += t.reordered;
      pkts += t.pkts - t.snap.pkts;
      bytes += t.bytes - t.snap.bytes;
      lost += t.lost - t.snap.lost;
      lostAll += t.lost;
    }
    // The slowest track: a session whose audio stalls is starved however its video does.
    const mediaS = this.tracks.length ? Math.min(...this.tracks.map((t) => t.span(t.winTs))) : 0;
    const posS = this.spec.seek + Math.max(0, ...this.tracks.map((t) => t.span(t.firstTs)));
    const ok = this.state === 'playing' && !this.late;
    return {
      j: this.spec.j,
      group: this.spec.group,
      ok,
      ...(ok
        ? {}
        : {
            reason:
              this.late && this.state !== 'failed'
                ? 'not playing at the window start'
                : (this.reason ?? 'failed'),
          }),
      setupMs: this.setupMs,
      firstPktMs: this.firstAt >= 0 && this.playAt >= 0 ? Math.max(0, this.firstAt - this.playAt) : undefined,
      pkts,
      bytes,
      lost,
      lostAll,
      reordered,
      mediaS,
      posS,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.#keepalive);
    if (this.state === 'playing')
      await Promise.race([
        this.#req('TEARDOWN', this.#base, { Session: this.#session }).catch(() => {}),
        sleep(2000),
      ]);
    this.state = 'closing';
    this.#sock?.destroy();
    for (const s of this.#udp) s.close();
    if (this.#fds.length) this.native?.addon.close(Int32Array.from(this.#fds));
    this.#fds = [];
  }
}

async function worker(): Promise<void> {
  const send = (m: FromWorker) => process.send!(m);
  const sessions: Session[] = [];
  let w0 = 0;
  let c0 = process.cpuUsage();
  let e0 = performance.eventLoopUtilization();
  const addon = loadUdpRecv();
  const native = addon ? new NativeUdp(addon) : undefined;
  /** Brings the native receiver's counters into the sessions. */
  const sync = () => {
    if (!native) return;
    native.drain();
    const off = native.clockOffset();
    for (const s of sessions) s.sync(native.stats, off);
  };
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'plan') {
      let port = msg.portBase;
      const nextPort = () => {
        const p = port;
        port += 2;
        if (port >= msg.portBase + msg.portSpan) port = msg.portBase;
        return p;
      };
      if (msg.transport === 'udp') native?.start();
      void (async () => {
        const starts: Promise<void>[] = [];
        for (const spec of msg.specs) {
          const wait = msg.t0 + spec.at - Date.now();
          if (wait > 0) await sleep(wait);
          const s = new Session(spec, msg.transport, nextPort, native);
          sessions.push(s);
          starts.push(
            s.start().catch((e: unknown) => {
              s.state = 'failed';
              s.reason ??= e instanceof Error ? e.message : String(e);
            }),
          );
        }
        await Promise.all(starts);
        send({ type: 'ramped' });
      })();
    } else if (msg.type === 'snap0') {
      sync();
      for (const s of sessions) s.snap0();
      w0 = performance.now();
      c0 = process.cpuUsage();
      e0 = performance.eventLoopUtilization();
    } else if (msg.type === 'snap1') {
      sync();
      const secs = (performance.now() - w0) / 1000;
      const c = process.cpuUsage(c0);
      const elu = performance.eventLoopUtilization(e0).utilization;
      send({
        type: 'result',
        sessions: sessions.map((s) => s.result()),
        windowS: secs,
        cpuPct: (100 * (c.user + c.system)) / 1e6 / secs,
        elu,
        rssMiB: process.memoryUsage().rss / 1048576,
        udpReceiver: native ? 'native' : 'dgram',
      });
    } else {
      native?.stop();
      void Promise.all(sessions.map((s) => s.stop())).then(() => {
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 100);
      });
    }
  });
  // The benchmark went away: so do its sessions.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

// ---------------------------------------------------------------- coordinator

/** The pids of `pid` and its descendants (a server may run workers in child processes). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        out.push(
          ...readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8')
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map(Number),
        );
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return out;
}

/** CPU ticks (all threads), RSS in KiB and threads of `pids` and their descendants. */
export function treeStat(pids: number[]): { ticks: number; rssKiB: number; threads: number } {
  const acc = { ticks: 0, rssKiB: 0, threads: 0 };
  for (const pid of pids.flatMap(tree)) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      acc.ticks += Number(f[11]) + Number(f[12]);
      acc.rssKiB += Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0);
      acc.threads += Number(/Threads:\s+(\d+)/.exec(st)?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return acc;
}

function udpRcvbufErrors(): number {
  const t = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const k = t[0].split(/\s+/);
  return Number(t[1].split(/\s+/)[k.indexOf('RcvbufErrors')] ?? 0);
}

function percentiles(xs: number[]): Percentiles {
  if (!xs.length) return { p50: null, p95: null, max: null };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => +s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1);
  return { p50: at(0.5), p95: at(0.95), max: +s[s.length - 1].toFixed(1) };
}

/** The sessions of one ramp over all groups, interleaved in proportion, each file viewer at a seek
 * point (golden-ratio spread) it cannot play to the end from before the run ends. */
export function sessionSpecs(plan: ReaderPlan): SessionSpec[] {
  const ramp = plan.ramp ?? 100;
  const total = plan.groups.reduce((a, g) => a + g.n, 0);
  const tail = (plan.settleS ?? 5) + (plan.windowS ?? 15) + (plan.marginS ?? 5);
  const taken = plan.groups.map(() => 0);
  const specs: SessionSpec[] = [];
  for (let j = 0; j < total; j++) {
    // The group furthest behind its share so far.
    let g = 0;
    let best = Infinity;
    plan.groups.forEach((gr, i) => {
      const share = taken[i] / gr.n;
      if (taken[i] < gr.n && share < best) [g, best] = [i, share];
    });
    const gr = plan.groups[g];
    const k = taken[g]++;
    const max = gr.durationS === undefined ? 0 : Math.max(0, gr.durationS - ((total - j) / ramp + tail));
    specs.push({
      j,
      group: g,
      url: gr.url,
      seek: +((((k + 1) * 0.6180339887) % 1) * max).toFixed(3),
      at: (j * 1000) / ramp,
    });
  }
  return specs;
}

function summarize(g: ReaderGroup, specs: SessionSpec[], res: SessionResult[], windowS: number): GroupResult {
  const failures: Record<string, number> = {};
  const playing = res.filter((r) => r.ok);
  for (const r of res) if (!r.ok) failures[r.reason!] = (failures[r.reason!] ?? 0) + 1;
  const starved = playing.filter(
    (r) => (r.bytes * 8) / windowS < 0.95 * g.bitrate || r.mediaS < 0.95 * windowS,
  );
  const kbps = playing.map((r) => (r.bytes * 8) / windowS / 1000);
  return {
    requested: g.n,
    playing: playing.length,
    failed: res.length - playing.length,
    failures,
    setup_ms: percentiles(res.flatMap((r) => (r.setupMs === undefined ? [] : [r.setupMs]))),
    first_packet_ms: percentiles(res.flatMap((r) => (r.firstPktMs === undefined ? [] : [r.firstPktMs]))),
    starved: starved.length,
    starved_at_end: g.durationS === undefined ? 0 : starved.filter((r) => r.posS >= g.durationS! - 1).length,
    no_packet: playing.filter((r) => r.pkts === 0).length,
    lost: res.reduce((a, r) => a + r.lost, 0),
    lost_all: res.reduce((a, r) => a + r.lostAll, 0),
    reordered: res.reduce((a, r) => a + r.reordered, 0),
    sessions_with_loss: res.filter((r) => r.lost > 0).length,
    pkts: res.reduce((a, r) => a + r.pkts, 0),
    kbit_per_s_per_session: kbps.length ? Math.round(kbps.reduce((a, b) => a + b, 0) / kbps.length) : 0,
    min_kbit_per_s: kbps.length ? Math.round(Math.min(...kbps)) : null,
    min_media_s: playing.length ? +Math.min(...playing.map((r) => r.mediaS)).toFixed(2) : null,
    seek_s_max: Math.max(0, ...specs.map((s) => s.seek)),
  };
}

/** Runs the plan; rejects when a reader process dies or `limitMs` passes first. */
export async function runReaders(plan: ReaderPlan, limitMs = Infinity): Promise<ReaderRun> {
  const procs = Math.max(1, plan.procs ?? 1);
  const ramp = plan.ramp ?? 100;
  const specs = sessionSpecs(plan);
  const kids: ChildProcess[] = [];
  const inbox = new Map<ChildProcess, FromWorker[]>();
  let died: string | undefined;
  const started = Date.now();
  /** Waits until every worker has sent a message of `type` (or the cap passes); true if all did. */
  const gather = async (type: FromWorker['type'], capMs = Infinity): Promise<boolean> => {
    const until = Math.min(Date.now() + capMs, started + limitMs);
    for (;;) {
      if (died) throw new Error(died);
      if (kids.every((k) => inbox.get(k)!.some((m) => m.type === type))) return true;
      if (Date.now() >= until) {
        if (Date.now() >= started + limitMs)
          throw new Error(`no result within ${Math.round(limitMs / 1000)} s`);
        return false;
      }
      await sleep(50);
    }
  };
  const tell = (m: ToWorker) => {
    for (const k of kids) k.send(m);
  };
  try {
    const span = Math.floor(40000 / procs / 2) * 2;
    for (let i = 0; i < procs; i++) {
      const k = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, VOD_READERS_WORKER: '1' },
        execArgv: ['--import', 'tsx'],
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      kids.push(k);
      inbox.set(k, []);
      k.on('message', (m: FromWorker) => inbox.get(k)!.push(m));
      k.on('exit', (code, sig) => {
        if (!inbox.get(k)!.some((m) => m.type === 'stopped'))
          died ??= `reader process exited (${code ?? sig})`;
      });
    }
    await gather('ready', 30_000);
    const uStart = udpRcvbufErrors();
    const t0 = Date.now() + 200;
    kids.forEach((k, i) =>
      k.send({
        type: 'plan',
        specs: specs.filter((s) => s.j % procs === i),
        t0,
        transport: plan.transport,
        portBase: 20000 + i * span,
        portSpan: span,
      } satisfies ToWorker),
    );
    const rampMs = (specs.length * 1000) / ramp;
    await gather('ramped', rampMs + (plan.setupCapS ?? 60) * 1000 + 200);
    const rampS = (Date.now() - t0) / 1000;
    await sleep((plan.settleS ?? 5) * 1000);
    tell({ type: 'snap0' });
    const s0 = treeStat(plan.pids);
    const u0 = udpRcvbufErrors();
    const w0 = performance.now();
    let rssMax = s0.rssKiB;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, treeStat(plan.pids).rssKiB)), 1000);
    await sleep((plan.windowS ?? 15) * 1000);
    clearInterval(rssTimer);
    tell({ type: 'snap1' });
    const s1 = treeStat(plan.pids);
    const secs = (performance.now() - w0) / 1000;
    const u1 = udpRcvbufErrors();
    await gather('result', 60_000);
    type Result = Extract<FromWorker, { type: 'result' }>;
    const results = kids.map((k) => inbox.get(k)!.find((m): m is Result => m.type === 'result')!);
    tell({ type: 'stop' });
    await gather('stopped', 15_000);
    const all = results.flatMap((r) => r.sessions);
    const udpReceiver =
      plan.transport === 'udp'
        ? results.every((r) => r.udpReceiver === 'native')
          ? 'native'
          : 'dgram'
        : null;
    if (udpReceiver === 'dgram')
      console.log(
        'reader: UDP received with node:dgram (~6 µs per datagram); build the bench addon (node-gyp) for the native receiver',
      );
    const windowS = results.reduce((a, r) => a + r.windowS, 0) / results.length;
    const groups: Record<string, GroupResult> = {};
    plan.groups.forEach((g, i) => {
      groups[g.name] = summarize(
        g,
        specs.filter((s) => s.group === i),
        all.filter((r) => r.group === i),
        windowS,
      );
    });
    return {
      transport: plan.transport,
      procs,
      ramp_s: +rampS.toFixed(1),
      window_s: +secs.toFixed(1),
      groups,
      server_cpu_pct: plan.pids.length ? +((100 * (s1.ticks - s0.ticks)) / CLK_TCK / secs).toFixed(1) : null,
      server_rss_MiB: plan.pids.length ? +(Math.max(rssMax, s1.rssKiB) / 1024).toFixed(1) : null,
      server_threads: plan.pids.length ? s1.threads : null,
      reader_cpu_pct: +results.reduce((a, r) => a + r.cpuPct, 0).toFixed(1),
      reader_elu_max: +Math.max(...results.map((r) => r.elu)).toFixed(2),
      reader_rss_MiB: +results.reduce((a, r) => a + r.rssMiB, 0).toFixed(1),
      udp_receiver: udpReceiver,
      udp_rcvbuf_errors: u1 - u0,
      udp_rcvbuf_errors_run: udpRcvbufErrors() - uStart,
    };
  } finally {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
  }
}

if (process.env.VOD_READERS_WORKER === '1' && process.send) void worker();
