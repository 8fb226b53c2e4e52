/** AIFF and AIFF-C files (Apple, 1989/1991): `COMM` gives channels, frame count, sample size and
 * the rate as an 80-bit float, AIFF-C adds a compression type; `SSND` holds big-endian frames
 * after an offset/blockSize pair. */
import type { Mp4Movie } from '../mp4/types.js';
import { AudioFileError, audioMovie, readAt, withAudioFile } from './file.js';
import { PcmDataTrack } from './pcm-data-track.js';

const MAX_CHUNKS = 10_000;

/** IEEE 754 80-bit extended precision, big endian (the AIFF sampleRate field). */
export function readExtended(b: Buffer, off: number): number {
  const exponent = b.readUInt16BE(off) & 0x7fff;
  const sign = b[off] & 0x80 ? -1 : 1;
  const hi = b.readUInt32BE(off + 2);
  const lo = b.readUInt32BE(off + 6);
  if (exponent === 0 && hi === 0 && lo === 0) return 0;
  if (exponent === 0x7fff) return NaN;
  return sign * (hi * 2 ** 32 + lo) * 2 ** (exponent - 16383 - 63);
}

/** AIFF-C compression types → the QuickTime sample entry naming the same samples. */
const COMPRESSION: Record<string, string> = {
  NONE: 'twos',
  twos: 'twos',
  sowt: 'sowt',
  raw: 'raw ',
  'raw ': 'raw ',
  ulaw: 'ulaw',
  ULAW: 'ulaw',
  alaw: 'alaw',
  ALAW: 'alaw',
  in24: 'in24',
  in32: 'in32',
  fl32: 'fl32',
  FL32: 'fl32',
  fl64: 'fl64',
  FL64: 'fl64',
};

export async function openAiff(path: string): Promise<Mp4Movie> {
  return withAudioFile(path, async (fh, size, mtimeMs) => {
    const head = await readAt(fh, 0, 12);
    const form = head.toString('latin1', 8, 12);
    if (head.length < 12 || head.toString('latin1', 0, 4) !== 'FORM' || (form !== 'AIFF' && form !== 'AIFC')) {
      throw new AudioFileError('not an AIFF file');
    }
    let comm: Buffer | undefined;
    let ssnd: { start: number; length: number } | undefined;
    let pos = 12;
    for (let n = 0; n < MAX_CHUNKS && pos + 8 <= size && !(comm && ssnd); n++) {
      const h = await readAt(fh, pos, 8);
      const id = h.toString('latin1', 0, 4);
      const len = h.readUInt32BE(4);
      const body = pos + 8;
      if (id === 'COMM') comm = await readAt(fh, body, Math.min(len, 64));
      else if (id === 'SSND') {
        const o = await readAt(fh, body, 8);
        if (o.length < 8) throw new AudioFileError('AIFF SSND chunk is truncated');
        const offset = o.readUInt32BE(0);
        ssnd = { start: body + 8 + offset, length: Math.max(0, len - 8 - offset) };
      }
      pos = body + len + (len & 1);
    }
    if (!comm || comm.length < 18) throw new AudioFileError('AIFF file has no COMM chunk');
    if (!ssnd) throw new AudioFileError('AIFF file has no SSND chunk');
    const channels = comm.readUInt16BE(0);
    const frames = comm.readUInt32BE(2);
    const bits = comm.readUInt16BE(6);
    const sampleRate = readExtended(comm, 8);
    if (channels === 0 || !(sampleRate > 0) || !Number.isFinite(sampleRate)) throw new AudioFileError('AIFF COMM chunk has no channels or an invalid rate');
    let codec = 'twos';
    if (form === 'AIFC') {
      if (comm.length < 22) throw new AudioFileError('AIFF-C COMM chunk has no compression type');
      const type = comm.toString('latin1', 18, 22);
      codec = COMPRESSION[type] ?? COMPRESSION[type.trim()] ?? type;
    }
    const sampleBytes = codec === 'ulaw' || codec === 'alaw' ? 1 : codec === 'in24' ? 3 : codec === 'in32' || codec === 'fl32' ? 4 : codec === 'fl64' ? 8 : Math.ceil(bits / 8);
    const bytesPerFrame = channels * sampleBytes;
    const available = Math.max(0, Math.min(ssnd.length, size - ssnd.start));
    const track = new PcmDataTrack({
      codec,
      sound: { version: 0, sampleSize: codec === 'ulaw' || codec === 'alaw' ? 8 : sampleBytes * 8 },
      channels,
      sampleRate,
      dataOffset: ssnd.start,
      bytesPerFrame,
      frames: Math.min(frames, Math.floor(available / bytesPerFrame)),
    });
    return audioMovie(path, form === 'AIFC' ? 'aifc' : 'aiff', track, size, mtimeMs);
  });
}
