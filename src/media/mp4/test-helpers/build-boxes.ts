/** Hand-built ISO-BMFF boxes for tests: just enough of each box for the reader, with every field the
 * tests vary exposed. Not part of the build. */

export function u8(...values: number[]): Buffer {
  return Buffer.from(values);
}

export function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

export function u32(...values: number[]): Buffer {
  return u32List(values);
}

/** Like u32 for long tables, which would overflow the stack as spread arguments. */
export function u32List(values: readonly number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export function u64(...values: number[]): Buffer {
  return u64List(values);
}

export function u64List(values: readonly number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeBigUInt64BE(BigInt(v), i * 8));
  return b;
}

export function box(type: string, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([u32(8 + payload.length), Buffer.from(type, 'latin1'), payload]);
}

/** A box written with size 1 and a 64-bit largesize. */
export function largeBox(type: string, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([u32(1), Buffer.from(type, 'latin1'), u64(16 + payload.length), payload]);
}

export function fullBox(type: string, version: number, flags: number, ...body: Buffer[]): Buffer {
  return box(type, u32(((version & 0xff) << 24) | (flags & 0xffffff)), ...body);
}

export function ftyp(major = 'isom', ...compatible: string[]): Buffer {
  return box('ftyp', Buffer.from(major, 'latin1'), u32(0x200), ...compatible.map((c) => Buffer.from(c, 'latin1')));
}

export interface SynthTrack {
  id: number;
  handler?: string;
  codec?: string;
  timescale?: number;
  /** One size per sample (stsz table) ... */
  sizes?: number[];
  /** ... or a constant size with this many samples. */
  constant?: { size: number; count: number };
  /** stts runs [count, delta]; default: one run of 1000-tick samples covering every sample. */
  stts?: [number, number][];
  ctts?: { version: number; runs: [number, number][] };
  /** stsc runs [firstChunk, samplesPerChunk]. */
  stsc: [number, number][];
  chunkOffsets: number[];
  co64?: boolean;
  /** 1-based sync sample numbers; omitted → no stss. */
  stss?: number[];
  /** elst entries [segmentDuration, mediaTime]. */
  elst?: { version: number; entries: [number, number][] };
  tref?: Record<string, number[]>;
  /** Extra child boxes appended to the sample entry (avcC, esds, ...). */
  entryChildren?: Buffer[];
  width?: number;
  height?: number;
  /** Write sizes as stz2 with this field size instead of stsz. */
  stz2FieldSize?: 4 | 8 | 16;
  /** QuickTime sound description version (1 or 2 add fields before the child boxes). */
  soundVersion?: 0 | 1 | 2;
  channels?: number;
  sampleRate?: number;
  /** stbl child types to leave out, to build broken tracks. */
  omit?: string[];
}

function visualEntry(codec: string, width: number, height: number, children: Buffer[]): Buffer {
  return box(
    codec,
    Buffer.alloc(6),
    u16(1), // data_reference_index
    Buffer.alloc(16),
    u16(width, height),
    u32(0x00480000, 0x00480000, 0),
    u16(1),
    Buffer.alloc(32),
    u16(0x18, 0xffff),
    ...children,
  );
}

function audioEntry(codec: string, version: number, channels: number, rate: number, children: Buffer[]): Buffer {
  const common = [Buffer.alloc(6), u16(1), u16(version, 0), u32(0)];
  if (version === 2) {
    const v2 = Buffer.alloc(36);
    v2.writeUInt32BE(72, 0);
    v2.writeDoubleBE(rate, 4);
    v2.writeUInt32BE(channels, 12);
    v2.writeUInt32BE(0x7f000000, 16);
    return box(codec, ...common, u16(3, 16, 0xfffe, 0), u32(0x10000), v2, ...children);
  }
  const v1 = version === 1 ? [u32(1024, 0, 0, 2)] : [];
  return box(codec, ...common, u16(channels, 16, 0, 0), u32(rate * 65536), ...v1, ...children);
}

