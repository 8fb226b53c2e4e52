/** Splits a video frame into packet-sized pieces, cutting just before a start code (a point where
 * a decoder can resynchronise) when one falls inside a piece, so that a lost packet costs as
 * little of the picture as possible. Used by the MPEG-4 Visual and H.263 packetizers. */

/** True when a start code begins at byte `i`. */
export type SyncTest = (buf: Buffer, i: number) => boolean;

/** MPEG-4 Visual (and MPEG-1/2) start code prefix 0x000001. */
export const mpegStartCode: SyncTest = (b, i) =>
  i + 2 < b.length && b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1;

/** H.263 picture, GOB or slice start code: 16 zero bits then a 1, byte aligned. */
export const h263StartCode: SyncTest = (b, i) =>
  i + 2 < b.length && b[i] === 0 && b[i + 1] === 0 && (b[i + 2] & 0x80) !== 0;

/** End of the piece that starts at `pos` and may hold up to `capacity` bytes: the frame end if it
 * fits, else the last start code in (pos, pos + capacity], else pos + capacity. */
export function pieceEnd(buf: Buffer, pos: number, capacity: number, isSync: SyncTest): number {
  const limit = pos + capacity;
  if (limit >= buf.length) return buf.length;
  for (let s = limit; s > pos; s--) if (isSync(buf, s)) return s;
  return limit;
}
