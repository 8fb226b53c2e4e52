/** Many RTSP viewers at once on raw sockets, for scale tests: one TCP connection per viewer, media
 * interleaved on it or on UDP port pairs, and every RTP packet checked as it arrives (nothing is
 * kept but a few numbers per track): one SSRC, no sequence gap, timestamps that go forward, the
 * first packet after each PLAY as its RTP-Info says, and the media instant reached so far. */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { cacheDir } from './fixtures.js';
import { makeClip, type ClipSpec } from './media.js';
import { udpReceiver, type UdpReceiver } from './rtsp-client.js';
import { tempDir } from './server.js';

/** A scratch media folder holding `specs`, each made once with makeClip and cached under
 * test/.cache/fixtures (the spec is hashed into the name, so a changed spec makes a new file). */
export async function cachedClips(specs: ClipSpec[]): Promise<{ dir: string; cleanup: () => void }> {
  mkdirSync(cacheDir, { recursive: true });
  const media = tempDir('rivulet-media-');
  await Promise.all(
    specs.map(async (spec) => {
      const hash = createHash('sha1').update(JSON.stringify(spec)).digest('hex').slice(0, 8);
      const cached = join(cacheDir, `clip-${hash}-${spec.name}`);
      if (!existsSync(cached)) {
        // Made under a name of this process's and renamed: a parallel run never sees half a file.
        const tmp = tempDir('rivulet-clip-');
        try {
          renameSync(await makeClip(tmp.dir, spec), cached);
        } finally {
          tmp.cleanup();
        }
      }
      copyFileSync(cached, join(media.dir, spec.name));
    }),
  );
  return media;
}

/** An RTSP response as the viewer parsed it. */
export interface ScaleReply {
  status: number;
  /** Header names lower-cased. */
  headers: Map<string, string>;
  body: string;
}

/** Longest response head accepted; more without its end means the stream is not RTSP. */
const MAX_HEAD = 65536;

/** Splits an RTSP connection's bytes into responses and interleaved frames. Only a frame or
 * response cut by a read is kept between reads, so the bytes are copied at most twice. */
export class InterleavedReader {
  #rest: Buffer | undefined;
  readonly #onFrame: (channel: number, payload: Buffer) => void;
  readonly #onReply: (r: ScaleReply) => void;

  constructor(onFrame: (channel: number, payload: Buffer) => void, onReply: (r: ScaleReply) => void) {
    this.#onFrame = onFrame;
    this.#onReply = onReply;
  }

  /** Throws on bytes that are neither a frame nor a response. */
  push(chunk: Buffer): void {
    const buf = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    let off = 0;
    while (off < buf.length) {
      if (buf[off] === 0x24) {
        if (buf.length - off < 4) break;
        const end = off + 4 + buf.readUInt16BE(off + 2);
        if (buf.length < end) break;
        this.#onFrame(buf[off + 1], buf.subarray(off + 4, end));
        off = end;
        continue;
      }
      const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
      if (headEnd < 0) {
        if (buf.length - off > MAX_HEAD) throw new Error('no end to an RTSP response head');
        break;
      }
      const lines = buf.toString('latin1', off, headEnd).split('\r\n');
      const status = /^RTSP\/1\.0 (\d{3}) /.exec(lines[0]);
      if (!status) throw new Error(`not an RTSP response: ${JSON.stringify(lines[0].slice(0, 80))}`);
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const colon = l.indexOf(':');
        if (colon > 0) headers.set(l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
      }
      const bodyEnd = headEnd + 4 + Number(headers.get('content-length') ?? 0);
      if (buf.length < bodyEnd) break;
      this.#onReply({ status: Number(status[1]), headers, body: buf.toString('utf8', headEnd + 4, bodyEnd) });
      off = bodyEnd;
    }
    this.#rest = off < buf.length ? buf.subarray(off) : undefined;
  }
}

/** Why a viewer sends a PLAY: its first, after a PAUSE without a Range, or to a new Range. */
export type PlayKind = 'start' | 'resume' | 'seek';

