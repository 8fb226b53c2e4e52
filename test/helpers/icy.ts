/** An ICY (SHOUTcast/Icecast) listener on a plain TCP socket, since ICY servers may answer
 * `ICY 200 OK`, which node:http rejects. With metadata on, it splits the body strictly by
 * `icy-metaint`: a block placed anywhere else shows up as garbage metadata (`metaErrors`) or as
 * broken MP3 frames (`mpegAudioCheck`). Plus playlist (.m3u/.pls) reading. */
import { connect } from 'node:net';
import { parseMpegAudioHeader } from '../../src/codecs/mpa/index.js';

export interface IcyMetaBlock {
  /** Audio bytes before this block: always a multiple of metaint. */
  audioOffset: number;
  /** Metadata bytes (the length byte × 16; 0 for "no change"). */
  length: number;
  /** The block with its NUL padding removed (latin1). */
  text: string;
  /** StreamTitle, when the block has one. */
  title?: string;
}

export interface IcyResult {
  /** 200, … (from `HTTP/1.x 200 OK` or `ICY 200 OK`). */
  status: number;
  statusLine: string;
  /** Lower-case names; a repeated header keeps the last value. */
  headers: Record<string, string>;
  /** The body with metadata blocks removed. */
  audio: Buffer;
  metaBlocks: IcyMetaBlock[];
  metaint?: number;
  /** Blocks whose text is not `Key='value';` pairs then NUL padding: a sign of misplaced blocks. */
  metaErrors: string[];
  /** Why it stopped: enough audio bytes, time up, `until` said so, or the server closed. */
  ended: 'bytes' | 'time' | 'until' | 'closed';
  /** Socket error text, if one ended it. */
  error?: string;
}

export interface IcyListenOptions {
  /** Send `Icy-MetaData: 1` (default false). */
  metadata?: boolean;
  /** Stop after this many audio bytes (default 256 KiB; the buffer never grows past it). */
  bytes?: number;
  /** Stop after this many milliseconds (default 10 s). */
  ms?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Request method (default GET). */
  method?: string;
  /** Called after each metadata block with the result so far (`audio` is filled only at the
   * end); true stops the listener. */
  until?: (r: IcyResult) => boolean;
}

/** Longest response head accepted before it is taken as garbage. */
const MAX_HEAD = 16 * 1024;

/** Value of `StreamTitle='…';` in an ICY metadata text. Titles may hold quotes: the value ends at
 * the `';` followed by another key or the end. */
export function streamTitle(text: string): string | undefined {
  return /StreamTitle='([\s\S]*?)';(?=[A-Za-z]+='|$)/.exec(text)?.[1];
}

/** Metadata text as ICY servers write it: `Key='value';` repeated, nothing else. */
const META_TEXT = /^(?:[A-Za-z]+='[\s\S]*?';)*$/;

/** Listens to `url` (http://host:port/path) and returns what it got; never rejects for what the
 * server sends (a bad head gives status 0 and the error), only for a bad URL. */
export function icyListen(url: string, opts: IcyListenOptions = {}): Promise<IcyResult> {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`icyListen: http:// URL expected, got ${url}`);
  const limit = opts.bytes ?? 256 * 1024;
  const port = Number(u.port || 80);
  const head: Record<string, string> = { Host: u.host, 'User-Agent': 'rivulet-test-icy/1', Accept: '*/*' };
  if (opts.metadata) head['Icy-MetaData'] = '1';
  Object.assign(head, opts.headers ?? {});
  const request =
    `${opts.method ?? 'GET'} ${u.pathname}${u.search} HTTP/1.0\r\n` +
    Object.entries(head)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';

  return new Promise((resolve) => {
    const r: IcyResult = { status: 0, statusLine: '', headers: {}, audio: Buffer.alloc(0), metaBlocks: [], metaErrors: [], ended: 'closed' };
    const audio: Buffer[] = [];
    let audioBytes = 0;
    let headBuf: Buffer | undefined = Buffer.alloc(0);
    // Body parser state: audio bytes left before the next block; metadata bytes wanted/held.
    let toMeta = Infinity;
    let metaLen = -1;
    let meta: Buffer[] = [];
    let metaHave = 0;
    let done = false;

    const sock = connect(port, u.hostname);
    const finish = (why: IcyResult['ended'], error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      r.ended = why;
      if (error) r.error = error;
      r.audio = Buffer.concat(audio);
      resolve(r);
    };
    const timer = setTimeout(() => finish('time'), opts.ms ?? 10_000);

    const takeAudio = (b: Buffer) => {
      const room = limit - audioBytes;
      const part = b.length > room ? b.subarray(0, room) : b;
      audio.push(part);
      audioBytes += part.length;
      if (audioBytes >= limit) finish('bytes');
    };
    const endBlock = () => {
      const raw = Buffer.concat(meta).toString('latin1');
      const text = raw.replace(/\0+$/, '');
      const block: IcyMetaBlock = { audioOffset: audioBytes, length: metaLen, text };
      const title = streamTitle(text);
      if (title !== undefined) block.title = title;
      if (text.includes('\0') || !META_TEXT.test(text)) {
        r.metaErrors.push(`block at audio byte ${audioBytes}: ${JSON.stringify(raw.slice(0, 80))}`);
      }
      r.metaBlocks.push(block);
      meta = [];
      metaHave = 0;
      metaLen = -1;
      toMeta = r.metaint!;
      if (opts.until?.(r)) finish('until');
    };
    const body = (b: Buffer) => {
      while (b.length > 0 && !done) {
        if (toMeta > 0) {
          const n = Math.min(toMeta, b.length);
          toMeta -= n;
          takeAudio(b.subarray(0, n));
          b = b.subarray(n);
        } else if (metaLen < 0) {
          metaLen = b[0] * 16;
          b = b.subarray(1);
          if (metaLen === 0) endBlock();
        } else {
          const n = Math.min(metaLen - metaHave, b.length);
          meta.push(b.subarray(0, n));
          metaHave += n;
          b = b.subarray(n);
          if (metaHave === metaLen) endBlock();
        }
      }
    };
    const parseHead = (text: string) => {
      const lines = text.split('\r\n');
      r.statusLine = lines[0];
      const m = /^(?:HTTP\/\d\.\d|ICY) (\d{3})/.exec(lines[0]);
      r.status = m ? Number(m[1]) : 0;
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) r.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      if (/chunked/i.test(r.headers['transfer-encoding'] ?? '')) return 'chunked transfer encoding in an answer to HTTP/1.0';
      const mi = r.headers['icy-metaint'];
      if (opts.metadata && mi !== undefined) {
        const n = Number(mi);
        if (!Number.isInteger(n) || n <= 0) return `bad icy-metaint: ${mi}`;
        r.metaint = n;
        toMeta = n;
      }
      return undefined;
    };

    sock.on('connect', () => sock.write(request));
    sock.on('data', (d: Buffer) => {
      if (headBuf === undefined) return body(d);
      headBuf = Buffer.concat([headBuf, d]);
      const end = headBuf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (headBuf.length > MAX_HEAD) finish('closed', 'response head too long');
        return;
      }
      const rest = headBuf.subarray(end + 4);
      const bad = parseHead(headBuf.subarray(0, end).toString('latin1'));
      headBuf = undefined;
      if (bad) return finish('closed', bad);
      body(rest);
    });
    sock.on('error', (e) => finish('closed', e.message));
    sock.on('close', () => finish('closed'));
  });
}

