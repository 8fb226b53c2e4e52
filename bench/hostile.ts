/** Hostile-load benchmark (issue 9): while legitimate viewers watch a live stream and play a
 * file, one address runs every attack of the review at once; the run tells whether the viewers
 * noticed, and whether the server's memory and descriptors came back afterwards.
 *
 *   npm run bench:hostile -- [--attack 60] [--recovery 10] [--session-timeout 8] [--prime 3]
 *                            [--only slowloris,pipe,...|none] [--server-log FILE] [--json]
 *
 * Everything stays on loopback. Attacks come from 127.0.0.1, except RTP/RTCP injection, which
 * comes from 127.0.0.2: the UDP publisher is 127.0.0.1, and a filter by address cannot (and need
 * not) tell two sockets of one address apart. Exit status 1 when a viewer lost a packet or was cut
 * off, when RSS or open descriptors are not back within 10 % of their level before the attack,
 * when the server died, or when an attack was let through (a 2xx to what must be refused, an
 * injected packet reaching a viewer, a slow client kept past limits.requestTimeout). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { answerChallenge } from '../src/auth/index.js';
import { repoRoot } from '../test/helpers/fixtures.js';
import { RawRtspClient, type Reply } from '../test/helpers/rtsp-client.js';
import { SHARED, benchClip, printTable, rssMiB, sleep, startRivulet, stop, track, type ReaderResult } from './lib.js';

const { values } = parseArgs({
  options: {
    attack: { type: 'string', default: '60' },
    recovery: { type: 'string', default: '10' },
    'session-timeout': { type: 'string', default: '8' },
    only: { type: 'string' },
    prime: { type: 'string', default: '3' },
    'server-log': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const ATTACK_S = Number(values.attack);
const RECOVERY_S = Number(values.recovery);
/** Never-played sessions are reaped after rtsp.sessionTimeout; at the default 60 s nothing
 * could be back 10 s after the attack, so the run shortens it (the readers' keep-alive is 5 s). */
const SESSION_TIMEOUT_S = Number(values['session-timeout']);
/** Seconds of legitimate load before the attack: the readers' window opens and "before" is read. */
const WARM_S = 10;
/** limits.requestTimeout, set explicitly so the slowloris check knows it. */
const REQUEST_TIMEOUT_S = 10;
const VIEWERS = { liveUdp: 50, liveTcp: 50, fileUdp: 10, fileTcp: 10 };
/** Legitimate sessions (viewers, two publishers, the injection sentinel) plus room for the
 * attackers' own, from the same address: a per-address cap of 0 would let that address take
 * every port, which is the hole itself. */
const SESSION_CAP = VIEWERS.liveUdp + VIEWERS.liveTcp + VIEWERS.fileUdp + VIEWERS.fileTcp + 3 + 75;
const MARKER = Buffer.from('HOSTILE-INJECT');
/** Attack keys to run (`--only slowloris,pipe`; `--only none` measures the legitimate load alone). */
const ONLY = values.only?.split(',');
/** Seconds every attack runs once before the legitimate load starts (0: none). */
const PRIME_S = Number(values.prime);

// ---------- plumbing ----------

let deadline = Infinity;
const over = () => Date.now() >= deadline;
/** Every attacking socket, destroyed when the attack stops. */
const attackSockets = new Set<{ destroy(): void }>();

function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((res) => {
    const t = setTimeout(() => res(fallback), ms);
    void p.then((v) => {
      clearTimeout(t);
      res(v);
    });
  });
}

function enlist(s: Socket): Socket {
  attackSockets.add(s);
  s.once('close', () => attackSockets.delete(s));
  s.on('error', () => undefined);
  return s;
}

function openRaw(port: number): Promise<Socket | undefined> {
  return new Promise((res) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => res(undefined));
    s.once('connect', () => res(enlist(s)));
    setTimeout(() => res(undefined), 5000).unref();
  });
}

async function dial(port: number): Promise<RawRtspClient | undefined> {
  const c = await RawRtspClient.connect(port).catch(() => undefined);
  if (c) enlist(c.socket as Socket);
  return c;
}

type Answer = Reply | 'closed' | 'no answer';

const cseqs = new WeakMap<RawRtspClient, number>();

/** One request; 'closed' when the server hangs up instead of answering. After 'no answer' the
 * connection is out of step (a late answer would be taken for the next one): close it. */
function ask(c: RawRtspClient, method: string, uri: string, headers: Record<string, string> = {}, body = '', ms = 5000): Promise<Answer> {
  const cseq = (cseqs.get(c) ?? 0) + 1;
  cseqs.set(c, cseq);
  let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: rivulet-hostile-bench\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  if (body) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  c.raw(`${text}\r\n${body}`);
  const r = c.next(ms).catch(() => 'no answer' as const);
  return Promise.race([r, c.closed.then(() => 'closed' as const)]);
}

const key = (a: Answer) => (typeof a === 'string' ? a : String(a.status));
const is2xx = (a: Answer) => typeof a !== 'string' && a.status >= 200 && a.status < 300;

const STATUS_RE = /(?:RTSP|HTTP)\/1\.[01] (\d{3}) /g;

/** Status lines and the close of a raw socket (reading it, unless told not to). */
class Watch {
  readonly statuses: number[] = [];
  isClosed = false;
  /** When it closed; at or after the deadline, the bench closed it, not the server. */
  closedAt = Infinity;
  #tail = '';
  #wake = new Set<() => void>();

  constructor(sock: Socket, read = true) {
    sock.once('close', () => {
      this.isClosed = true;
      this.closedAt = Date.now();
      this.#notify();
    });
    if (read)
      sock.on('data', (d: Buffer) => {
        const text = this.#tail + d.toString('latin1');
        let end = 0;
        for (const m of text.matchAll(STATUS_RE)) {
          if (this.statuses.length < 1000) this.statuses.push(Number(m[1]));
          end = m.index + m[0].length;
        }
        this.#tail = text.slice(Math.max(end, text.length - 16));
        this.#notify();
      });
  }

