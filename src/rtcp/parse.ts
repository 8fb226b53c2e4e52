/** Lenient RTCP compound packet parser (RFC 3550 §6.4-6.7). RTCP arrives from arbitrary peers, so
 * this never throws: it returns the packets parsed before the first inconsistency (bad version, a
 * length running past the buffer, a body too short for its count, bad padding) and drops the
 * rest, because after one bad length the next packet boundary is unknowable. Buffers in the
 * result (extension, APP data, unknown packets) are views into the input, not copies. */

import {
  RtcpType,
  RtpfbFormat,
  SdesItemType,
  type ReportBlock,
  type RtcpPacket,
  type SdesChunk,
  type SdesItem,
} from './types.js';

const HEADER_SIZE = 4;
const REPORT_BLOCK_SIZE = 24;
/** Sequence numbers one NACK packet may ask for: a packet can name up to 17 per 4-byte FCI entry
 * (over 270 000 in a datagram), far more than any history holds; the rest is dropped. */
export const MAX_NACK_SEQS = 1024;

export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off + HEADER_SIZE <= buf.length) {
    const b0 = buf[off];
    if (b0 >> 6 !== 2) break;
    const count = b0 & 0x1f;
    const packetType = buf[off + 1];
    const length = (buf.readUInt16BE(off + 2) + 1) * 4;
    const end = off + length;
    if (end > buf.length) break;
    let bodyEnd = end;
    if (b0 & 0x20) {
      // Padding: the last octet counts the padding octets, itself included.
      const pad = buf[end - 1];
      if (pad === 0 || pad > length - HEADER_SIZE) break;
      bodyEnd -= pad;
    }
    const packet = parseOne(buf, off, count, packetType, off + HEADER_SIZE, bodyEnd, end);
    if (!packet) break;
    out.push(packet);
    off = end;
  }
  return out;
}

function parseOne(
  buf: Buffer,
  start: number,
  count: number,
  packetType: number,
  body: number,
  bodyEnd: number,
  end: number,
): RtcpPacket | null {
  switch (packetType) {
    case RtcpType.SR: {
      const blocks = body + 24;
      if (blocks + count * REPORT_BLOCK_SIZE > bodyEnd) return null;
      const reports = readReportBlocks(buf, blocks, count);
      const ext = blocks + count * REPORT_BLOCK_SIZE;
      return {
        type: 'sr',
        ssrc: buf.readUInt32BE(body),
        ntpTime: { sec: buf.readUInt32BE(body + 4), frac: buf.readUInt32BE(body + 8) },
        rtpTimestamp: buf.readUInt32BE(body + 12),
        packetCount: buf.readUInt32BE(body + 16),
        octetCount: buf.readUInt32BE(body + 20),
        reports,
        ...(ext < bodyEnd ? { extension: buf.subarray(ext, bodyEnd) } : {}),
      };
    }
    case RtcpType.RR: {
      const blocks = body + 4;
      if (blocks + count * REPORT_BLOCK_SIZE > bodyEnd) return null;
      const ext = blocks + count * REPORT_BLOCK_SIZE;
      return {
        type: 'rr',
        ssrc: buf.readUInt32BE(body),
        reports: readReportBlocks(buf, blocks, count),
        ...(ext < bodyEnd ? { extension: buf.subarray(ext, bodyEnd) } : {}),
      };
    }
    case RtcpType.SDES: {
      const chunks = readSdesChunks(buf, start, count, body, bodyEnd);
      return chunks ? { type: 'sdes', chunks } : null;
    }
    case RtcpType.BYE: {
      let p = body + count * 4;
      if (p > bodyEnd) return null;
      const ssrcs: number[] = [];
      for (let q = body; q < p; q += 4) ssrcs.push(buf.readUInt32BE(q));
      // The reason is optional; anything after the SSRCs that starts with a non-zero length is one.
      if (p < bodyEnd && buf[p] > 0) {
        const len = buf[p++];
        if (p + len > bodyEnd) return null;
        return { type: 'bye', ssrcs, reason: buf.toString('utf8', p, p + len) };
      }
      return { type: 'bye', ssrcs };
    }
    case RtcpType.APP: {
      if (body + 8 > bodyEnd) return null;
      return {
        type: 'app',
        ssrc: buf.readUInt32BE(body),
        subtype: count,
        name: buf.toString('latin1', body + 4, body + 8),
        data: buf.subarray(body + 8, bodyEnd),
      };
    }
    case RtcpType.RTPFB:
      if (count === RtpfbFormat.GENERIC_NACK && body + 8 <= bodyEnd) return readNack(buf, body, bodyEnd);
      return { type: 'unknown', packetType, count, raw: buf.subarray(start, end) };
    default:
      return { type: 'unknown', packetType, count, raw: buf.subarray(start, end) };
  }
}

