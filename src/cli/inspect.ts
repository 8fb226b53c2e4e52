/** `rivulet inspect PATH…`: what each media file holds and whether Rivulet streams it, and if not
 * exactly why, in the words the server uses when it answers 415. Folders are walked recursively;
 * in them only files that look like media (by content or by name) are reported. */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { openMedia, sniffFile } from '../media/open-media.js';
import { Mp4Error, type Mp4Movie, type Mp4Track } from '../media/mp4/types.js';
import { describeMovie, skippedSummary } from '../vod/movie-stream.js';

export const INSPECT_USAGE = `Usage: rivulet inspect [--json] PATH...

Prints, for each media file (folders are searched recursively): container, tracks, codecs,
duration, bitrate, whether it is hinted, and whether Rivulet can stream it, or why not.
Exit status: 0 when every file can be streamed, 1 otherwise.

Options:
  --json      one JSON object per file, one per line
  -h, --help  show this help
`;

/** Names a folder walk reports even when their content is not recognised (so that a damaged
 * movie is listed as unplayable rather than silently ignored). */
const MEDIA_EXTENSIONS = new Set([
  '.mp4',
  '.m4v',
  '.m4a',
  '.mov',
  '.qt',
  '.3gp',
  '.3g2',
  '.mp3',
  '.mp2',
  '.mpa',
  '.wav',
  '.aif',
  '.aiff',
  '.aifc',
  '.au',
  '.snd',
  '.mid',
  '.midi',
  '.kar',
  '.avi',
]);

