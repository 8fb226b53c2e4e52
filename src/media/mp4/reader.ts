/** Opens an ISO-BMFF / QuickTime file and parses its `moov` index. Only the top-level box headers
 * and the moov itself are read from disk, so opening a multi-gigabyte file costs a few small reads
 * wherever the moov sits. Media bytes are read later through a `SampleReader`. */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { parseAudioSpecificConfig } from '../../codecs/aac/format.js';
import {
  BOX_HEADER_MAX,
  BOX_HEADER_MIN,
  childBoxes,
  Cursor,
  decodeBoxHeader,
  findChild,
  isPrintableFourcc,
  readBoxHeader,
  readFullBox,
  requireChild,
  type BoxHeader,
} from './boxes.js';
import { parseEsdsDescriptors } from './esds.js';
import { movieHintSdp, rawSampleEntries, trackHintSdp } from './hint-boxes.js';
import { SampleTable } from './sample-table.js';
import { Track, type TrackMetadata } from './track.js';
import { Mp4Error, type Mp4Movie } from './types.js';

/** Largest moov read into memory. Real files stay far below (a 3-hour movie is a few MiB); the cap
 * keeps a corrupt size field from allocating gigabytes. */
export const MAX_MOOV_SIZE = 256 * 1024 * 1024;
/** Top-level boxes visited before giving up: a moov-at-end file has a handful, and the bound keeps a
 * file of millions of tiny boxes from costing millions of reads. */
const MAX_TOP_LEVEL_BOXES = 100_000;
const MAX_FTYP_READ = 4096;

export interface FileType {
  majorBrand: string;
  compatibleBrands: string[];
}

export interface MovieContext {
  /** QuickTime rules apply to sound sample description versions 1 and 2. */
  quickTime: boolean;
}

export interface ParsedMoov {
  /** Seconds. */
  duration: number;
  tracks: Track[];
  skippedTracks: { id: number; reason: string }[];
  fragmented: boolean;
  /** moov/udta/hnti/'rtp ' SDP text of a hinted movie. */
  hintSdp?: string;
}

export async function openMovie(path: string): Promise<Mp4Movie> {
  // Checked before opening because opening a FIFO for reading blocks until a writer appears.
  if (!(await stat(path)).isFile()) throw new Mp4Error(`${path} is not a regular file`);
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const { moov, ftyp } = await locateMoov(fh, st.size);
    const brand = brandOf(ftyp);
    const quickTime = brand === 'mov' || (ftyp?.compatibleBrands.includes('qt  ') ?? false);
    const parsed = parseMoov(moov, { quickTime });
    return Object.freeze({
      path,
      brand,
      duration: parsed.duration,
      tracks: parsed.tracks,
      size: st.size,
      mtimeMs: st.mtimeMs,
      skippedTracks: Object.freeze(parsed.skippedTracks) as ParsedMoov['skippedTracks'],
      fragmented: parsed.fragmented,
      hintSdp: parsed.hintSdp,
    });
  } finally {
    await fh.close();
  }
}

/** 'mov' for QuickTime (major brand 'qt  ', or no ftyp at all as in pre-2001 files), '3gp' for
 * 3GPP/3GPP2, 'mp4' for every other ISO brand. */
export function brandOf(ftyp: FileType | undefined): string {
  if (!ftyp || ftyp.majorBrand === 'qt  ') return 'mov';
  if (ftyp.majorBrand.startsWith('3gp') || ftyp.majorBrand.startsWith('3g2')) return '3gp';
  return 'mp4';
}

async function readExactly(fh: FileHandle, position: number, length: number, what: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Mp4Error(`${what} truncated: file ends ${length - done} bytes early`);
    done += bytesRead;
  }
  return buf;
}

function parseFtyp(body: Buffer): FileType {
  const c = new Cursor(body, 0, body.length, 'ftyp');
  const majorBrand = c.fourcc();
  c.skip(4); // minor_version
  const compatibleBrands: string[] = [];
  while (c.remaining >= 4) compatibleBrands.push(c.fourcc());
  return { majorBrand, compatibleBrands };
}

