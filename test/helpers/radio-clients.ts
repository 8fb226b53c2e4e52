/** Real radio programs as a test's sources and listeners: ffmpeg's icecast:// output and
 * GStreamer's shout2send publish; ffmpeg, GStreamer's souphttpsrc and VLC listen and decode. The
 * listeners all decode to 44.1 kHz stereo S16LE and measure it, so their results compare. Every
 * child is killed if the test process exits first. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnUnprivileged } from './unprivileged.js';

/** The PCM every listener decodes to. */
export const PCM_RATE = 44100;
export const PCM_CHANNELS = 2;
const PCM_BYTES_PER_SECOND = PCM_RATE * PCM_CHANNELS * 2;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Kept stderr/stdout text per child: enough for a diagnosis, bounded for a long run. */
const MAX_LOG = 200_000;

export interface RadioProcess {
  child: ChildProcess;
  /** What it printed on stderr (and stdout, for the publishers), the last 200 kB. */
  stderr(): string;
  /** Resolves when it exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Asks it to stop (SIGINT, so ffmpeg/gst-launch close cleanly), kills it after 3 s. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function track(child: ChildProcess, logStdout: boolean): RadioProcess {
  children.add(child);
  let log = '';
  const add = (d: Buffer) => {
    log += d.toString();
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG / 2);
  };
  child.stderr?.on('data', add);
  if (logStdout) child.stdout?.on('data', add);
  child.on('error', (e) => add(Buffer.from(`spawn error: ${e.message}\n`)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    }
    return exited;
  };
  return { child, stderr: () => log, exited, stop };
}

// ---------------------------------------------------------------- publishers

export type RadioCodec = 'mp3' | 'aac' | 'opus';

/** Encoder, muxer and Content-Type of each codec as a radio source sends it. */
const CODECS: Record<RadioCodec, { encoder: string; format: string; contentType: string }> = {
  mp3: { encoder: 'libmp3lame', format: 'mp3', contentType: 'audio/mpeg' },
  aac: { encoder: 'aac', format: 'adts', contentType: 'audio/aac' },
  opus: { encoder: 'libopus', format: 'ogg', contentType: 'audio/ogg' },
};

/** icecast://user:password@host:port/mount, as ffmpeg's icecast output takes it. */
export function icecastSourceUrl(host: string, port: number, mount: string, password: string, user = 'source'): string {
  return `icecast://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${mount.replace(/^\//, '')}`;
}

export interface FfmpegPublishOptions {
  /** A file to send (looped unless `loop` is false); default: a lavfi sine tone. */
  file?: string;
  /** Tone frequency when no file (default 440 Hz). */
  sineHz?: number;
  /** Default mp3. */
  codec?: RadioCodec;
  /** Send the file's audio as it is (no re-encode; `codec` still picks the muxer). */
  copy?: boolean;
  /** Default '128k' (mp3, aac), '96k' (opus). */
  bitrate?: string;
  /** Default 44100 (48000 for opus, which knows no other). */
  sampleRate?: number;
  /** Default 2. */
  channels?: number;
  /** Default the codec's (audio/mpeg, audio/aac, audio/ogg). */
  contentType?: string;
  /** `-re`: send at playing speed (default true). */
  realtime?: boolean;
  /** Loop `file` forever (default true). */
  loop?: boolean;
  iceName?: string;
  iceGenre?: string;
  iceDescription?: string;
  iceUrl?: string;
  icePublic?: boolean;
  /** The SOURCE method of Icecast < 2.4 instead of PUT (default false). */
  legacy?: boolean;
  /** In-stream tags (Ogg comments; ID3 for MP3), e.g. { title: 'x', artist: 'y' }. */
  metadata?: Record<string, string>;
  /** Extra output options, before the URL. */
  extra?: string[];
}

/** ffmpeg publishing to `url` (icecast://source:pw@127.0.0.1:PORT/mount) until stopped. */
export function ffmpegIcecastPublish(url: string, opts: FfmpegPublishOptions = {}): RadioProcess {
  const codec = CODECS[opts.codec ?? 'mp3'];
  const rate = opts.sampleRate ?? (opts.codec === 'opus' ? 48000 : 44100);
  const input = opts.file
    ? [...(opts.loop === false ? [] : ['-stream_loop', '-1']), '-i', opts.file]
    : ['-f', 'lavfi', '-i', `sine=frequency=${opts.sineHz ?? 440}:sample_rate=${rate}`];
  const encode = opts.copy
    ? ['-c:a', 'copy']
    : ['-c:a', codec.encoder, '-b:a', opts.bitrate ?? (opts.codec === 'opus' ? '96k' : '128k'), '-ar', String(rate), '-ac', String(opts.channels ?? 2)];
  const ice: string[] = ['-content_type', opts.contentType ?? codec.contentType];
  if (opts.iceName !== undefined) ice.push('-ice_name', opts.iceName);
  if (opts.iceGenre !== undefined) ice.push('-ice_genre', opts.iceGenre);
  if (opts.iceDescription !== undefined) ice.push('-ice_description', opts.iceDescription);
  if (opts.iceUrl !== undefined) ice.push('-ice_url', opts.iceUrl);
  if (opts.icePublic !== undefined) ice.push('-ice_public', opts.icePublic ? '1' : '0');
  if (opts.legacy) ice.push('-legacy_icecast', '1');
  const meta = Object.entries(opts.metadata ?? {}).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    ...(opts.realtime === false ? [] : ['-re']),
    ...input,
    '-map', '0:a:0', '-vn', ...encode, ...meta, ...ice, ...(opts.extra ?? []),
    '-f', codec.format, url,
  ];
  return track(spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] }), true);
}

