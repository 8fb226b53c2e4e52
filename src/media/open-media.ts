/** One entry point for every stored file the server streams: ISO-BMFF / QuickTime movies (MP4,
 * MOV, 3GP) and plain audio files (MP3, WAV, AIFF, AU), told apart by their first bytes rather
 * than their names. Every kind comes back as an `Mp4Movie`, so describing and playing them is the
 * same code. Parsed audio files are cached like movies (an MP3's frame index costs a read of the
 * whole file). */
import { open, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { openAiff } from './audio/aiff.js';
import { openAu } from './audio/au.js';
import { AudioFileError } from './audio/file.js';
import { openMp3 } from './audio/mp3.js';
import { openWav } from './audio/wav.js';
import { getMovie } from './mp4/cache.js';
import { parseMpegAudioHeader } from '../codecs/mpa/header.js';
import { Mp4Error, type Mp4Movie } from './mp4/types.js';

export type MediaKind = 'mp4' | 'mp3' | 'wav' | 'aiff' | 'au' | 'midi' | 'avi' | 'unknown';

/** Top-level box types a QuickTime or ISO file may start with. */
const BOX_TYPES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'junk', 'pdin', 'styp', 'sidx', 'moof', 'meta', 'PICT']);
const MP3_EXTENSIONS = new Set(['.mp3', '.mp2', '.mpa', '.mp1']);

/** What a file's first bytes say it is. `ext` (with the dot) breaks the tie for MPEG audio
 * without an ID3 tag, whose first bytes need not be a frame. */
export function sniffMedia(head: Buffer, ext = ''): MediaKind {
  const ascii = (a: number, b: number) => head.toString('latin1', a, b);
  if (head.length >= 8 && BOX_TYPES.has(ascii(4, 8))) return 'mp4';
  if (head.length >= 12 && (ascii(0, 4) === 'RIFF' || ascii(0, 4) === 'RF64')) {
    const form = ascii(8, 12);
    if (form === 'WAVE') return 'wav';
    if (form === 'AVI ') return 'avi';
    if (form === 'RMID') return 'midi';
  }
  if (head.length >= 12 && ascii(0, 4) === 'FORM' && (ascii(8, 12) === 'AIFF' || ascii(8, 12) === 'AIFC')) return 'aiff';
  if (ascii(0, 4) === '.snd') return 'au';
  if (ascii(0, 4) === 'MThd') return 'midi';
  if (ascii(0, 3) === 'ID3' || parseMpegAudioHeader(head) || MP3_EXTENSIONS.has(ext.toLowerCase())) return 'mp3';
  return 'unknown';
}

export const MEDIA_CACHE_SIZE = 64;

interface Entry {
  size: number;
  mtimeMs: number;
  /** Undefined for movies: the movie cache holds those, this only remembers the sniffing. */
  movie?: Promise<Mp4Movie>;
}
const entries = new Map<string, Entry>();

/** Sniffs the file at `path` (see sniffMedia). */
export async function sniffFile(path: string): Promise<MediaKind> {
  return sniffMedia(await readHead(path), extname(path));
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, 16, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function openAudio(kind: MediaKind, path: string): Promise<Mp4Movie> {
  switch (kind) {
    case 'mp3':
      return openMp3(path);
    case 'wav':
      return openWav(path);
    case 'aiff':
      return openAiff(path);
    case 'au':
      return openAu(path);
    case 'midi':
      return Promise.reject(
        new AudioFileError('MIDI files are not streamed: no RTSP player at hand (ffmpeg, GStreamer) can receive RTP MIDI (RFC 6295)'),
      );
    case 'avi':
      return Promise.reject(new AudioFileError('AVI files are not read (remux them to MP4 or MOV, e.g. ffmpeg -i in.avi -c copy out.mov)'));
    default:
      return Promise.reject(new Mp4Error('not a media file Rivulet reads'));
  }
}

async function unknownContent(path: string): Promise<Mp4Movie> {
  try {
    return await getMovie(path);
  } catch (e) {
    if (e instanceof Mp4Error) throw new Mp4Error(`not a media file Rivulet reads (MP4/MOV/3GP, MP3, WAV, AIFF, AU): ${e.message}`);
    throw e;
  }
}

/** The parsed file at `path` (resolved to an absolute path, which becomes the movie's `path`).
 * Movies go through the movie cache; audio files through a cache of their own with the same
 * rules: re-parsed when size or mtime change, parse failures cached until the file changes. */
export async function openMedia(path: string): Promise<Mp4Movie> {
  const key = resolve(path);
  const st = await stat(key);
  if (!st.isFile()) throw new Mp4Error(`${path} is not a regular file`);
  let entry = entries.get(key);
  if (entry && entry.size === st.size && entry.mtimeMs === st.mtimeMs) {
    entries.delete(key);
  } else {
    const kind = sniffMedia(await readHead(key), extname(key));
    // Unknown content goes to the movie reader too: old QuickTime files may start with any atom,
    // and the reader explains what is wrong with a broken movie.
    const movie = kind === 'mp4' ? undefined : kind === 'unknown' ? unknownContent(key) : openAudio(kind, key);
    const fresh: Entry = { size: st.size, mtimeMs: st.mtimeMs, movie };
    movie?.catch((e: unknown) => {
      if (!(e instanceof Mp4Error) && entries.get(key) === fresh) entries.delete(key);
    });
    entry = fresh;
  }
  entries.set(key, entry);
  while (entries.size > MEDIA_CACHE_SIZE) {
    const oldest = entries.keys().next().value;
    if (oldest === undefined) break;
    entries.delete(oldest);
  }
  return entry.movie ?? getMovie(key);
}

/** Drops every cached audio file (movies: clearMovieCache). */
export function clearAudioCache(): void {
  entries.clear();
}
