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
  /** Audio: the sound sample description's sample size and QuickTime version 1/2 fields, which
   * uncompressed and ADPCM audio need to find its frames. */
  sound?: SoundDescription;
  /** Sample entry children other than avcC/hvcC/esds (and those of a QuickTime 'wave' box inside
   * it), first of each type, as box bodies: codec configuration such as d263, damr, dOps, enda. */
  entryBoxes?: Readonly<Record<string, Buffer>>;
  /** The stsd's sample entries as whole boxes (size and type included), the first 16: hint tracks
   * need the 'rtp ' entry, and sample description constructors copy bytes out of media entries. */
  sampleEntries?: readonly Buffer[];
  /** Hint tracks: the udta/hnti/'sdp ' text, the track's SDP media section as the hinter wrote it. */
  hintSdp?: string;
  /** True when every sample is a sync sample (no stss box). */
  allSync: boolean;
  /** Total bytes of all samples (sum of stsz), for bitrate estimates. */
  totalBytes: number;
  /** track reference types → referenced track IDs (tref), e.g. { hint: [1] }. */
  references: Record<string, number[]>;
  /** Sample lookup: O(1) or O(log n) amortised; throws RangeError outside [0, sampleCount). */
  sample(index: number): SampleInfo;
  /** `sample(index)` written into `out` and returned, where the track can (no allocation: a file
   * player asks for every sample it sends, thousands of viewers at once). */
  sampleInto?(index: number, out: SampleInfo): SampleInfo;
  /** Index of the last sample whose decode time is <= dts (0 if dts precedes the first). */
  sampleAtDts(dts: number): number;
  /** Index of the last sync sample at or before `index`; 0 when none precedes it (start from the
   * beginning). Throws RangeError outside [0, sampleCount). */
  syncAtOrBefore(index: number): number;
  /** Chunks holding samples, in sample order, without building the per-sample index: what
   * uncompressed audio (one sample per audio frame) needs to be read in blocks. */
  chunks?(): ChunkLayout;
  /** Decode time of sample `index` from the stts runs, without building the per-sample index. */
  decodeTime?(index: number): number;
}

/** Sound sample description fields (ISO/IEC 14496-12 AudioSampleEntry, QuickTime SoundDescription
 * versions 0-2). */
export interface SoundDescription {
  /** Sound description version: 0, or QuickTime 1 / 2. */
  version: number;
  /** Bits per sample (samplesize field; the bits per channel of a version 2 description). */
  sampleSize: number;
  /** Version 1: uncompressed frames per compressed packet, and bytes per packet (per channel),
   * frame (all channels) and sample. */
  samplesPerPacket?: number;
  bytesPerPacket?: number;
  bytesPerFrame?: number;
  bytesPerSample?: number;
  /** Version 2: LPCM format flags (kAudioFormatFlagIsFloat 1, IsBigEndian 2, IsSignedInteger 4). */
  formatFlags?: number;
}

/** Chunk table of a track: chunk k holds `counts[k]` samples from `firstSample[k]` at `offsets[k]`. */
export interface ChunkLayout {
  offsets: Float64Array;
  firstSample: Float64Array;
  counts: Uint32Array;
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
  /** Hinted movies: the moov/udta/hnti/'rtp ' text with its 'sdp ' format tag removed, the
   * session-level SDP lines the hinter wrote (QuickTime does; ffmpeg writes none). */
  hintSdp?: string;
  /** True when the moov has an mvex box: the samples live in movie fragments this reader does not
   * index, so the tracks' sample tables are empty or incomplete. */
  fragmented?: boolean;
}

/** Reads sample bytes with read-ahead: consecutive reads of nearby samples share one disk read. */
export interface SampleReader {
  read(info: SampleInfo): Promise<Buffer>;
  /** The sample's bytes when they are at hand (in memory already), else undefined: then `read`.
   * Players ask this first, so a sample in memory costs no promise. */
  readNow?(info: SampleInfo): Buffer | undefined;
  close(): Promise<void>;
}

/** Raised for files that are not ISO-BMFF / QuickTime or whose index is broken. */
export class Mp4Error extends Error {
  override readonly name = 'Mp4Error';
}
