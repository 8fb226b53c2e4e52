/** Many ICY listeners for the radio benchmark (bench/radio-listeners.ts): plain HTTP clients
 * (`GET /mount HTTP/1.0`, no `Icy-MetaData`) that read and count bytes, spread over reader
 * processes (this file with RADIO_READERS_WORKER=1) so the reader is not what limits the figures.
 *
 * `runListeners(plan)` forks the workers, opens `plan.n` listeners at `plan.ramp` per second over
 * all of them, waits until each has its first audio byte (or failed, or a cap passed), settles,
 * then measures a window: per listener the audio bytes received in it, whether the server closed
 * it, and request → first audio byte; the server's process tree CPU and RSS (bench/vod-readers's
 * treeStat); the readers' own CPU and event-loop utilisation. The pure parts (the response head
 * scanner, the summary) are exported for bench/radio-listeners.test.ts. */
import net from 'node:net';
import { ReaderPool } from './radio-reader-pool.js';
import { treeStat, type ReaderPlan } from './vod-readers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100;
/** The most response head a listener keeps before calling the response unparsable. */
const MAX_HEAD = 16 * 1024;

/** The reader processes, ramp and settle as the VOD benchmark's (its defaults: 1 process, 100
 * new per second, 5 s). */
export interface ListenerPlan extends Pick<ReaderPlan, 'pids' | 'procs' | 'ramp' | 'settleS'> {
  /** http://127.0.0.1:PORT/mount */
  url: string;
  n: number;
  /** Measurement window in seconds (default 20). */
  windowS?: number;
  /** Seconds after the planned end of the ramp that listeners still waiting for their first byte
   * are given before the window starts without them (default 30). */
  setupCapS?: number;
  /** Called at the window's start and end with process.hrtime in µs (a CPU profile's clock). */
  onWindow?: (startUs: number, endUs: number) => void;
}

/** One listener's figures, as a worker reports them. */
export interface ListenerResult {
  /** Playing (status 200 and audio) when the window started. */
  ok: boolean;
  /** Why not: a connect error, a status line, 'no audio before the window'. */
  reason?: string;
  /** Request written → first audio byte, ms. */
  connectMs?: number;
  /** Audio bytes received inside the window. */
  windowBytes: number;
  /** Reads that returned data inside the window: how finely the server cuts its writes. */
  windowReads: number;
  /** The server closed it (end or reset) after its audio started, before the run stopped it. */
  dropped: boolean;
}

export interface ListenersSummary {
  requested: number;
  playing: number;
  failed: number;
  failures: Record<string, number>;
  connect_ms_p50: number | null;
  connect_ms_p95: number | null;
  connect_ms_max: number | null;
  dropped: number;
  /** Playing at the window's start and received less than 95 % of the bitrate in it. */
  starved: number;
  kbps_median: number | null;
  kbps_min: number | null;
  /** Reads per second of the median listener over the window. */
  reads_per_s_median: number | null;
}

export interface ListenersRun extends ListenersSummary {
  ramp_s: number;
  window_s: number;
  server_cpu_pct: number;
  /** Highest RSS of the server tree sampled each second of the window. */
  server_rss_MiB: number;
  reader_cpu_pct: number;
  reader_elu_max: number;
}

// ---------------------------------------------------------------- pure parts

/** Finds the end of an HTTP response head that may arrive split over reads, keeping at most
 * MAX_HEAD bytes of it. */
export class HeadScanner {
  #head = '';
  /** How many of "\r\n\r\n" the bytes so far end with. */
  #matched = 0;
  done = false;

