/** A scratch media folder filled with fixtures (copied: symlinks leading outside the media
 * folder are refused by the server, as they should be). */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import { tempDir } from './server.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { GST_PRELUDE } from './gst-python.js';
import { decodeErrors, GST_H264, run, type RunResult } from './run.js';

export async function mediaDirWith(names: string[]): Promise<{ dir: string; cleanup: () => void }> {
  const t = tempDir('rivulet-media-');
  for (const n of names) copyFileSync(await fixture(n), join(t.dir, n));
  return t;
}

// Playlist channels: short clips made for a test, and what real clients decode of a channel
// playing them, frame by frame.

/** Frame rate of the clips `makeClip` makes. */
export const CLIP_FPS = 25;
/** Sample rate of their tone. */
export const CLIP_RATE = 44100;
/** Samples in an AAC-LC frame. */
const AAC_FRAME = 1024;

/** One short clip: a lavfi test pattern and a tone. */
export interface ClipSpec {
  /** File name in the folder. */
  name: string;
  /** lavfi video source, with filters after a comma if wanted: 'testsrc', 'testsrc,hue=h=120'.
   * Pick a moving one: the frame catalogue needs every frame to differ. */
  video: string;
  /** Tone frequency in Hz. */
  hz: number;
  seconds: number;
  /** Default 320x240. */
  size?: string;
  /** Default h264 (baseline, as the other fixtures). */
  codec?: 'h264' | 'mpeg4' | 'h265';
}

/** Moving lavfi patterns that look nothing alike, every frame its own. */
export const PATTERNS = ['testsrc', 'testsrc2', 'mandelbrot', 'cellauto'] as const;

/** `count` (up to four) H.264 clips of `seconds`, `${prefix}1.mp4` on, each a pattern and a tone
 * (440 Hz, 660 Hz, ...) of its own; `filter` (e.g. 'negate') makes a set unlike another. */
export function clipSet(prefix: string, count: number, seconds: number, filter?: string): ClipSpec[] {
  return PATTERNS.slice(0, count).map((p, i) => ({ name: `${prefix}${i + 1}.mp4`, video: filter ? `${p},${filter}` : p, hz: 440 + 220 * i, seconds }));
}

/** A keyframe every second: each item starts on one (its first frame) and a newcomer waits at
 * most a second. Low bit rates keep the files small and UDP free of loss on a busy machine. */
const CLIP_VIDEO: Record<NonNullable<ClipSpec['codec']>, string[]> = {
  h264: ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', String(CLIP_FPS), '-b:v', '200k'],
  mpeg4: ['-c:v', 'mpeg4', '-g', String(CLIP_FPS), '-b:v', '200k'],
  h265: ['-c:v', 'libx265', '-x265-params', `log-level=error:keyint=${CLIP_FPS}`, '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p', '-b:v', '200k'],
};

/** Makes `spec` in `dir` with ffmpeg (video + AAC stereo tone, moov first); returns its path. */
export async function makeClip(dir: string, spec: ClipSpec): Promise<string> {
  const [source, ...filters] = spec.video.split(',');
  const video = [`${source}${source.includes('=') ? ':' : '='}size=${spec.size ?? '320x240'}:rate=${CLIP_FPS}`, ...filters].join(',');
  const file = join(dir, spec.name);
  const r = await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', video,
    '-f', 'lavfi', '-i', `sine=frequency=${spec.hz}:sample_rate=${CLIP_RATE}`,
    '-t', String(spec.seconds), ...CLIP_VIDEO[spec.codec ?? 'h264'],
    '-c:a', 'aac', '-b:a', '48k', '-ac', '2', '-movflags', '+faststart', file,
  ]);
  if (r.code !== 0) throw new Error(`ffmpeg could not make ${spec.name}: ${r.stderr.slice(-1500)}`);
  return file;
}

/** The two clients that watch channels. Their checksums differ (ffmpeg's showinfo: Adler-32 of
 * the picture; GStreamer's checksumsink: SHA-1 of the decoded buffer), so each is compared with
 * its own decoding of the files. */
export type WatchClient = 'ffmpeg' | 'gstreamer';

/** A decoded video frame: when the test read its line, its pts, its checksum, and its size
 * (ffmpeg only). */
