/** Shared pieces of the audio file readers: the error type, positioned reads, and the movie shape
 * the rest of the server (stream builder, player, inspect) expects. */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Mp4Error, type Mp4Movie, type Mp4Track } from '../mp4/types.js';

/** A file that is not a readable audio file of the kind it claims to be. A subclass of Mp4Error so
 * that every "cannot stream this file" path (415 answers, the parsed-file cache) treats both
 * alike. */
export class AudioFileError extends Mp4Error {}

/** Reads up to `length` bytes at `position`; shorter at the end of the file. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Opens a regular file (a FIFO would block the open) and runs `parse` with its handle and size. */
export async function withAudioFile<T>(path: string, parse: (fh: FileHandle, size: number, mtimeMs: number) => Promise<T>): Promise<T> {
  if (!(await stat(path)).isFile()) throw new AudioFileError(`${path} is not a regular file`);
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    return await parse(fh, st.size, st.mtimeMs);
  } finally {
    await fh.close();
  }
}

/** The movie of a one-track audio file. `brand` names the container: 'mp3', 'wav', 'aiff', 'au'. */
export function audioMovie(path: string, brand: string, track: Mp4Track, size: number, mtimeMs: number): Mp4Movie {
  Object.freeze(track);
  return Object.freeze({
    path,
    brand,
    duration: track.timescale > 0 ? track.duration / track.timescale : 0,
    tracks: Object.freeze([track]) as Mp4Track[],
    size,
    mtimeMs,
  });
}