/** Walks top-level box headers until the moov, reading only each 8-32 byte header. */
async function locateMoov(fh: FileHandle, fileSize: number): Promise<{ moov: Buffer; ftyp?: FileType }> {
  const scratch = Buffer.alloc(BOX_HEADER_MAX);
  let ftyp: FileType | undefined;
  let pos = 0;
  for (let count = 0; fileSize - pos >= BOX_HEADER_MIN; count++) {
    if (count >= MAX_TOP_LEVEL_BOXES) throw new Mp4Error(`no moov in the first ${MAX_TOP_LEVEL_BOXES} boxes`);
    const want = Math.min(BOX_HEADER_MAX, fileSize - pos);
    const { bytesRead } = await fh.read(scratch, 0, want, pos);
    const header = scratch.subarray(0, bytesRead);
    if (bytesRead >= 8 && !isPrintableFourcc(header.toString('latin1', 4, 8))) {
      throw new Mp4Error(count === 0 ? 'not an ISO-BMFF / QuickTime file' : `corrupt top-level box at ${pos}`);
    }
    let h: BoxHeader;
    try {
      h = decodeBoxHeader(header, 0, pos, fileSize);
    } catch (e) {
      if (e instanceof Mp4Error) throw new Mp4Error(`no moov found: ${e.message}`);
      throw e;
    }
    if (h.type === 'ftyp' && !ftyp) {
      ftyp = parseFtyp(await readExactly(fh, h.bodyStart, Math.min(h.end - h.bodyStart, MAX_FTYP_READ), 'ftyp'));
    } else if (h.type === 'moov') {
      const size = h.end - h.start;
      if (size > MAX_MOOV_SIZE) throw new Mp4Error(`moov of ${size} bytes exceeds the ${MAX_MOOV_SIZE} byte limit`);
      // The header is re-read with the body so that the parser sees a self-contained moov box.
      const moov = await readExactly(fh, h.start, size, 'moov');
      return { moov, ftyp };
    }
    pos = h.end;
  }
  throw new Mp4Error('no moov box');
}

/** Parses a buffer holding exactly one moov box (header included). */
export function parseMoov(input: Buffer, ctx: MovieContext): ParsedMoov {
  let buf = input;
  let moov = readBoxHeader(buf, 0, buf.length);
  if (moov.type !== 'moov') throw new Mp4Error(`expected 'moov', found '${moov.type}'`);
  const cmov = findChild(buf, moov, 'cmov');
  if (cmov) {
    buf = inflateCmov(buf, cmov);
    moov = readBoxHeader(buf, 0, buf.length);
    if (moov.type !== 'moov') throw new Mp4Error('compressed moov does not hold a moov box');
  }

  let movieTimescale = 0;
  let movieDuration = -1;
  let fragmented = false;
  const tracks: Track[] = [];
  const skippedTracks: { id: number; reason: string }[] = [];
  for (const h of childBoxes(buf, moov.bodyStart, moov.end)) {
    if (h.type === 'mvhd') {
      const { version, body } = readFullBox(buf, h);
      body.skip(version === 1 ? 16 : 8);
      movieTimescale = body.u32();
      movieDuration = readDuration(body, version);
    } else if (h.type === 'mvex') {
      fragmented = true;
    } else if (h.type === 'trak') {
      const seen = { id: 0 };
      try {
        tracks.push(parseTrak(buf, h, ctx, seen));
      } catch (e) {
        // One broken track must not cost the viewer the others.
        if (!(e instanceof Mp4Error)) throw e;
        skippedTracks.push({ id: seen.id, reason: e.message });
      }
    }
  }
  if (tracks.length === 0) {
    const why = skippedTracks.map((s) => `track ${s.id}: ${s.reason}`).join('; ');
    throw new Mp4Error(why ? `no usable tracks (${why})` : 'moov has no tracks');
  }

  let duration = movieTimescale > 0 && movieDuration > 0 ? movieDuration / movieTimescale : 0;
  if (duration === 0) for (const t of tracks) duration = Math.max(duration, t.duration / t.timescale);
  const hintSdp = movieHintSdp(buf, moov);
  return { duration, tracks: Object.freeze(tracks) as Track[], skippedTracks, fragmented, hintSdp };
}