export interface SeenFrame {
  wallMs: number;
  pts: number;
  checksum: string;
  size?: string;
}

/** A decoded audio frame. */
export interface SeenAudio {
  pts: number;
  samples: number;
}

/** What a client decoded, and whether it ran cleanly. */
export interface Watched {
  client: WatchClient;
  video: SeenFrame[];
  audio: SeenAudio[];
  /** Lines saying the client failed or saw damaged input. */
  errors: string[];
  /** The client's own output, for messages. */
  log: string;
}

const SHOWINFO = /\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*\d+ pts:\s*-?\d+ pts_time:(\S+) .*? s:(\d+x\d+) .*?checksum:([0-9A-F]+)/;
const ASHOWINFO = /\[Parsed_ashowinfo_\d+ @ [^\]]+\] n:\s*\d+ pts:\s*-?\d+ pts_time:(\S+) .*?nb_samples:(\d+)/;
const GST_TIME = String.raw`(\d+):(\d\d):(\d\d\.\d+)`;
/** checksumsink's line: buffer pts, then the checksum. */
const CHECKSUMSINK = new RegExp(`^${GST_TIME} ([0-9a-f]{40})$`);
/** fakesink's last-message for an audio buffer (S16LE stereo: 4 bytes a sample). */
const GST_AUDIO = new RegExp(`^audio (\\d+) bytes, pts ${GST_TIME}$`);
const gstSeconds = (h: string, m: string, s: string) => Number(h) * 3600 + Number(m) * 60 + Number(s);

/** Runs a client, handing each line of its output to `onLine` with the wall-clock time it was
 * read (before the next chunk: a clock for what the viewer is being shown); `stop` interrupts it
 * (SIGINT: both clients then finish cleanly). Killed after `timeoutMs`. */
function runStamped(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; onLine: (line: string, wallMs: number, stop: () => void) => void },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out = { stdout: '', stderr: '' };
    let stopped = false;
    const stop = () => {
      if (!stopped) child.kill('SIGINT');
      stopped = true;
    };
    for (const name of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[name].setEncoding('utf8').on('data', (d: string) => {
        const now = Date.now();
        if (out[name].length < 4_000_000) out[name] += d;
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onLine(l, now, stop);
      });
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ...out });
    });
  });
}

/** GStreamer's viewer for watchChannel: rtspsrc (url, protocols, a time limit in s) with a
 * short jitter buffer (its 2 s default only delays everything) giving timestamps from RTP alone
 * (`buffer-mode=none`: by default it slaves them to arrival times and squeezes the audio after
 * the burst a newcomer gets); H.264 decoded into checksumsink (a line per picture: pts and SHA-1,
 * as FrameCatalog's file decode), AAC decoded to S16LE stereo with a line per buffer (bytes,
 * pts); each pad linked by its media (GST_LINK_BY_MEDIA); SIGINT or SIGTERM ends it with a JSON
 * line (error, unlinked pads). */
const GST_WATCH = String.raw`
${GST_PRELUDE}
url, proto, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
p = Gst.parse_launch(
    'rtspsrc name=src location=%s protocols=%s latency=200 buffer-mode=none '
    'queue name=vq ! rtph264depay ! h264parse ! avdec_h264 ! checksumsink '
    'queue name=aq ! rtpmp4gdepay ! aacparse ! avdec_aac ! audioconvert ! audio/x-raw,format=S16LE,channels=2 '
    '! fakesink name=asink sync=false' % (url, proto))
def clock(ns):
    return '%d:%02d:%02d.%09d' % (ns // 3600000000000, ns // 60000000000 % 60, ns // 1000000000 % 60, ns % 1000000000)
def audio(_pad, info):
    b = info.get_buffer()
    if b.pts != Gst.CLOCK_TIME_NONE:
        sys.stdout.write('audio %d bytes, pts %s\n' % (b.get_size(), clock(b.pts)))
        sys.stdout.flush()
    return Gst.PadProbeReturn.OK
p.get_by_name('asink').get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, audio)
link_by_media(p.get_by_name('src'), {'video': p.get_by_name('vq').get_static_pad('sink'), 'audio': p.get_by_name('aq').get_static_pad('sink')})
end = {}
play(p, secs, end)
finish(p, {**end, **({'unlinked': unlinked} if unlinked else {})})
`;