  #notify(): void {
    for (const w of this.#wake) w();
  }

  until(pred: () => boolean, ms: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((res) => {
      const done = () => {
        clearTimeout(t);
        this.#wake.delete(check);
        res();
      };
      const check = () => {
        if (pred()) done();
      };
      const t = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      this.#wake.add(check);
    });
  }

  /** First answer, and whether the connection was closed within 2 s of it. */
  async answer(ms: number): Promise<string> {
    await this.until(() => this.statuses.length > 0 || this.isClosed, ms);
    if (this.statuses.length === 0) return this.isClosed ? 'closed' : 'no answer';
    await this.until(() => this.isClosed, 2000);
    return `${this.statuses[0]}${this.isClosed ? '+close' : ''}`;
  }
}

class Attack {
  attempts = 0;
  letThrough = 0;
  readonly answers = new Map<string, number>();
  note = '';
  error = '';

  /** `check` says what counts as let through; '' when only resources judge the row. */
  constructor(
    readonly name: string,
    readonly max: number,
    readonly check: string,
  ) {}

  count(k: string): void {
    if (this.answers.size < 40 || this.answers.has(k)) this.answers.set(k, (this.answers.get(k) ?? 0) + 1);
  }

  get more(): boolean {
    return !over() && this.attempts < this.max;
  }

  get verdict(): string {
    if (this.error) return 'FAIL (bench error)';
    if (!this.check) return '-';
    if (this.letThrough < 0) return 'FAIL (unverified)';
    return this.letThrough > 0 ? 'FAIL' : 'held';
  }

  summary(): string {
    const top = [...this.answers].sort((a, b) => b[1] - a[1]);
    const s = top.slice(0, 4).map(([k, n]) => `${k} x${n}`).join(', ');
    return top.length > 4 ? `${s}, ...` : s || '-';
  }
}

function sdpBody(tracks: number): string {
  let s = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hostile\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n';
  for (let i = 0; i < tracks; i++) s += `m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=${i}\r\n`;
  return s;
}

