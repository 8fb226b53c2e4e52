/** Test media made with Debian's ffmpeg at test time and cached under test/.cache/fixtures.
 * Each recipe is hashed into the file name, so changing a recipe regenerates that fixture. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const cacheDir = join(repoRoot, 'test/.cache/fixtures');

const src = (size: string, rate: number, secs: number) => [
  '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}:duration=${secs}`,
];
const tone = (rate: number, secs: number) => [
  '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}:duration=${secs}`,
];
const x264 = (profile: string, extra: string[] = []) => [
  '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', profile, '-pix_fmt', 'yuv420p', '-g', '50', ...extra,
];
const aac = ['-c:a', 'aac', '-b:a', '96k', '-ac', '2'];

/** name → ffmpeg arguments between the global options and the output path. */
export const recipes: Record<string, string[]> = {
  /** ~20 Mbit/s H.264 (noise is expensive to code): fills a stalled viewer's buffers in seconds. */
  'h264-highrate.mp4': ['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=6,noise=alls=30:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '20M', '-g', '25', '-pix_fmt', 'yuv420p'],
  /** 10 s H.264 baseline 320x240@25 + AAC 44.1 kHz stereo, moov at the start. */
  'h264-aac-faststart.mp4': [...src('320x240', 25, 10), ...tone(44100, 10), ...x264('baseline'), ...aac, '-movflags', '+faststart'],
  /** The same with moov after mdat (ffmpeg's default). */
  'h264-aac-moovend.mp4': [...src('320x240', 25, 10), ...tone(44100, 10), ...x264('baseline'), ...aac],
  /** 8 s H.264 High profile with B-frames (ctts, edit list) + AAC 48 kHz. */
  'h264-high-bframes.mp4': [...src('640x360', 25, 8), ...tone(48000, 8), ...x264('high', ['-bf', '3']), ...aac],
  /** QuickTime .mov, H.264 main with B-frames + AAC. */
  'h264-aac.mov': [...src('320x240', 25, 6), ...tone(44100, 6), ...x264('main', ['-bf', '2']), ...aac, '-f', 'mov'],
  /** 5 s H.265 (hvc1) + AAC. */
  'h265-aac.mp4': [...src('320x240', 25, 5), ...tone(44100, 5), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=25', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p', ...aac],
  /** 3GP H.264 + AAC mono 16 kHz. */
  'h264-aac.3gp': [...src('176x144', 15, 6), ...tone(16000, 6), ...x264('baseline'), '-c:a', 'aac', '-ac', '1', '-b:a', '32k', '-f', '3gp'],
  /** AAC-only audio file. */
  'aac-only.m4a': [...tone(44100, 6), ...aac],
  /** MPEG-4 Part 2 (Visual) video only, no audio. */
  'mp4v-only.mp4': [...src('320x240', 25, 3), '-c:v', 'mpeg4', '-an'],
  /** Hinted (RTP hint tracks from `-movflags rtphint`; ffmpeg writes no movie-level SDP and much of
   * the video as immediate data): 12 s H.264 baseline + AAC 48 kHz stereo noise at 320k (which,
   * unlike a tone, fills packets: a few hundred audio packets). */
  'hinted-h264-aac.mp4': [...src('320x240', 25, 12), '-f', 'lavfi', '-i', 'aevalsrc=0.2*(random(0)*2-1)|0.2*(random(1)*2-1):s=48000:d=12', ...x264('baseline'), '-c:a', 'aac', '-b:a', '320k', '-movflags', 'rtphint'],
  /** Hinted QuickTime .mov, H.264 main with B-frames (per-packet 'rtpo' timestamp offsets) + AAC. */
  'hinted-h264-aac.mov': [...src('320x240', 25, 6), ...tone(44100, 6), ...x264('main', ['-bf', '2']), ...aac, '-movflags', 'rtphint', '-f', 'mov'],
  /** Hinted 3GP, H.264 baseline 176x144@15 + AAC mono 16 kHz. */
  'hinted-h264-aac.3gp': [...src('176x144', 15, 6), ...tone(16000, 6), ...x264('baseline'), '-c:a', 'aac', '-ac', '1', '-b:a', '32k', '-movflags', 'rtphint', '-f', '3gp'],
  /** Hinted Motion JPEG .mov (RTP/JPEG, static payload type 26; the hinter writes it all as
   * immediate data): a codec Rivulet does not packetize, streamed from its hint track. */
  'hinted-mjpeg.mov': [...src('160x120', 10, 3), '-c:v', 'mjpeg', '-huffman', 'default', '-pix_fmt', 'yuvj420p', '-movflags', 'rtphint', '-f', 'mov'],
  /** 3GP H.263 baseline (s263) 176x144@15 + AAC mono 16 kHz. */
  'h263-aac.3gp': [...src('176x144', 15, 6), ...tone(16000, 6), '-c:v', 'h263', '-g', '30', '-c:a', 'aac', '-ac', '1', '-b:a', '32k', '-f', '3gp'],
  /** MPEG-4 Visual (mp4v, VOL in esds) 320x240@25 at a quality that needs fragmented VOPs + AAC. */
  'mp4v-aac.mp4': [...src('320x240', 25, 6), ...tone(44100, 6), '-c:v', 'mpeg4', '-q:v', '3', '-g', '50', ...aac],
  /** MP3 with ffmpeg's ID3v2 tag and Xing/Info frame: 44.1 kHz stereo 128k. */
  'tone.mp3': [...tone(44100, 6), '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'],
  /** MP3 in MP4 (mp4a with object type 0x6B). */
  'mp3.mp4': [...tone(44100, 6), '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp4'],
  /** 16-bit little-endian WAV, 44.1 kHz stereo. */
  'tone-s16le.wav': [...tone(44100, 6), '-ac', '2', '-c:a', 'pcm_s16le', '-f', 'wav'],
  /** Sun .au, µ-law 8 kHz mono (PCMU, static payload type 0). */
  'tone-mulaw.au': [...tone(8000, 6), '-c:a', 'pcm_mulaw', '-f', 'au'],
  /** AIFF, 16-bit big-endian, 22.05 kHz mono. */
  'tone-s16be.aiff': [...tone(22050, 6), '-c:a', 'pcm_s16be', '-f', 'aiff'],
  /** Opus in MP4 (Opus sample entry + dOps, pre-skip edit), 48 kHz stereo. */
  'opus.mp4': [...tone(48000, 6), '-ac', '2', '-c:a', 'libopus', '-b:a', '96k', '-f', 'mp4'],
  /** QuickTime PCM variants, 4 s each: twos, sowt, in24 little endian (enda), raw (unsigned 8-bit),
   * ulaw at 8 kHz mono, alaw at 44.1 kHz stereo. */
  'pcm-s16be.mov': [...tone(44100, 4), '-ac', '2', '-c:a', 'pcm_s16be', '-f', 'mov'],
  'pcm-s16le.mov': [...tone(48000, 4), '-ac', '2', '-c:a', 'pcm_s16le', '-f', 'mov'],
  'pcm-s24le.mov': [...tone(48000, 4), '-ac', '2', '-c:a', 'pcm_s24le', '-f', 'mov'],
  'pcm-u8.mov': [...tone(22050, 4), '-c:a', 'pcm_u8', '-f', 'mov'],
  'pcm-mulaw.mov': [...tone(8000, 4), '-c:a', 'pcm_mulaw', '-f', 'mov'],
  'pcm-alaw.mov': [...tone(44100, 4), '-ac', '2', '-c:a', 'pcm_alaw', '-f', 'mov'],
  /** IMA ADPCM: QuickTime "IMA 4:1" (ima4) stereo 22.05 kHz, and WAV IMA ADPCM stereo 16 kHz. */
  'ima4.mov': [...tone(22050, 4), '-ac', '2', '-c:a', 'adpcm_ima_qt', '-f', 'mov'],
  'ima-adpcm.wav': [...tone(16000, 4), '-ac', '2', '-c:a', 'adpcm_ima_wav', '-f', 'wav'],
  /** 32-bit float PCM in MOV: no RTP payload format exists for it, so it is never streamed (415). */
  'pcm-f32.mov': [...tone(44100, 2), '-c:a', 'pcm_f32le', '-f', 'mov'],
};

const pending = new Map<string, Promise<string>>();

/** Path of a cached fixture, generating it first if needed. */
export function fixture(name: string): Promise<string> {
  const recipe = recipes[name];
  if (!recipe) throw new Error(`unknown fixture ${name}`);
  const hash = createHash('sha1').update(JSON.stringify(recipe)).digest('hex').slice(0, 8);
  const dot = name.lastIndexOf('.');
  const out = join(cacheDir, `${name.slice(0, dot)}-${hash}${name.slice(dot)}`);
  if (existsSync(out)) return Promise.resolve(out);
  let p = pending.get(out);
  if (!p) {
    p = (async () => {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${out}.${process.pid}.tmp${name.slice(dot)}`;
      const fmt = recipe.includes('-f') && recipe[recipe.lastIndexOf('-f') + 1] !== 'lavfi' ? [] : ['-f', name.endsWith('.mov') ? 'mov' : name.endsWith('.3gp') ? '3gp' : 'mp4'];
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...recipe, ...fmt, tmp], { maxBuffer: 1 << 24 });
      renameSync(tmp, out);
      return out;
    })();
    pending.set(out, p);
  }
  return p;
}