/** Problems kept per track; more are only counted. */
const MAX_PROBLEMS = 5;
/** How far the first packet after a resume may be from the last before the pause (s): the
 * player's send-ahead and a frame, generously. */
const RESUME_JUMP_S = 0.5;

/** One track of one viewer: checks each RTP packet as it arrives. */
export class TrackLog {
  readonly name: string;
  readonly clockRate: number;
  /** How far (s) the first packet after a PLAY may be from the instant RTP-Info names: video
   * starts on it (a keyframe), audio on the frame that holds it, which may begin before it. */
  readonly #firstSlack: number;
  /** From the SETUP answer's Transport. */
  ssrc: number | undefined;
  packets = 0;
  /** Media instant of the newest packet (s), once a PLAY has named the timeline. */
  npt = Number.NaN;
  readonly problems: string[] = [];
  problemCount = 0;
  #lastSeq = -1;
  #lastTs = 0;
  /** RTP time of media instant 0: the timeline the server keeps across pauses and seeks. */
  #base: number | undefined;
  #play: { kind: PlayKind; info?: { seq: number; rtptime: number }; first?: { seq: number; ts: number }; lastTs: number } | undefined;

  constructor(name: string, clockRate: number, kind: 'video' | 'audio') {
    this.name = name;
    this.clockRate = clockRate;
    this.#firstSlack = kind === 'audio' ? 0.05 : 0;
  }

  problem(text: string): void {
    if (this.problemCount++ < MAX_PROBLEMS) this.problems.push(`${this.name}: ${text}`);
  }

  /** Call just before sending a PLAY: the next packet is the first of what it plays (over UDP it
   * may arrive before the answer does). */
  beforePlay(kind: PlayKind): void {
    this.#play = { kind, lastTs: this.#lastTs };
  }