function controls(sdp: string, base: string): string[] {
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) out.push('');
    else if (out.length && line.startsWith('a=control:')) out[out.length - 1] = line.slice(10).trim();
  }
  return out.map((c) => (/^rtsp:\/\//i.test(c) ? c : base.endsWith('/') ? base + c : `${base}/${c}`));
}

/** DESCRIBE, SETUP every track over TCP, PLAY (or RECORD after an ANNOUNCE); the session id. */
async function playTcp(c: RawRtspClient, url: string): Promise<{ session: string } | Answer> {
  const d = await ask(c, 'DESCRIBE', url, { Accept: 'application/sdp' });
  if (typeof d === 'string' || d.status !== 200) return d;
  const base = d.headers.get('content-base') ?? url;
  let session = '';
  for (const [i, ctl] of controls(d.body, base).entries()) {
    const s = await ask(c, 'SETUP', ctl, { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`, ...(session ? { Session: session } : {}) });
    if (typeof s === 'string' || s.status !== 200) return s;
    session = (s.headers.get('session') ?? '').split(';')[0];
  }
  const p = await ask(c, 'PLAY', base, { Session: session, Range: 'npt=0-' });
  if (typeof p === 'string' || p.status !== 200) return p;
  return { session };
}

function rtp(pt: number, seq: number, ts: number, ssrc: number, marker: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

function interleaved(channel: number, payload: Buffer): Buffer {
  const h = Buffer.from([0x24, channel, 0, 0]);
  h.writeUInt16BE(payload.length, 2);
  return Buffer.concat([h, payload]);
}

const rnd = (n: number) => Math.floor(Math.random() * n);

// ---------- the attacks ----------

/** Connections that send a request one byte every 500 ms, forever. */
async function slowloris(port: number, a: Attack, slots: number): Promise<void> {
  const keptPastMs = (REQUEST_TIMEOUT_S + 5) * 1000;
  const worker = async () => {
    while (a.more) {
      a.attempts++;
      const s = await openRaw(port);
      if (!s) {
        a.count('connect failed');
        await sleep(500);
        continue;
      }
      const w = new Watch(s);
      const opened = Date.now();
      let text = `DESCRIBE rtsp://127.0.0.1:${port}/clip.mp4 RTSP/1.0\r\nCSeq: 1\r\n`;
      let i = 0;
      let n = 0;
      s.write(text.slice(0, 8));
      i = 8;
      const timer = setInterval(() => {
        if (i >= text.length) text += `X-Slow-${n}: ${n++}\r\n`;
        if (!s.destroyed) s.write(text[i++]);
      }, 500);
      await w.until(() => w.isClosed || over(), deadline - Date.now());
      clearInterval(timer);
      const lived = Math.min(w.closedAt, Date.now()) - opened;
      if (lived > keptPastMs) a.letThrough++;
      if (w.closedAt >= deadline) a.count(lived > keptPastMs ? 'open > requestTimeout+5 s at stop' : 'open at stop');
      else a.count(w.statuses.length ? `${w.statuses[0]}+close after ${Math.round(lived / 1000)} s` : `closed after ${Math.round(lived / 1000)} s`);
    }
  };
  await Promise.all(Array.from({ length: slots }, worker));
}

/** Clients that pipeline OPTIONS and never read an answer. */
async function pipeliners(port: number, a: Attack, clients: number, bytesEach: number): Promise<void> {
  let total = 0;
  const worker = async () => {
    while (a.more) {
      const s = await openRaw(port);
      if (!s) {
        a.count('connect failed');
        await sleep(500);
        continue;
      }
      s.pause();
      const w = new Watch(s, false);
      let sent = 0;
      let stalled = false;
      while (a.more && !w.isClosed && sent < bytesEach) {
        let chunk = '';
        let k = 0;
        while (chunk.length < 65536) chunk += `OPTIONS * RTSP/1.0\r\nCSeq: ${a.attempts + ++k}\r\n\r\n`;
        a.attempts += k;
        sent += chunk.length;
        total += chunk.length;
        if (!s.write(chunk)) {
          let drained = false;
          s.once('drain', () => (drained = true));
          await w.until(() => drained || w.isClosed || over(), 3000);
          if (!drained && !w.isClosed && !over()) {
            stalled = true;
            break;
          }
        }
        await sleep(200);
      }
      // Holds the connection, still never reading, until the server gives up on it or the end.
      await w.until(() => w.isClosed || over(), deadline - Date.now());
      a.count(`${stalled ? 'server stopped reading, ' : 'writes never blocked, '}${w.closedAt < deadline ? 'closed by server' : 'open at stop'}`);
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  a.note = `${(total / 1048576).toFixed(1)} MiB of OPTIONS written`;
}

const BAD_PORTS = ['0-0', '70000-70001', '5001-5002', '65535-65536'];

/** Runs `step` on one connection per worker until the attack ends, dialing again whenever the
 * connection is gone (`step` answers false) and pausing `pauseMs` after every step. */
async function onConnections(port: number, a: Attack, workers: number, pauseMs: number, step: (c: RawRtspClient) => Promise<boolean>): Promise<void> {
  const worker = async () => {
    let c: RawRtspClient | undefined;
    while (a.more) {
      c ??= await dial(port);
      if (!c) {
        await sleep(200);
        continue;
      }
      if (!(await step(c))) {
        c.close();
        c = undefined;
      }
      await sleep(pauseMs);
    }
    c?.close();
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

/** SETUPs whose client_port is out of range or odd. */
async function badPorts(port: number, trackUrl: string, a: Attack, workers: number): Promise<void> {
  await onConnections(port, a, workers, 50, async (c) => {
    const cp = BAD_PORTS[a.attempts % BAD_PORTS.length];
    a.attempts++;
    const r = await ask(c, 'SETUP', trackUrl, { Transport: `RTP/AVP;unicast;client_port=${cp}` });
    a.count(key(r));
    if (is2xx(r)) a.letThrough++;
    return typeof r !== 'string';
  });
}

/** SETUPs without Session that never PLAY, on ever new connections (20 each). */
async function sessionFlood(port: number, trackUrl: string, a: Attack, workers: number): Promise<void> {
  let made = 0;
  const worker = async (w: number) => {
    while (a.more) {
      const c = await dial(port);
      if (!c) {
        await sleep(200);
        continue;
      }
      for (let i = 0; i < 20 && a.more; i++) {
        const n = a.attempts++;
        const transport = n % 3 === 2 ? 'RTP/AVP/TCP;unicast;interleaved=0-1' : `RTP/AVP;unicast;client_port=${50000 + 2 * ((n * workers + w) % 4000)}-${50001 + 2 * ((n * workers + w) % 4000)}`;
        const r = await ask(c, 'SETUP', trackUrl, { Transport: transport });
        a.count(key(r));
        if (is2xx(r)) made++;
        await sleep(50);
        if (typeof r === 'string') break;
      }
      c.close();
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  a.note = `${made} sessions made`;
}

/** ANNOUNCEs never followed by RECORD: half with 200 m= lines, half with one. */
async function announceFlood(port: number, a: Attack): Promise<void> {
  const big = sdpBody(200);
  const small = sdpBody(1);
  let k = 0;
  while (a.more) {
    const c = await dial(port);
    if (!c) {
      await sleep(200);
      continue;
    }
    for (let i = 0; i < 10 && a.more; i++) {
      const many = a.attempts++ % 2 === 0;
      const r = await ask(c, 'ANNOUNCE', `rtsp://127.0.0.1:${port}/flood-${k++}`, { 'Content-Type': 'application/sdp' }, many ? big : small);
      a.count(`${many ? '200 tracks' : '1 track'}: ${key(r)}`);
      if (many && is2xx(r)) a.letThrough++;
      await sleep(100);
      if (typeof r === 'string') break;
    }
    c.close();
  }
}

/** Requests over every parser limit (defaults: line 4 KiB, head 8 KiB, 64 fields, body 64 KiB),
 * each on its own connection. */
async function oversized(port: number, a: Attack, workers: number): Promise<void> {
  const url = `rtsp://127.0.0.1:${port}/clip.mp4`;
  const variants: (() => string)[] = [
    () => `OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(65536)}\r\n\r\n`,
    () => `OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\n${Array.from({ length: 2000 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`,
    () => `OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\n${Array.from({ length: 1024 }, (_, i) => `X-${i}: ${'b'.repeat(1000)}\r\n`).join('')}\r\n`,
    () => `DESCRIBE ${url}/${'c'.repeat(102400)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    () => `ANNOUNCE rtsp://127.0.0.1:${port}/big RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 8388608\r\n\r\n${'v'.repeat(1048576)}`,
    () => `ANNOUNCE rtsp://127.0.0.1:${port}/big RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 9007199254740993\r\n\r\nv=0\r\n`,
  ];
  const worker = async () => {
    while (a.more) {
      const v = variants[a.attempts++ % variants.length];
      const s = await openRaw(port);
      if (!s) {
        await sleep(200);
        continue;
      }
      const w = new Watch(s);
      s.write(v());
      const r = await w.answer(5000);
      a.count(r);
      if (/^2/.test(r)) a.letThrough++;
      s.destroy();
      await sleep(150);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

function garbageFrame(): Buffer {
  switch (rnd(5)) {
    case 0:
      return interleaved(rnd(256), randomBytes(rnd(1500)));
    case 1: {
      // An RTCP receiver report whose length field lies.
      const p = randomBytes(28);
      p[0] = 0x81;
      p[1] = 201;
      p.writeUInt16BE(rnd(65536), 2);
      return interleaved(1, p);
    }
    case 2:
      return interleaved(0, rtp(96, rnd(65536), rnd(2 ** 32), rnd(2 ** 32), true, randomBytes(rnd(1400))));
    case 3: {
      const p = randomBytes(1 + rnd(64));
      p[0] = 0;
      return p;
    }
    default: {
      // Announces 65535 bytes and sends few: what follows is swallowed as its payload.
      const p = Buffer.from([0x24, rnd(256), 0xff, 0xff]);
      return Buffer.concat([p, randomBytes(100)]);
    }
  }
}

/** A TCP viewer of the live stream that sends garbage interleaved frames and bytes. */
async function garbageViewer(port: number, a: Attack): Promise<void> {
  let reconnects = 0;
  while (a.more && reconnects < 100) {
    reconnects++;
    const c = await dial(port);
    if (!c) {
      await sleep(500);
      continue;
    }
    const w = new Watch(c.socket as Socket);
    const played = await playTcp(c, `rtsp://127.0.0.1:${port}/live`);
    if (typeof played === 'string' || 'status' in played) {
      a.count(`PLAY refused: ${key(played)}`);
      c.close();
      await sleep(1000);
      continue;
    }
    const seen = w.statuses.length;
    while (a.more && !w.isClosed) {
      for (let i = 0; i < 5; i++) c.raw(garbageFrame());
      a.attempts += 5;
      c.frames.length = 0;
      await sleep(20);
    }
    for (const st of w.statuses.slice(seen)) a.count(`answered ${st}`);
    a.count(w.closedAt < deadline ? 'closed by server' : 'connected at stop');
    c.close();
  }
}

/** A TCP publisher whose video packets share one timestamp and never carry a marker: one frame
 * that never ends. */
async function endlessFrame(port: number, a: Attack): Promise<void> {
  let sent = 0;
  let k = 0;
  while (a.more && k < 20) {
    const url = `rtsp://127.0.0.1:${port}/junk-${k++}`;
    const c = await dial(port);
    if (!c) {
      await sleep(500);
      continue;
    }
    const w = new Watch(c.socket as Socket);
    const an = await ask(c, 'ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, sdpBody(1));
    const su = typeof an === 'string' || an.status !== 200 ? an : await ask(c, 'SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' });
    const session = typeof su === 'string' ? '' : (su.headers.get('session') ?? '').split(';')[0];
    const rec = typeof su === 'string' || su.status !== 200 ? su : await ask(c, 'RECORD', url, { Session: session, Range: 'npt=0-' });
    if (typeof rec === 'string' || rec.status !== 200) {
      a.count(`publish refused: ${key(rec)}`);
      c.close();
      await sleep(1000);
      continue;
    }
    const seen = w.statuses.length;
    const ssrc = rnd(2 ** 32);
    let seq = rnd(65536);
    let first = true;
    while (a.more && !w.isClosed) {
      for (let i = 0; i < 2; i++) {
        const fu = Buffer.concat([Buffer.from([0x7c, first ? 0x85 : 0x05]), randomBytes(1400)]);
        first = false;
        c.raw(interleaved(0, rtp(96, seq++, 900000, ssrc, false, fu)));
        sent += fu.length;
        a.attempts++;
      }
      await sleep(10);
    }
    for (const st of w.statuses.slice(seen)) a.count(`answered ${st}`);
    a.count(w.closedAt < deadline ? 'closed by server' : 'connected at stop');
    c.close();
  }
  a.note = `${(sent / 1048576).toFixed(1)} MiB sent as one frame`;
}

/** RTP and RTCP from 127.0.0.2 into the UDP publisher's server ports. */
async function inject(ports: number[], a: Attack): Promise<void> {
  if (ports.length === 0) {
    a.error = 'the UDP publisher\'s server_port was not found';
    return;
  }
  const sock: UdpSocket = createSocket('udp4');
  sock.on('error', () => undefined);
  const bound = await new Promise<boolean>((res) => {
    sock.once('error', () => res(false));
    sock.bind(0, '127.0.0.2', () => res(true));
  });
  if (!bound) {
    a.error = 'cannot bind 127.0.0.2';
    sock.close();
    return;
  }
  let open = true;
  attackSockets.add({
    destroy: () => {
      if (open) sock.close();
      open = false;
    },
  });
  const payload = Buffer.concat([Buffer.from([0x06]), MARKER, Buffer.alloc(100, 0x55)]);
  while (a.more && open) {
    for (const p of ports) {
      sock.send(rtp(96 + rnd(2), rnd(65536), rnd(2 ** 32), rnd(2 ** 32), true, payload), p, '127.0.0.1');
      const rtcp = Buffer.alloc(a.attempts % 2 ? 8 : 28);
      rtcp[0] = a.attempts % 2 ? 0x81 : 0x80;
      rtcp[1] = a.attempts % 2 ? 203 : 200;
      rtcp.writeUInt16BE(rtcp.length / 4 - 1, 2);
      rtcp.writeUInt32BE(rnd(2 ** 32), 4);
      sock.send(rtcp, p + 1, '127.0.0.1');
      a.attempts += 2;
    }
    await sleep(10);
  }
}

/** Wrong passwords from many connections at once (every fifth a 3,000-character Basic one). */
async function wrongPasswords(port: number, a: Attack, workers: number): Promise<number[]> {
  const url = `rtsp://127.0.0.1:${port}/protected/clip.mp4`;
  const waits: number[] = [];
  await onConnections(port, a, workers, 250, async (c) => {
    const ch = await ask(c, 'DESCRIBE', url, {}, '', 15_000);
    if (typeof ch === 'string' || ch.status !== 401) {
      a.count(`challenge: ${key(ch)}`);
      if (is2xx(ch)) a.letThrough++;
      return false;
    }
    const n = a.attempts++;
    const challenges = ch.headers.getAll('www-authenticate');
    const md5 = challenges.find((x) => /algorithm=MD5/i.test(x)) ?? challenges[0] ?? '';
    const user = n % 3 === 0 ? `nobody${n}` : 'alice';
    let auth = `Basic ${Buffer.from(`alice:${'x'.repeat(3000)}`).toString('base64')}`;
    if (n % 5 !== 0) {
      try {
        auth = answerChallenge(md5, { user, password: `guess-${n}`, method: 'DESCRIBE', uri: url });
      } catch {
        // A challenge the helper cannot answer: the long Basic one goes instead.
      }
    }
    const t0 = Date.now();
    const r = await ask(c, 'DESCRIBE', url, { Authorization: auth }, '', 15_000);
    if (waits.length < 20000) waits.push(Date.now() - t0);
    a.count(key(r));
    if (is2xx(r)) a.letThrough++;
    return typeof r !== 'string';
  });
  return waits;
}

const RTSP_TRAVERSAL = [
  '/../../../../etc/passwd',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/clip.mp4/../../../../etc/passwd',
  '/..\\..\\..\\etc\\passwd',
  '/protected/clip.mp4',
  '/protected/qtaccess',
  '/protected/qtusers',
  '/protected/../protected/clip.mp4',
  '/protected%2fclip.mp4',
  '/./protected//clip.mp4',
  '/protected/clip.mp4%00.txt',
];
const HTTP_TRAVERSAL = [
  '/protected/clip.mp4',
  '/protected/qtaccess',
  '/protected/qtusers',
  '/../../../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/protected/../protected/clip.mp4',
  '/protected%2fqtaccess',
  '/./protected//qtaccess',
];

/** Paths out of the media folder, into the protected folder and at its access files, over RTSP
 * (DESCRIBE) and HTTP (GET, the reference-movie path); each on a new connection. */
async function traversal(port: number, a: Attack, workers: number): Promise<void> {
  const worker = async () => {
    while (a.more) {
      const n = a.attempts++;
      if (n % 2 === 0) {
        const path = RTSP_TRAVERSAL[(n / 2) % RTSP_TRAVERSAL.length];
        const c = await dial(port);
        if (!c) continue;
        const r = await ask(c, 'DESCRIBE', `rtsp://127.0.0.1:${port}${path}`);
        a.count(`RTSP ${key(r)}`);
        if (is2xx(r)) a.letThrough++;
        c.close();
      } else {
        const path = HTTP_TRAVERSAL[((n - 1) / 2) % HTTP_TRAVERSAL.length];
        const s = await openRaw(port);
        if (!s) continue;
        const w = new Watch(s);
        s.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`);
        const r = await w.answer(5000);
        a.count(`HTTP ${r}`);
        if (/^2/.test(r)) a.letThrough++;
        s.destroy();
      }
      await sleep(100);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

// ---------- legitimate load and measurements ----------

/** A TCP viewer of the UDP-published stream that counts packets carrying the injector's marker. */
class Sentinel {
  packets = 0;
  injected = 0;
  /** Longest time without a packet since `watchGaps()`, ms. */
  longestGap = 0;
  #gapsFrom = Infinity;
  lastPacket = Date.now();
  readonly #c: RawRtspClient;
  readonly #timer: NodeJS.Timeout;

  private constructor(c: RawRtspClient, url: string, session: string) {
    this.#c = c;
    let ticks = 0;
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const f of c.frames.splice(0)) {
        if (f.channel % 2 !== 0) continue;
        this.packets++;
        this.lastPacket = now;
        if (f.payload.includes(MARKER)) this.injected++;
      }
      if (now >= this.#gapsFrom) this.longestGap = Math.max(this.longestGap, now - Math.max(this.lastPacket, this.#gapsFrom));
      if (++ticks % 16 === 0) void c.request('GET_PARAMETER', url, { Session: session }).catch(() => undefined);
    }, 250);
  }

  static async start(port: number, path: string): Promise<Sentinel> {
    const url = `rtsp://127.0.0.1:${port}/${path}`;
    const c = await RawRtspClient.connect(port);
    const played = await playTcp(c, url);
    if (typeof played === 'string' || 'status' in played) throw new Error(`sentinel viewer of /${path} could not play: ${key(played)}`);
    return new Sentinel(c, url, played.session);
  }

  watchGaps(): void {
    this.#gapsFrom = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#c.close();
  }
}

interface ReaderGroup {
  label: string;
  n: number;
  child: ChildProcess;
  done: Promise<ReaderResult | string>;
}

function startReaders(label: string, url: string, n: number, transport: string, windowS: number, portBase: number, pid?: number): ReaderGroup {
  const args = [join(SHARED, 'rtsp_readers.mjs'), '--url', url, '--n', String(n), '--transport', transport, '--ramp', '100', '--settle', '2', '--window', String(windowS), '--json'];
  if (portBase) args.push('--port-base', String(portBase));
  if (pid) args.push('--pid', String(pid));
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-100_000)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  const limit = setTimeout(() => child.kill('SIGKILL'), (windowS + 60) * 1000);
  const done = new Promise<ReaderResult | string>((res) =>
    child.once('exit', () => {
      clearTimeout(limit);
      try {
        res(JSON.parse(out.trim().split('\n').pop() ?? '') as ReaderResult);
      } catch {
        res(`reader gave no result: ${(err + out).trim().slice(-200)}`);
      }
    }),
  );
  return { label, n, child, done };
}

/** Counts the server's log lines by level, and its warnings/errors by message (bounded). */
class LogTally {
  readonly levels = new Map<string, number>();
  readonly messages = new Map<string, number>();
  /** First interruption of each live path: when, and the reason logged. */
  readonly broadcastEnds = new Map<string, { at: number; reason: string }>();
  #rest = '';

  feed(d: Buffer): void {
    const lines = (this.#rest + d.toString('utf8')).split('\n');
    this.#rest = lines.pop()!.slice(-4096);
    for (const line of lines) {
      const m = /^\S+\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(.*)$/.exec(line);
      if (!m) continue;
      this.levels.set(m[1], (this.levels.get(m[1]) ?? 0) + 1);
      const end = /broadcast (?:interrupted|ended) path=(\S+) reason=("(?:[^"\\]|\\.)*"|\S+)/.exec(m[2]);
      if (end && !this.broadcastEnds.has(end[1]) && this.broadcastEnds.size < 100) this.broadcastEnds.set(end[1], { at: Date.now(), reason: end[2].replace(/^"|"$/g, '') });
      if (m[1] === 'INFO' || m[1] === 'DEBUG' || m[1] === 'TRACE') continue;
      const msg = `${m[1]} ${m[2].replace(/ [\w.]+=("(?:[^"\\]|\\.)*"|\S*)/g, '').slice(0, 90)}`;
      if (this.messages.size < 60 || this.messages.has(msg)) this.messages.set(msg, (this.messages.get(msg) ?? 0) + 1);
    }
  }
}

interface Sample {
  t: number;
  rss: number;
  fds: number;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}


/** A media folder with the clip, and a protected folder (qtaccess + users file) holding it too. */
function mediaDir(file: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-hostile-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(file, join(dir, 'clip.mp4'));
  mkdirSync(join(dir, 'protected'));
  copyFileSync(file, join(dir, 'protected', 'clip.mp4'));
  const users = join(dir, 'protected', 'qtusers');
  writeFileSync(join(dir, 'protected', 'qtaccess'), `AuthName "Members"\nAuthUserFile ${users}\nrequire valid-user\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'passwd', '-c', '-F', '-f', users, '-g', join(dir, 'protected', 'qtgroups'), '-p', 'correct horse', 'alice'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`rivulet passwd failed: ${r.stderr}`);
  return dir;
}

/** server_port pairs from the SETUP answers in ffmpeg's trace log; the pipe stays drained. */
function publisherPorts(child: ChildProcess, tracks: number, ms: number): Promise<number[]> {
  return new Promise((res) => {
    const ports = new Set<number>();
    let text = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(t);
      text = '';
      res([...ports]);
    };
    const t = setTimeout(finish, ms);
    child.stderr!.on('data', (d: Buffer) => {
      if (done) return;
      text = (text + d.toString('latin1')).slice(-1_000_000);
      for (const m of text.matchAll(/server_port=(\d+)-\d+/g)) ports.add(Number(m[1]));
      if (ports.size >= tracks) finish();
    });
  });
}

async function waitLive(port: number, path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const c = await RawRtspClient.connect(port).catch(() => undefined);
    const r = c ? await ask(c, 'DESCRIBE', `rtsp://127.0.0.1:${port}/${path}`) : 'closed';
    c?.close();
    if (typeof r !== 'string' && r.status === 200) return;
    await sleep(200);
  }
  throw new Error(`the published /${path} never became active`);
}

const pct = (a: number[], q: number) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))] : 0);

/** Every attack, and how to start it. */
function plan(port: number, trackUrl: string, serverPorts: number[]) {
  const waits: number[] = [];
  const A = {
    slowloris: new Attack('slowloris (1 byte / 500 ms, 150 at once)', 2000, `kept past requestTimeout+5 s`),
    pipe: new Attack('pipelined OPTIONS, never read (4 clients)', 3_000_000, ''),
    badPorts: new Attack(`bad client_port SETUP (${BAD_PORTS.join(', ')})`, 3000, '2xx'),
    sessions: new Attack('session flood (SETUP, no Session, never PLAY)', 3000, ''),
    announce: new Attack('ANNOUNCE flood, never RECORD', 1000, '2xx to 200 m= lines'),
    oversized: new Attack('oversized header line/fields/head/URI/body', 2000, '2xx'),
    garbage: new Attack('garbage interleaved frames on a TCP viewer', 20_000, ''),
    frame: new Attack('one endless live frame (no marker, TCP publisher)', 15_000, ''),
    inject: new Attack('RTP/RTCP injection into UDP publisher ports', 30_000, 'marker packet reached a viewer'),
    passwords: new Attack('wrong passwords, 40 connections', 10_000, '2xx'),
    traversal: new Attack('traversal / protected files, RTSP + HTTP', 2000, '2xx'),
  };
  const launch: Record<keyof typeof A, () => Promise<unknown>> = {
    slowloris: () => slowloris(port, A.slowloris, 150),
    pipe: () => pipeliners(port, A.pipe, 4, 2 << 20),
    badPorts: () => badPorts(port, trackUrl, A.badPorts, 2),
    sessions: () => sessionFlood(port, trackUrl, A.sessions, 2),
    announce: () => announceFlood(port, A.announce),
    oversized: () => oversized(port, A.oversized, 4),
    garbage: () => garbageViewer(port, A.garbage),
    frame: () => endlessFrame(port, A.frame),
    inject: () => inject(serverPorts, A.inject),
    passwords: () => wrongPasswords(port, A.passwords, 40).then((w) => waits.push(...w)),
    traversal: () => traversal(port, A.traversal, 2),
  };
  const guard = (a: Attack, p: Promise<unknown>) =>
    p.catch((e: unknown) => {
      a.error = e instanceof Error ? e.message : String(e);
    });
  const keys = (Object.keys(A) as (keyof typeof A)[]).filter((k) => !ONLY || ONLY.includes(k));
  return { A, launch, guard, waits, keys };
}

/** Runs the chosen attacks until `deadline`, then closes every attacking socket. */
async function attackUntil(p: ReturnType<typeof plan>, until: number): Promise<void> {
  deadline = until;
  const runs = p.keys.map((k) => p.guard(p.A[k], p.launch[k]()));
  await sleep(deadline - Date.now());
  for (const s of attackSockets) s.destroy();
  await within(Promise.all(runs), 20_000, []);
  for (const s of attackSockets) s.destroy();
}

async function main(): Promise<void> {
  const file = await benchClip();
  const dir = mediaDir(file);
  const sets = [`rtsp.sessionTimeout=${SESSION_TIMEOUT_S}`, `limits.maxSessionsPerIp=${SESSION_CAP}`, `limits.requestTimeout=${REQUEST_TIMEOUT_S}`];
  const riv = await startRivulet(dir, sets);
  const pid = riv.child.pid!;
  const port = riv.port;
  const log = new LogTally();
  const keep = values['server-log'] ? createWriteStream(values['server-log']) : undefined;
  for (const out of [riv.child.stdout!, riv.child.stderr!])
    out.on('data', (d: Buffer) => {
      log.feed(d);
      keep?.write(d);
    });
  let serverExit = '';
  riv.child.once('exit', (code, sig) => (serverExit = `exited (${code ?? sig})`));

  const ff = ['-nostdin', '-hide_banner', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'rtsp'];
  const published = Date.now();
  const pubTcp = track(spawn('ffmpeg', ['-loglevel', 'error', ...ff, '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${port}/live`], { stdio: 'ignore' }));
  const pubUdp = track(spawn('ffmpeg', ['-loglevel', 'trace', ...ff, '-rtsp_transport', 'udp', `rtsp://127.0.0.1:${port}/liveudp`], { stdio: ['ignore', 'ignore', 'pipe'] }));
  const serverPorts = await publisherPorts(pubUdp, 2, 15_000);
  await waitLive(port, 'live');
  await waitLive(port, 'liveudp');
  const probe = await RawRtspClient.connect(port);
  const d = await ask(probe, 'DESCRIBE', `rtsp://127.0.0.1:${port}/clip.mp4`);
  probe.close();
  if (typeof d === 'string' || d.status !== 200) throw new Error(`DESCRIBE /clip.mp4: ${key(d)}`);
  const trackUrl = controls(d.body, d.headers.get('content-base') ?? `rtsp://127.0.0.1:${port}/clip.mp4`)[0];
  await sleep(2000);
  const sentinel = await Sentinel.start(port, 'liveudp');
  const sentinelStart = Date.now();
  // One-time costs (modules loaded and code compiled on first use of each refusal path) belong
  // in "before", not in what the attack is said to have left behind.
  if (PRIME_S > 0) {
    await attackUntil(plan(port, trackUrl, serverPorts), Date.now() + PRIME_S * 1000);
    deadline = Infinity;
    // Until the reaper has taken the sessions it made, they count against the viewers' address.
    await sleep((SESSION_TIMEOUT_S + 2) * 1000);
  }

  const samples: Sample[] = [];
  const sampler = setInterval(() => samples.push({ t: Date.now(), rss: rssMiB(pid), fds: fdCount(pid) }), 500);
  const windowS = ATTACK_S + RECOVERY_S + WARM_S;
  const live = `rtsp://127.0.0.1:${port}/live`;
  const vod = `rtsp://127.0.0.1:${port}/clip.mp4`;
  const groups = [
    startReaders('live, UDP', live, VIEWERS.liveUdp, 'udp', windowS, 30000, pid),
    startReaders('live, TCP', live, VIEWERS.liveTcp, 'tcp', windowS, 0),
    startReaders('file, UDP', vod, VIEWERS.fileUdp, 'udp', windowS, 34000),
    startReaders('file, TCP', vod, VIEWERS.fileTcp, 'tcp', windowS, 0),
  ];
  if (!values.json) console.error(`rivulet pid ${pid} on port ${port}; ${VIEWERS.liveUdp + VIEWERS.liveTcp} live + ${VIEWERS.fileUdp + VIEWERS.fileTcp} file viewers; attack in ${WARM_S} s for ${ATTACK_S} s`);
  await sleep(WARM_S * 1000);

  const start = Date.now();
  const pre = samples.filter((s) => s.t >= start - 3000);
  const before = { rss: pre.reduce((x, s) => x + s.rss, 0) / pre.length, fds: pre.reduce((x, s) => x + s.fds, 0) / pre.length };
  const attack = plan(port, trackUrl, serverPorts);
  const { A, waits, keys: chosen } = attack;
  const sentinelBefore = sentinel.packets;
  const udpLiveAtStart = Date.now() - sentinel.lastPacket < 2000;
  const sentinelRate = sentinelBefore / ((Date.now() - sentinelStart) / 1000);
  sentinel.watchGaps();
  await attackUntil(attack, start + ATTACK_S * 1000);
  await sleep(1000);
  sentinel.stop();
  // The publisher's stream must also go on: a gap means stray RTCP (a BYE) or a forced resync
  // stopped it.
  const sentinelDuring = sentinel.packets - sentinelBefore;
  const disturbed = sentinel.longestGap > 3000;
  if (chosen.includes('inject')) {
    A.inject.letThrough = sentinelDuring === 0 || !udpLiveAtStart ? -1 : sentinel.injected + (disturbed ? 1 : 0);
    const rate = sentinelDuring / ((Date.now() - start) / 1000);
    A.inject.note = `${udpLiveAtStart ? '' : '/liveudp was not live when the attack began; '}sentinel viewer: ${sentinelRate.toFixed(0)} -> ${rate.toFixed(0)} pkt/s, ${sentinel.injected} injected, longest gap ${(sentinel.longestGap / 1000).toFixed(1)} s`;
  }
  if (waits.length) A.passwords.note = `refusal wait p50 ${pct(waits, 0.5)} ms, p95 ${pct(waits, 0.95)} ms`;

  await sleep(Math.max(0, deadline + RECOVERY_S * 1000 - Date.now()));
  const after = { rss: rssMiB(pid), fds: fdCount(pid) };
  const during = samples.filter((s) => s.t >= start);
  const peak = { rss: Math.max(...during.map((s) => s.rss)), fds: Math.max(...during.map((s) => s.fds)) };
  const results = await Promise.all(groups.map((g) => g.done));
  clearInterval(sampler);
  const stopAt = Date.now();
  await stop(pubTcp);
  await stop(pubUdp);
  const died = serverExit;
  await stop(riv.child);

  const back = (k: 'rss' | 'fds') => after[k] > 0 && after[k] <= before[k] * 1.1;
  const viewers = groups.map((g, i) => {
    const r = results[i];
    if (typeof r === 'string') return { label: g.label, n: g.n, error: r, ok: false };
    const startFailed = Object.values((r.failures ?? {}) as Record<string, number>).reduce((x, y) => x + y, 0);
    const started = g.n - startFailed;
    const playing = Number(r.playing ?? 0);
    const rampS = Number(r.ramp_s ?? 0);
    const starved = Number(r.sessions_starved ?? 0);
    // The window opens after the ramp and 2 s of settling; it must be open before the attack.
    const covered = rampS + 2 <= WARM_S - 1;
    const ok = startFailed === 0 && playing === g.n && r.lost === 0 && r.sessions_with_loss === 0 && starved === 0 && covered;
    return { label: g.label, n: g.n, started, playing, disconnected: started - playing, pkts: Number(r.pkts ?? 0), lost: r.lost, sessions_with_loss: r.sessions_with_loss, starved, window_s: Number(r.window_s ?? 0), covered, ok };
  });
  // Publishers are legitimate clients too: their broadcast must last until the bench stops them.
  const publishers = [
    { label: 'publisher, TCP (ffmpeg)', path: 'live' },
    { label: 'publisher, UDP (ffmpeg)', path: 'liveudp' },
  ].map((p) => {
    const end = log.broadcastEnds.get(p.path);
    const cut = end && end.at < stopAt ? end : undefined;
    return { ...p, ok: !cut, ended: cut && `${cut.reason} at ${((cut.at - published) / 1000).toFixed(0)} s` };
  });
  const attacks = chosen.map((k) => A[k]);
  const ok = !died && back('rss') && back('fds') && viewers.every((v) => v.ok) && publishers.every((p) => p.ok) && attacks.every((a) => !a.verdict.startsWith('FAIL'));

  const report = {
    config: { attack_s: ATTACK_S, recovery_s: RECOVERY_S, session_timeout_s: SESSION_TIMEOUT_S, max_sessions_per_ip: SESSION_CAP, request_timeout_s: REQUEST_TIMEOUT_S, max_connections_per_ip: 0 },
    attacks: attacks.map((a) => ({ name: a.name, attempts: a.attempts, answers: Object.fromEntries(a.answers), let_through: a.letThrough, check: a.check, note: a.note, error: a.error || undefined, verdict: a.verdict })),
    server: {
      rss_MiB: { before: +before.rss.toFixed(1), peak: +peak.rss.toFixed(1), after: +after.rss.toFixed(1), back: back('rss') },
      fds: { before: Math.round(before.fds), peak: peak.fds, after: after.fds, back: back('fds') },
      died: died || undefined,
      log: { levels: Object.fromEntries(log.levels), top: Object.fromEntries([...log.messages].sort((a, b) => b[1] - a[1]).slice(0, 12)) },
    },
    viewers,
    publishers,
    ok,
  };
  if (values.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`\nattack ${ATTACK_S} s from 127.0.0.1 (injection from 127.0.0.2); rtsp.sessionTimeout=${SESSION_TIMEOUT_S}, limits.maxSessionsPerIp=${SESSION_CAP}, limits.maxConnectionsPerIp=0`);
    printTable(
      ['attack', 'attempts', 'server answers (first 4)', 'let through', 'verdict', 'note'],
      attacks.map((a) => [a.name, String(a.attempts), a.summary(), a.check ? `${Math.max(0, a.letThrough)} (${a.check})` : '-', a.verdict, a.error || a.note]),
    );
    printTable(
      ['server', 'before', 'peak', `${RECOVERY_S} s after`, 'back within 10 %'],
      [
        ['RSS MiB', before.rss.toFixed(1), peak.rss.toFixed(1), after.rss.toFixed(1), back('rss') ? 'yes' : 'NO'],
        ['open fds', String(Math.round(before.fds)), String(peak.fds), String(after.fds), back('fds') ? 'yes' : 'NO'],
      ],
    );
    printTable(
      ['legit clients', 'sessions', 'alive start -> end', 'packets', 'lost', 'with loss', 'starved', 'verdict'],
      viewers.map((v) =>
        'error' in v
          ? [v.label, String(v.n), '-', '-', '-', '-', '-', `FAIL (${v.error})`]
          : [v.label, String(v.n), `${v.started} -> ${v.playing}`, String(v.pkts), String(v.lost), String(v.sessions_with_loss), String(v.starved), v.ok ? 'ok' : v.covered ? 'FAIL' : 'FAIL (window missed the attack)'],
      ).concat(publishers.map((p) => [p.label, '1', p.ok ? '1 -> 1' : '1 -> 0', '-', '-', '-', '-', p.ok ? 'ok' : `FAIL (broadcast ended: ${p.ended})`])),
    );
    const top = [...log.messages].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`\nserver log: ${[...log.levels].map(([k, n]) => `${k} ${n}`).join(', ')}${died ? `; server ${died}` : ''}`);
    for (const [m, n] of top) console.log(`  ${String(n).padStart(7)}  ${m}`);
    console.log(`\n${ok ? 'PASS' : 'FAIL'}: the server ${ok ? 'held' : 'did not hold'} under attack`);
  }
  process.exitCode = ok ? 0 : 1;
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  // Stray timers or sockets of the attack must not keep the run alive; 'exit' kills the children.
  .finally(() => process.exit());