export interface GstShoutOptions {
  /** 'http' (Icecast 2, the default), 'icy' (SHOUTcast v1) or 'xaudiocast'. */
  protocol?: 'http' | 'icy' | 'xaudiocast';
  /** Default 'source'. */
  username?: string;
  streamname?: string;
  genre?: string;
  description?: string;
  url?: string;
  /** Tone frequency (default 660 Hz). */
  sineHz?: number;
  /** kbit/s, constant (default 128). */
  bitrate?: number;
  /** Song title (and artist) tags: shout2send sends them as a metadata update. */
  title?: string;
  artist?: string;
}

/** A gst-launch string value, quoted so spaces and quotes survive its parser. */
const gstQuote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
const gstProp = (k: string, v: string | number) => `${k}=${typeof v === 'number' ? v : gstQuote(v)}`;

/** GStreamer publishing a live tone as MP3 with shout2send to host:port/mount until stopped. */
export function gstShoutPublish(host: string, port: number, mount: string, password: string, opts: GstShoutOptions = {}): RadioProcess {
  // taginject takes `title="…",artist="…"`, itself passed as one quoted value.
  const tags = [opts.title !== undefined ? `title=${gstQuote(opts.title)}` : '', opts.artist !== undefined ? `artist=${gstQuote(opts.artist)}` : '']
    .filter((t) => t !== '')
    .join(',');
  const props: string[] = [gstProp('ip', host), gstProp('port', port), gstProp('mount', mount.replace(/^\/?/, '/')), gstProp('password', password)];
  props.push(`protocol=${opts.protocol ?? 'http'}`, gstProp('username', opts.username ?? 'source'));
  for (const k of ['streamname', 'genre', 'description', 'url'] as const) {
    const v = opts[k];
    if (v !== undefined) props.push(gstProp(k, v));
  }
  const args = [
    'audiotestsrc', 'is-live=true', 'wave=sine', `freq=${opts.sineHz ?? 660}`,
    '!', `audio/x-raw,rate=${PCM_RATE},channels=2`,
    '!', 'audioconvert',
    '!', 'lamemp3enc', 'target=bitrate', `bitrate=${opts.bitrate ?? 128}`, 'cbr=true',
    ...(tags ? ['!', 'taginject', gstProp('tags', tags)] : []),
    '!', 'shout2send', ...props,
  ];
  return track(spawn('gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GST_DEBUG: '0' } }), true);
}

// ---------------------------------------------------------------- listeners

/** What a listener decoded. */
export interface ListenResult {
  /** Exit code (null when killed, as the GStreamer and VLC listeners are once done). */
  code: number | null;
  /** Seconds of audio decoded (44.1 kHz stereo). */
  duration: number;
  /** Root mean square of the decoded samples, 0…1 (a full-scale sine is 0.707; silence 0). */
  rms: number;
  /** Lines that mean it failed or met damaged input. */
  errors: string[];
  /** Its log, for a failed assertion's message. */
  stderr: string;
  /** The wall-clock limit passed before it had `seconds` of audio. */
  timedOut: boolean;
}

/** Running RMS of S16LE samples; bytes split between chunks are carried over. */
class PcmMeter {
  bytes = 0;
  #sumSquares = 0;
  #samples = 0;
  #carry: Buffer | undefined;
  add(d: Buffer): void {
    this.bytes += d.length;
    const b = this.#carry ? Buffer.concat([this.#carry, d]) : d;
    const even = b.length & ~1;
    for (let i = 0; i < even; i += 2) {
      const s = b.readInt16LE(i) / 32768;
      this.#sumSquares += s * s;
    }
    this.#samples += even / 2;
    this.#carry = even < b.length ? b.subarray(even) : undefined;
  }
  get rms(): number {
    return this.#samples ? Math.sqrt(this.#sumSquares / this.#samples) : 0;
  }
}

/** Waits for `p` to exit, killing it when `ms` pass first. */
async function finishWithin(p: RadioProcess, ms: number): Promise<{ code: number | null; timedOut: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.child.kill('SIGKILL');
  }, ms);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, timedOut };
}

