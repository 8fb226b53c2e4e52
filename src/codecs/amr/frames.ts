/** AMR / AMR-WB frame sizes by frame type (3GPP TS 26.101 Table 1a, TS 26.201 Table 1a), as the
 * storage format (RFC 4867 §5, used in 3GP `samr`/`sawb` samples) lays frames out: one header
 * byte `0 FT(4) Q 0 0` followed by the speech bits padded to whole bytes. */

/** Speech bytes after the header byte for AMR-NB FT 0-15. FT 8 is the SID frame, 9-11 are SID
 * frames of other codecs, 12-14 are reserved and 15 is NO_DATA: none of them carries speech here. */
export const AMR_NB_FRAME_BYTES: readonly number[] = [12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0];
/** The same for AMR-WB: FT 9 is SID, 10-13 reserved, 14 SPEECH_LOST, 15 NO_DATA. */
export const AMR_WB_FRAME_BYTES: readonly number[] = [
  17, 23, 32, 36, 40, 46, 50, 58, 60, 5, 0, 0, 0, 0, 0, 0,
];

/** Frame types that carry speech or comfort noise; the rest carry no data. */
export function amrFrameTypeValid(ft: number, wideband: boolean): boolean {
  return wideband ? ft <= 9 || ft >= 14 : ft <= 8 || ft === 15;
}

/** Every AMR frame is 20 ms: 160 samples at 8 kHz, 320 at 16 kHz. */
export function amrSamplesPerFrame(wideband: boolean): number {
  return wideband ? 320 : 160;
}

export interface AmrFrame {
  /** Frame type (FT). */
  type: number;
  /** Frame quality indicator (Q): false marks a damaged frame. */
  quality: boolean;
  /** Speech bits without the header byte; empty for NO_DATA. */
  data: Buffer;
}

/** Splits a storage-format sample into its frames. Stops at a frame of a reserved type or one cut
 * short by the end of the sample: `rest` says how many bytes were left unread. */
export function splitAmrFrames(sample: Buffer, wideband: boolean): { frames: AmrFrame[]; rest: number } {
  const sizes = wideband ? AMR_WB_FRAME_BYTES : AMR_NB_FRAME_BYTES;
  const frames: AmrFrame[] = [];
  let pos = 0;
  while (pos < sample.length) {
    const h = sample[pos];
    const type = (h >> 3) & 0x0f;
    const size = sizes[type];
    if (!amrFrameTypeValid(type, wideband) || pos + 1 + size > sample.length) break;
    frames.push({ type, quality: (h & 0x04) !== 0, data: sample.subarray(pos + 1, pos + 1 + size) });
    pos += 1 + size;
  }
  return { frames, rest: sample.length - pos };
}
