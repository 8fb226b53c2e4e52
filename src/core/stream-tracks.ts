/** A live stream's tracks from a description of its media: the m= sections of an announced,
 * pulled or SDP-file stream, or a playlist's reference tracks. One place, so every source numbers
 * its tracks (`trackID=1…`) and carries the same SDP detail to viewers alike. */
import type { Logger } from '../logging/index.js';
import type { Track } from '../stream/types.js';
import { StreamTrack } from './stream-track.js';

/** What a track is built from: its payload format and the SDP detail kept for viewers. */
export type TrackShape = Pick<Track, 'format' | 'bitrateKbps' | 'width' | 'height' | 'frameRate'>;

export interface StreamTracksOptions {
  /** live.maxFrameBytes (StreamTrack's default when absent). */
  maxFrameBytes?: number;
  /** Where the tracks report cut frames and refused senders (one logger for them all). */
  log?: Logger;
}

/** One StreamTrack per entry of `media`, numbered from 1 in order. */
export function streamTracksFrom(
  media: readonly TrackShape[],
  opts: StreamTracksOptions = {},
): StreamTrack[] {
  return media.map(
    (m, i) =>
      new StreamTrack({
        id: i + 1,
        format: m.format,
        bitrateKbps: m.bitrateKbps,
        width: m.width,
        height: m.height,
        frameRate: m.frameRate,
        maxFrameBytes: opts.maxFrameBytes,
        log: opts.log,
      }),
  );
}
