/** Relay benchmark (issue 12): what a pulled stream costs the server next to the same stream
 * pushed by ffmpeg, and what pulling many streams at once costs.
 *
 *   npm run bench:relay -- [--runs 1000:tcp] [--rounds 3] [--window 20] [--origin rivulet|gst]
 *                          [--pulls 50] [--pull-window 20] [--pull-transport tcp|udp]
 *
 * Media: the peer kit's loop.h264 and the same bits as loop.mp4 (lib's loopMedia, shared with
 * bench:fanout).
 *
 * Fan-out (`--runs N:transport`, comma-separated; `none` skips): the peer kit's reader holds N
 * sessions on `relay` of a fresh Rivulet whose `paths.relay.source` pulls the origin's `/loop`
 * (always on, over TCP), then N on `loop` of a fresh Rivulet to which ffmpeg pushes loop.mp4
 * (`-re -stream_loop -1 -c copy`). Only the server under test's CPU and RSS are measured. The
 * origin (`--origin`) is started once and runs through both sides so the machine carries it
 * alike: by default a second Rivulet to which ffmpeg pushes the same loop.mp4, so that both
 * sides' viewers get ffmpeg's packets of the same file (Rivulet passes packets on as they came)
 * and the ratio weighs only pulling against being pushed; `gst` pulls the gst-rtsp-server peer's
 * `/loop` instead (its own packetization of loop.h264: smaller packets, SPS/PPS before each
 * IDR, hence a few per cent more packets for the relay side's viewers). `--rounds R` repeats
 * the pair, alternating which side goes first; each value is shown with the median, and the
 * ratio is taken per round. Target: ratio ≤ 1.10 at 1,000 TCP viewers.
 *
 * Many pulls (`--pulls P`, 0 skips): one fresh Rivulet with paths `r1..rP`, each pulling the gst
 * peer's `/loop` over `--pull-transport`, and one RTSP/TCP reader on each (in this process, with
 * Rivulet's own RTSP client), so that loss is counted end to end: what the server lost pulling
 * and what it lost serving. Reported: how long until every relay was playing (from the server's
 * log: from its first `relay source connecting` and from its spawn), the server's CPU over
 * `--pull-window` s (total and per relayed stream, one viewer each included), its RSS, the
 * bytes it took in and the packets it counted lost (its `relay source …` log lines, the last
 * written as it stops), and the readers' loss, starved (no packet in the window) and failed.
 *
 * Prints one JSON line per measurement and a table per part; a failure is printed, never
 * dropped. Every child (servers, ffmpeg, the peer, the readers) is stopped on the way out,
 * Ctrl-C and kill included (lib.ts). RIVULET_BENCH_SERVER picks the server under test (lib.ts). */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RtpLoss } from '../src/relays/rtp-loss.js';
import { PullSession } from '../src/rtsp/client/index.js';
import {
  cpuPct,
  cpuRatios,
  errorText,
  loopMedia,
  losses,
  printTable,
  pushLoop,
  readers,
  rssMiB,
  series,
  serverHas,
  sleep,
  startPeer,
  startRivulet,
  stop,
  waitLive,
  writeConfig,
  type Measured,
  type ReaderResult,
} from './lib.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000:tcp' },
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '20' },
    origin: { type: 'string', default: 'rivulet' },
    pulls: { type: 'string', default: '50' },
    'pull-window': { type: 'string', default: '20' },
    'pull-transport': { type: 'string', default: 'tcp' },
  },
});

/** The server's log as JSON records, which the relay figures are read from. */
const JSON_LOG = ['log.format=json'];

// ---- the server's relay log ----

/** One relay's figures, from its `relay source …` log lines. */
interface LegFigures {
  /** Unix ms of its first `connecting` and first `playing`. */
  connectingAt?: number;
  playingAt?: number;
  state?: string;
  bytesIn: number;
  packetsLost: number;
  reconnects: number;
  lastError?: string;
}

/** Reads a server's log records as they come: each relay's state and figures, and the warnings
 * and errors it wrote (kept: the first few, counted: all). */
class RelayLog {
  readonly legs = new Map<string, LegFigures>();
  warnings = 0;
  readonly firstWarnings: string[] = [];
  /** Resolves when the server's output has ended (its last lines read). */
  readonly ended: Promise<void>;
  #end!: () => void;
  #streams = 0;