/** Generic NACK FCI entries (RFC 4585 §6.2.1): a PID and a bitmask of the 16 packets after it. */
function readNack(buf: Buffer, body: number, bodyEnd: number): RtcpPacket {
  const lost: number[] = [];
  for (let p = body + 8; p + 4 <= bodyEnd && lost.length < MAX_NACK_SEQS; p += 4) {
    const pid = buf.readUInt16BE(p);
    const blp = buf.readUInt16BE(p + 2);
    lost.push(pid);
    for (let i = 0; i < 16 && lost.length < MAX_NACK_SEQS; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
  }
  return { type: 'nack', ssrc: buf.readUInt32BE(body), mediaSsrc: buf.readUInt32BE(body + 4), lost };
}

function readReportBlocks(buf: Buffer, off: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += REPORT_BLOCK_SIZE) {
    const fractionLostRaw = buf[off + 4];
    // 24-bit two's complement: shift the sign bit up to bit 31, then arithmetic-shift back.
    const cumulativeLost = (buf.readUIntBE(off + 5, 3) << 8) >> 8;
    reports.push({
      ssrc: buf.readUInt32BE(off),
      fractionLost: fractionLostRaw / 256,
      fractionLostRaw,
      cumulativeLost,
      highestSeq: buf.readUInt32BE(off + 8),
      jitter: buf.readUInt32BE(off + 12),
      lsr: buf.readUInt32BE(off + 16),
      dlsr: buf.readUInt32BE(off + 20),
    });
  }
  return reports;
}

function readSdesChunks(
  buf: Buffer,
  start: number,
  count: number,
  body: number,
  bodyEnd: number,
): SdesChunk[] | null {
  const chunks: SdesChunk[] = [];
  let p = body;
  for (let c = 0; c < count; c++) {
    if (p + 4 > bodyEnd) return null;
    const chunk: SdesChunk = { ssrc: buf.readUInt32BE(p), items: [] };
    p += 4;
    for (;;) {
      if (p >= bodyEnd) return null; // every item list ends with a null octet
      const type = buf[p];
      if (type === SdesItemType.END) {
        // Skip the terminator and the padding up to the next 32-bit boundary of the packet.
        p = start + ((p - start + 4) & ~3);
        break;
      }
      if (p + 2 > bodyEnd) return null;
      const len = buf[p + 1];
      const text = p + 2;
      if (text + len > bodyEnd) return null;
      const item: SdesItem = { type, value: '' };
      if (type === SdesItemType.PRIV && len > 0) {
        const prefixLen = buf[text];
        if (1 + prefixLen > len) return null;
        item.prefix = buf.toString('utf8', text + 1, text + 1 + prefixLen);
        item.value = buf.toString('utf8', text + 1 + prefixLen, text + len);
      } else {
        item.value = buf.toString('utf8', text, text + len);
        if (type === SdesItemType.PRIV) item.prefix = '';
      }
      chunk.items.push(item);
      p = text + len;
    }
    chunks.push(chunk);
  }
  return chunks;
}