/** Watches `url` over `transport` with `client` for `seconds` of media (counted from the first
 * picture) and reports every frame it decoded. ffmpeg: showinfo/ashowinfo, stopped by `-t`.
 * GStreamer: GST_WATCH, interrupted once the pictures span `seconds`. `transport` http: RTSP
 * tunnelled through HTTP (ffmpeg's `-rtsp_transport http`). */
export async function watchChannel(url: string, client: WatchClient, transport: 'udp' | 'tcp' | 'http', seconds: number): Promise<Watched> {
  const video: SeenFrame[] = [];
  const audio: SeenAudio[] = [];
  const timeoutMs = (seconds + 30) * 1000;
  if (client === 'ffmpeg') {
    const r = await runStamped(
      'ffmpeg',
      ['-hide_banner', '-nostats', '-rtsp_transport', transport, '-i', url, '-map', '0:v', '-map', '0:a', '-filter:v', 'showinfo', '-filter:a', 'ashowinfo', '-t', String(seconds), '-f', 'null', '-'],
      {
        timeoutMs,
        onLine: (l, wallMs) => {
          const v = SHOWINFO.exec(l);
          if (v) video.push({ wallMs, pts: Number(v[1]), size: v[2], checksum: v[3] });
          const a = ASHOWINFO.exec(l);
          if (a) audio.push({ pts: Number(a[1]), samples: Number(a[2]) });
        },
      },
    );
    const errors = [...decodeErrors(r.stderr), ...(r.code === 0 ? [] : [`ffmpeg exited with ${r.code ?? r.signal}`])];
    return { client, video, audio, errors, log: r.stderr };
  }
  if (transport === 'http') throw new Error('watchChannel: GStreamer tunnels with an rtsph:// URL, not a transport');
  const r = await runStamped('/usr/bin/python3', ['-c', GST_WATCH, url, transport, String(seconds + 25)], {
    timeoutMs,
    env: { ...process.env, GST_DEBUG: '0' },
    onLine: (l, wallMs, stop) => {
      const v = CHECKSUMSINK.exec(l);
      if (v) {
        video.push({ wallMs, pts: gstSeconds(v[1], v[2], v[3]), checksum: v[4] });
        if (video[video.length - 1].pts - video[0].pts >= seconds) stop();
      }
      const a = GST_AUDIO.exec(l);
      if (a) audio.push({ pts: gstSeconds(a[2], a[3], a[4]), samples: Number(a[1]) / 4 });
    },
  });
  const log = r.stdout + r.stderr;
  // Its result line; pictures and audio decoded while it stops may follow it.
  const result = r.stdout.split('\n').findLast((l) => l.startsWith('{'));
  const end = result === undefined ? undefined : (JSON.parse(result) as { error?: string; unlinked?: string[] });
  const errors = [
    ...(end?.error ? [`ERROR: ${end.error}`] : []),
    ...(end?.unlinked ? [`rtspsrc pads left unlinked: ${end.unlinked.join(', ')}`] : []),
    ...(end ? [] : [`the GStreamer program ended without its result (${r.code ?? r.signal})`]),
  ];
  return { client, video, audio, errors, log };
}

/** The checksums of a clip's pictures in order, as `client` decodes the file itself. */
export async function clipChecksums(file: string, client: WatchClient): Promise<string[]> {
  // From the file, the H.264 chain without its RTP depayloader.
  const r =
    client === 'ffmpeg'
      ? await run('ffmpeg', ['-hide_banner', '-i', file, '-map', '0:v', '-vf', 'showinfo', '-f', 'null', '-'])
      : await run('gst-launch-1.0', ['-q', 'filesrc', `location=${file}`, '!', 'qtdemux', '!', ...GST_H264.slice(1).flatMap((e) => [e, '!']), 'checksumsink']);
  if (r.code !== 0) throw new Error(`${client} could not decode ${file}: ${r.stderr.slice(-1500)}`);
  const sums =
    client === 'ffmpeg'
      ? r.stderr.split('\n').flatMap((l) => SHOWINFO.exec(l)?.[3] ?? [])
      : r.stdout.split('\n').flatMap((l) => CHECKSUMSINK.exec(l)?.[4] ?? []);
  if (sums.length === 0) throw new Error(`${client} decoded no picture of ${file}`);
  return sums;
}

