/** Box (atom) header walking and bounds-checked reading over Buffers. Everything here treats its
 * input as hostile: every read is checked against the enclosing box, so a malformed file can only
 * ever produce an `Mp4Error`, and every loop advances by at least one header so it terminates. */
import { Mp4Error } from './types.js';

export interface BoxHeader {
  /** Four-character type, decoded as latin1 so that QuickTime's '©xyz' types round-trip. */
  type: string;
  /** Position of the box's first byte, in the caller's coordinates (buffer index or file offset). */
  start: number;
  /** 8, 16 with a 64-bit largesize, plus 16 for a 'uuid' extended type. */
  headerSize: number;
  /** Position of the first body byte. */
  bodyStart: number;
  /** Position one past the box's last byte. */
  end: number;
}

/** Smallest possible header; also the most bytes a caller must supply before the size is known. */
export const BOX_HEADER_MIN = 8;
/** Enough bytes for any header: size, type, largesize and a uuid extended type. */
export const BOX_HEADER_MAX = 32;

export function fourcc(buf: Buffer, at: number): string {
  if (at < 0 || at + 4 > buf.length) throw new Mp4Error('truncated four-cc');
  return buf.toString('latin1', at, at + 4);
}

/** True when all four bytes are printable ASCII: real top-level box types always are, so this is
 * a cheap way to tell a box header from arbitrary bytes. */
export function isPrintableFourcc(type: string): boolean {
  if (type.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const c = type.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Decodes the header found at `buf[at..]`, where `at` corresponds to position `start` in the
 * caller's coordinates and the enclosing box (or file) ends at `parentEnd` in the same
 * coordinates. Keeping the two coordinate systems apart lets the file walker decode a header it
 * read into a small scratch buffer while checking sizes against absolute file offsets.
 */
export function decodeBoxHeader(buf: Buffer, at: number, start: number, parentEnd: number): BoxHeader {
  if (parentEnd - start < BOX_HEADER_MIN || at + BOX_HEADER_MIN > buf.length) {
    throw new Mp4Error(`truncated box header at ${start}`);
  }
  const size32 = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let headerSize = 8;
  let size: number;
  if (size32 === 1) {
    if (parentEnd - start < 16 || at + 16 > buf.length) throw new Mp4Error(`truncated largesize of '${type}' at ${start}`);
    const big = buf.readBigUInt64BE(at + 8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Mp4Error(`box '${type}' at ${start} is impossibly large`);
    size = Number(big);
    headerSize = 16;
  } else if (size32 === 0) {
    size = parentEnd - start;
  } else {
    size = size32;
  }
  if (type === 'uuid') {
    if (at + headerSize + 16 > buf.length) throw new Mp4Error(`truncated uuid box header at ${start}`);
    headerSize += 16;
  }
  if (size < headerSize) throw new Mp4Error(`box '${type}' at ${start} has invalid size ${size}`);
  if (size > parentEnd - start) {
    throw new Mp4Error(`box '${type}' at ${start} (size ${size}) extends past its parent (ends at ${parentEnd})`);
  }
  return { type, start, headerSize, bodyStart: start + headerSize, end: start + size };
}

/** Header of the box at `buf[pos..]` inside a parent that ends at `end` (both buffer indices). */
export function readBoxHeader(buf: Buffer, pos: number, end: number): BoxHeader {
  return decodeBoxHeader(buf, pos, pos, Math.min(end, buf.length));
}

/**
 * The child boxes of `buf[start, end)`, in order. Fewer than 8 trailing bytes are ignored rather
 * than rejected, because QuickTime writers terminate some atom lists with a 32-bit zero.
 */
export function* childBoxes(buf: Buffer, start: number, end: number): Generator<BoxHeader> {
  if (start < 0 || end > buf.length || start > end) throw new Mp4Error('box range outside buffer');
  let pos = start;
  while (end - pos >= BOX_HEADER_MIN) {
    const h = readBoxHeader(buf, pos, end);
    yield h;
    pos = h.end;
  }
}

/** First child of `parent` with the given type. */
export function findChild(buf: Buffer, parent: BoxHeader, type: string): BoxHeader | undefined {
  for (const h of childBoxes(buf, parent.bodyStart, parent.end)) if (h.type === type) return h;
  return undefined;
}

/** Like `findChild` but a missing box is an error naming what was being looked for. */
export function requireChild(buf: Buffer, parent: BoxHeader, type: string): BoxHeader {
  const h = findChild(buf, parent, type);
  if (!h) throw new Mp4Error(`'${parent.type}' at ${parent.start} has no '${type}'`);
  return h;
}

export interface FullBox {
  version: number;
  flags: number;
  /** A cursor over the body after the version/flags word. */
  body: Cursor;
}

/** Version and flags of a "full box" (one whose body starts with version:8 flags:24). */
export function readFullBox(buf: Buffer, h: BoxHeader): FullBox {
  const body = new Cursor(buf, h.bodyStart, h.end, h.type);
  const vf = body.u32();
  return { version: vf >>> 24, flags: vf & 0xffffff, body };
}

/**
 * Sequential big-endian reader confined to `[pos, end)` of a buffer. Running past `end` raises an
 * `Mp4Error` naming the box being parsed, instead of Node's RangeError or silently reading the
 * next box's bytes.
 */
export class Cursor {
  readonly #buf: Buffer;
  readonly #what: string;
  readonly end: number;
  pos: number;

  constructor(buf: Buffer, start: number, end: number, what: string) {
    if (start < 0 || end > buf.length || start > end) throw new Mp4Error(`'${what}' range outside buffer`);
    this.#buf = buf;
    this.pos = start;
    this.end = end;
    this.#what = what;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available; `n` may be a product that overflows 2^32. */
  need(n: number): void {
    if (!(n >= 0) || n > this.end - this.pos) throw new Mp4Error(`truncated '${this.#what}'`);
  }

  skip(n: number): this {
    this.need(n);
    this.pos += n;
    return this;
  }

  u8(): number {
    this.need(1);
    return this.#buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.#buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.#buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.#buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.#buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit as a Number; values beyond 2^53 cannot be file offsets or durations we use. */
  u64(): number {
    this.need(8);
    const v = this.#buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Mp4Error(`64-bit value out of range in '${this.#what}'`);
    return Number(v);
  }

  /** Signed 64-bit as a Number, clamped to the safe range (only used for durations/times). */
  i64(): number {
    this.need(8);
    const v = this.#buf.readBigInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
    if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
    return Number(v);
  }

  f64(): number {
    this.need(8);
    const v = this.#buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  fourcc(): string {
    this.need(4);
    const s = this.#buf.toString('latin1', this.pos, this.pos + 4);
    this.pos += 4;
    return s;
  }

  /** A cursor confined to the next `n` bytes; this cursor moves past them. */
  sub(n: number, what: string = this.#what): Cursor {
    this.need(n);
    const c = new Cursor(this.#buf, this.pos, this.pos + n, what);
    this.pos += n;
    return c;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}
