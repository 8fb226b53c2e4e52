/** Runs a third-party client (ffmpeg, ffprobe, gst-launch-1.0) with a time limit; the child is
 * killed if the limit passes, so a hung client never hangs the suite. */
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4_000_000) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** ffmpeg plays `url` (over `transport`) until it has decoded `frames` video frames, or fails;
 * returns the run and the frames it reported decoding (0 when it failed). */
export async function ffmpegDecode(
  url: string,
  opts: { frames: number; transport: 'udp' | 'tcp' | 'http'; timeoutMs?: number },
): Promise<{ r: RunResult; frames: number }> {
  const r = await run(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-rtsp_transport', opts.transport, '-i', url, '-map', '0:v', '-frames:v', String(opts.frames), '-f', 'null', '-'],
    { timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  const frames = r.code === 0 ? Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0) : 0;
  return { r, frames };
}

/** Lines of ffmpeg's log that mean the decoder saw damaged input. */
export function decodeErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) =>
      /error while decoding|concealing|corrupt|Invalid NAL|non-existing PPS|decode_slice_header error|missing picture|Invalid data found|max delay reached|RTP: PT=.*bad cseq|RTP: missed/i.test(
        l,
      ),
    );
}

export interface ProbeStream {
  codec_name: string;
  codec_type: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

/** ffprobe's view of a URL or file. */
export async function ffprobe(
  target: string,
  extra: string[] = [],
): Promise<{ streams: ProbeStream[]; format: { duration?: string } }> {
  const r = await run(
    'ffprobe',
    ['-v', 'error', ...extra, '-show_streams', '-show_format', '-of', 'json', target],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`ffprobe ${target} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as { streams: ProbeStream[]; format: { duration?: string } };
}

/** Frame count and duration of a file's video as ffprobe decodes it. */
export async function countFrames(
  target: string,
  extra: string[] = [],
): Promise<{ frames: number; duration: number }> {
  const r = await run(
    'ffprobe',
    [
      '-v',
      'error',
      ...extra,
      '-select_streams',
      'v:0',
      '-count_frames',
      '-show_entries',
      'stream=nb_read_frames',
      '-show_entries',
      'format=duration',
      '-of',
      'json',
      target,
    ],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`ffprobe -count_frames failed: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout) as { streams: { nb_read_frames: string }[]; format: { duration: string } };
  return { frames: Number(j.streams[0]?.nb_read_frames ?? 0), duration: Number(j.format.duration) };
}

/** gst-launch played the stream through: exit 0, or it reached EOS and the only errors are
 * rtspsrc failing to write its PAUSE/TEARDOWN during shutdown (its keep-alive racing its own
 * teardown, after every buffer was decoded). Any other error still counts. */
export function gstPlayedThrough(r: RunResult): boolean {
  if (r.code === 0) return true;
  if (!/Got EOS from element "pipeline0"/.test(r.stdout)) return false;
  const errors = (r.stdout + r.stderr).split('\n').filter((l) => /^ERROR: /.test(l));
  return errors.length > 0 && errors.every((l) => /rtspsrc\d*: Could not write to resource/.test(l));
}

/** The depayload/parse/decode chain for H.264 over RTP. */
export const GST_H264 = ['rtph264depay', 'h264parse', 'avdec_h264'];

/** Plays `location` with GStreamer's rtspsrc (plus `props`, e.g. `protocols=tcp`) through the
 * `decode` elements into a fakesink that stops after `buffers`; returns the run and how many
 * buffers reached the sink. */
export async function gstDecode(
  location: string,
  decode: string[],
  buffers: number,
  opts: { props?: string[]; timeoutMs?: number } = {},
): Promise<{ r: RunResult; decoded: number }> {
  const chain = decode.flatMap((e) => ['!', e]);
  const r = await run(
    'gst-launch-1.0',
    [
      'rtspsrc',
      `location=${location}`,
      ...(opts.props ?? []),
      ...chain,
      '!',
      'fakesink',
      `num-buffers=${buffers}`,
      'silent=false',
      '-v',
    ],
    { timeoutMs: opts.timeoutMs ?? 60_000, env: { ...process.env, GST_DEBUG: '0' } },
  );
  return { r, decoded: (r.stdout.match(/fakesink0: last-message = chain/g) ?? []).length };
}
