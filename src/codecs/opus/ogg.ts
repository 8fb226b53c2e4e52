/** Ogg/Opus byte streams (RFC 3533 pages, RFC 7845 Opus mapping) as Icecast sources send them and
 * ICY listeners receive them: `OggOpusReader` turns pages into Opus packets (with the stream's
 * OpusHead and OpusTags), `OggOpusWriter` makes pages of packets again.
 *
 *   "OggS" | version 0 | flags (1 continued, 2 BOS, 4 EOS) | granule 64 LE | serial 32 LE |
 *   sequence 32 LE | CRC 32 LE | segments n | n lacing values | packet data */

import { SyncFramer, type AudioFrame, type FramerOptions, type SyncCodec } from '../mpa/framer.js';
import type { OpusConfig } from './format.js';

const PAGE_HEADER = 27;
const FLAG_CONTINUED = 1;
const FLAG_BOS = 2;
const FLAG_EOS = 4;
const MAX_SEGMENTS = 255;
/** The granule of a page on which no packet ends. */
const NO_GRANULE = 0xffff_ffff_ffff_ffffn;
const OPUS_RATE = 48000;
const ZEROS = Buffer.alloc(4);
/** RFC 6716 §3.2.5: a packet holds at most 120 ms. */
const MAX_PACKET_SAMPLES = 5760;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor. `crc`
 * carries a sum on over several ranges. */
export function oggCrc32(buf: Buffer, start = 0, end = buf.length, crc = 0): number {
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ buf[i]) & 0xff]) >>> 0;
  return crc;
}

/** Samples (at 48 kHz) an Opus packet decodes to, from its TOC byte and, for code 3, its frame
 * count byte (RFC 6716 §3.1-3.2); 0 for a malformed packet. */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length === 0) return 0;
  const toc = packet[0];
  const config = toc >> 3;
  // SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
  const frame =
    config < 12
      ? [480, 960, 1920, 2880][config & 3]
      : config < 16
        ? [480, 960][config & 1]
        : [120, 240, 480, 960][config & 3];
  const code = toc & 3;
  let count = code === 0 ? 1 : 2;
  if (code === 3) {
    if (packet.length < 2) return 0;
    count = packet[1] & 0x3f;
  }
  const samples = frame * count;
  return samples > 0 && samples <= MAX_PACKET_SAMPLES ? samples : 0;
}

/** The comments of an OpusTags packet (RFC 7845 §5.2). */
export interface OpusTags {
  vendor: string;
  /** Each `NAME=value` in order; names compare case-insensitively. */
  comments: Array<[name: string, value: string]>;
}

/** First value of comment `name` (case-insensitive), if any. */
export function opusTag(tags: OpusTags, name: string): string | undefined {
  const n = name.toUpperCase();
  return tags.comments.find(([k]) => k.toUpperCase() === n)?.[1];
}

/** Reads an OpusHead packet (RFC 7845 §5.1, little endian); null when it is not one. */
export function parseOpusHead(p: Buffer): OpusConfig | null {
  if (p.length < 19 || p.toString('latin1', 0, 8) !== 'OpusHead' || p[8] >> 4 !== 0 || p[9] === 0)
    return null;
  return {
    outputChannels: p[9],
    preSkip: p.readUInt16LE(10),
    inputSampleRate: p.readUInt32LE(12),
    outputGain: p.readInt16LE(16),
    channelMappingFamily: p[18],
  };
}

/** Writes an OpusHead packet for mapping family 0 (mono or stereo). */
export function opusHeadPacket(
  head: Pick<OpusConfig, 'outputChannels' | 'preSkip' | 'inputSampleRate'> & { outputGain?: number },
): Buffer {
  const p = Buffer.alloc(19);
  p.write('OpusHead', 0, 'latin1');
  p[8] = 1;
  p[9] = head.outputChannels;
  p.writeUInt16LE(head.preSkip, 10);
  p.writeUInt32LE(head.inputSampleRate >>> 0, 12);
  p.writeInt16LE(head.outputGain ?? 0, 16);
  return p;
}