const errorLines = (log: string, pattern: RegExp, ignore?: RegExp) =>
  log.split('\n').filter((l) => pattern.test(l) && !(ignore && ignore.test(l)));

/** ffmpeg decodes `seconds` of `url` (HTTP or RTSP, any codec) to PCM; `errors` are all it
 * logged at `-v error` (MP3 decoders log damaged frames there). `timeoutMs` default seconds × 1000
 * + 20 s. */
export async function ffmpegListen(url: string, seconds: number, opts: { timeoutMs?: number; inputArgs?: string[] } = {}): Promise<ListenResult> {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', ...(opts.inputArgs ?? []), '-i', url, '-t', String(seconds), '-map', '0:a:0', '-ac', String(PCM_CHANNELS), '-ar', String(PCM_RATE), '-f', 's16le', 'pipe:1'];
  const p = track(spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] }), false);
  const meter = new PcmMeter();
  p.child.stdout?.on('data', (d: Buffer) => meter.add(d));
  const { code, timedOut } = await finishWithin(p, opts.timeoutMs ?? seconds * 1000 + 20_000);
  const log = p.stderr();
  return { code, duration: meter.bytes / PCM_BYTES_PER_SECOND, rms: meter.rms, errors: errorLines(log, /\S/), stderr: log, timedOut };
}

/** GStreamer (souphttpsrc ! decodebin) decodes `url` until it has `seconds` of PCM, then is
 * stopped. The PCM comes out on fd 3 so stdout keeps gst-launch's messages: `errors` are its
 * ERROR and WARNING messages (decoders post damaged input as warnings). `timeoutMs` default
 * seconds × 1000 + 20 s. */
