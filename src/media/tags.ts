/** The title, artist and album a media file's tags give: ID3v2.2/2.3/2.4 at the start of an MPEG
 * audio file (ID3v1 at its end fills what v2 lacks), or the iTunes-style `moov/udta/meta/ilst`
 * items of an MP4/M4A/MOV file (and QuickTime's plain `udta` text items). A playlist reads them
 * to say what plays now.
 *
 * Files are hostile: nothing here throws (a broken tag gives what was read before the damage,
 * often {}), and memory stays bounded whatever the file says: headers are read a few bytes at a
 * time, and only the bodies of the frames or items wanted, each up to MAX_ITEM_BYTES. */
import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { inflateSync } from 'node:zlib';
import { readAt, withAudioFile } from './audio/file.js';
import { BOX_HEADER_MAX, childBoxes, decodeBoxHeader, isPrintableFourcc, type BoxHeader } from './mp4/boxes.js';
import { sniffMedia } from './open-media.js';

export interface MediaTags {
  title?: string;
  artist?: string;
  album?: string;
}

type Field = keyof MediaTags;

/** Most bytes of one text frame or item read (its value is cut to MAX_TEXT_CHARS anyway). */
const MAX_ITEM_BYTES = 64 * 1024;
/** A tag unsynchronised as a whole (ID3v2.2/2.3) must be undone in memory: this much of it. */
const MAX_UNSYNC_TAG_BYTES = 1024 * 1024;
/** Frames or boxes looked at per tag or box level: ends a walk over millions of tiny ones. */
const MAX_ENTRIES = 4096;
/** Longest value kept. */
const MAX_TEXT_CHARS = 1024;

const ID3V2_FRAMES: Record<string, Field> = {
  TIT2: 'title',
  TPE1: 'artist',
  TALB: 'album',
  TT2: 'title',
  TP1: 'artist',
  TAL: 'album',
};
/** iTunes item types (latin1, as the box reader decodes four-ccs: '©' is 0xA9). */
const MP4_ITEMS: Record<string, Field> = { '©nam': 'title', '©ART': 'artist', '©alb': 'album' };

/** The tags of the file at `path`; {} when it has none, cannot be read or is broken. */
export async function readTags(path: string): Promise<MediaTags> {
  const found: MediaTags = {};
  try {
    await withAudioFile(path, async (fh, size) => {
      const head = await readAt(fh, 0, 16);
      if (sniffMedia(head, extname(path)) === 'mp4') return mp4Tags(fh, size, found);
      try {
        if (head.toString('latin1', 0, 3) === 'ID3') await id3v2Tags(fh, size, found);
      } finally {
        // ID3v1 fills what ID3v2 lacked, even when the v2 tag broke part-way.
        if (!(found.title && found.artist && found.album)) await id3v1Tags(fh, size, found);
      }
    });
  } catch {
    // A broken file gives what was read before the damage.
  }
  return found;
}

/** `text` as a value worth keeping: control characters blanked, trimmed, bounded; undefined if
 * nothing is left. */
function clean(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_TEXT_CHARS).trim();
  return s === '' ? undefined : s;
}

function keep(found: MediaTags, field: Field, text: string | undefined): void {
  if (found[field] === undefined && text !== undefined) found[field] = text;
}

const complete = (found: MediaTags) => found.title !== undefined && found.artist !== undefined && found.album !== undefined;

// ---------------------------------------------------------------------------------------- ID3

/** A 28-bit "syncsafe" integer (7 bits a byte), as ID3v2 writes sizes. */
const syncsafe = (b: Buffer, at: number) => ((b[at] & 0x7f) << 21) | ((b[at + 1] & 0x7f) << 14) | ((b[at + 2] & 0x7f) << 7) | (b[at + 3] & 0x7f);

/** Undoes ID3v2 unsynchronisation: every 0xFF 0x00 was written for a 0xFF. */
export function resynchronise(b: Buffer): Buffer {
  if (b.indexOf(0xff) < 0) return b;
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    out[n++] = b[i];
    if (b[i] === 0xff && b[i + 1] === 0x00) i++;
  }
  return out.subarray(0, n);
}

/** UTF-16 text: `bom` true, each string starts with its byte order mark (little-endian without
 * one, as most writers are); false, big-endian throughout. Strings end at an aligned 00 00. */
function utf16Strings(b: Buffer, bom: boolean): string[] {
  const out: string[] = [];
  const even = b.length - (b.length % 2);
  let start = 0;
  for (let i = 0; i <= even; i += 2) {
    if (i < even && (b[i] | b[i + 1]) !== 0) continue;
    let s = b.subarray(start, i);
    let bigEndian = !bom;
    if (bom && s.length >= 2 && ((s[0] === 0xfe && s[1] === 0xff) || (s[0] === 0xff && s[1] === 0xfe))) {
      bigEndian = s[0] === 0xfe;
      s = s.subarray(2);
    }
    out.push(bigEndian ? Buffer.from(s).swap16().toString('utf16le') : s.toString('utf16le'));
    start = i + 2;
  }
  return out;
}

