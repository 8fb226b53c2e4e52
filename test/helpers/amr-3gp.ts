/** AMR test media. ffmpeg here cannot encode AMR, so frames come from GStreamer's AMR-NB encoder
 * when it is installed (gstreamer1.0-plugins-ugly), or are made up (valid frame types, arbitrary
 * speech bits, which decoders accept); the 3GP container around them is written by hand. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AMR_NB_FRAME_BYTES, AMR_WB_FRAME_BYTES, splitAmrFrames } from '../../src/codecs/amr/index.js';
import { box, ftyp, moov, u16, u8 } from '../../src/media/mp4/test-helpers/build-boxes.js';
import { run } from './run.js';

/** `count` storage-format AMR-NB frames (12.2 kbit/s) of a 440 Hz tone encoded by GStreamer, or
 * null when its encoder is not available. */
export async function encodedAmrNbFrames(count: number): Promise<Buffer[] | null> {
  const dir = mkdtempSync(join(tmpdir(), 'rivulet-amr-'));
  try {
    const out = join(dir, 'tone.amr');
    const r = await run(
      'gst-launch-1.0',
      [
        '-q',
        'audiotestsrc',
        `num-buffers=${count}`,
        'samplesperbuffer=160',
        'freq=440',
        'volume=0.5',
        '!',
        'audio/x-raw,format=S16LE,rate=8000,channels=1',
        '!',
        'amrnbenc',
        'band-mode=MR122',
        '!',
        'filesink',
        `location=${out}`,
      ],
      { timeoutMs: 30_000 },
    ).catch(() => null);
    if (!r || r.code !== 0) return null;
    const { frames } = splitAmrFrames(readFileSync(out), false);
    return frames.length === count
      ? frames.map((f) => Buffer.concat([u8((f.type << 3) | (f.quality ? 4 : 0)), f.data]))
      : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Made-up storage-format frames of type `ft` with pseudo-random speech bits. */
export function syntheticAmrFrames(count: number, wideband: boolean, ft: number): Buffer[] {
  const size = (wideband ? AMR_WB_FRAME_BYTES : AMR_NB_FRAME_BYTES)[ft];
  let x = 12345;
  return Array.from({ length: count }, () => {
    const f = Buffer.alloc(1 + size);
    f[0] = (ft << 3) | 0x04;
    for (let i = 1; i <= size; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      f[i] = x >>> 24;
    }
    return f;
  });
}

/** A 3GP file with one `samr` (AMR-NB) or `sawb` (AMR-WB) track holding `framesPerSample` frames
 * per sample, all in one chunk, moov after mdat. */
export function amr3gp(frames: Buffer[], opts: { wideband: boolean; framesPerSample: number }): Buffer {
  const spf = opts.wideband ? 320 : 160;
  const samples: Buffer[] = [];
  for (let i = 0; i < frames.length; i += opts.framesPerSample)
    samples.push(Buffer.concat(frames.slice(i, i + opts.framesPerSample)));
  const head = ftyp('3gp4', 'isom', '3gp4');
  const mdat = box('mdat', ...samples);
  const full = Math.floor(frames.length / opts.framesPerSample);
  const rest = frames.length % opts.framesPerSample;
  const stts: [number, number][] = [[full, opts.framesPerSample * spf]];
  if (rest) stts.push([1, rest * spf]);
  // AMRSpecificBox: vendor, decoder version, mode set (all), mode change period, frames per sample.
  const damr = box(
    'damr',
    Buffer.from('RIVT'),
    u8(0),
    u16(opts.wideband ? 0x01ff : 0x81ff),
    u8(0, opts.framesPerSample),
  );
  const rate = opts.wideband ? 16000 : 8000;
  const movie = moov(
    [
      {
        id: 1,
        handler: 'soun',
        codec: opts.wideband ? 'sawb' : 'samr',
        timescale: rate,
        sampleRate: rate,
        channels: 1,
        sizes: samples.map((s) => s.length),
        stts,
        stsc: [[1, samples.length]],
        chunkOffsets: [head.length + 8],
        entryChildren: [damr],
      },
    ],
    { timescale: 1000, duration: frames.length * 20 },
  );
  return Buffer.concat([head, mdat, movie]);
}