/** mvhd/mdhd duration; -1 when unknown (all ones, as written by live or unfinished recordings). */
function readDuration(c: Cursor, version: number): number {
  if (version === 1) {
    const d = c.i64();
    return d >= 0 ? d : -1;
  }
  const d = c.u32();
  return d === 0xffffffff ? -1 : d;
}

/** QuickTime compressed movie: cmov { dcom('zlib'), cmvd(uncompressed size, zlib data) }. */
function inflateCmov(buf: Buffer, cmov: BoxHeader): Buffer {
  const dcom = requireChild(buf, cmov, 'dcom');
  const method = new Cursor(buf, dcom.bodyStart, dcom.end, 'dcom').fourcc();
  if (method !== 'zlib') throw new Mp4Error(`unsupported moov compression '${method}'`);
  const cmvd = requireChild(buf, cmov, 'cmvd');
  const c = new Cursor(buf, cmvd.bodyStart, cmvd.end, 'cmvd');
  const size = c.u32();
  if (size > MAX_MOOV_SIZE) throw new Mp4Error(`compressed moov of ${size} bytes exceeds the limit`);
  try {
    return inflateSync(c.bytes(c.remaining), { maxOutputLength: Math.max(size, BOX_HEADER_MIN) });
  } catch (e) {
    throw new Mp4Error(`corrupt compressed moov: ${(e as Error).message}`);
  }
}

function parseTrak(buf: Buffer, trak: BoxHeader, ctx: MovieContext, seen: { id: number }): Track {
  const tkhd = readFullBox(buf, requireChild(buf, trak, 'tkhd'));
  tkhd.body.skip(tkhd.version === 1 ? 16 : 8);
  const id = tkhd.body.u32();
  seen.id = id;

  const references: Record<string, number[]> = {};
  const tref = findChild(buf, trak, 'tref');
  if (tref) {
    for (const r of childBoxes(buf, tref.bodyStart, tref.end)) {
      const c = new Cursor(buf, r.bodyStart, r.end, r.type);
      const ids: number[] = (references[r.type] ??= []);
      while (c.remaining >= 4) ids.push(c.u32());
    }
  }

  const edts = findChild(buf, trak, 'edts');
  const elst = edts && findChild(buf, edts, 'elst');
  const editMediaTime = elst ? firstEditMediaTime(buf, elst) : 0;

  const mdia = requireChild(buf, trak, 'mdia');
  const mdhd = readFullBox(buf, requireChild(buf, mdia, 'mdhd'));
  mdhd.body.skip(mdhd.version === 1 ? 16 : 8);
  const timescale = mdhd.body.u32();
  if (timescale === 0) throw new Mp4Error('mdhd timescale is 0');
  const mediaDuration = readDuration(mdhd.body, mdhd.version);
  const hdlr = readFullBox(buf, requireChild(buf, mdia, 'hdlr'));
  hdlr.body.skip(4); // pre_defined (QuickTime: component type 'mhlr')
  const handler = hdlr.body.fourcc();

  const stbl = requireChild(buf, requireChild(buf, mdia, 'minf'), 'stbl');
  const boxes = new Map<string, BoxHeader>();
  for (const h of childBoxes(buf, stbl.bodyStart, stbl.end)) if (!boxes.has(h.type)) boxes.set(h.type, h);
  const need = (type: string): BoxHeader => {
    const h = boxes.get(type);
    if (!h) throw new Mp4Error(`stbl has no '${type}'`);
    return h;
  };

  const entry = parseStsd(buf, need('stsd'), handler, ctx);
  const table = new SampleTable({
    ...parseSampleSizes(buf, boxes.get('stsz') ?? boxes.get('stz2') ?? need('stsz')),
    ...parseStts(buf, need('stts')),
    ...parseCtts(buf, boxes.get('ctts')),
    ...parseStsc(buf, need('stsc')),
    chunkOffsets: parseChunkOffsets(buf, boxes.get('stco') ?? boxes.get('co64') ?? need('stco')),
    syncSamples: parseStss(buf, boxes.get('stss')),
  });

  const meta: TrackMetadata = {
    id,
    handler,
    timescale,
    duration: mediaDuration >= 0 ? mediaDuration : table.totalDuration,
    editMediaTime,
    references: Object.freeze(references),
    ...entry,
    sampleEntries: rawSampleEntries(buf, need('stsd')),
    hintSdp: handler === 'hint' ? trackHintSdp(buf, trak) : undefined,
  };
  const track = new Track(meta, table);
  Object.freeze(track);
  return track;
}