/** How the audio of an MP3 listener holds together: frames walked header to header. A frame
 * counts where a header is followed by another header (or the end) one frame length on, so a
 * stray 0xFFE pattern does not pass. A stream that starts on a frame boundary has `leadingBytes`
 * 0; `resyncs` counts the places after that where bytes had to be skipped to find the next frame
 * (foreign bytes in the audio). A truncated last frame is not counted. */
export function mpegAudioCheck(audio: Buffer): { frames: number; leadingBytes: number; resyncs: number; samples: number; sampleRate?: number } {
  const frameAt = (off: number) => {
    const h = parseMpegAudioHeader(audio, off);
    if (!h) return null;
    const next = off + h.frameSize;
    return next === audio.length || (next + 4 <= audio.length && parseMpegAudioHeader(audio, next)) ? h : null;
  };
  const seek = (off: number) => {
    while (off + 4 <= audio.length && !frameAt(off)) off++;
    return off;
  };
  let off = seek(0);
  const leadingBytes = off;
  let frames = 0;
  let resyncs = 0;
  let samples = 0;
  let sampleRate: number | undefined;
  while (off + 4 <= audio.length) {
    const h = frameAt(off);
    if (h) {
      frames++;
      samples += h.samplesPerFrame;
      sampleRate ??= h.sampleRate;
      off += h.frameSize;
      continue;
    }
    const cut = parseMpegAudioHeader(audio, off);
    if (cut && off + cut.frameSize > audio.length - 4) break; // the cut-off last frame
    const found = seek(off + 1);
    if (found + 4 > audio.length) break;
    resyncs++;
    off = found;
  }
  return { frames, leadingBytes, resyncs, samples, sampleRate };
}

/** A playlist's entries: .m3u (one URL a line, # lines skipped) or .pls (FileN=). */
export function parsePlaylist(text: string): { kind: 'm3u' | 'pls'; urls: string[]; titles: string[] } {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines.some((l) => /^\[playlist\]$/i.test(l))) {
    const urls: string[] = [];
    const titles: string[] = [];
    for (const l of lines) {
      const f = /^File(\d+)=(.*)$/i.exec(l);
      if (f) urls[Number(f[1]) - 1] = f[2];
      const t = /^Title(\d+)=(.*)$/i.exec(l);
      if (t) titles[Number(t[1]) - 1] = t[2];
    }
    return { kind: 'pls', urls: urls.filter((x) => x !== undefined), titles: titles.filter((x) => x !== undefined) };
  }
  const titles = lines.flatMap((l) => /^#EXTINF:[^,]*,(.*)$/.exec(l)?.[1] ?? []);
  return { kind: 'm3u', urls: lines.filter((l) => l !== '' && !l.startsWith('#')), titles };
}

/** Fetches a playlist URL (/mount.m3u, /mount.pls) and parses it. */
export async function fetchPlaylist(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; text: string } & ReturnType<typeof parsePlaylist>> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, ...parsePlaylist(text) };
}
