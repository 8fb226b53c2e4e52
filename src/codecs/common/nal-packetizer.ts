/** The packetization strategy shared by H.264 (RFC 6184) and H.265 (RFC 7798): both send a NAL unit
 * that fits as-is, fragment one that does not into FUs, and may aggregate consecutive small NAL
 * units into one packet. Only the header layouts differ; those come from a `NalFormat`. */

import type { RtpPayload } from '../types.js';

export interface NalFormat {
  /** Bytes of the NAL unit header, replaced by the FU headers when fragmenting (1 or 2). */
  nalHeaderSize: number;
  /** Bytes in front of every FU fragment (payload header + FU header). */
  fuOverhead: number;
  /** Writes the FU headers of one fragment of `nal` at `out[off..off + fuOverhead)`. */
  writeFuHeader(out: Buffer, off: number, nal: Buffer, start: boolean, end: boolean): void;
  /** Bytes of the aggregation packet's own header (STAP-A: 1, AP: 2). */
  aggregationHeaderSize: number;
  /** Writes the aggregation packet header for `nalus[from..to)` at `out[0..aggregationHeaderSize)`. */
  writeAggregationHeader(out: Buffer, nalus: readonly Buffer[], from: number, to: number): void;
}

/** Each aggregated NAL unit is preceded by a 16-bit size (no DON fields: non-interleaved mode). */
const AGG_SIZE_FIELD = 2;

/** Appends the payloads for `nalus` (one access unit) to `out` and sets the marker on the last
 * one. Payload parts are views into the NAL units plus small header buffers, so the input must
 * stay unchanged until the packets are written. Empty NAL units are skipped. */
export function packetizeNalUnits(
  nalus: readonly Buffer[],
  format: NalFormat,
  maxPayloadSize: number,
  aggregate: boolean,
  out: RtpPayload[],
): void {
  const first = out.length;
  const n = nalus.length;
  let i = 0;
  while (i < n) {
    const nal = nalus[i];
    if (nal.length === 0) {
      i++;
      continue;
    }
    if (nal.length > maxPayloadSize) {
      fragment(nal, format, maxPayloadSize, out);
      i++;
      continue;
    }
    if (aggregate) {
      // Greedily extend the run of consecutive NAL units that fit one aggregation packet.
      let size = format.aggregationHeaderSize + AGG_SIZE_FIELD + nal.length;
      let j = i + 1;
      while (j < n && nalus[j].length > 0 && size + AGG_SIZE_FIELD + nalus[j].length <= maxPayloadSize) {
        size += AGG_SIZE_FIELD + nalus[j].length;
        j++;
      }
      // An aggregation packet must hold at least two NAL units (RFC 7798 §4.4.2); with one, a
      // single NAL unit packet is smaller anyway.
      if (j - i >= 2) {
        out.push(aggregatePacket(nalus, i, j, size, format));
        i = j;
        continue;
      }
    }
    out.push({ parts: [nal], length: nal.length, marker: false });
    i++;
  }
  if (out.length > first) out[out.length - 1].marker = true;
}

function aggregatePacket(
  nalus: readonly Buffer[],
  from: number,
  to: number,
  size: number,
  format: NalFormat,
): RtpPayload {
  const h = format.aggregationHeaderSize;
  // One small allocation holds the packet header and every size field; parts are views into it.
  const headers = Buffer.allocUnsafe(h + (to - from) * AGG_SIZE_FIELD);
  format.writeAggregationHeader(headers, nalus, from, to);
  const parts: Buffer[] = [headers.subarray(0, h)];
  let off = h;
  for (let k = from; k < to; k++) {
    headers.writeUInt16BE(nalus[k].length, off);
    parts.push(headers.subarray(off, off + AGG_SIZE_FIELD), nalus[k]);
    off += AGG_SIZE_FIELD;
  }
  return { parts, length: size, marker: false };
}

function fragment(nal: Buffer, format: NalFormat, maxPayloadSize: number, out: RtpPayload[]): void {
  // The NAL header is not sent as such: the FU headers carry its fields.
  const body = nal.subarray(format.nalHeaderSize);
  const capacity = maxPayloadSize - format.fuOverhead;
  const count = Math.ceil(body.length / capacity);
  // Spread the bytes evenly instead of filling each fragment: same packet count, but no runt
  // last packet, which keeps the send rate smooth and loss impact uniform.
  const base = Math.floor(body.length / count);
  const extra = body.length % count;
  const headers = Buffer.allocUnsafe(count * format.fuOverhead);
  let off = 0;
  for (let k = 0; k < count; k++) {
    const len = base + (k < extra ? 1 : 0);
    const hdrOff = k * format.fuOverhead;
    format.writeFuHeader(headers, hdrOff, nal, k === 0, k === count - 1);
    const chunk = body.subarray(off, off + len);
    out.push({
      parts: [headers.subarray(hdrOff, hdrOff + format.fuOverhead), chunk],
      length: format.fuOverhead + len,
      marker: false,
    });
    off += len;
  }
}