/** Reads an OpusTags packet; null when it is not one or its lengths run past its end. */
export function parseOpusTags(p: Buffer): OpusTags | null {
  if (p.length < 16 || p.toString('latin1', 0, 8) !== 'OpusTags') return null;
  let off = 8;
  const str = (): string | null => {
    if (off + 4 > p.length) return null;
    const n = p.readUInt32LE(off);
    if (n > p.length - off - 4) return null;
    off += 4 + n;
    return p.toString('utf8', off - n, off);
  };
  const vendor = str();
  if (vendor === null || off + 4 > p.length) return null;
  const count = p.readUInt32LE(off);
  off += 4;
  const comments: Array<[string, string]> = [];
  // Each comment takes at least its 4-byte length: a count beyond that is a lie, stop at the end.
  for (let k = 0; k < count; k++) {
    const c = str();
    if (c === null) break;
    const eq = c.indexOf('=');
    if (eq > 0) comments.push([c.slice(0, eq), c.slice(eq + 1)]);
  }
  return { vendor, comments };
}

/** Writes an OpusTags packet. */
export function opusTagsPacket(tags: OpusTags): Buffer {
  const parts = [Buffer.from('OpusTags', 'latin1')];
  const str = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    parts.push(n, b);
  };
  str(tags.vendor);
  const n = Buffer.alloc(4);
  n.writeUInt32LE(tags.comments.length);
  parts.push(n);
  for (const [k, v] of tags.comments) str(`${k}=${v}`);
  return Buffer.concat(parts);
}

export interface OggOpusReaderOptions extends FramerOptions {
  /** A logical Opus stream began (its OpusHead; again at each chained stream). */
  onHead?(head: OpusConfig): void;
  /** Its OpusTags arrived (TITLE, ARTIST...). */
  onTags?(tags: OpusTags): void;
}

/** Page layer: checks pages, follows one logical Opus stream and joins packets over pages. */
class OggOpusCodec implements SyncCodec<AudioFrame> {
  readonly #opts: OggOpusReaderOptions;
  readonly #maxPacket: number;
  #serial: number | undefined;
  #head: OpusConfig | undefined;
  /** Packets completed in the current logical stream: 0 is OpusHead, 1 OpusTags, then audio. */
  #packetIndex = 0;
  /** Parts of a packet that continues on the next page; null while skipping one that is lost or
   * too large. */
  #partial: Buffer[] | null = [];
  #partialBytes = 0;
  packetsDropped = 0;

  constructor(opts: OggOpusReaderOptions) {
    this.#opts = opts;
    this.#maxPacket = opts.maxPendingBytes ?? 64 * 1024;
  }

  get head(): OpusConfig | undefined {
    return this.#head;
  }

  frameLength(buf: Buffer, off: number): number {
    if (buf[off] !== 0x4f || buf.toString('latin1', off, off + 4) !== 'OggS') return 0;
    if (buf[off + 4] !== 0) return 0;
    if (off + PAGE_HEADER > buf.length) return -1;
    const n = buf[off + 26];
    if (off + PAGE_HEADER + n > buf.length) return -1;
    let len = PAGE_HEADER + n;
    for (let k = 0; k < n; k++) len += buf[off + PAGE_HEADER + k];
    if (off + len > buf.length) return -1;
    // The checksum (computed with its own field as zeros) proves the page: junk that happens to
    // say "OggS" is skipped.
    let crc = oggCrc32(buf, off, off + 22);
    crc = oggCrc32(ZEROS, 0, 4, crc);
    crc = oggCrc32(buf, off + 26, off + len, crc);
    return crc === buf.readUInt32LE(off + 22) ? len : 0;
  }

