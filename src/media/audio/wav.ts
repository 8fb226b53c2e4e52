/** WAVE files (RIFF, and RF64 for files over 4 GiB): the `fmt ` chunk says how the samples are
 * coded, the `data` chunk holds them. Only chunk headers are read, wherever `data` sits. */
import type { FileHandle } from 'node:fs/promises';
import { imaWavFramesPerBlock } from '../../codecs/pcm/ima-adpcm.js';
import type { Mp4Movie } from '../mp4/types.js';
import { AudioFileError, audioMovie, readAt, withAudioFile } from './file.js';
import { PcmDataTrack } from './pcm-data-track.js';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_IMA_ADPCM = 0x11;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Names of codecs seen in WAV files that are not streamed, for the reason shown to users. */
const OTHER_FORMATS: Record<number, string> = { 2: 'msad', 0x31: 'gsm ', 0x50: 'wav-mpga', 0x55: 'wav-mp3', 0x64: 'g726', 0x161: 'wma2', 0x2000: 'ac-3' };
const MAX_CHUNKS = 10_000;

interface Fmt {
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function parseFmt(b: Buffer): Fmt {
  if (b.length < 16) throw new AudioFileError('WAV fmt chunk is too short');
  let tag = b.readUInt16LE(0);
  const fmt = { tag, channels: b.readUInt16LE(2), sampleRate: b.readUInt32LE(4), blockAlign: b.readUInt16LE(12), bits: b.readUInt16LE(14) };
  // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the SubFormat GUID.
  if (tag === WAVE_FORMAT_EXTENSIBLE && b.length >= 26) tag = b.readUInt16LE(24);
  return { ...fmt, tag };
}

export async function openWav(path: string): Promise<Mp4Movie> {
  return withAudioFile(path, async (fh, size, mtimeMs) => {
    const head = await readAt(fh, 0, 12);
    const riff = head.toString('latin1', 0, 4);
    if (head.length < 12 || (riff !== 'RIFF' && riff !== 'RF64') || head.toString('latin1', 8, 12) !== 'WAVE') {
      throw new AudioFileError('not a WAVE file');
    }
    const { fmt, fmtAt, factFrames, dataStart, dataSize } = await walkChunks(fh, size, riff === 'RF64');
    if (!fmt) throw new AudioFileError('WAV file has no fmt chunk before its data');
    if (fmt.channels === 0 || fmt.sampleRate === 0) throw new AudioFileError('WAV fmt chunk has no channels or a zero sampling rate');
    let codec: string | undefined;
    let bits = fmt.bits;
    let formatFlags: number | undefined;
    switch (fmt.tag) {
      case WAVE_FORMAT_PCM:
        // 20-bit samples in 24-bit containers and the like: the container size is what is stored.
        bits = fmt.blockAlign ? (fmt.blockAlign / fmt.channels) * 8 : Math.ceil(bits / 8) * 8;
        codec = bits === 8 ? 'raw ' : bits === 16 ? 'sowt' : 'lpcm';
        if (codec === 'lpcm') formatFlags = 4; // signed, little endian
        break;
      case WAVE_FORMAT_IEEE_FLOAT:
        codec = 'lpcm';
        formatFlags = 1;
        break;
      case WAVE_FORMAT_MULAW:
        codec = 'ulaw';
        bits = 8;
        break;
      case WAVE_FORMAT_ALAW:
        codec = 'alaw';
        bits = 8;
        break;
    }
    const available = Math.max(0, Math.min(dataSize, size - dataStart));
    if (fmt.tag === WAVE_FORMAT_IMA_ADPCM && fmt.bits === 4 && fmt.blockAlign > 4 * fmt.channels) {
      // Blocks that decode on their own: each is one sample of the track.
      const perBlock = imaWavFramesPerBlock(fmt.blockAlign, fmt.channels);
      const track = new PcmDataTrack({
        codec: 'dvi ',
        sound: { version: 1, sampleSize: 4, samplesPerPacket: perBlock, bytesPerFrame: fmt.blockAlign },
        channels: fmt.channels,
        sampleRate: fmt.sampleRate,
        dataOffset: dataStart,
        bytesPerFrame: fmt.blockAlign,
        frames: Math.floor(available / fmt.blockAlign),
        framesPerSample: perBlock,
      });
      return audioMovie(path, 'wav', track, size, mtimeMs);
    }
    if (codec === undefined) {
      // Compressed audio is not streamed from WAV; its duration comes from the fact chunk's frame
      // count, else from the average byte rate.
      const byteRate = (await readAt(fh, fmtAt, 12)).readUInt32LE(8);
      const perFrame = factFrames ? available / factFrames : byteRate > 0 ? byteRate / fmt.sampleRate : 1;
      const track = new PcmDataTrack({
        codec: OTHER_FORMATS[fmt.tag] ?? `wav-0x${fmt.tag.toString(16)}`,
        sound: { version: 0, sampleSize: bits },
        channels: fmt.channels,
        sampleRate: fmt.sampleRate,
        dataOffset: dataStart,
        bytesPerFrame: perFrame,
        frames: factFrames || Math.floor(available / perFrame),
      });
      return audioMovie(path, 'wav', track, size, mtimeMs);
    }
    const bytesPerFrame = fmt.blockAlign || fmt.channels * Math.ceil(bits / 8);
    const track = new PcmDataTrack({
      codec,
      sound: formatFlags !== undefined ? { version: 2, sampleSize: bits, formatFlags } : { version: 0, sampleSize: bits },
      channels: fmt.channels,
      sampleRate: fmt.sampleRate,
      dataOffset: dataStart,
      bytesPerFrame,
      frames: Math.floor(available / bytesPerFrame),
    });
    return audioMovie(path, 'wav', track, size, mtimeMs);
  });
}

async function walkChunks(fh: FileHandle, size: number, rf64: boolean): Promise<{ fmt?: Fmt; fmtAt: number; factFrames: number; dataStart: number; dataSize: number }> {
  let fmt: Fmt | undefined;
  let fmtAt = 0;
  let factFrames = 0;
  let ds64Data: number | undefined;
  let pos = 12;
  for (let n = 0; n < MAX_CHUNKS && pos + 8 <= size; n++) {
    const h = await readAt(fh, pos, 8);
    const id = h.toString('latin1', 0, 4);
    const len = h.readUInt32LE(4);
    const body = pos + 8;
    if (id === 'fmt ') {
      fmt = parseFmt(await readAt(fh, body, Math.min(len, 64)));
      fmtAt = body;
    }
    else if (id === 'fact' && len >= 4) factFrames = (await readAt(fh, body, 4)).readUInt32LE(0);
    else if (id === 'ds64' && rf64) {
      const d = await readAt(fh, body, 16);
      if (d.length === 16) ds64Data = Number(d.readBigUInt64LE(8));
    } else if (id === 'data') {
      // Writers that stream (or crash) leave 0 or 0xFFFFFFFF; RF64 puts the real size in ds64.
      let dataSize = len;
      if (rf64 && len === 0xffffffff && ds64Data !== undefined) dataSize = ds64Data;
      else if (len === 0 || len === 0xffffffff) dataSize = size - body;
      return { fmt, fmtAt, factFrames, dataStart: body, dataSize };
    }
    pos = body + len + (len & 1);
  }
  throw new AudioFileError('WAV file has no data chunk');
}
