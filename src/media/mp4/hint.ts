/** RTP hint tracks (ISO/IEC 14496-12 §9.1, QuickTime hint media): the 'rtp ' sample entry and
 * the hint sample format. A hint sample is a table of RTP packets, each described by header bits
 * and "constructors" that say where its payload bytes come from (inline, another track's sample,
 * the hint track itself, a sample description). Parsing only reads the table: resolving the
 * constructors to bytes is the player's job (src/vod/hint-track.ts).
 *
 * Input is hostile: every field is bounds-checked against the sample, and anything malformed
 * raises a `HintError`, never a RangeError, a hang or an oversized allocation. */

/** A hint sample or 'rtp ' sample entry that cannot be used. */
export class HintError extends Error {
  override readonly name = 'HintError';
}

/** Largest RTP payload a hint packet may describe: an RTP packet must fit the 16-bit length of an
 * interleaved `$` frame (65535 bytes) after its 12-byte header. */
export const MAX_HINT_PAYLOAD = 65535 - 12;
/** Payload bytes one hint sample may describe in all; real samples stay far below (one video
 * frame), and the bound keeps a crafted sample from making the sender write gigabytes. */
export const MAX_HINT_SAMPLE_PAYLOAD = 16 * 1024 * 1024;

export interface RtpHintEntry {
  hintTrackVersion: number;
  highestCompatibleVersion: number;
  /** Largest packet the hinter made, RTP header included. */
  maxPacketSize: number;
  /** 'tims': the RTP clock rate, ticks per second; 0 when the entry has none. */
  timescale: number;
  /** 'tsro' / 'snro': the hinter's random timestamp / sequence offsets (Rivulet draws its own). */
  timestampOffset: number;
  sequenceOffset: number;
}

/** Parses an 'rtp ' sample entry given as the whole box (size and type included, as stored in
 * `Mp4Track.sampleEntries`). */
export function parseRtpHintEntry(entry: Buffer): RtpHintEntry {
  if (entry.length < 24) throw new HintError(`'rtp ' sample entry of ${entry.length} bytes is too short`);
  const type = entry.toString('latin1', 4, 8);
  if (type !== 'rtp ') throw new HintError(`sample entry '${type}' is not an RTP hint entry`);
  const out: RtpHintEntry = {
    // 6 reserved bytes and the data reference index come first.
    hintTrackVersion: entry.readUInt16BE(16),
    highestCompatibleVersion: entry.readUInt16BE(18),
    maxPacketSize: entry.readUInt32BE(20),
    timescale: 0,
    timestampOffset: 0,
    sequenceOffset: 0,
  };
  const end = Math.min(entry.length, Math.max(24, entry.readUInt32BE(0)));
  let p = 24;
  while (end - p >= 8) {
    const size = entry.readUInt32BE(p);
    // A zero size ends the list (QuickTime terminates atom lists with zeros).
    if (size === 0) break;
    if (size < 8 || size > end - p) throw new HintError(`'rtp ' entry field at ${p} has invalid size ${size}`);
    const tag = entry.toString('latin1', p + 4, p + 8);
    const body = size - 8;
    if (tag === 'tims' && body >= 4) out.timescale = entry.readUInt32BE(p + 8);
    else if (tag === 'tsro' && body >= 4) out.timestampOffset = entry.readInt32BE(p + 8);
    else if (tag === 'snro') {
      // ISO says int(32); QuickTime's own reader takes 16 bits. Either way it is only reported.
      if (body >= 4) out.sequenceOffset = entry.readInt32BE(p + 8);
      else if (body >= 2) out.sequenceOffset = entry.readInt16BE(p + 8);
    }
    p += size;
  }
  return out;
}

/** Payload bytes given inline in the hint sample (at most 14). */
export interface ImmediateConstructor {
  type: 'immediate';
  data: Buffer;
}

/** Payload bytes taken from a sample of a referenced track. */
export interface SampleConstructor {
  type: 'sample';
  /** Index into the hint track's tref/hint list; -1 is the hint track itself. */
  trackRef: number;
  length: number;
  /** 1-based sample number in that track. */
  sampleNumber: number;
  offset: number;
  /** For audio stored in compression blocks (QuickTime): bytes and samples per block; 1/1 (or 0)
   * means the plain case, an offset into one sample. */
  bytesPerBlock: number;
  samplesPerBlock: number;
}

/** Payload bytes taken from a sample description (stsd entry) of a referenced track. */
export interface SampleDescriptionConstructor {
  type: 'sampleDescription';
  trackRef: number;
  length: number;
  /** 1-based stsd entry index. */
  descriptionIndex: number;
  /** Offset from the start of the entry (its size field). */
  offset: number;
}

export type HintConstructor = ImmediateConstructor | SampleConstructor | SampleDescriptionConstructor;

