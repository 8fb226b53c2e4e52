/** RTP fixed header (RFC 3550 §5.1) writing, parsing and in-place rewriting.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers ...         |
 *
 * This is the per-packet hot path: one Buffer per packet, no intermediate copies. */

import type { RtpPayload } from '../codecs/types.js';

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;

export interface RtpHeaderFields {
  /** 0..127 */
  payloadType: number;
  /** Taken modulo 2^16. */
  sequence: number;
  /** Taken modulo 2^32. */
  timestamp: number;
  /** Taken modulo 2^32. */
  ssrc: number;
}

export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload: after the CSRC list and the header extension, if any. */
  payloadOffset: number;
  /** Payload length, excluding padding. */
  payloadLength: number;
  /** Header extension profile (the 16 "defined by profile" bits), or -1 without an extension. */
  extensionProfile: number;
  /** Offset and length in bytes of the header extension data (after its 4-byte preamble); 0/0
   * without an extension. */
  extensionOffset: number;
  extensionLength: number;
}

/** Builds one RTP packet: the 12-byte header (V=2, no padding/extension/CSRC) followed by the
 * payload parts. Exactly one allocation; the parts are copied, so the caller may reuse them. */
export function writeRtpPacket(payload: RtpPayload, h: RtpHeaderFields): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
  writeRtpInto(buf, 0, payload, h);
  return buf;
}

/** Writes one RTP packet (header, then the payload parts) at `buf[off..]`, which must have room
 * for RTP_HEADER_SIZE + payload.length bytes; returns the offset after it. Senders that gather
 * many packets into one buffer use it instead of a Buffer per packet. */
export function writeRtpInto(buf: Buffer, off: number, payload: RtpPayload, h: RtpHeaderFields): number {
  if ((h.payloadType & 0x7f) !== h.payloadType) {
    throw new RangeError(`RTP payload type out of range: ${h.payloadType}`);
  }
  const end = off + RTP_HEADER_SIZE + payload.length;
  if (end > buf.length) throw new RangeError('no room for the RTP packet');
  buf[off] = RTP_VERSION << 6;
  buf[off + 1] = (payload.marker ? 0x80 : 0) | h.payloadType;
  // Masking makes wrap-around the caller's non-problem and keeps the writes from throwing.
  const seq = h.sequence;
  const ts = h.timestamp;
  const ssrc = h.ssrc;
  // Byte by byte: Buffer's writeUInt*BE check their arguments at each call.
  buf[off + 2] = (seq >>> 8) & 0xff;
  buf[off + 3] = seq & 0xff;
  buf[off + 4] = (ts >>> 24) & 0xff;
  buf[off + 5] = (ts >>> 16) & 0xff;
  buf[off + 6] = (ts >>> 8) & 0xff;
  buf[off + 7] = ts & 0xff;
  buf[off + 8] = (ssrc >>> 24) & 0xff;
  buf[off + 9] = (ssrc >>> 16) & 0xff;
  buf[off + 10] = (ssrc >>> 8) & 0xff;
  buf[off + 11] = ssrc & 0xff;
  let o = off + RTP_HEADER_SIZE;
  const parts = payload.parts;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const n = part.length;
    // Payload headers (FU, STAP, AU headers) are a few bytes: a loop beats a native copy call;
    // set() is the cheapest copy of the rest. (The per-packet hot path of every file viewer.)
    if (n <= 16) for (let k = 0; k < n; k++) buf[o + k] = part[k];
    else buf.set(part, o);
    o += n;
  }
  // allocUnsafe memory is not zeroed: a `length` larger than the parts would leak old heap bytes
  // onto the network, so a mismatch is a bug worth failing loudly on.
  if (o !== end) {
    throw new RangeError(`RTP payload length ${payload.length} does not match its parts`);
  }
  return end;
}

/** Parses and validates an RTP header (RFC 3550 §5.1 and the checks of appendix A.1 that apply to
 * a single packet). Returns null when the buffer is not a well-formed RTP v2 packet. */
export function readRtpHeader(buf: Buffer): RtpHeader | null {
  if (buf.length < RTP_HEADER_SIZE) return null;
  const b0 = buf[0];
  const version = b0 >> 6;
  if (version !== RTP_VERSION) return null;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_SIZE + csrcCount * 4;
  if (offset > buf.length) return null;
  let extensionProfile = -1;
  let extensionOffset = 0;
  let extensionLength = 0;
  if (extension) {
    if (offset + 4 > buf.length) return null;
    extensionProfile = buf.readUInt16BE(offset);
    extensionLength = buf.readUInt16BE(offset + 2) * 4;
    extensionOffset = offset + 4;
    offset = extensionOffset + extensionLength;
    if (offset > buf.length) return null;
  }
  let end = buf.length;
  if (padding) {
    // The last octet counts the padding octets including itself, so 0 is invalid, and padding
    // may not eat into the header.
    const pad = buf[buf.length - 1];
    if (pad === 0 || pad > end - offset) return null;
    end -= pad;
  }
  const b1 = buf[1];
  return {
    version,
    padding,
    extension,
    csrcCount,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payloadOffset: offset,
    payloadLength: end - offset,
    extensionProfile,
    extensionOffset,
    extensionLength,
  };
}

/** The CSRC identifiers of a packet (allocates an array, so it is kept out of readRtpHeader). */
export function readRtpCsrcs(buf: Buffer): number[] {
  if (buf.length < RTP_HEADER_SIZE) return [];
  const n = Math.min(buf[0] & 0x0f, (buf.length - RTP_HEADER_SIZE) >> 2);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(buf.readUInt32BE(RTP_HEADER_SIZE + i * 4));
  return out;
}

export interface RtpHeaderRewrite {
  sequence?: number;
  timestamp?: number;
  ssrc?: number;
  payloadType?: number;
  marker?: boolean;
}

/** Rewrites header fields in place, e.g. when a relay renumbers a forwarded stream onto its own
 * SSRC and sequence space. Values wrap like in writeRtpPacket. Returns the same buffer. */
export function rewriteRtpHeader(buf: Buffer, fields: RtpHeaderRewrite): Buffer {
  if (buf.length < RTP_HEADER_SIZE) throw new RangeError('buffer shorter than an RTP header');
  if (fields.sequence !== undefined) buf.writeUInt16BE(fields.sequence & 0xffff, 2);
  if (fields.timestamp !== undefined) buf.writeUInt32BE(fields.timestamp >>> 0, 4);
  if (fields.ssrc !== undefined) buf.writeUInt32BE(fields.ssrc >>> 0, 8);
  if (fields.payloadType !== undefined) {
    if ((fields.payloadType & 0x7f) !== fields.payloadType) {
      throw new RangeError(`RTP payload type out of range: ${fields.payloadType}`);
    }
    buf[1] = (buf[1] & 0x80) | fields.payloadType;
  }
  if (fields.marker !== undefined) buf[1] = (buf[1] & 0x7f) | (fields.marker ? 0x80 : 0);
  return buf;
}