/** media_time of the first non-empty edit. An initial empty edit (media_time -1) delays the track;
 * its duration is deliberately ignored for now. A damaged elst only loses the offset. */
function firstEditMediaTime(buf: Buffer, elst: BoxHeader): number {
  const { version, body } = readFullBox(buf, elst);
  const entrySize = version === 1 ? 20 : 12;
  const count = Math.min(body.u32(), Math.floor(body.remaining / entrySize));
  for (let i = 0; i < count; i++) {
    body.skip(version === 1 ? 8 : 4); // segment_duration (movie timescale)
    const mediaTime = version === 1 ? body.i64() : body.i32();
    body.skip(4); // media_rate
    if (mediaTime >= 0) return mediaTime;
  }
  return 0;
}

type SampleEntryInfo = Pick<
  TrackMetadata,
  'codec' | 'width' | 'height' | 'channels' | 'sampleRate' | 'avcC' | 'hvcC' | 'esds' | 'sound' | 'entryBoxes'
>;

/** Larger sample entry children are not codec configuration worth keeping. */
const MAX_ENTRY_BOX = 64 * 1024;

/** Keeps the first box of each type not already kept (copied: the moov buffer is not pinned). */
function keepEntryBoxes(buf: Buffer, boxes: readonly BoxHeader[], into: Record<string, Buffer>): void {
  for (const h of boxes) {
    if (h.type === 'avcC' || h.type === 'hvcC' || h.type === 'esds' || h.type in into) continue;
    if (h.end - h.bodyStart <= MAX_ENTRY_BOX) into[h.type] = Buffer.from(buf.subarray(h.bodyStart, h.end));
  }
}

/** Children of a sample entry. Writers are sloppy after the fields that matter (trailing padding,
 * half-written extension boxes), so a damaged child ends the list instead of failing the track. */
function entryChildren(buf: Buffer, start: number, end: number): BoxHeader[] {
  const out: BoxHeader[] = [];
  if (start > end) return out;
  try {
    for (const h of childBoxes(buf, start, end)) out.push(h);
  } catch (e) {
    if (!(e instanceof Mp4Error)) throw e;
  }
  return out;
}

function parseEsdsBox(buf: Buffer, h: BoxHeader): SampleEntryInfo['esds'] {
  return parseEsdsDescriptors(readFullBox(buf, h).body);
}