export interface TrackReport {
  id: number;
  handler: string;
  codec: string;
  duration: number;
  bitrateKbps?: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

export interface FileReport {
  path: string;
  /** 'mp4', 'mov', '3gp', 'mp3', 'wav', 'aiff', 'aifc', 'au'; undefined when unreadable. */
  container?: string;
  duration?: number;
  bitrateKbps?: number;
  hinted: boolean;
  tracks: TrackReport[];
  /** What a DESCRIBE would offer: one entry per m= line. */
  streams: { track: number; rtpmap: string; viaHintTrack: boolean }[];
  /** Tracks left out, with the reason. */
  skipped: { track: number; codec: string; reason: string }[];
  playable: boolean;
  /** Why the file cannot be streamed, as the server says it in its 415 answer. */
  reason?: string;
}

function trackReport(t: Mp4Track): TrackReport {
  const duration = t.timescale > 0 ? t.duration / t.timescale : 0;
  const r: TrackReport = { id: t.id, handler: t.handler, codec: t.codec, duration };
  if (duration > 0 && t.totalBytes > 0) r.bitrateKbps = (t.totalBytes * 8) / duration / 1000;
  if (t.handler === 'vide') Object.assign(r, { width: t.width, height: t.height });
  if (t.handler === 'soun') Object.assign(r, { sampleRate: t.sampleRate, channels: t.channels });
  return r;
}

/** Inspects one file. Never throws for a file it cannot read: the report says why. */
export async function inspectFile(path: string): Promise<FileReport> {
  let movie: Mp4Movie;
  try {
    movie = await openMedia(path);
  } catch (e) {
    const reason = e instanceof Mp4Error ? `not a streamable movie: ${e.message}` : (e as Error).message;
    return { path, hinted: false, tracks: [], streams: [], skipped: [], playable: false, reason };
  }
  const pres = describeMovie(movie);
  const report: FileReport = {
    path,
    container: movie.brand,
    duration: movie.duration,
    bitrateKbps: movie.duration > 0 ? (movie.size * 8) / movie.duration / 1000 : undefined,
    hinted: movie.tracks.some((t) => t.handler === 'hint'),
    tracks: movie.tracks.map(trackReport),
    streams: pres.tracks.map((v) => {
      const f = v.description.format;
      return {
        track: v.description.id,
        rtpmap: `${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`,
        viaHintTrack: v.load !== undefined,
      };
    }),
    skipped: pres.skipped.map((s) => ({ track: s.id, codec: s.codec, reason: s.reason })),
    playable: pres.tracks.length > 0,
  };
  for (const s of movie.skippedTracks ?? [])
    report.skipped.push({ track: s.id, codec: '', reason: `unreadable track: ${s.reason}` });
  if (!report.playable) {
    const why = skippedSummary(pres.skipped);
    report.reason = `no playable track${why ? `: ${why}` : ''}`;
  }
  return report;
}

const sec = (n: number) => `${n.toFixed(3)} s`;
const kbps = (n: number | undefined) =>
  n === undefined ? '' : n >= 1000 ? `${(n / 1000).toFixed(2)} Mbit/s` : `${Math.round(n)} kbit/s`;

export function formatReport(r: FileReport): string {
  const lines = [r.path];
  if (r.container === undefined) {
    lines.push(`  can stream: no — ${r.reason}`);
    return lines.join('\n');
  }
  lines.push(
    `  container: ${r.container}, ${sec(r.duration ?? 0)}, ${kbps(r.bitrateKbps)}, ${r.hinted ? 'hinted' : 'not hinted'}`,
  );
  for (const t of r.tracks) {
    const what =
      t.handler === 'vide'
        ? `${t.width ?? '?'}x${t.height ?? '?'}`
        : t.handler === 'soun'
          ? `${t.sampleRate ?? '?'} Hz, ${t.channels ?? '?'} ch`
          : '';
    lines.push(
      `  track ${t.id}: ${t.handler} '${t.codec}'${what ? ` ${what}` : ''}, ${sec(t.duration)}${t.bitrateKbps ? `, ${kbps(t.bitrateKbps)}` : ''}`,
    );
  }
  for (const s of r.streams)
    lines.push(`  streams track ${s.track} as ${s.rtpmap}${s.viaHintTrack ? ' (from its hint track)' : ''}`);
  for (const s of r.skipped)
    lines.push(`  leaves out track ${s.track}${s.codec.trim() ? ` (${s.codec.trim()})` : ''}: ${s.reason}`);
  lines.push(r.playable ? '  can stream: yes' : `  can stream: no — ${r.reason}`);
  return lines.join('\n');
}

/** Files under `dir` that look like media, sorted, skipping hidden files and folders. */
async function walk(dir: string, out: string[]): Promise<void> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  for (const n of names) {
    const p = join(dir, n);
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await walk(p, out);
    else if (
      st.isFile() &&
      (MEDIA_EXTENSIONS.has(extname(n).toLowerCase()) ||
        (await sniffFile(p).catch(() => 'unknown')) !== 'unknown')
    )
      out.push(p);
  }
}

function writeStdout(s: string): void {
  process.stdout.write(s);
}

/** Runs the command; returns the exit status. */
export async function inspect(argv: string[], write: (s: string) => void = writeStdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    write(INSPECT_USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    write(INSPECT_USAGE);
    return 2;
  }
  let allPlayable = true;
  let count = 0;
  for (const arg of positionals) {
    const st = await stat(arg).catch((e: NodeJS.ErrnoException) => e);
    let files: string[];
    if (st instanceof Error) {
      const r: FileReport = {
        path: arg,
        hinted: false,
        tracks: [],
        streams: [],
        skipped: [],
        playable: false,
        reason: st.code === 'ENOENT' ? 'no such file or folder' : st.message,
      };
      write(values.json ? `${JSON.stringify(r)}\n` : `${formatReport(r)}\n\n`);
      allPlayable = false;
      continue;
    }
    if (st.isDirectory()) {
      files = [];
      await walk(arg, files);
    } else files = [arg];
    for (const f of files) {
      const r = await inspectFile(f);
      count++;
      if (!r.playable) allPlayable = false;
      write(values.json ? `${JSON.stringify(r)}\n` : `${formatReport(r)}\n\n`);
    }
  }
  if (!values.json)
    write(
      `${count} file${count === 1 ? '' : 's'} inspected; ${allPlayable ? 'all can be streamed' : 'some cannot be streamed'}\n`,
    );
  return allPlayable ? 0 : 1;
}