export async function gstSoupListen(url: string, seconds: number, opts: { timeoutMs?: number } = {}): Promise<ListenResult> {
  const args = [
    'souphttpsrc', gstProp('location', url), 'is-live=true',
    '!', 'decodebin', '!', 'audioconvert', '!', 'audioresample',
    '!', `audio/x-raw,format=S16LE,layout=interleaved,rate=${PCM_RATE},channels=${PCM_CHANNELS}`,
    '!', 'fdsink', 'fd=3',
  ];
  const child = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, GST_DEBUG: '0' } });
  const p = track(child, true);
  const meter = new PcmMeter();
  const want = seconds * PCM_BYTES_PER_SECOND;
  const pcm = child.stdio[3] as NodeJS.ReadableStream;
  pcm.on('data', (d: Buffer) => {
    if (meter.bytes >= want) return;
    meter.add(d.subarray(0, want - meter.bytes));
    if (meter.bytes >= want) child.kill('SIGKILL');
  });
  const { code, timedOut } = await finishWithin(p, opts.timeoutMs ?? seconds * 1000 + 20_000);
  const log = p.stderr();
  return { code, duration: meter.bytes / PCM_BYTES_PER_SECOND, rms: meter.rms, errors: errorLines(log, /^(ERROR|WARNING)\b/), stderr: log, timedOut };
}

/** A WAV file's PCM (16-bit): length and loudness. A header whose data size was never filled in
 * (0 or 0xFFFFFFFF) counts the bytes to the end of the file. */
export function measureWav(path: string): { duration: number; sampleRate: number; channels: number; rms: number } {
  const b = readFileSync(path);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${path}: not a WAV file (${b.length} bytes)`);
  }
  let off = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      sampleRate = b.readUInt32LE(off + 12);
      bits = b.readUInt16LE(off + 22);
    } else if (id === 'data') {
      if (bits !== 16 || !sampleRate || !channels) throw new Error(`${path}: ${bits}-bit ${sampleRate} Hz ×${channels}, 16-bit PCM expected`);
      const end = size === 0 || size === 0xffffffff ? b.length : Math.min(b.length, off + 8 + size);
      const meter = new PcmMeter();
      meter.add(b.subarray(off + 8, end));
      return { duration: meter.bytes / (sampleRate * channels * 2), sampleRate, channels, rms: meter.rms };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** VLC (cvlc, as the unprivileged user, since VLC refuses root) plays `url` for `seconds` of
 * wall time, transcoding to a WAV in its scratch HOME, which is then measured. `errors` are its
 * log's error lines, less those of a machine without sound, D-Bus or display.
 * `timeoutMs` default seconds × 1000 + 30 s. */
export async function vlcListen(url: string, seconds: number, opts: { timeoutMs?: number } = {}): Promise<ListenResult> {
  const sout = `#transcode{acodec=s16l,channels=${PCM_CHANNELS},samplerate=${PCM_RATE}}:std{access=file,mux=wav,dst=out.wav}`;
  const args = ['--intf', 'dummy', '--no-video', '--play-and-exit', `--run-time=${seconds}`, url, '--sout', sout];
  const u = spawnUnprivileged('cvlc', args);
  const p = track(u.child, true);
  const { code, timedOut } = await finishWithin(p, opts.timeoutMs ?? seconds * 1000 + 30_000);
  const log = p.stderr();
  const errors = errorLines(log, /\berror\b/i, /pulse|dbus|D-Bus|interface|globalhotkeys|X11|xcb|qt/i);
  try {
    const w = measureWav(join(u.home, 'out.wav'));
    return { code, duration: w.duration, rms: w.rms, errors, stderr: log, timedOut };
  } catch (e) {
    return { code, duration: 0, rms: 0, errors: [...errors, String(e)], stderr: log, timedOut };
  } finally {
    u.cleanup();
  }
}

/** Asserts a listener heard the tone: all the audio asked for, loud, and no decoder complaint.
 * The sine sources are at lavfi's/audiotestsrc's default level (about -18 dBFS, rms 0.09). */
export function heardTone(r: ListenResult, seconds: number, who: string): void {
  const why = `${who}: ${JSON.stringify({ ...r, stderr: undefined })}\n${r.stderr.slice(-2000)}`;
  assert.equal(r.timedOut, false, why);
  assert.deepEqual(r.errors, [], why);
  assert.ok(r.duration >= seconds - 0.1, `${who} decoded ${r.duration.toFixed(2)} s of ${seconds}: ${why}`);
  assert.ok(r.rms > 0.03, `${who} heard silence (rms ${r.rms.toFixed(4)}): ${why}`);
}