/** A decoded frame found in the clips: which item, which frame of it. */
export interface Located extends SeenFrame {
  item: string;
  index: number;
}

/** Every picture of the clips a channel plays, by checksum, as one client decodes them: a frame
 * a viewer decoded is either one of these (the item's own picture, bit for bit) or damaged. */
export class FrameCatalog {
  readonly #where = new Map<string, { item: string; index: number }>();
  readonly #frames = new Map<string, number>();

  /** Decodes each `{ item: file }` with `client`. Throws if two pictures are alike (a static
   * pattern): a frame would not say where it comes from. */
  static async of(client: WatchClient, files: Record<string, string>): Promise<FrameCatalog> {
    const c = new FrameCatalog();
    for (const [item, file] of Object.entries(files)) {
      const sums = await clipChecksums(file, client);
      c.#frames.set(item, sums.length);
      for (const [index, sum] of sums.entries()) {
        const other = c.#where.get(sum);
        if (other) throw new Error(`frame ${index} of ${item} is frame ${other.index} of ${other.item}: use moving patterns`);
        c.#where.set(sum, { item, index });
      }
    }
    return c;
  }

  /** Frames in `item`. */
  frames(item: string): number {
    return this.#frames.get(item) ?? 0;
  }

  /** The frames found, in order, and those that are none of the clips' pictures. */
  locate(seen: SeenFrame[]): { located: Located[]; unknown: SeenFrame[] } {
    const located: Located[] = [];
    const unknown: SeenFrame[] = [];
    for (const f of seen) {
      const w = this.#where.get(f.checksum);
      if (w) located.push({ ...f, ...w });
      else unknown.push(f);
    }
    return { located, unknown };
  }
}

/** A stretch of one item a viewer saw: its first and last frame index, how many frames, and the
 * wall-clock times of the first and last. */
export interface ItemRun {
  item: string;
  first: number;
  last: number;
  count: number;
  wallFrom: number;
  wallTo: number;
}

/** Consecutive frames of the same play of an item (the same item again starts a new run when
 * its frame index goes back). */
export function itemRuns(frames: Located[]): ItemRun[] {
  const runs: ItemRun[] = [];
  for (const f of frames) {
    const r = runs[runs.length - 1];
    if (r && r.item === f.item && f.index > r.last) {
      r.last = f.index;
      r.count++;
      r.wallTo = f.wallMs;
    } else runs.push({ item: f.item, first: f.index, last: f.index, count: 1, wallFrom: f.wallMs, wallTo: f.wallMs });
  }
  return runs;
}

/** Asserts timestamps only go forward, by no more than `maxStep` seconds at a time. */
function assertForward(pts: number[], maxStep: number, what: string): void {
  for (let i = 1; i < pts.length; i++) {
    const d = pts[i] - pts[i - 1];
    assert.ok(d > 0 && d <= maxStep, `${what}: pts ${pts[i - 1]} → ${pts[i]} at frame ${i}: timestamps go forward, by at most ${maxStep.toFixed(3)} s`);
  }
}

/** Asserts `count` is within 2 % of `expected` (the bound; one frame at least). */
function assertWithin2Percent(count: number, expected: number, what: string): void {
  assert.ok(Math.abs(count - expected) <= Math.max(1, expected * 0.02), `${what}: ${count}, expected ${expected.toFixed(0)} ± 2 %`);
}

/** Checks what a viewer of a channel of `makeClip` clips saw, and returns the items it saw:
 * - the client ran cleanly and reported no damaged input;
 * - every picture is one of the items' own, bit for bit (so none decoded with errors);
 * - timestamps only go forward, video by less than two frames at a time, audio by up to two;
 * - the picture count is within 2 % of what the items hold over the stretch watched. Items follow
 *   one another on the timeline, so from frame i of the first item seen to frame j of the last,
 *   a viewer decodes the first item's frames from i (its N - i), every frame of each item in
 *   between (its N), and frames 0..j of the last (j + 1), N being each item's frame count;
 * - the audio sample count is within 2 % of the span its timestamps cover times the sample rate,
 *   plus what each item's audio runs over its slot: the player sends the AAC frames (1024
 *   samples) that begin within an item's d seconds, ceil(d × rate / 1024) × 1024 samples, and
 *   the next item starts on time, so at each change up to a frame (2 % of a 1 s item) overlaps.
 * `changes`: at least that many item changes seen. */