  frames(page: Buffer): readonly AudioFrame[] | null {
    const flags = page[5];
    const serial = page.readUInt32LE(14);
    if (flags & FLAG_BOS) {
      // A new logical stream: an Opus one (chained, or the first) replaces the current stream;
      // another codec multiplexed beside it is ignored.
      const first = this.#firstPacket(page);
      const head = first && parseOpusHead(first);
      if (!head || head.channelMappingFamily !== 0 || head.outputChannels > 2) return null;
      this.#serial = serial;
      this.#head = head;
      this.#packetIndex = 0;
      this.#partial = [];
      this.#partialBytes = 0;
    }
    if (serial !== this.#serial) return null;
    const out: AudioFrame[] = [];
    const n = page[26];
    let off = PAGE_HEADER + n;
    if (flags & FLAG_CONTINUED) {
      // The rest of a packet whose start was on a lost page: skipped up to its end.
      if (this.#partial !== null && this.#partialBytes === 0) {
        this.packetsDropped++;
        this.#partial = null;
      }
    } else if (this.#partial === null || this.#partialBytes > 0) this.#dropPartial();
    for (let k = 0; k < n; k++) {
      const lace = page[PAGE_HEADER + k];
      const piece = page.subarray(off, off + lace);
      off += lace;
      if (this.#partial !== null) {
        if (this.#partialBytes + lace > this.#maxPacket) {
          this.#dropPartial();
          this.#partial = null;
        } else if (lace > 0) {
          this.#partial.push(piece);
          this.#partialBytes += lace;
        }
      }
      if (lace < 255) this.#endPacket(out);
    }
    if (flags & FLAG_EOS) this.#serial = undefined;
    return out;
  }

  /** The first packet of a page, when it ends on the page. */
  #firstPacket(page: Buffer): Buffer | null {
    const n = page[26];
    let len = 0;
    for (let k = 0; k < n; k++) {
      len += page[PAGE_HEADER + k];
      if (page[PAGE_HEADER + k] < 255) return page.subarray(PAGE_HEADER + n, PAGE_HEADER + n + len);
    }
    return null;
  }

  #endPacket(out: AudioFrame[]): void {
    const parts = this.#partial;
    const index = this.#packetIndex++;
    this.#partial = [];
    this.#partialBytes = 0;
    if (parts === null) return; // the end of a packet we skipped
    const packet = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (index === 0) {
      // The BOS page's OpusHead.
      if (this.#head) this.#opts.onHead?.(this.#head);
      return;
    }
    if (index === 1) {
      const tags = parseOpusTags(packet);
      if (tags) this.#opts.onTags?.(tags);
      return;
    }
    const samples = opusPacketSamples(packet);
    if (samples === 0 || !this.#head) {
      this.packetsDropped++;
      return;
    }
    out.push({ data: packet, samples, sampleRate: OPUS_RATE, channels: this.#head.outputChannels });
  }

  #dropPartial(): void {
    if (this.#partialBytes > 0) this.packetsDropped++;
    this.#partial = [];
    this.#partialBytes = 0;
  }
}

/** Ogg/Opus byte stream → Opus packets (`AudioFrame`s at 48 kHz, samples from each TOC byte).
 * Follows the first Opus logical stream; a new OpusHead (a chained stream, as a source starts
 * its next song) restarts it cleanly. Pages are checked by their CRC, so junk is skipped and
 * resynced on; a packet larger than `maxPendingBytes` is dropped. */
export class OggOpusReader extends SyncFramer<AudioFrame> {
  readonly #codec: OggOpusCodec;

  constructor(options: OggOpusReaderOptions = {}) {
    const codec = new OggOpusCodec(options);
    super(codec, options);
    this.#codec = codec;
  }

  /** The current logical stream's OpusHead. */
  get head(): OpusConfig | undefined {
    return this.#codec.head;
  }

  /** Packets lost: continued over a missing page, too large, or with a malformed TOC. */
  get packetsDropped(): number {
    return this.#codec.packetsDropped;
  }
}

export interface OggPageOptions {
  serial: number;
  sequence: number;
  /** Granule position after the last packet that ends on the page; -1n when none does. */
  granule: bigint;
  bos?: boolean;
  eos?: boolean;
  /** The page starts with the rest of a packet begun on the previous page. */
  continued?: boolean;
}

/** One Ogg page holding `data` cut by `lacing` (at most 255 values). */
export function oggPage(opts: OggPageOptions, lacing: readonly number[], data: readonly Buffer[]): Buffer {
  if (lacing.length > MAX_SEGMENTS)
    throw new RangeError(`an Ogg page holds at most ${MAX_SEGMENTS} segments`);
  const body = data.reduce((n, b) => n + b.length, 0);
  const page = Buffer.alloc(PAGE_HEADER + lacing.length + body);
  page.write('OggS', 0, 'latin1');
  page[5] = (opts.continued ? FLAG_CONTINUED : 0) | (opts.bos ? FLAG_BOS : 0) | (opts.eos ? FLAG_EOS : 0);
  page.writeBigUInt64LE(BigInt.asUintN(64, opts.granule), 6);
  page.writeUInt32LE(opts.serial >>> 0, 14);
  page.writeUInt32LE(opts.sequence >>> 0, 18);
  page[26] = lacing.length;
  let off = PAGE_HEADER;
  for (const l of lacing) page[off++] = l;
  for (const b of data) off += b.copy(page, off);
  page.writeUInt32LE(oggCrc32(page), 22);
  return page;
}

export interface OggOpusWriterOptions {
  /** Default: random. */
  serial?: number;
  /** For OpusHead; mapping family 0, so 1 or 2. */
  channels: number;
  /** Default 312 (libopus' look-ahead at 48 kHz). */
  preSkip?: number;
  /** Default 48000. */
  inputSampleRate?: number;
  /** Default `{ vendor: 'Rivulet', comments: [] }`. */
  tags?: OpusTags;
}

/** Opus packets → Ogg pages of one logical stream: the OpusHead and OpusTags pages a decoder needs
 * first (sequence 0 and 1), then audio pages with the sequence going on from 2. */
export class OggOpusWriter {
  readonly serial: number;
  /** OpusHead page (BOS) then OpusTags page: what a new listener is sent first. */
  readonly headers: Buffer;
  #sequence = 0;

  constructor(opts: OggOpusWriterOptions) {
    this.serial = opts.serial ?? Math.floor(Math.random() * 0x1_0000_0000);
    const head = opusHeadPacket({
      outputChannels: opts.channels,
      preSkip: opts.preSkip ?? 312,
      inputSampleRate: opts.inputSampleRate ?? OPUS_RATE,
    });
    const tags = opusTagsPacket(opts.tags ?? { vendor: 'Rivulet', comments: [] });
    // OpusTags starts a page of its own (RFC 7845 §3).
    this.headers = Buffer.concat([this.#pages([head], [0n], true), this.#pages([tags], [0n], false)]);
  }

  /** Sequence number of the next audio page. */
  get sequence(): number {
    return this.#sequence;
  }

  /** The packets as one page (or more, when they need over 255 lacing values), `granule` being
   * the position (48 kHz samples, pre-skip included) at the end of the last packet. The first
   * page gets `sequence` (default: the one after the last page written). */
  pages(packets: readonly Buffer[], granule: bigint, sequence = this.#sequence): Buffer {
    this.#sequence = sequence;
    // Each packet's own end position, counting back from the last with the TOC durations.
    const ends: bigint[] = new Array<bigint>(packets.length);
    let g = granule;
    for (let k = packets.length - 1; k >= 0; k--) {
      ends[k] = g;
      g -= BigInt(opusPacketSamples(packets[k]));
    }
    return this.#pages(packets, ends, false);
  }

  #pages(packets: readonly Buffer[], ends: readonly bigint[], bos: boolean): Buffer {
    const pages: Buffer[] = [];
    let lacing: number[] = [];
    let data: Buffer[] = [];
    let granule = NO_GRANULE;
    let continued = false;
    const emit = (next: boolean): void => {
      pages.push(
        oggPage(
          {
            serial: this.serial,
            sequence: this.#sequence++,
            granule,
            bos: bos && pages.length === 0,
            continued,
          },
          lacing,
          data,
        ),
      );
      continued = next;
      lacing = [];
      data = [];
      granule = NO_GRANULE;
    };
    packets.forEach((p, k) => {
      let off = 0;
      for (;;) {
        // A full page ends here; the next one is a continuation when this packet goes on.
        if (lacing.length === MAX_SEGMENTS) emit(off > 0);
        const n = Math.min(255, p.length - off);
        lacing.push(n);
        data.push(p.subarray(off, off + n));
        off += n;
        if (n < 255) break;
      }
      granule = ends[k];
    });
    if (lacing.length > 0) emit(false);
    return pages.length === 1 ? pages[0] : Buffer.concat(pages);
  }
}
