/** One playlist item as the channel sees it: opened as the file player would open it, and
 * whether its tracks can continue the channel's timeline. */
import { Mp4Error } from '../../media/mp4/types.js';
import { openMedia } from '../../media/open-media.js';
import { describeMovie, skippedSummary } from '../../vod/movie-stream.js';
import type { VodTrack } from '../../vod/types.js';

/** An item ready to play. */
export interface Opened {
  file: string;
  tracks: VodTrack[];
  /** Seconds. */
  duration: number;
}

export const describeCodec = (t: VodTrack): string => {
  const f = t.description.format;
  return `${t.kind} ${f.encodingName}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}`;
};

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
 * order: the same kind, encoding, clock rate and channels; and for codecs whose parameters
 * only the SDP carries (AAC's config, MPEG-4 video's), the same fmtp, since viewers would decode
 * the new item with the old parameters. H.264/H.265 items of another frame size or profile
 * pass: each item sends its parameter sets in band. */
export function mismatch(tracks: readonly VodTrack[], ref: readonly VodTrack[]): string | undefined {
  const mine = tracks.map(describeCodec).join(', ');
  const theirs = ref.map(describeCodec).join(', ');
  if (mine !== theirs) return `its tracks (${mine}) do not match the channel's (${theirs})`;
  for (let i = 0; i < tracks.length; i++) {
    const [a, b] = [tracks[i], ref[i]];
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
    return { file, tracks: pres.tracks, duration: movie.duration };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return 'missing (no such file)';
    return e instanceof Mp4Error ? `not a streamable movie: ${e.message}` : `cannot read it: ${err.message}`;
  }
}