/** First stsd entry: codec four-cc, dimensions or audio format, codec configuration. */
function parseStsd(buf: Buffer, stsd: BoxHeader, handler: string, ctx: MovieContext): SampleEntryInfo {
  const { version: stsdVersion, body } = readFullBox(buf, stsd);
  if (body.u32() === 0) throw new Mp4Error('stsd has no sample entries');
  const entry = readBoxHeader(buf, body.pos, stsd.end);
  const info: SampleEntryInfo = { codec: entry.type };
  const c = new Cursor(buf, entry.bodyStart, entry.end, entry.type);
  c.skip(6 + 2); // reserved, data_reference_index

  if (handler === 'vide') {
    c.skip(2 + 2 + 12); // pre_defined, reserved, pre_defined[3]
    info.width = c.u16();
    info.height = c.u16();
    c.skip(4 + 4 + 4 + 2 + 32 + 2 + 2); // resolutions, reserved, frame_count, compressorname, depth, pre_defined
    const children = entryChildren(buf, c.pos, entry.end);
    for (const h of children) {
      if (h.type === 'avcC' && !info.avcC) info.avcC = Buffer.from(buf.subarray(h.bodyStart, h.end));
      else if (h.type === 'hvcC' && !info.hvcC) info.hvcC = Buffer.from(buf.subarray(h.bodyStart, h.end));
      else if (h.type === 'esds' && !info.esds) info.esds = parseEsdsBox(buf, h);
    }
    const kept: Record<string, Buffer> = {};
    keepEntryBoxes(buf, children, kept);
    if (Object.keys(kept).length) info.entryBoxes = Object.freeze(kept);
  } else if (handler === 'soun') {
    const version = c.u16();
    c.skip(2 + 4); // revision, vendor
    info.channels = c.u16();
    const sound: NonNullable<SampleEntryInfo['sound']> = { version: 0, sampleSize: c.u16() };
    c.skip(2 + 2); // compression id, packet size
    info.sampleRate = c.u32() / 65536;
    // QuickTime sound descriptions v1/v2 insert fields before the child boxes. ISO files reuse
    // version 1 for a different layout, but only inside an stsd of version 1.
    if ((version === 1 || version === 2) && (stsdVersion === 0 || ctx.quickTime)) {
      sound.version = version;
      if (version === 1) {
        sound.samplesPerPacket = c.u32();
        sound.bytesPerPacket = c.u32();
        sound.bytesPerFrame = c.u32();
        sound.bytesPerSample = c.u32();
      } else {
        c.skip(4); // sizeOfStructOnly
        const rate = c.f64();
        const channels = c.u32();
        c.skip(4); // always 0x7F000000
        sound.sampleSize = c.u32();
        sound.formatFlags = c.u32();
        c.skip(4 + 4); // bytes/frames per packet
        if (Number.isFinite(rate) && rate > 0) info.sampleRate = rate;
        info.channels = channels;
      }
    }
    info.sound = sound;
    const kept: Record<string, Buffer> = {};
    for (const h of entryChildren(buf, c.pos, entry.end)) {
      if (h.type === 'esds' && !info.esds) info.esds = parseEsdsBox(buf, h);
      else if (h.type === 'wave') {
        // QuickTime wraps the esds in 'wave' { frma, mp4a, esds, terminator }; PCM puts its
        // byte order ('enda') there.
        const inner = entryChildren(buf, h.bodyStart, h.end);
        const esds = inner.find((w) => w.type === 'esds');
        if (esds && !info.esds) info.esds = parseEsdsBox(buf, esds);
        keepEntryBoxes(buf, inner, kept);
      } else keepEntryBoxes(buf, [h], kept);
    }
    if (Object.keys(kept).length) info.entryBoxes = Object.freeze(kept);
    refineAudioFromEsds(info);
  }
  return info;
}

const AAC_OBJECT_TYPES = new Set([0x40, 0x66, 0x67, 0x68]);

/** For AAC the AudioSpecificConfig is authoritative for the channel count: the sample entry's field
 * is a template value (3GPP files say 2 for mono). The rate is taken from the config only when the
 * entry has none, because for implicitly signalled HE-AAC the entry holds the output rate and the
 * config the (halved) core rate. */
function refineAudioFromEsds(info: SampleEntryInfo): void {
  const esds = info.esds;
  if (!esds || !AAC_OBJECT_TYPES.has(esds.objectTypeIndication) || esds.decoderSpecificInfo.length < 2) return;
  const asc = parseAudioSpecificConfig(esds.decoderSpecificInfo);
  if (!asc) return;
  if (asc.channels) info.channels = asc.channels;
  if (!info.sampleRate) info.sampleRate = asc.extensionSampleRate ?? asc.sampleRate;
}