export function assertWatched(w: Watched, catalog: FrameCatalog, what: string, changes: number): ItemRun[] {
  assert.deepEqual(w.errors, [], `${what}: ran without errors: ${w.log.slice(-2000)}`);
  assert.ok(w.video.length > 0, `${what}: decoded pictures: ${w.log.slice(-2000)}`);
  const { located, unknown } = catalog.locate(w.video);
  assert.deepEqual(unknown.map((f) => f.pts), [], `${what}: every picture is the item's own (pts of the others)`);
  const runs = itemRuns(located);
  assert.ok(runs.length > changes, `${what}: at least ${changes} item changes: ${JSON.stringify(runs)}`);
  // Clients move a track by a few ms once the first RTCP sender report lines it up with the
  // other (ffmpeg and GStreamer both, some 5 s in; up to 20 ms seen): video may step by less
  // than two frames (a lost one makes two), audio by up to two, a gap of at most one frame.
  assertForward(w.video.map((f) => f.pts), 1.75 / CLIP_FPS, `${what} video`);
  const [head, tail] = [runs[0], runs[runs.length - 1]];
  const expected =
    runs.length === 1
      ? head.last - head.first + 1
      : catalog.frames(head.item) - head.first + runs.slice(1, -1).reduce((n, r) => n + catalog.frames(r.item), 0) + tail.last + 1;
  assertWithin2Percent(w.video.length, expected, `${what}: pictures decoded`);
  assert.ok(w.audio.length > 0, `${what}: decoded audio`);
  const frame = w.audio[0].samples / CLIP_RATE;
  assertForward(w.audio.map((a) => a.pts), 2 * frame, `${what} audio`);
  const last = w.audio[w.audio.length - 1];
  const samples = w.audio.reduce((n, a) => n + a.samples, 0);
  const overrun = (item: string) => {
    const slot = (catalog.frames(item) / CLIP_FPS) * CLIP_RATE;
    return Math.ceil(slot / AAC_FRAME) * AAC_FRAME - slot;
  };
  const span = (last.pts + last.samples / CLIP_RATE - w.audio[0].pts) * CLIP_RATE;
  const expectedSamples = span + runs.slice(0, -1).reduce((n, r) => n + overrun(r.item), 0);
  assertWithin2Percent(samples, expectedSamples, `${what}: audio samples decoded`);
  return runs;
}

/** Asserts the runs follow `order` round and round, each item followed by the next. */
export function assertInOrder(runs: ItemRun[], order: string[], what: string): void {
  for (let i = 1; i < runs.length; i++) {
    const want = order[(order.indexOf(runs[i - 1].item) + 1) % order.length];
    assert.equal(runs[i].item, want, `${what}: after ${runs[i - 1].item} comes ${want}: ${runs.map((r) => r.item).join(' → ')}`);
  }
}

/** Reads the RTP an SDP file `sdp` describes (what a forward sends) with ffmpeg until it has
 * decoded `frames` pictures, reporting each as watchChannel does (video only: pts, checksum). */
export async function watchSdp(sdp: string, frames: number, timeoutMs = 40_000): Promise<Watched> {
  const video: SeenFrame[] = [];
  const r = await runStamped(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-protocol_whitelist', 'file,udp,rtp', '-i', sdp, '-map', '0:v', '-filter:v', 'showinfo', '-frames:v', String(frames), '-f', 'null', '-'],
    {
      timeoutMs,
      onLine: (l, wallMs) => {
        const v = SHOWINFO.exec(l);
        if (v) video.push({ wallMs, pts: Number(v[1]), size: v[2], checksum: v[3] });
      },
    },
  );
  const errors = [...decodeErrors(r.stderr), ...(r.code === 0 ? [] : [`ffmpeg exited with ${r.code ?? r.signal}`])];
  return { client: 'ffmpeg', video, audio: [], errors, log: r.stderr };
}
