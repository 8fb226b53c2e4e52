/** Public shapes of the ISO-BMFF / QuickTime reader. The reader parses only the `moov` index;
 * media bytes are read on demand. A parsed `Mp4Movie` is immutable and may be shared by every
 * viewer of the same file; each viewer reads samples through its own `SampleReader`. */

export interface SampleInfo {
  /** 0-based sample index within the track. */
  index: number;
  /** Absolute byte offset in the file (may exceed 2^32). */
  offset: number;
  size: number;
  /** Decode time in the track's media timescale (from stts). */
  dts: number;
  /** Composition (presentation) time in the media timescale: dts + ctts offset. */
  cts: number;
  /** Sync sample (stss; every sample is sync when the track has no stss). */
  sync: boolean;
}

export interface Mp4Track {
  /** track_ID from tkhd. */
  id: number;
  /** hdlr handler type: 'vide', 'soun', 'hint', 'text', ... */
  handler: string;
  /** Media timescale from mdhd. */
  timescale: number;
  /** Media duration in timescale units (mdhd). */
  duration: number;
  /** Sample entry four-cc of the first stsd entry: 'avc1', 'avc3', 'hvc1', 'hev1', 'mp4a', 'rtp ', ... */
  codec: string;
  sampleCount: number;
  /** First edit's media_time (elst) in media timescale units, or 0. Presentation time of a
   * sample, in seconds, is (cts - editMediaTime) / timescale. */
  editMediaTime: number;
  /** Video: width/height from the visual sample entry. */
  width?: number;
  height?: number;
  /** Audio: channel count and sample rate from the audio sample entry (esds/ASC may refine). */
  channels?: number;
  sampleRate?: number;
  /** Raw codec configuration record payloads (box bodies, without the box header). */
  avcC?: Buffer;
  hvcC?: Buffer;
  /** esds: MPEG-4 object type indication and DecoderSpecificInfo bytes (AudioSpecificConfig for AAC). */
  esds?: { objectTypeIndication: number; decoderSpecificInfo: Buffer; avgBitrate: number; maxBitrate: number };
  /** True when every sample is a sync sample (no stss box). */
  allSync: boolean;
  /** Total bytes of all samples (sum of stsz), for bitrate estimates. */
  totalBytes: number;
  /** track reference types → referenced track IDs (tref), e.g. { hint: [1] }. */
  references: Record<string, number[]>;
  /** Sample lookup: O(1) or O(log n) amortised; throws RangeError outside [0, sampleCount). */
  sample(index: number): SampleInfo;
  /** Index of the last sample whose decode time is <= dts (0 if dts precedes the first). */
  sampleAtDts(dts: number): number;
  /** Index of the last sync sample at or before `index`; 0 when none precedes it (start from the
   * beginning). Throws RangeError outside [0, sampleCount). */
  syncAtOrBefore(index: number): number;
}

export interface Mp4Movie {
  path: string;
  /** 'mp4' (ftyp major brand isom/mp4x/...), 'mov' (qt  or no ftyp), '3gp' (brands 3gpN and 3g2N). */
  brand: string;
  /** Movie duration in seconds (mvhd, or the longest track). */
  duration: number;
  tracks: Mp4Track[];
  /** File size and mtime when parsed (the cache key). */
  size: number;
  mtimeMs: number;
  /** Tracks left out of `tracks` because their tables are broken or inconsistent, with the reason
   * (for logs: "why does this file have no audio?"). */
  skippedTracks?: { id: number; reason: string }[];
  /** True when the moov has an mvex box: the samples live in movie fragments this reader does not
   * index, so the tracks' sample tables are empty or incomplete. */
  fragmented?: boolean;
}

/** Reads sample bytes with read-ahead: consecutive reads of nearby samples share one disk read. */
export interface SampleReader {
  read(info: SampleInfo): Promise<Buffer>;
  close(): Promise<void>;
}

/** Raised for files that are not ISO-BMFF / QuickTime or whose index is broken. */
export class Mp4Error extends Error {
  override readonly name = 'Mp4Error';
}