  /** Scans b[start, end); returns the index of the first body byte in b, or -1 when the head has
   * not ended yet. Throws when the head grows past MAX_HEAD. */
  push(b: Uint8Array, start: number, end: number): number {
    const want = [0x0d, 0x0a, 0x0d, 0x0a];
    for (let i = start; i < end; i++) {
      const c = b[i];
      this.#matched = c === want[this.#matched] ? this.#matched + 1 : c === 0x0d ? 1 : 0;
      if (this.#matched === 4) {
        this.#head += Buffer.from(b.buffer, b.byteOffset + start, i + 1 - start).toString('latin1');
        this.done = true;
        return i + 1;
      }
    }
    this.#head += Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
    if (this.#head.length > MAX_HEAD) throw new Error('response head too long');
    return -1;
  }

  /** The status code of the first line, undefined when it is not an HTTP/ICY status line. */
  get status(): number | undefined {
    const m = /^(?:HTTP\/\d\.\d|ICY) (\d{3})/.exec(this.#head);
    return m ? Number(m[1]) : undefined;
  }

  get statusLine(): string {
    return this.#head.split('\r\n', 1)[0].slice(0, 80);
  }
}

/** Nearest-rank percentile of sorted `s` (q in [0, 1]), null when empty. */
function rank(s: readonly number[], q: number): number | null {
  return s.length ? +s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1) : null;
}

/** The run's figures from every listener's: `bitrate` in bit/s, `windowS` the window's length. */
export function summarize(
  res: readonly ListenerResult[],
  requested: number,
  bitrate: number,
  windowS: number,
): ListenersSummary {
  const failures: Record<string, number> = {};
  for (const r of res) if (!r.ok) failures[r.reason ?? 'failed'] = (failures[r.reason ?? 'failed'] ?? 0) + 1;
  // Listeners never started (a reader died) count as failed.
  if (res.length < requested) failures['never started'] = requested - res.length;
  const playing = res.filter((r) => r.ok);
  const kbps = playing.map((r) => (r.windowBytes * 8) / windowS / 1000).sort((a, b) => a - b);
  const reads = playing.map((r) => r.windowReads / windowS).sort((a, b) => a - b);
  const connect = res.flatMap((r) => (r.connectMs === undefined ? [] : [r.connectMs])).sort((a, b) => a - b);
  return {
    requested,
    playing: playing.length,
    failed: requested - playing.length,
    failures,
    connect_ms_p50: rank(connect, 0.5),
    connect_ms_p95: rank(connect, 0.95),
    connect_ms_max: connect.length ? +connect[connect.length - 1].toFixed(1) : null,
    dropped: res.filter((r) => r.dropped).length,
    starved: kbps.filter((k) => k * 1000 < 0.95 * bitrate).length,
    kbps_median: kbps.length
      ? +(
          kbps.length % 2 ? kbps[kbps.length >> 1] : (kbps[kbps.length / 2 - 1] + kbps[kbps.length / 2]) / 2
        ).toFixed(1)
      : null,
    kbps_min: kbps.length ? +kbps[0].toFixed(1) : null,
    reads_per_s_median: reads.length ? +reads[reads.length >> 1].toFixed(1) : null,
  };
}

// ---------------------------------------------------------------- worker

type ToWorker =
  | { type: 'plan'; url: string; ats: number[]; t0: number }
  | { type: 'snap0' }
  | { type: 'snap1' }
  | { type: 'stop' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'ramped' }
  | { type: 'result'; listeners: ListenerResult[]; windowS: number; cpuPct: number; elu: number }
  | { type: 'stopped' };

/** Every listener of a worker reads into this one buffer: each read is counted and forgotten
 * at once, so nothing is allocated per read. */
const READ_BUFFER = Buffer.alloc(64 * 1024);

class Listener {
  state: 'connecting' | 'head' | 'playing' | 'failed' | 'closing' = 'connecting';
  reason: string | undefined;
  bytes = 0;
  reads = 0;
  snapBytes = 0;
  snapReads = 0;
  late = false;
  dropped = false;
  connectMs: number | undefined;
  #sentAt = 0;
  #head = new HeadScanner();
  #sock: net.Socket | undefined;
  /** Resolves once the first audio byte came or the listener failed. */
  readonly settled: Promise<void>;
  #settle!: () => void;