/** An ID3v2 text frame's value (encoding byte, then text). Several values (ID3v2.4 separates
 * them with a null) are joined with '/', as ID3v2.3 wrote them. */
export function id3Text(body: Buffer): string | undefined {
  if (body.length < 2) return undefined;
  const data = body.subarray(1);
  let values: string[];
  switch (body[0]) {
    case 0:
      values = data.toString('latin1').split('\0');
      break;
    case 1:
      values = utf16Strings(data, true);
      break;
    case 2:
      values = utf16Strings(data, false);
      break;
    case 3:
      values = data.toString('utf8').split('\0');
      break;
    default:
      return undefined;
  }
  return clean(values.map((v) => v.trim()).filter(Boolean).join('/'));
}

/** Reads `len` bytes at `pos` of the tag's frames (fewer at their end). */
type TagBytes = (pos: number, len: number) => Promise<Buffer>;

const FRAME_ID = /^[A-Z0-9]{3,4}$/;

/** Whether a frame header (or padding, or the tag's end) can start at `pos`: tells which reading
 * of an ID3v2.4 frame size is right (iTunes wrote plain sizes where syncsafe ones belong). */
async function frameCanStartAt(bytes: TagBytes, pos: number, end: number): Promise<boolean> {
  if (pos === end) return true;
  if (pos > end) return false;
  const id = await bytes(pos, 4);
  return id.length < 4 || id[0] === 0 || FRAME_ID.test(id.toString('latin1'));
}

/** The ID3v2 tag at the start of the file into `found`. */
async function id3v2Tags(fh: FileHandle, size: number, found: MediaTags): Promise<void> {
  const h = await readAt(fh, 0, 10);
  if (h.length < 10) return;
  const major = h[3];
  if (major < 2 || major > 4 || (h[6] | h[7] | h[8] | h[9]) & 0x80) return;
  const flags = h[5];
  // ID3v2.2's compression flag: no scheme was ever defined, so the tag cannot be read.
  if (major === 2 && flags & 0x40) return;
  const tagEnd = Math.min(size, 10 + syncsafe(h, 6));
  const wholeUnsync = (flags & 0x80) !== 0;

  let bytes: TagBytes;
  let end: number;
  if (wholeUnsync && major < 4) {
    // The frames' sizes count resynchronised bytes: undo it first, over a bounded prefix.
    const body = resynchronise(await readAt(fh, 10, Math.min(tagEnd - 10, MAX_UNSYNC_TAG_BYTES)));
    bytes = (pos, len) => Promise.resolve(body.subarray(Math.min(pos, body.length), Math.min(pos + len, body.length)));
    end = body.length;
  } else {
    bytes = (pos, len) => readAt(fh, 10 + pos, Math.max(0, Math.min(len, tagEnd - 10 - pos)));
    end = tagEnd - 10;
  }

  let pos = 0;
  if (major >= 3 && flags & 0x40) {
    const e = await bytes(0, 4);
    if (e.length < 4) return;
    // v2.3 counts the extended header without its size field; v2.4 with it, syncsafe.
    pos = major === 3 ? 4 + e.readUInt32BE(0) : syncsafe(e, 0);
  }
  const headerSize = major === 2 ? 6 : 10;
  for (let n = 0; n < MAX_ENTRIES && pos + headerSize <= end && !complete(found); n++) {
    const hdr = await bytes(pos, headerSize);
    if (hdr.length < headerSize || hdr[0] === 0) return; // padding
    const id = hdr.toString('latin1', 0, headerSize === 6 ? 3 : 4);
    if (!FRAME_ID.test(id)) return;
    let frameSize: number;
    if (major === 2) frameSize = hdr.readUIntBE(3, 3);
    else if (major === 3) frameSize = hdr.readUInt32BE(4);
    else {
      frameSize = syncsafe(hdr, 4);
      const plain = hdr.readUInt32BE(4);
      if (plain !== frameSize && !(await frameCanStartAt(bytes, pos + 10 + frameSize, end)) && (await frameCanStartAt(bytes, pos + 10 + plain, end))) {
        frameSize = plain;
      }
    }
    const bodyAt = pos + headerSize;
    pos = bodyAt + frameSize;
    const field = ID3V2_FRAMES[id];
    if (field === undefined || found[field] !== undefined || pos > end) continue;
    const body = frameBody(await bytes(bodyAt, Math.min(frameSize, MAX_ITEM_BYTES)), major, major === 2 ? 0 : hdr[9], wholeUnsync);
    if (body) keep(found, field, id3Text(body));
  }
}

/** A frame's text bytes with its format flags (ID3v2.3/2.4 second flag byte) undone; undefined
 * for an encrypted frame or one that does not inflate within bounds. */
