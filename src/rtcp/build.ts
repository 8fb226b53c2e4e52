/** RTCP packet builders (RFC 3550 §6.4-6.7). Each returns one complete RTCP packet; combine them
 * with `compound()`. Every packet is a multiple of 32 bits and its length field holds the length
 * in 32-bit words minus one. */

import { msToNtp } from './ntp.js';
import { RtcpType, RtpfbFormat, SdesItemType, type NtpTime, type ReportBlockInit } from './types.js';

const HEADER_SIZE = 4;
const REPORT_BLOCK_SIZE = 24;
/** Report counts, source counts and subtypes share a 5-bit field. */
const MAX_COUNT = 31;

interface SenderReportBase {
  ssrc: number;
  /** RTP timestamp corresponding to the same instant as the NTP timestamp. */
  rtpTimestamp: number;
  /** Packets sent since the start of transmission (wraps mod 2^32). */
  packetCount: number;
  /** Payload octets sent (excluding headers and padding; wraps mod 2^32). */
  octetCount: number;
  reports?: readonly ReportBlockInit[];
}

/** The wallclock instant is given either as an NTP timestamp or as Unix milliseconds. */
export type SenderReportInit = SenderReportBase &
  ({ ntpTime: NtpTime; wallclockMs?: undefined } | { wallclockMs: number; ntpTime?: undefined });

export interface SdesChunkInit {
  ssrc: number;
  items: readonly { type: number; value: string; prefix?: string }[];
}

export interface AppInit {
  ssrc: number;
  /** 0..31 */
  subtype: number;
  /** Exactly four ASCII characters. */
  name: string;
  /** Length must be a multiple of 4 (RFC 3550 §6.7). */
  data?: Buffer;
}

function writeHeader(buf: Buffer, count: number, packetType: number): void {
  buf[0] = 0x80 | count; // V=2, P=0
  buf[1] = packetType;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
}

function checkCount(n: number, what: string): void {
  if (n > MAX_COUNT) throw new RangeError(`too many ${what} for one RTCP packet: ${n} > ${MAX_COUNT}`);
}

function writeReportBlock(buf: Buffer, off: number, b: ReportBlockInit): void {
  let fraction = b.fractionLostRaw ?? Math.floor(b.fractionLost * 256);
  // NaN, negative (duplicates) and 1.0 all have to map into the 8-bit field somehow.
  fraction = Number.isFinite(fraction) ? Math.min(Math.max(fraction, 0), 255) : 0;
  // RFC 3550 §6.4.1: the cumulative count is clamped, not wrapped, when it overflows 24 bits.
  const lost = Math.min(Math.max(Math.trunc(b.cumulativeLost) || 0, -0x800000), 0x7fffff);
  buf.writeUInt32BE(b.ssrc >>> 0, off);
  buf.writeUInt32BE(((fraction << 24) | (lost & 0xffffff)) >>> 0, off + 4);
  buf.writeUInt32BE(b.highestSeq >>> 0, off + 8);
  buf.writeUInt32BE(b.jitter >>> 0, off + 12);
  buf.writeUInt32BE(b.lsr >>> 0, off + 16);
  buf.writeUInt32BE(b.dlsr >>> 0, off + 20);
}