  constructor(readonly url: URL) {
    this.settled = new Promise((r) => (this.#settle = r));
  }

  start(): void {
    const sock = net.connect({
      host: this.url.hostname,
      port: Number(this.url.port),
      onread: {
        buffer: READ_BUFFER,
        callback: (n, buf) => {
          this.#onRead(buf, n);
          return true; // keep reading
        },
      },
    });
    this.#sock = sock;
    sock.on('connect', () => {
      this.state = 'head';
      this.#sentAt = performance.now();
      sock.write(
        `GET ${this.url.pathname} HTTP/1.0\r\nHost: ${this.url.host}\r\nUser-Agent: rivulet-bench-radio\r\nAccept: */*\r\n\r\n`,
      );
    });
    sock.on('error', (e) => this.#ended(e.message));
    sock.on('end', () => this.#ended('closed by the server'));
    sock.on('close', () => this.#ended('closed by the server'));
  }

  #onRead(b: Uint8Array, n: number): void {
    if (this.state === 'playing') {
      this.bytes += n;
      this.reads++;
      // The head came alone: this read holds the first audio byte.
      if (this.connectMs === undefined) this.#firstByte();
      return;
    }
    if (this.state !== 'head') return;
    let body: number;
    try {
      body = this.#head.push(b, 0, n);
    } catch (e) {
      return this.#fail(e instanceof Error ? e.message : String(e));
    }
    if (body < 0) return;
    const status = this.#head.status;
    if (status !== 200)
      return this.#fail(status === undefined ? `not HTTP: ${this.#head.statusLine}` : this.#head.statusLine);
    this.state = 'playing';
    this.bytes = n - body;
    if (this.bytes > 0) this.#firstByte();
  }

  #firstByte(): void {
    this.connectMs = performance.now() - this.#sentAt;
    this.#settle();
  }

  #fail(reason: string): void {
    this.reason ??= reason;
    this.state = 'failed';
    this.#sock?.destroy();
    this.#settle();
  }

  #ended(reason: string): void {
    if (this.state === 'closing' || this.state === 'failed') return;
    if (this.state === 'playing' && this.connectMs !== undefined) {
      this.dropped = true;
      this.reason ??= reason;
      this.state = 'failed';
      this.#settle();
      return;
    }
    this.#fail(this.state === 'connecting' ? `connect: ${reason}` : reason);
  }

  snap0(): void {
    this.late = !(this.state === 'playing' && this.connectMs !== undefined);
    this.snapBytes = this.bytes;
    this.snapReads = this.reads;
  }

  result(): ListenerResult {
    const ok = !this.late && !(this.state === 'failed' && !this.dropped);
    return {
      ok,
      ...(ok
        ? {}
        : {
            reason:
              this.late && this.state !== 'failed' ? 'no audio before the window' : (this.reason ?? 'failed'),
          }),
      connectMs: this.connectMs === undefined ? undefined : +this.connectMs.toFixed(1),
      windowBytes: this.late ? 0 : this.bytes - this.snapBytes,
      windowReads: this.late ? 0 : this.reads - this.snapReads,
      dropped: this.dropped,
    };
  }

  stop(): void {
    if (this.state !== 'failed') this.state = 'closing';
    this.#sock?.destroy();
  }
}

function worker(): void {
  const send = (m: FromWorker) => process.send!(m);
  const listeners: Listener[] = [];
  let w0 = 0;
  let c0 = process.cpuUsage();
  let e0 = performance.eventLoopUtilization();
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'plan') {
      const url = new URL(msg.url);
      void (async () => {
        for (const at of msg.ats) {
          const wait = msg.t0 + at - Date.now();
          if (wait > 0) await sleep(wait);
          const l = new Listener(url);
          listeners.push(l);
          l.start();
        }
        await Promise.all(listeners.map((l) => l.settled));
        send({ type: 'ramped' });
      })();
    } else if (msg.type === 'snap0') {
      for (const l of listeners) l.snap0();
      w0 = performance.now();
      c0 = process.cpuUsage();
      e0 = performance.eventLoopUtilization();
    } else if (msg.type === 'snap1') {
      const secs = (performance.now() - w0) / 1000;
      const c = process.cpuUsage(c0);
      send({
        type: 'result',
        listeners: listeners.map((l) => l.result()),
        windowS: secs,
        cpuPct: (100 * (c.user + c.system)) / 1e6 / secs,
        elu: performance.eventLoopUtilization(e0).utilization,
      });
    } else {
      for (const l of listeners) l.stop();
      send({ type: 'stopped' });
      setTimeout(() => process.exit(0), 100);
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

// ---------------------------------------------------------------- coordinator

/** Runs the plan against a server whose stream runs at `bitrate` bit/s; rejects when a reader
 * process dies or `limitMs` passes first. */
export async function runListeners(
  plan: ListenerPlan,
  bitrate: number,
  limitMs = Infinity,
): Promise<ListenersRun> {
  const procs = Math.max(1, plan.procs ?? 1);
  const ramp = plan.ramp ?? 100;
  const windowS = plan.windowS ?? 20;
  const pool = new ReaderPool<ToWorker, FromWorker>(
    import.meta.url,
    procs,
    { RADIO_READERS_WORKER: '1' },
    limitMs,
  );
  try {
    await pool.gather('ready', 30_000);
    const t0 = Date.now() + 200;
    pool.kids.forEach((k, i) => {
      const ats: number[] = [];
      for (let j = i; j < plan.n; j += procs) ats.push((j * 1000) / ramp);
      k.send({ type: 'plan', url: plan.url, ats, t0 } satisfies ToWorker);
    });
    // Listeners still waiting for audio at the cap start the window late (counted as failed).
    await pool.gather('ramped', (plan.n * 1000) / ramp + (plan.setupCapS ?? 30) * 1000 + 200);
    const rampS = (Date.now() - t0) / 1000;
    await sleep((plan.settleS ?? 5) * 1000);
    pool.tell({ type: 'snap0' });
    const h0 = Number(process.hrtime.bigint() / 1000n);
    const s0 = treeStat(plan.pids);
    const w0 = performance.now();
    let rssMax = s0.rssKiB;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, treeStat(plan.pids).rssKiB)), 1000);
    await sleep(windowS * 1000);
    clearInterval(rssTimer);
    pool.tell({ type: 'snap1' });
    const s1 = treeStat(plan.pids);
    const secs = (performance.now() - w0) / 1000;
    plan.onWindow?.(h0, Number(process.hrtime.bigint() / 1000n));
    const results = await pool.gather('result', 60_000);
    if (!results) throw new Error('the readers gave no result within 60 s of the window');
    pool.tell({ type: 'stop' });
    await pool.gather('stopped', 15_000);
    const readerWindowS = results.reduce((a, r) => a + r.windowS, 0) / results.length;
    return {
      ...summarize(
        results.flatMap((r) => r.listeners),
        plan.n,
        bitrate,
        readerWindowS,
      ),
      ramp_s: +rampS.toFixed(1),
      window_s: +secs.toFixed(1),
      server_cpu_pct: +((100 * (s1.ticks - s0.ticks)) / CLK_TCK / secs).toFixed(1),
      server_rss_MiB: +(Math.max(rssMax, s1.rssKiB) / 1024).toFixed(1),
      reader_cpu_pct: +results.reduce((a, r) => a + r.cpuPct, 0).toFixed(1),
      reader_elu_max: +Math.max(...results.map((r) => r.elu)).toFixed(2),
    };
  } finally {
    pool.kill();
  }
}

if (process.env.RADIO_READERS_WORKER === '1' && process.send) worker();