  constructor() {
    this.ended = new Promise((r) => (this.#end = r));
  }

  /** The handler for startRivulet's `onLine`; `child` is then handed to `watch`. */
  readonly line = (text: string): void => {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const msg = typeof rec.msg === 'string' ? rec.msg : '';
    if (typeof rec.level === 'number' && rec.level >= 40) {
      this.warnings++;
      if (this.firstWarnings.length < 3) this.firstWarnings.push(`${msg} ${typeof rec.err === 'string' ? rec.err : ''}`.trim().slice(0, 200));
    }
    const m = /^relay source (connecting|playing|retrying|stopped)/.exec(msg);
    if (!m || typeof rec.path !== 'string') return;
    const leg = this.legs.get(rec.path) ?? { bytesIn: 0, packetsLost: 0, reconnects: 0 };
    this.legs.set(rec.path, leg);
    const time = typeof rec.time === 'number' ? rec.time : Date.now();
    leg.state = m[1];
    if (m[1] === 'connecting') leg.connectingAt ??= time;
    if (m[1] === 'playing') leg.playingAt ??= time;
    leg.bytesIn = Number(rec.bytesIn ?? leg.bytesIn);
    leg.packetsLost = Number(rec.packetsLost ?? leg.packetsLost);
    leg.reconnects = Number(rec.reconnects ?? leg.reconnects);
    if (typeof rec.err === 'string') leg.lastError = rec.err;
  };

  /** Counts warnings from now on: those before (a DESCRIBE answered 404 while the source was
   * not live yet) are expected. */
  resetWarnings(): void {
    this.warnings = 0;
    this.firstWarnings.length = 0;
  }

  /** Follows `child`'s output to its end. */
  watch(child: ChildProcess): void {
    const streams = [child.stdout, child.stderr].filter((s) => s !== null);
    this.#streams = streams.length;
    if (!this.#streams) this.#end();
    for (const s of streams)
      s.once('close', () => {
        if (--this.#streams === 0) this.#end();
      });
  }

  /** The relays' figures summed. */
  totals(): { bytesIn: number; packetsLost: number; reconnects: number } {
    const legs = [...this.legs.values()];
    const sum = (get: (l: LegFigures) => number) => legs.reduce((a, l) => a + get(l), 0);
    return { bytesIn: sum((l) => l.bytesIn), packetsLost: sum((l) => l.packetsLost), reconnects: sum((l) => l.reconnects) };
  }
}

/** A fresh Rivulet with `config`, its log read into a RelayLog; `fn` runs while it serves, and
 * the server is stopped after (its last log lines read) whatever happens. */
async function withLoggedServer<T>(dir: string, config: string, fn: (child: ChildProcess, port: number, log: RelayLog) => Promise<T>): Promise<{ value: T; log: RelayLog }> {
  const log = new RelayLog();
  const riv = await startRivulet(dir, JSON_LOG, config, log.line);
  log.watch(riv.child);
  try {
    return { value: await fn(riv.child, riv.port, log), log };
  } finally {
    await stop(riv.child);
    // The relays' last figures are in the lines written as it stopped.
    await Promise.race([log.ended, sleep(2000)]);
  }
}

// ---- origin ----

interface Origin {
  url: string;
  what: string;
  stop(): Promise<void>;
}

/** The gst-rtsp-server peer with loop.h264 on `/loop`. */
async function gstOrigin(dir: string): Promise<Origin> {
  const p = await startPeer(dir, ['--h264', 'loop.h264', '--file', 'loop.h264']);
  return { url: `rtsp://127.0.0.1:${p.port}/loop`, what: 'gst-rtsp-server /loop', stop: () => stop(p.child) };
}

/** A Rivulet to which ffmpeg pushes loop.mp4 on `loop`. */
async function rivuletOrigin(dir: string): Promise<Origin> {
  const riv = await startRivulet(dir, [], writeConfig({}));
  const pub = pushLoop(join(dir, 'loop.mp4'), riv.port, 'loop');
  const halt = async () => {
    await stop(pub);
    await stop(riv.child);
  };
  try {
    await waitLive(riv.port, 'loop');
  } catch (e) {
    await halt();
    throw e;
  }
  return { url: `rtsp://127.0.0.1:${riv.port}/loop`, what: 'Rivulet fed by ffmpeg (loop.mp4)', stop: halt };
}

// ---- part 1: N viewers on a pulled stream and on a pushed one ----

type Side = 'relay' | 'push';
/** Each side's path. */
const PATHS: Record<Side, string> = { relay: 'relay', push: 'loop' };

interface FanoutSetup {
  dir: string;
  origin: Origin;
  /** Each side's config: the relay's `paths.relay.source` → the origin; none for the push. Both
   * are files, so that both servers keep their state beside them, away from the repository's. */
  configs: Record<Side, string>;
}

/** One side measured on a fresh server; the relay's own figures with it (relay side). */
async function measure(s: FanoutSetup, side: Side, n: number, transport: string, window: number): Promise<{ m: Measured; leg?: LegFigures; log?: RelayLog }> {
  let pub: ChildProcess | undefined;
  try {
    const { value, log } = await withLoggedServer(s.dir, s.configs[side], async (child, port, log) => {
      if (side === 'push') pub = pushLoop(join(s.dir, 'loop.mp4'), port, PATHS.push);
      try {
        await waitLive(port, PATHS[side]);
        log.resetWarnings();
        // As fanout.ts: a few seconds for the source to settle before the readers come.
        await sleep(3000);
        return await readers(`rtsp://127.0.0.1:${port}/${PATHS[side]}`, n, transport, child.pid!, window);
      } finally {
        // ffmpeg goes before the server, which would otherwise log its publisher gone.
        if (pub) await stop(pub);
      }
    });
    return { m: value, leg: log.legs.get(PATHS.relay), log };
  } catch (e) {
    if (pub) await stop(pub);
    return { m: errorText(e) };
  }
}

const legText = (legs: (LegFigures | undefined)[]) =>
  legs.map((l) => (l ? `${l.packetsLost} lost, ${l.reconnects} reconn` : '-')).join('; ');

async function fanout(dir: string, origin: Origin): Promise<void> {
  const specs = values.runs === 'none' ? [] : values.runs.split(',').filter(Boolean);
  if (!specs.length) return;
  const rounds = Number(values.rounds);
  const window = Number(values.window);
  const configs = { relay: writeConfig({ paths: { [PATHS.relay]: { source: origin.url, sourceTransport: 'tcp', sourceOnDemand: false } } }), push: writeConfig({}) };
  const s: FanoutSetup = { dir, origin, configs };
  const rows: string[][] = [];
  const medians: number[] = [];
  for (const spec of specs) {
    const [ns, transport] = spec.split(':');
    const n = Number(ns);
    const got: Record<Side, Measured[]> = { relay: [], push: [] };
    const legs: (LegFigures | undefined)[] = [];
    for (let round = 0; round < rounds; round++) {
      const order: Side[] = round % 2 === 0 ? ['relay', 'push'] : ['push', 'relay'];
      for (const side of order) {
        const { m, leg, log } = await measure(s, side, n, transport, window);
        got[side].push(m);
        if (side === 'relay') legs.push(leg);
        const extra = side === 'relay' ? { origin: origin.what, relay_leg: leg ?? null } : {};
        const warn = log?.warnings ? { server_warnings: log.warnings, first_warnings: log.firstWarnings } : {};
        console.log(JSON.stringify({ bench: 'relay', side, path: PATHS[side], n, transport, round: round + 1, ...extra, ...warn, ...(typeof m === 'string' ? { error: m } : m) }));
      }
    }
    const ratios = cpuRatios(got.relay, got.push);
    if (ratios.median !== undefined) medians.push(ratios.median);
    const cpu = (r: ReaderResult) => r.server_cpu_pct;
    const rss = (r: ReaderResult) => r.server_rss_MiB;
    rows.push([String(n), transport, series(got.relay, cpu), series(got.push, cpu), ratios.text, series(got.relay, rss), series(got.push, rss), losses(got.relay), losses(got.push), legText(legs)]);
  }
  printTable(['N', 'transport', 'relay CPU %', 'push CPU %', 'ratio relay/push', 'relay RSS MiB', 'push RSS MiB', 'relay viewers loss', 'push viewers loss', 'pull leg (server log)'], rows);
  console.log(`origin: ${origin.what}; target: ratio ≤ 1.10 at 1,000 TCP viewers; median ratio per run: ${medians.map((m) => m.toFixed(2)).join(', ') || '-'}`);
}

// ---- part 2: many pulls, one reader each ----

/** Seconds every relay is given to be playing before the readers come regardless. */
const PULLS_LIVE_TIMEOUT_S = 60;
/** Seconds between the last reader's PLAY and the measurement window, as rtsp_readers.mjs. */
const SETTLE_S = 5;

/** One RTSP/TCP viewer of a path, counting RTP packets, bytes and sequence gaps. */
class PathReader {
  packets = 0;
  bytes = 0;
  lost = 0;
  failed: string | undefined;
  #session: PullSession | undefined;
  readonly #loss = new Map<number, RtpLoss>();

  constructor(readonly url: string) {}

  async open(): Promise<void> {
    try {
      const session = await PullSession.open(this.url, { transport: 'tcp' });
      this.#session = session;
      session.on('rtp', (t, p) => {
        this.packets++;
        this.bytes += p.length;
        let loss = this.#loss.get(t.index);
        if (!loss) this.#loss.set(t.index, (loss = new RtpLoss()));
        this.lost += loss.packet(p);
      });
      session.on('end', (reason, err) => {
        this.failed ??= `ended: ${err?.message ?? reason}`;
      });
      await session.play();
    } catch (e) {
      this.failed = errorText(e);
    }
  }

  close(): Promise<void> {
    return this.#session?.close() ?? Promise.resolve();
  }
}

/** Waits until every path's relay has logged `playing`, or `timeoutS` passed. */
async function allPlaying(log: RelayLog, keys: string[], timeoutS: number): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  while (Date.now() < end && !keys.every((k) => log.legs.get(k)?.playingAt !== undefined)) await sleep(100);
}

async function pulls(dir: string, origin: Origin): Promise<void> {
  const count = Number(values.pulls);
  if (!(count > 0)) return;
  const window = Number(values['pull-window']);
  const transport = values['pull-transport'];
  const keys = Array.from({ length: count }, (_, i) => `r${i + 1}`);
  const config = writeConfig({ paths: Object.fromEntries(keys.map((k) => [k, { source: origin.url, sourceTransport: transport, sourceOnDemand: false }])) });
  const spawnedAt = Date.now();
  let out: Record<string, unknown>;
  try {
    const { value, log } = await withLoggedServer(dir, config, async (child, port, log) => {
      const pid = child.pid!;
      await allPlaying(log, keys, PULLS_LIVE_TIMEOUT_S);
      const playing = keys.map((k) => log.legs.get(k)).filter((l) => l?.playingAt !== undefined);
      const firstConnecting = Math.min(...[...log.legs.values()].map((l) => l.connectingAt ?? Infinity));
      const lastPlaying = Math.max(...playing.map((l) => l!.playingAt!));
      const rs = keys.map((k) => new PathReader(`rtsp://127.0.0.1:${port}/${k}`));
      await Promise.all(rs.map((r) => r.open()));
      try {
        await sleep(SETTLE_S * 1000);
        const before = rs.map((r) => ({ packets: r.packets, bytes: r.bytes, lost: r.lost }));
        let rssMax = 0;
        const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(pid))), 1000);
        const t0 = performance.now();
        const cpu = await cpuPct(pid, window);
        const secs = (performance.now() - t0) / 1000;
        clearInterval(rssTimer);
        rssMax = Math.max(rssMax, rssMiB(pid));
        const open = rs.filter((r) => r.failed === undefined);
        const d = rs.map((r, i) => ({ packets: r.packets - before[i].packets, bytes: r.bytes - before[i].bytes, lost: r.lost - before[i].lost, ok: r.failed === undefined }));
        const ok = d.filter((x) => x.ok);
        const failures = [...new Set(rs.map((r) => r.failed).filter((f) => f !== undefined))].slice(0, 3);
        return {
          relays_playing: playing.length,
          all_playing_s: playing.length ? +((lastPlaying - firstConnecting) / 1000).toFixed(2) : null,
          all_playing_since_spawn_s: playing.length ? +((lastPlaying - spawnedAt) / 1000).toFixed(2) : null,
          readers_playing: open.length,
          readers_failed: rs.length - open.length,
          reader_failures: failures,
          window_s: +secs.toFixed(1),
          server_cpu_pct: +cpu.toFixed(1),
          cpu_pct_per_stream: +(cpu / count).toFixed(2),
          server_rss_MiB: +rssMax.toFixed(1),
          reader_pkts: ok.reduce((a, x) => a + x.packets, 0),
          reader_kbit_per_s_per_stream: ok.length ? Math.round((ok.reduce((a, x) => a + x.bytes, 0) * 8) / 1000 / ok.length / secs) : 0,
          reader_lost: ok.reduce((a, x) => a + x.lost, 0),
          reader_lost_since_play: rs.reduce((a, r) => a + r.lost, 0),
          sessions_with_loss: ok.filter((x) => x.lost > 0).length,
          sessions_starved: ok.filter((x) => x.packets === 0).length,
        };
      } finally {
        await Promise.all(rs.map((r) => r.close()));
      }
    });
    const t = log.totals();
    const notPlaying = keys.filter((k) => log.legs.get(k)?.playingAt === undefined);
    const errors = [...new Set([...log.legs.values()].map((l) => l.lastError).filter((e) => e !== undefined))].slice(0, 3);
    out = {
      ...value,
      server_bytes_in: t.bytesIn,
      server_packets_lost: t.packetsLost,
      server_reconnects: t.reconnects,
      ...(notPlaying.length ? { relays_never_playing: notPlaying } : {}),
      ...(errors.length ? { relay_errors: errors } : {}),
      ...(log.warnings ? { server_warnings: log.warnings, first_warnings: log.firstWarnings } : {}),
    };
  } catch (e) {
    out = { error: errorText(e) };
  }
  console.log(JSON.stringify({ bench: 'relay-pulls', pulls: count, pull_transport: transport, origin: origin.what, ...out }));
  const f = (k: string, digits = 0) => {
    const v = out[k];
    return typeof v === 'number' ? v.toFixed(digits) : typeof v === 'string' ? v : '-';
  };
  const loss = typeof out.error === 'string' ? `failed: ${out.error.slice(0, 60)}` : `${f('reader_lost')} lost, ${f('sessions_with_loss')} sess, ${f('sessions_starved')} starved, ${f('readers_failed')} failed`;
  const mb = typeof out.server_bytes_in === 'number' ? (out.server_bytes_in / 1e6).toFixed(1) : '-';
  printTable(
    ['pulls', 'pull transport', 'playing', 'all playing after s', 'server CPU %', 'CPU % per stream', 'RSS MiB', 'bytes in MB', 'kbit/s per reader', 'readers (window)', 'server-counted lost', 'reconnects'],
    [[String(count), transport, `${f('relays_playing')}/${count}`, `${f('all_playing_s', 2)} (${f('all_playing_since_spawn_s', 2)} from spawn)`, f('server_cpu_pct', 1), f('cpu_pct_per_stream', 2), f('server_rss_MiB', 1), mb, f('reader_kbit_per_s_per_stream'), loss, f('server_packets_lost'), f('server_reconnects')]],
  );
  console.log('target: 0 loss; server CPU per relayed stream (one RTSP/TCP viewer each) as measured');
}

async function main(): Promise<void> {
  if (!serverHas('relays/pull-source')) throw new Error('the server under test (RIVULET_BENCH_SERVER or dist/) has no relay pulls (relays/pull-source): build it first (npm run build)');
  if (!['rivulet', 'gst'].includes(values.origin)) throw new Error(`--origin is rivulet or gst, not ${values.origin}`);
  if (!['tcp', 'udp'].includes(values['pull-transport'])) throw new Error(`--pull-transport is tcp or udp, not ${values['pull-transport']}`);
  const dir = await loopMedia();
  const wantRuns = values.runs !== 'none';
  const wantPulls = Number(values.pulls) > 0;
  // The gst peer serves the many pulls, and the fan-out part too when it is the origin.
  const gst = wantPulls || (wantRuns && values.origin === 'gst') ? await gstOrigin(dir) : undefined;
  try {
    if (wantRuns) {
      const origin = values.origin === 'gst' ? gst! : await rivuletOrigin(dir);
      try {
        await fanout(dir, origin);
      } finally {
        if (origin !== gst) await origin.stop();
      }
    }
    if (wantPulls) await pulls(dir, gst!);
  } finally {
    await gst?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