function sizesBox(t: SynthTrack, count: number): Buffer {
  if (!t.sizes) return fullBox('stsz', 0, 0, u32(t.constant?.size ?? 0, count));
  const fieldSize = t.stz2FieldSize;
  if (!fieldSize) return fullBox('stsz', 0, 0, u32(0, t.sizes.length), u32List(t.sizes));
  let packed: Buffer;
  if (fieldSize === 16) packed = u16(...t.sizes);
  else if (fieldSize === 8) packed = Buffer.from(t.sizes);
  else {
    packed = Buffer.alloc(Math.ceil(t.sizes.length / 2));
    t.sizes.forEach((v, i) => (packed[i >> 1] |= i % 2 === 0 ? v << 4 : v));
  }
  return fullBox('stz2', 0, 0, Buffer.from([0, 0, 0, fieldSize]), u32(t.sizes.length), packed);
}

export function trak(t: SynthTrack): Buffer {
  const handler = t.handler ?? 'vide';
  const codec = t.codec ?? 'avc1';
  const count = t.sizes ? t.sizes.length : (t.constant?.count ?? 0);
  const stts = t.stts ?? [[count, 1000]];
  const entry =
    handler === 'vide'
      ? visualEntry(codec, t.width ?? 320, t.height ?? 240, t.entryChildren ?? [])
      : handler === 'soun'
        ? audioEntry(codec, t.soundVersion ?? 0, t.channels ?? 2, t.sampleRate ?? 44100, t.entryChildren ?? [])
        : box(codec, Buffer.alloc(6), u16(1), ...(t.entryChildren ?? []));
  const omit = new Set(t.omit ?? []);
  const children: [string, Buffer][] = [
    ['stsd', fullBox('stsd', 0, 0, u32(1), entry)],
    ['stts', fullBox('stts', 0, 0, u32(stts.length), ...stts.map(([c, d]) => u32(c, d)))],
  ];
  if (t.ctts) {
    const runs = t.ctts.runs;
    children.push(['ctts', fullBox('ctts', t.ctts.version, 0, u32(runs.length), ...runs.map(([c, o]) => u32(c, o)))]);
  }
  children.push(['stsc', fullBox('stsc', 0, 0, u32(t.stsc.length), ...t.stsc.map(([f, n]) => u32(f, n, 1)))]);
  children.push([t.stz2FieldSize ? 'stz2' : 'stsz', sizesBox(t, count)]);
  children.push(
    t.co64
      ? ['co64', fullBox('co64', 0, 0, u32(t.chunkOffsets.length), u64List(t.chunkOffsets))]
      : ['stco', fullBox('stco', 0, 0, u32(t.chunkOffsets.length), u32List(t.chunkOffsets))],
  );
  if (t.stss) children.push(['stss', fullBox('stss', 0, 0, u32(t.stss.length), u32List(t.stss))]);
  const stbl = box('stbl', ...children.filter(([type]) => !omit.has(type)).map(([, b]) => b));
  const duration = stts.reduce((sum, [c, d]) => sum + c * d, 0);
  const timescale = t.timescale ?? 90000;
  const elst = t.elst;
  return box(
    'trak',
    fullBox('tkhd', 0, 3, u32(0, 0, t.id, 0, duration), Buffer.alloc(60)),
    ...(t.tref ? [box('tref', ...Object.entries(t.tref).map(([type, ids]) => box(type, u32(...ids))))] : []),
    ...(elst
      ? [
          box(
            'edts',
            fullBox(
              'elst',
              elst.version,
              0,
              u32(elst.entries.length),
              ...elst.entries.map(([d, m]) =>
                elst.version === 1
                  ? Buffer.concat([u64(d), m < 0 ? Buffer.alloc(8, 0xff) : u64(m), u32(0x10000)])
                  : u32(d, m, 0x10000),
              ),
            ),
          ),
        ]
      : []),
    box(
      'mdia',
      fullBox('mdhd', 0, 0, u32(0, 0, timescale, duration), u16(0x55c4, 0)),
      fullBox('hdlr', 0, 0, u32(0), Buffer.from(handler, 'latin1'), Buffer.alloc(12), Buffer.from('handler\0')),
      box('minf', box('udta', box('©nam', Buffer.from('x'))), stbl),
    ),
  );
}

export function moov(
  tracks: SynthTrack[],
  opts: { timescale?: number; duration?: number; extra?: Buffer[] } = {},
): Buffer {
  return box(
    'moov',
    fullBox('mvhd', 0, 0, u32(0, 0, opts.timescale ?? 1000, opts.duration ?? 0), Buffer.alloc(80)),
    box('udta', box('meta', Buffer.alloc(4))),
    ...tracks.map(trak),
    ...(opts.extra ?? []),
  );
}