export interface HintPacket {
  /** Transmission time relative to the sample's time, in the hint track's timescale. */
  relativeTime: number;
  padding: boolean;
  extension: boolean;
  marker: boolean;
  payloadType: number;
  /** The hinter's sequence number (Rivulet renumbers). */
  sequence: number;
  /** Flags: the packet carries a B-frame (may be thinned) / repeats an earlier one (may be dropped). */
  bFrame: boolean;
  repeat: boolean;
  /** 'rtpo' TLV: RTP timestamp offset from the sample's time, in RTP clock ticks (signed). */
  timestampOffset: number;
  /** Constructors in order, no-ops left out. */
  constructors: HintConstructor[];
  /** Payload bytes the constructors produce. */
  length: number;
}

const FLAG_EXTRA = 0x4;
const FLAG_BFRAME = 0x2;
const FLAG_REPEAT = 0x1;
const PACKET_HEADER = 12;
const ENTRY_SIZE = 16;

/** Parses one hint sample into its packets. Bytes after the packet table are allowed: hinters put
 * data there that constructors with track reference -1 point at. */
export function parseHintSample(buf: Buffer): HintPacket[] {
  if (buf.length < 4) throw new HintError(`hint sample of ${buf.length} bytes has no packet table`);
  const count = buf.readUInt16BE(0);
  const packets: HintPacket[] = [];
  let p = 4;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (buf.length - p < PACKET_HEADER) throw new HintError(`hint sample truncated in packet ${i + 1} of ${count}`);
    const relativeTime = buf.readInt32BE(p);
    const bits = buf.readUInt16BE(p + 4);
    const sequence = buf.readUInt16BE(p + 6);
    const flags = buf.readUInt16BE(p + 8);
    const entries = buf.readUInt16BE(p + 10);
    p += PACKET_HEADER;

    let timestampOffset = 0;
    if (flags & FLAG_EXTRA) {
      if (buf.length - p < 4) throw new HintError(`packet ${i + 1}: truncated extra information`);
      // The length counts itself and the TLV boxes that follow.
      const extraLength = buf.readUInt32BE(p);
      if (extraLength < 4 || extraLength > buf.length - p) {
        throw new HintError(`packet ${i + 1}: extra information length ${extraLength} is invalid`);
      }
      const end = p + extraLength;
      let q = p + 4;
      while (end - q >= 8) {
        const size = buf.readUInt32BE(q);
        if (size < 8 || size > end - q) throw new HintError(`packet ${i + 1}: TLV of invalid size ${size}`);
        if (buf.toString('latin1', q + 4, q + 8) === 'rtpo') {
          if (size < 12) throw new HintError(`packet ${i + 1}: 'rtpo' TLV of ${size} bytes`);
          timestampOffset = buf.readInt32BE(q + 8);
        }
        q += size;
      }
      p = end;
    }

    if (entries * ENTRY_SIZE > buf.length - p) {
      throw new HintError(`packet ${i + 1}: ${entries} constructors do not fit the sample`);
    }
    const constructors: HintConstructor[] = [];
    let length = 0;
    for (let e = 0; e < entries; e++, p += ENTRY_SIZE) {
      const type = buf[p];
      if (type === 0) continue;
      let c: HintConstructor;
      if (type === 1) {
        const n = buf[p + 1];
        if (n > 14) throw new HintError(`packet ${i + 1}: immediate constructor claims ${n} bytes (14 at most)`);
        c = { type: 'immediate', data: buf.subarray(p + 2, p + 2 + n) };
        length += n;
      } else if (type === 2) {
        const sampleNumber = buf.readUInt32BE(p + 4);
        if (sampleNumber === 0) throw new HintError(`packet ${i + 1}: sample constructor names sample 0 (numbers start at 1)`);
        c = {
          type: 'sample',
          trackRef: buf.readInt8(p + 1),
          length: buf.readUInt16BE(p + 2),
          sampleNumber,
          offset: buf.readUInt32BE(p + 8),
          bytesPerBlock: buf.readUInt16BE(p + 12),
          samplesPerBlock: buf.readUInt16BE(p + 14),
        };
        length += c.length;
      } else if (type === 3) {
        const descriptionIndex = buf.readUInt32BE(p + 4);
        if (descriptionIndex === 0) throw new HintError(`packet ${i + 1}: sample description constructor names entry 0`);
        c = {
          type: 'sampleDescription',
          trackRef: buf.readInt8(p + 1),
          length: buf.readUInt16BE(p + 2),
          descriptionIndex,
          offset: buf.readUInt32BE(p + 8),
        };
        length += c.length;
      } else {
        throw new HintError(`packet ${i + 1}: unknown constructor type ${type}`);
      }
      constructors.push(c);
    }
    if (length > MAX_HINT_PAYLOAD) throw new HintError(`packet ${i + 1}: payload of ${length} bytes is too large for RTP`);
    total += length;
    if (total > MAX_HINT_SAMPLE_PAYLOAD) throw new HintError(`hint sample describes more than ${MAX_HINT_SAMPLE_PAYLOAD} bytes`);
    packets.push({
      relativeTime,
      padding: (bits & 0x2000) !== 0,
      extension: (bits & 0x1000) !== 0,
      marker: (bits & 0x80) !== 0,
      payloadType: bits & 0x7f,
      sequence,
      bFrame: (flags & FLAG_BFRAME) !== 0,
      repeat: (flags & FLAG_REPEAT) !== 0,
      timestampOffset,
      constructors,
      length,
    });
  }
  return packets;
}
