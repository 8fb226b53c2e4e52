/** Sun/NeXT audio files (`.au`, `.snd`): a big-endian header (magic `.snd`, data offset, data
 * size, encoding, rate, channels) followed by the samples. */
import type { Mp4Movie } from '../mp4/types.js';
import { AudioFileError, audioMovie, readAt, withAudioFile } from './file.js';
import { PcmDataTrack } from './pcm-data-track.js';

/** Encoding → [QuickTime sample entry naming the same samples, bits]. */
const ENCODINGS: Record<number, [string, number]> = {
  1: ['ulaw', 8],
  2: ['twos', 8],
  3: ['twos', 16],
  4: ['twos', 24],
  5: ['twos', 32],
  6: ['fl32', 32],
  7: ['fl64', 64],
  23: ['g721', 4],
  24: ['g722', 8],
  25: ['g723', 3],
  26: ['g723', 5],
  27: ['alaw', 8],
};

export async function openAu(path: string): Promise<Mp4Movie> {
  return withAudioFile(path, async (fh, size, mtimeMs) => {
    const h = await readAt(fh, 0, 24);
    if (h.length < 24 || h.toString('latin1', 0, 4) !== '.snd') throw new AudioFileError('not a Sun/NeXT .au file');
    const dataOffset = h.readUInt32BE(4);
    const dataSize = h.readUInt32BE(8);
    const encoding = h.readUInt32BE(12);
    const sampleRate = h.readUInt32BE(16);
    const channels = h.readUInt32BE(20);
    if (dataOffset < 24 || dataOffset > size) throw new AudioFileError(`.au data offset ${dataOffset} is outside the file`);
    if (channels === 0 || channels > 255 || sampleRate === 0) throw new AudioFileError('.au header has no channels or a zero sampling rate');
    const [codec, bits] = ENCODINGS[encoding] ?? [`au encoding ${encoding}`, 8];
    const bytesPerFrame = channels * Math.max(1, Math.ceil(bits / 8));
    // 0xFFFFFFFF: size unknown (written to a pipe); the data runs to the end of the file.
    const available = dataSize === 0xffffffff ? size - dataOffset : Math.min(dataSize, size - dataOffset);
    const track = new PcmDataTrack({
      codec,
      sound: { version: 0, sampleSize: bits },
      channels,
      sampleRate,
      dataOffset,
      bytesPerFrame,
      frames: Math.floor(available / bytesPerFrame),
    });
    return audioMovie(path, 'au', track, size, mtimeMs);
  });
}