/** Sender report (PT 200): sender info plus up to 31 reception report blocks. */
export function buildSenderReport(init: SenderReportInit): Buffer {
  const reports = init.reports ?? [];
  checkCount(reports.length, 'report blocks');
  const ntp = init.ntpTime ?? msToNtp(init.wallclockMs);
  const buf = Buffer.allocUnsafe(HEADER_SIZE + 24 + reports.length * REPORT_BLOCK_SIZE);
  writeHeader(buf, reports.length, RtcpType.SR);
  buf.writeUInt32BE(init.ssrc >>> 0, 4);
  buf.writeUInt32BE(ntp.sec >>> 0, 8);
  buf.writeUInt32BE(ntp.frac >>> 0, 12);
  buf.writeUInt32BE(init.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(init.packetCount >>> 0, 20);
  buf.writeUInt32BE(init.octetCount >>> 0, 24);
  for (let i = 0; i < reports.length; i++) writeReportBlock(buf, 28 + i * REPORT_BLOCK_SIZE, reports[i]);
  return buf;
}

/** Receiver report (PT 201). With no blocks it is the 8-byte empty RR that must still open a
 * compound packet when there is nothing to report. */
export function buildReceiverReport(ssrc: number, blocks: readonly ReportBlockInit[] = []): Buffer {
  checkCount(blocks.length, 'report blocks');
  const buf = Buffer.allocUnsafe(HEADER_SIZE + 4 + blocks.length * REPORT_BLOCK_SIZE);
  writeHeader(buf, blocks.length, RtcpType.RR);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  for (let i = 0; i < blocks.length; i++) writeReportBlock(buf, 8 + i * REPORT_BLOCK_SIZE, blocks[i]);
  return buf;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Source description (PT 202) with any items. Text is UTF-8, at most 255 bytes per item. */
export function buildSdes(chunks: readonly SdesChunkInit[]): Buffer {
  checkCount(chunks.length, 'SDES chunks');
  const encoded = chunks.map((c) => ({
    ssrc: c.ssrc,
    items: c.items.map((item) => {
      if (item.type <= SdesItemType.END || item.type > 255) {
        throw new RangeError(`invalid SDES item type ${item.type}`);
      }
      const value = Buffer.from(item.value, 'utf8');
      // PRIV (§6.5.8) nests a length-prefixed prefix string inside the item text.
      const prefix = item.type === SdesItemType.PRIV ? Buffer.from(item.prefix ?? '', 'utf8') : null;
      const textLength = prefix ? 1 + prefix.length + value.length : value.length;
      if (textLength > 255) throw new RangeError(`SDES item ${item.type} longer than 255 bytes`);
      return { type: item.type, value, prefix, textLength };
    }),
  }));
  // Each chunk: SSRC, items, then at least one null octet ending the list, padded to 32 bits.
  const sizes = encoded.map((c) => pad4(4 + c.items.reduce((n, it) => n + 2 + it.textLength, 0) + 1));
  const buf = Buffer.alloc(HEADER_SIZE + sizes.reduce((a, b) => a + b, 0)); // zeroed: the padding
  writeHeader(buf, chunks.length, RtcpType.SDES);
  let off = HEADER_SIZE;
  for (let i = 0; i < encoded.length; i++) {
    const chunk = encoded[i];
    buf.writeUInt32BE(chunk.ssrc >>> 0, off);
    let p = off + 4;
    for (const it of chunk.items) {
      buf[p++] = it.type;
      buf[p++] = it.textLength;
      if (it.prefix) {
        buf[p++] = it.prefix.length;
        p += it.prefix.copy(buf, p);
      }
      p += it.value.copy(buf, p);
    }
    off += sizes[i];
  }
  return buf;
}

/** SDES with a single CNAME item, the only item RFC 3550 §6.5 requires in every compound packet. */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  return buildSdes([{ ssrc, items: [{ type: SdesItemType.CNAME, value: cname }] }]);
}

/** Goodbye (PT 203) for one or more sources, with an optional UTF-8 reason (<= 255 bytes). */
export function buildBye(ssrc: number | readonly number[], reason?: string): Buffer {
  const ssrcs = typeof ssrc === 'number' ? [ssrc] : ssrc;
  checkCount(ssrcs.length, 'BYE sources');
  const text = reason !== undefined && reason !== '' ? Buffer.from(reason, 'utf8') : null;
  if (text && text.length > 255) throw new RangeError('BYE reason longer than 255 bytes');
  const buf = Buffer.alloc(HEADER_SIZE + ssrcs.length * 4 + (text ? pad4(1 + text.length) : 0));
  writeHeader(buf, ssrcs.length, RtcpType.BYE);
  let off = HEADER_SIZE;
  for (const s of ssrcs) {
    buf.writeUInt32BE(s >>> 0, off);
    off += 4;
  }
  if (text) {
    buf[off] = text.length;
    text.copy(buf, off + 1);
  }
  return buf;
}

/** Application-defined packet (PT 204). */
export function buildApp(init: AppInit): Buffer {
  const data = init.data ?? Buffer.alloc(0);
  if (!Number.isInteger(init.subtype) || init.subtype < 0 || init.subtype > MAX_COUNT) {
    throw new RangeError(`APP subtype out of range: ${init.subtype}`);
  }
  // eslint-disable-next-line no-control-regex -- the check is precisely "ASCII only"
  if (init.name.length !== 4 || !/^[\x00-\x7f]{4}$/.test(init.name)) {
    throw new RangeError('APP name must be four ASCII characters');
  }
  if (data.length % 4 !== 0) throw new RangeError('APP data length must be a multiple of 4');
  const buf = Buffer.allocUnsafe(HEADER_SIZE + 8 + data.length);
  writeHeader(buf, init.subtype, RtcpType.APP);
  buf.writeUInt32BE(init.ssrc >>> 0, 4);
  buf.write(init.name, 8, 4, 'latin1');
  data.copy(buf, 12);
  return buf;
}

/** Concatenates packets into one compound packet. RFC 3550 §6.1 wants it to start with an SR or
 * RR and to carry an SDES CNAME; that order is the caller's responsibility. */
export function compound(...packets: Buffer[]): Buffer {
  return Buffer.concat(packets);
}

/** A generic NACK (RFC 4585 §6.2.1) from `ssrc` about `mediaSsrc` asking for `lost` again: each
 * FCI entry names a packet and, in its bitmask, any of the 16 after it that are also asked for. */
export function buildGenericNack(ssrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const entries: [number, number][] = [];
  for (const raw of lost) {
    const seq = raw & 0xffff;
    const last = entries[entries.length - 1];
    const d = last ? (seq - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else if (!last || d !== 0) entries.push([seq, 0]);
  }
  const buf = Buffer.alloc(HEADER_SIZE + 8 + entries.length * 4);
  writeHeader(buf, RtpfbFormat.GENERIC_NACK, RtcpType.RTPFB);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  entries.forEach(([pid, blp], i) => {
    buf.writeUInt16BE(pid, 12 + i * 4);
    buf.writeUInt16BE(blp, 14 + i * 4);
  });
  return buf;
}