function frameBody(raw: Buffer, major: number, format: number, tagUnsync: boolean): Buffer | undefined {
  let b = raw;
  let compressed: boolean;
  if (major === 3) {
    // Compression adds the inflated size, encryption a method byte, grouping a group byte.
    if (format & 0x40) return undefined;
    compressed = (format & 0x80) !== 0;
    b = b.subarray((compressed ? 4 : 0) + (format & 0x20 ? 1 : 0));
  } else if (major === 4) {
    // Grouping adds a byte, encryption a method byte, the data length indicator 4 bytes.
    if (format & 0x04) return undefined;
    compressed = (format & 0x08) !== 0;
    b = b.subarray((format & 0x40 ? 1 : 0) + (format & 0x01 ? 4 : 0));
    if (tagUnsync || format & 0x02) b = resynchronise(b);
  } else {
    compressed = false;
  }
  if (!compressed) return b;
  try {
    return inflateSync(b, { maxOutputLength: MAX_ITEM_BYTES });
  } catch {
    return undefined;
  }
}

/** The 128-byte ID3v1 tag at the end of the file, if any, into `found` (only fields not found yet). */
async function id3v1Tags(fh: FileHandle, size: number, found: MediaTags): Promise<void> {
  if (size < 128) return;
  const b = await readAt(fh, size - 128, 128);
  if (b.toString('latin1', 0, 3) !== 'TAG') return;
  const field = (at: number) => clean(b.toString('latin1', at, at + 30).split('\0')[0]);
  keep(found, 'title', field(3));
  keep(found, 'artist', field(33));
  keep(found, 'album', field(63));
}

// ---------------------------------------------------------------------------------------- MP4

/** The boxes of a file range [start, end), one header read each (at most MAX_ENTRIES). */
async function* fileBoxes(fh: FileHandle, start: number, end: number): AsyncGenerator<BoxHeader> {
  let pos = start;
  for (let n = 0; n < MAX_ENTRIES && end - pos >= 8; n++) {
    const header = await readAt(fh, pos, Math.min(BOX_HEADER_MAX, end - pos));
    if (!isPrintableFourcc(header.toString('latin1', 4, 8)) && header[4] !== 0xa9) return;
    const h = decodeBoxHeader(header, 0, pos, end);
    yield h;
    pos = h.end;
  }
}

async function fileChild(fh: FileHandle, parent: { bodyStart: number; end: number }, type: string): Promise<BoxHeader | undefined> {
  for await (const h of fileBoxes(fh, parent.bodyStart, parent.end)) if (h.type === type) return h;
  return undefined;
}

/** An `ilst` item's value: its `data` box of well-known type 1 (UTF-8) or 2 (UTF-16BE). */
export function ilstText(item: Buffer): string | undefined {
  for (const d of childBoxes(item, 0, item.length)) {
    if (d.type !== 'data' || d.end - d.bodyStart < 8) continue;
    const type = item.readUInt32BE(d.bodyStart) & 0xffffff;
    const value = item.subarray(d.bodyStart + 8, d.end);
    if (type === 1) return clean(value.toString('utf8'));
    if (type === 2) return clean(utf16Strings(value, false).join(''));
  }
  return undefined;
}

/** A QuickTime user data text item (`udta/©nam`): 16-bit size and language, then the text
 * (the first one). */
function quickTimeText(body: Buffer): string | undefined {
  if (body.length < 4) return undefined;
  const n = body.readUInt16BE(0);
  return clean(body.toString('utf8', 4, Math.min(body.length, 4 + n)));
}

/** An item's body, bounded: its value is near its start. */
const itemBody = (fh: FileHandle, h: BoxHeader) => readAt(fh, h.bodyStart, Math.min(h.end - h.bodyStart, MAX_ITEM_BYTES));

/** `moov/udta/meta/ilst` (and `moov/udta`'s own text items) into `found`. */
async function mp4Tags(fh: FileHandle, size: number, found: MediaTags): Promise<void> {
  const moov = await fileChild(fh, { bodyStart: 0, end: size }, 'moov');
  const udta = moov && (await fileChild(fh, moov, 'udta'));
  if (!udta) return;
  const plain: MediaTags = {};
  for await (const h of fileBoxes(fh, udta.bodyStart, udta.end)) {
    const field = MP4_ITEMS[h.type];
    if (field !== undefined) keep(plain, field, quickTimeText(await itemBody(fh, h)));
    if (h.type !== 'meta') continue;
    // ISO's meta is a full box; QuickTime's is not (its hdlr comes first).
    const peek = await readAt(fh, h.bodyStart, 8);
    const first = peek.toString('latin1', 4, 8) === 'hdlr' ? h.bodyStart : h.bodyStart + 4;
    const ilst = await fileChild(fh, { bodyStart: first, end: h.end }, 'ilst');
    if (!ilst) continue;
    for await (const item of fileBoxes(fh, ilst.bodyStart, ilst.end)) {
      const f = MP4_ITEMS[item.type];
      if (f !== undefined && found[f] === undefined) keep(found, f, ilstText(await itemBody(fh, item)));
      if (complete(found)) return;
    }
  }
  // The ilst items win; QuickTime's own fill what they lack.
  for (const f of Object.keys(plain) as Field[]) keep(found, f, plain[f]);
}