  /** The PLAY's answer: this track's RTP-Info and the Range's start. */
  played(info: { seq: number; rtptime: number }, start: number): void {
    const base = (info.rtptime - Math.round(start * this.clockRate)) >>> 0;
    if (this.#base === undefined) this.#base = base;
    // Range has milliseconds only: a resume's instant (anywhere) is rounded to one.
    else if (Math.abs((base - this.#base) | 0) > 0.0015 * this.clockRate) this.problem(`RTP-Info ${info.rtptime} at npt ${start} is off the timeline the first PLAY named`);
    if (!this.#play) return this.problem('PLAY answered with no PLAY sent');
    this.#play.info = info;
    this.#checkFirst();
  }

  #checkFirst(): void {
    const p = this.#play;
    if (!p?.info || !p.first) return;
    this.#play = undefined;
    const { info, first } = p;
    if (first.seq !== info.seq) this.problem(`${p.kind}: first packet seq ${first.seq}, RTP-Info seq ${info.seq}`);
    const off = ((first.ts - info.rtptime) | 0) / this.clockRate;
    if (p.kind === 'resume') {
      const jump = ((first.ts - p.lastTs) | 0) / this.clockRate;
      if (!(jump >= 0 && jump <= RESUME_JUMP_S)) this.problem(`resume: timestamps jump ${jump.toFixed(3)} s from the last packet before the pause`);
    } else if (!(Math.abs(off) <= this.#firstSlack)) {
      this.problem(`${p.kind}: first packet rtptime ${first.ts}, RTP-Info rtptime ${info.rtptime} (${off.toFixed(3)} s apart)`);
    }
  }

  onRtp(pkt: Buffer): void {
    if (pkt.length < 12 || pkt[0] >> 6 !== 2) return this.problem(`not an RTP packet (${pkt.length} bytes)`);
    const seq = pkt.readUInt16BE(2);
    const ts = pkt.readUInt32BE(4);
    const ssrc = pkt.readUInt32BE(8);
    this.packets++;
    if (ssrc !== this.ssrc) this.problem(`SSRC ${ssrc.toString(16)}, SETUP said ${this.ssrc?.toString(16)}`);
    const p = this.#play;
    const seeking = p !== undefined && p.first === undefined && p.kind === 'seek';
    if (this.#lastSeq >= 0) {
      const expected = (this.#lastSeq + 1) & 0xffff;
      if (seq !== expected) this.problem(`seq ${seq} after ${this.#lastSeq}, expected ${expected}`);
      // Presentation order is decode order here (no B-frames); only a seek may go back.
      if (!seeking && ((ts - this.#lastTs) | 0) < 0) this.problem(`timestamp ${ts} goes back from ${this.#lastTs}`);
    }
    if (p && !p.first) {
      p.first = { seq, ts };
      this.#checkFirst();
    }
    this.#lastSeq = seq;
    this.#lastTs = ts;
    if (this.#base !== undefined) this.npt = ((ts - this.#base) >>> 0) / this.clockRate;
  }

  /** Problems left at the end: a PLAY that brought no packet. */
  finish(): void {
    if (this.#play) this.problem(`${this.#play.kind}: no packet after the PLAY`);
    this.#play = undefined;
  }
}

/** A track of the movie as its SDP describes it. */
export interface MovieTrack {
  /** a=control, relative (e.g. trackID=1). */
  control: string;
  kind: 'video' | 'audio';
  clockRate: number;
}

/** The tracks of a DESCRIBE answer's SDP. */
export function sdpTracks(sdp: string): MovieTrack[] {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .map((m) => {
      const kind = m.startsWith('video') ? 'video' : 'audio';
      const control = /a=control:(\S+)/.exec(m)?.[1];
      const rate = /a=rtpmap:\d+ [^/\s]+\/(\d+)/.exec(m)?.[1];
      if (!control || !rate) throw new Error(`SDP media without control or rtpmap:\n${m}`);
      return { control, kind, clockRate: Number(rate) };
    });
}

/** The media instant of each track's newest packet at one moment. */
export interface Mark {
  wallMs: number;
  npt: number[];
  packets: number[];
}

/** RTP-Info: one entry per track with url, seq and rtptime. */
function parseRtpInfo(value: string): { url: string; seq: number; rtptime: number }[] {
  return value.split(',').map((e) => {
    const kv = new Map(e.split(';').map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1)]));
    return { url: kv.get('url') ?? '', seq: Number(kv.get('seq')), rtptime: Number(kv.get('rtptime')) };
  });
}

/** Start of a Range header's npt range (s). */
export function rangeStart(value: string | undefined): number {
  const m = /npt=([\d.]+)-/.exec(value ?? '');
  return m ? Number(m[1]) : Number.NaN;
}

/** One viewer: a TCP connection, its session and a TrackLog per track. */
export class ScaleViewer {
  readonly url: string;
  readonly transport: 'udp' | 'tcp';
  readonly tracks: TrackLog[];
  readonly #movie: MovieTrack[];
  readonly #socket: Socket;
  readonly #waiting: { resolve: (r: ScaleReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  readonly #udp: UdpReceiver[] = [];
  #cseq = 1;
  #session = '';
  /** Bytes that were not RTSP, an error on the socket: the viewer's own problems. */
  readonly problems: string[] = [];
  /** Resolves when the TCP connection has closed. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket, url: string, movie: MovieTrack[], transport: 'udp' | 'tcp', name: string) {
    this.#socket = socket;
    this.url = url;
    this.#movie = movie;
    this.transport = transport;
    this.tracks = movie.map((t) => new TrackLog(`${name} ${t.kind}`, t.clockRate, t.kind));
    const reader = new InterleavedReader(
      (channel, payload) => {
        const track = this.tracks[channel >> 1];
        if (!track) this.problems.push(`${name}: frame on channel ${channel}`);
        else if ((channel & 1) === 0) track.onRtp(payload);
      },
      (r) => {
        const w = this.#waiting.shift();
        if (!w) return this.problems.push(`${name}: unasked-for response ${r.status}`);
        clearTimeout(w.timer);
        w.resolve(r);
      },
    );
    socket.on('data', (d: Buffer) => {
      try {
        reader.push(d);
      } catch (e) {
        this.problems.push(`${name}: ${(e as Error).message}`);
        socket.destroy();
      }
    });
    socket.on('error', (e) => this.problems.push(`${name}: ${e.message}`));
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.once('close', () => {
      for (const w of this.#waiting.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`${name}: connection closed`));
      }
    });
  }

  /** Connects; `name` labels its problems. */
  static open(opts: { port: number; url: string; movie: MovieTrack[]; transport: 'udp' | 'tcp'; name: string }): Promise<ScaleViewer> {
    return new Promise((resolve, reject) => {
      const s = connect({ port: opts.port, host: '127.0.0.1', noDelay: true }, () => {
        s.off('error', reject);
        resolve(new ScaleViewer(s, opts.url, opts.movie, opts.transport, opts.name));
      });
      s.once('error', reject);
    });
  }

  request(method: string, uri: string, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<ScaleReply> {
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${this.#cseq++}\r\nUser-Agent: rivulet-scale-test\r\n`;
    if (this.#session) text += `Session: ${this.#session}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method} ${uri}: no answer in ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.push({ resolve, reject, timer });
      this.#socket.write(`${text}\r\n`);
    });
  }

  /** SETUP of every track, over UDP port pairs of its own or interleaved channels 2i, 2i+1. */
  async setup(): Promise<void> {
    for (const [i, t] of this.#movie.entries()) {
      let transport = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`;
      if (this.transport === 'udp') {
        const rx = await udpReceiver();
        this.#udp.push(rx);
        // Checked as they come, never kept.
        rx.rtp.removeAllListeners('message');
        rx.rtp.on('message', (m) => this.tracks[i].onRtp(m));
        transport = `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}`;
      }
      const r = await this.request('SETUP', `${this.url}/${t.control}`, { Transport: transport });
      if (r.status !== 200) throw new Error(`SETUP ${t.control}: ${r.status}`);
      this.#session = (r.headers.get('session') ?? '').split(';')[0];
      const ssrc = /ssrc=([0-9A-Fa-f]+)/.exec(r.headers.get('transport') ?? '')?.[1];
      if (!ssrc) throw new Error(`SETUP ${t.control}: no ssrc in Transport ${r.headers.get('transport')}`);
      this.tracks[i].ssrc = parseInt(ssrc, 16);
    }
  }

  /** PLAY from `from` seconds (a Range), or on from the pause without one; returns the Range's
   * start. Each track's first packet is checked against RTP-Info. */
  async play(kind: PlayKind, from?: number): Promise<number> {
    for (const t of this.tracks) t.beforePlay(kind);
    const r = await this.request('PLAY', this.url, from === undefined ? {} : { Range: `npt=${from.toFixed(3)}-` });
    if (r.status !== 200) throw new Error(`PLAY: ${r.status}`);
    const start = rangeStart(r.headers.get('range'));
    const info = parseRtpInfo(r.headers.get('rtp-info') ?? '');
    for (const [i, t] of this.#movie.entries()) {
      const e = info.find((x) => x.url.endsWith(`/${t.control}`));
      if (!e) throw new Error(`PLAY: no RTP-Info for ${t.control} in ${r.headers.get('rtp-info')}`);
      this.tracks[i].played(e, start);
    }
    return start;
  }

  /** PAUSE; returns the instant paused at (the Range's start). */
  async pause(): Promise<number> {
    const r = await this.request('PAUSE', this.url);
    if (r.status !== 200) throw new Error(`PAUSE: ${r.status}`);
    return rangeStart(r.headers.get('range'));
  }

  async teardown(): Promise<void> {
    const r = await this.request('TEARDOWN', this.url);
    if (r.status !== 200) throw new Error(`TEARDOWN: ${r.status}`);
    for (const t of this.tracks) t.finish();
  }

  mark(): Mark {
    return { wallMs: performance.now(), npt: this.tracks.map((t) => t.npt), packets: this.tracks.map((t) => t.packets) };
  }

  /** Every problem found so far, the viewer's and its tracks'. */
  allProblems(): string[] {
    return [...this.problems, ...this.tracks.flatMap((t) => (t.problemCount > t.problems.length ? [...t.problems, `${t.name}: ${t.problemCount - t.problems.length} more`] : t.problems))];
  }

  /** Closes the connection and the UDP sockets. */
  close(): void {
    this.#socket.destroy();
    for (const rx of this.#udp.splice(0)) rx.close();
  }
}
