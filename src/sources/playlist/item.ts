/** One playlist item as the channel sees it: opened as the file player would open it, and
 * whether its tracks can continue the channel's timeline. */
import { basename, extname } from 'node:path';
import { Mp4Error } from '../../media/mp4/types.js';
import { openMedia } from '../../media/open-media.js';
import { readTags, type MediaTags } from '../../media/tags.js';
import { describeMovie, skippedSummary } from '../../vod/movie-stream.js';
import type { VodTrack } from '../../vod/types.js';

/** An item ready to play. */
export interface Opened {
  file: string;
  tracks: VodTrack[];
  /** Seconds. */
  duration: number;
  /** What plays, for the stream's metadata while it does (`nowPlaying`). */
  title: string;
}

/** The now-playing text of `file` with `tags`: `Artist - Title`, the title alone without an
 * artist, the file's name (without its extension) in place of a missing title. */
export function nowPlaying(file: string, tags: MediaTags): string {
  const title = tags.title ?? basename(file, extname(file));
  return tags.artist ? `${tags.artist} - ${title}` : title;
}

export const describeCodec = (t: VodTrack): string => {
  const f = t.description.format;
  return `${t.kind} ${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`;
};

/** MPEG audio's sample rate and channel count, e.g. `44100 Hz stereo` (undefined for other
 * codecs): its RTP clock is 90 kHz whatever the rate, so neither the SDP nor `describeCodec`
 * tells them apart; the frame headers (an MP3 file) or the audio sample entry (MP3 in MP4) do.
 * Other audio formats carry both in their rtpmap. */
export function audioShape(t: VodTrack): string | undefined {
  if (t.description.format.encodingName !== 'MPA') return undefined;
  const { sampleRate, channels } = t.mp4;
  const layout = channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels ?? '?'} channels`;
  return `${sampleRate ?? '?'} Hz ${layout}`;
}

/** Codecs whose parameter sets travel in band (`timeline.ts`), so an item may change them. */
export const IN_BAND: ReadonlySet<string> = new Set(['H264', 'H265']);

/** A track's fmtp as one text, its keys sorted: equal texts, equal parameters. */
export const fmtpText = (t: VodTrack): string =>
  Object.entries(t.description.format.fmtp)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(';');

/** Why `tracks` cannot continue the timeline of `ref` (the channel's tracks: its
 * sdp_reference_movie's, else its first item's), or undefined when they can. Track by track in
 * order: the same kind, encoding, clock rate and channels; for MPEG audio, the same sample rate
 * and channel count (`audioShape`), which listeners' players keep from the first frames they
 * decode; and for codecs whose parameters only the SDP carries (AAC's config, MPEG-4 video's),
 * the same fmtp, since viewers would decode the new item with the old parameters. H.264/H.265
 * items of another frame size or profile pass: each item sends its parameter sets in band. */
export function mismatch(tracks: readonly VodTrack[], ref: readonly VodTrack[]): string | undefined {
  const mine = tracks.map(describeCodec).join(', ');
  const theirs = ref.map(describeCodec).join(', ');
  if (mine !== theirs) return `its tracks (${mine}) do not match the channel's (${theirs})`;
  for (let i = 0; i < tracks.length; i++) {
    const [a, b] = [tracks[i], ref[i]];
    const [shape, theirShape] = [audioShape(a), audioShape(b)];
    if (shape !== theirShape) return `its ${describeCodec(a)} is ${shape} where the channel's is ${theirShape}: a channel keeps one sample rate and channel count`;
    if (IN_BAND.has(a.description.format.encodingName) || fmtpText(a) === fmtpText(b)) continue;
    return `its ${describeCodec(a)} parameters (${fmtpText(a) || 'none'}) differ from the channel's (${fmtpText(b) || 'none'}), and only the SDP carries them`;
  }
  return undefined;
}

/** Opens a playlist item as the file player would; a string says why it cannot play. */
export async function openItem(file: string): Promise<Opened | string> {
  try {
    const movie = await openMedia(file);
    const pres = describeMovie(movie);
    if (pres.tracks.length === 0) {
      const why = skippedSummary(pres.skipped);
      return `no playable track${why ? `: ${why}` : ''}`;
    }
    if (!(movie.duration > 0)) return 'it has no duration';
    return { file, tracks: pres.tracks, duration: movie.duration, title: nowPlaying(file, await readTags(file)) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return 'missing (no such file)';
    return e instanceof Mp4Error ? `not a streamable movie: ${e.message}` : `cannot read it: ${err.message}`;
  }
}