function parseStts(buf: Buffer, h: BoxHeader): { sttsCounts: Uint32Array; sttsDeltas: Uint32Array } {
  const { body } = readFullBox(buf, h);
  const n = body.u32();
  body.need(n * 8);
  const sttsCounts = new Uint32Array(n);
  const sttsDeltas = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    sttsCounts[i] = body.u32();
    sttsDeltas[i] = body.u32();
  }
  return { sttsCounts, sttsDeltas };
}

function parseCtts(
  buf: Buffer,
  h: BoxHeader | undefined,
): { cttsCounts: Uint32Array | null; cttsOffsets: Int32Array | null } {
  if (!h) return { cttsCounts: null, cttsOffsets: null };
  const { body } = readFullBox(buf, h);
  const n = body.u32();
  body.need(n * 8);
  const cttsCounts = new Uint32Array(n);
  const cttsOffsets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cttsCounts[i] = body.u32();
    // Version 1 offsets are signed. Version 0 ones are unsigned by the spec, but muxers have
    // written negative offsets into version 0 boxes, and a genuine offset of 2^31 ticks or more
    // cannot occur, so both are read as signed.
    cttsOffsets[i] = body.i32();
  }
  return { cttsCounts, cttsOffsets };
}

function parseStsc(buf: Buffer, h: BoxHeader): { stscFirstChunk: Uint32Array; stscSamplesPerChunk: Uint32Array } {
  const { body } = readFullBox(buf, h);
  const n = body.u32();
  body.need(n * 12);
  const stscFirstChunk = new Uint32Array(n);
  const stscSamplesPerChunk = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    stscFirstChunk[i] = body.u32();
    stscSamplesPerChunk[i] = body.u32();
    body.skip(4); // sample_description_index: only the first entry is described
  }
  return { stscFirstChunk, stscSamplesPerChunk };
}

function parseSampleSizes(
  buf: Buffer,
  h: BoxHeader,
): { sampleCount: number; sizes: Uint32Array | null; constantSize: number } {
  const { body } = readFullBox(buf, h);
  if (h.type === 'stz2') {
    body.skip(3);
    const fieldSize = body.u8();
    const n = body.u32();
    if (fieldSize !== 4 && fieldSize !== 8 && fieldSize !== 16) throw new Mp4Error(`stz2 field size ${fieldSize}`);
    body.need(Math.ceil((n * fieldSize) / 8));
    const sizes = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      if (fieldSize === 16) sizes[i] = body.u16();
      else if (fieldSize === 8) sizes[i] = body.u8();
      else {
        const b = body.u8();
        sizes[i] = b >>> 4;
        if (++i < n) sizes[i] = b & 0xf;
      }
    }
    return { sampleCount: n, sizes, constantSize: 0 };
  }
  const constantSize = body.u32();
  const n = body.u32();
  if (constantSize !== 0) return { sampleCount: n, sizes: null, constantSize };
  body.need(n * 4);
  const sizes = new Uint32Array(n);
  for (let i = 0; i < n; i++) sizes[i] = body.u32();
  return { sampleCount: n, sizes, constantSize: 0 };
}

function parseChunkOffsets(buf: Buffer, h: BoxHeader): Float64Array {
  const { body } = readFullBox(buf, h);
  const n = body.u32();
  const wide = h.type === 'co64';
  body.need(n * (wide ? 8 : 4));
  const offsets = new Float64Array(n);
  for (let i = 0; i < n; i++) offsets[i] = wide ? body.u64() : body.u32();
  return offsets;
}

function parseStss(buf: Buffer, h: BoxHeader | undefined): Uint32Array | null {
  if (!h) return null;
  const { body } = readFullBox(buf, h);
  const n = body.u32();
  body.need(n * 4);
  const sync = new Uint32Array(n);
  for (let i = 0; i < n; i++) sync[i] = body.u32();
  return sync;
}
