/** Splitting H.264 / H.265 byte streams into NAL units. Both functions return views into the
 * input (no copies) and never throw on corrupt data. */

export type NalLengthSize = 1 | 2 | 4;

const START_CODE = Buffer.from([0, 0, 1]);

/** Splits an Annex B byte stream (ITU-T H.264 Annex B / H.265 Annex B) at 3- and 4-byte start
 * codes. Bytes before the first start code are ignored; empty NAL units are skipped. */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let sc = buf.indexOf(START_CODE);
  while (sc !== -1) {
    const start = sc + 3;
    const next = buf.indexOf(START_CODE, start);
    let end = next === -1 ? buf.length : next;
    // Zeros just before a start code are its leading zero_byte or trailing_zero_8bits, never NAL
    // data: the last byte of a NAL unit cannot be 0x00 (H.264 §7.4.1, H.265 §7.4.2).
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) out.push(buf.subarray(start, end));
    sc = next;
  }
  return out;
}

/** Splits an MP4 sample (ISO/IEC 14496-15: each NAL unit preceded by a big-endian length of
 * `lengthSize` bytes). A length running past the end stops the split: what came before is still
 * returned, since a corrupt sample should cost one frame, not the stream. */
export function splitLengthPrefixed(buf: Buffer, lengthSize: NalLengthSize): Buffer[] {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(`NAL length size must be 1, 2 or 4, got ${String(lengthSize)}`);
  }
  const out: Buffer[] = [];
  let off = 0;
  while (off + lengthSize <= buf.length) {
    const len = buf.readUIntBE(off, lengthSize);
    off += lengthSize;
    if (len > buf.length - off) break;
    if (len > 0) out.push(buf.subarray(off, off + len));
    off += len;
  }
  return out;
}
