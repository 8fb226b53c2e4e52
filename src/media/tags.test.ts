import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { box, u32 } from './mp4/test-helpers/build-boxes.js';
import { readTags, resynchronise } from './tags.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-tags-')));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(bytes: Buffer, ext = '.mp3'): string {
  const p = join(dir, `f${++files}${ext}`);
  writeFileSync(p, bytes);
  return p;
}

// ------------------------------------------------------------------ hand-made ID3v2 tags

const syncsafe = (n: number) => Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
/** An ID3v2 tag of version `major` holding `body` (frames already encoded), header flags `flags`. */
const id3 = (major: number, body: Buffer, flags = 0) => Buffer.concat([Buffer.from('ID3'), Buffer.from([major, 0, flags]), syncsafe(body.length), body]);
/** An ID3v2.3 frame (plain size), or v2.4 (syncsafe size unless `plainSize`). */
function frame(id: string, body: Buffer, major: 3 | 4 = 3, format = 0, plainSize = false): Buffer {
  const size = major === 3 || plainSize ? u32(body.length) : syncsafe(body.length);
  return Buffer.concat([Buffer.from(id, 'latin1'), size, Buffer.from([0, format]), body]);
}
const frame22 = (id: string, body: Buffer) => Buffer.concat([Buffer.from(id), Buffer.from([body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
const latin1 = (s: string) => Buffer.concat([Buffer.from([0]), Buffer.from(s, 'latin1')]);
const utf8 = (s: string) => Buffer.concat([Buffer.from([3]), Buffer.from(s, 'utf8')]);
const utf16Bom = (s: string, bigEndian = false) => {
  const le = Buffer.from(s, 'utf16le');
  const text = bigEndian ? Buffer.from(le).swap16() : le;
  return Buffer.concat([Buffer.from([1]), Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), text, Buffer.from([0, 0])]);
};
const utf16be = (s: string) => Buffer.concat([Buffer.from([2]), Buffer.from(Buffer.from(s, 'utf16le')).swap16()]);
/** Writer's side of unsynchronisation: a 0x00 after every 0xFF. */
function unsynchronise(b: Buffer): Buffer {
  const out: number[] = [];
  for (const x of b) {
    out.push(x);
    if (x === 0xff) out.push(0);
  }
  return Buffer.from(out);
}
/** A valid MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz) and its 417-byte frame. */
const mpegFrame = () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(413)]);
function id3v1(title: string, artist: string, album: string): Buffer {
  const b = Buffer.alloc(128);
  b.write('TAG', 0, 'latin1');
  b.write(title, 3, 30, 'latin1');
  b.write(artist, 33, 30, 'latin1');
  b.write(album, 63, 30, 'latin1');
  return b;
}

describe('readTags: ID3v2 by hand', () => {
  it('reads ID3v2.2 TT2/TP1/TAL', async () => {
    const tag = id3(2, Buffer.concat([frame22('TT2', latin1('Two Two')), frame22('TP1', latin1('Old Band')), frame22('TAL', latin1('Album'))]));
    assert.deepEqual(await readTags(file(Buffer.concat([tag, mpegFrame()]))), { title: 'Two Two', artist: 'Old Band', album: 'Album' });
  });

  it('decodes every text encoding, UTF-16 with either byte order mark', async () => {
    const tag = id3(3, Buffer.concat([frame('TIT2', utf16Bom('Été à Noël')), frame('TPE1', utf16Bom('Ünïcode', true)), frame('TALB', utf16be('Βήτα'))]));
    assert.deepEqual(await readTags(file(tag)), { title: 'Été à Noël', artist: 'Ünïcode', album: 'Βήτα' });
    const v4 = id3(4, Buffer.concat([frame('TIT2', utf8('日本語'), 4), frame('TPE1', latin1('Café'), 4)]));
    assert.deepEqual(await readTags(file(v4)), { title: '日本語', artist: 'Café' });
  });

  it('joins ID3v2.4 multiple values with a slash and trims padding and control characters', async () => {
    const tag = id3(4, Buffer.concat([frame('TPE1', utf8('One\0Two\0'), 4), frame('TIT2', latin1('  Line\nbreak \0\0'), 4)]));
    assert.deepEqual(await readTags(file(tag)), { artist: 'One/Two', title: 'Line break' });
  });

  it('undoes whole-tag unsynchronisation (v2.3) and per-frame unsynchronisation with a data length indicator (v2.4)', async () => {
    const frames = Buffer.concat([frame('TIT2', utf16Bom('ÿÿ Sync')), frame('TPE1', latin1('ÿArtist'))]);
    assert.deepEqual(await readTags(file(id3(3, unsynchronise(frames), 0x80))), { title: 'ÿÿ Sync', artist: 'ÿArtist' });

    const body = utf16Bom('Frame ÿ');
    const stored = unsynchronise(body);
    const v4 = frame('TIT2', Buffer.concat([syncsafe(body.length), stored]), 4, 0x02 | 0x01);
    assert.deepEqual(await readTags(file(id3(4, Buffer.concat([v4, frame('TALB', latin1('After'), 4)])))), { title: 'Frame ÿ', album: 'After' });
  });

  it('skips an extended header, an encrypted frame, and reads a compressed one', async () => {
    const ext = Buffer.concat([u32(6), Buffer.alloc(6)]);
    const packed = deflateSync(latin1('Packed'));
    const body = Buffer.concat([ext, frame('TPE1', Buffer.concat([Buffer.from([1]), latin1('Secret')]), 3, 0x40), frame('TIT2', Buffer.concat([u32(7), packed]), 3, 0x80)]);
    assert.deepEqual(await readTags(file(id3(3, body, 0x40))), { title: 'Packed' });
  });

  it('takes the plain frame sizes iTunes wrote into ID3v2.4 tags', async () => {
    const big = Buffer.concat([Buffer.from([0]), Buffer.from('eng\0'), Buffer.from('a long comment, '.repeat(20))]);
    const tag = id3(4, Buffer.concat([frame('COMM', big, 4, 0, true), frame('TIT2', latin1('After a big frame'), 4, 0, true)]));
    assert.deepEqual(await readTags(file(tag)), { title: 'After a big frame' });
  });

  it('lets ID3v1 fill what ID3v2 lacks, and reads ID3v1 alone', async () => {
    const v2 = id3(3, frame('TIT2', latin1('From v2')));
    assert.deepEqual(await readTags(file(Buffer.concat([v2, mpegFrame(), id3v1('From v1', 'V1 Artist', 'V1 Album')]))), {
      title: 'From v2',
      artist: 'V1 Artist',
      album: 'V1 Album',
    });
    assert.deepEqual(await readTags(file(Buffer.concat([mpegFrame(), id3v1('Only', '', '')]))), { title: 'Only' });
  });
});

describe('readTags: broken and hostile files', () => {
  it('gives {} for files it cannot read, and what it read before damage', async () => {
    assert.deepEqual(await readTags(join(dir, 'missing.mp3')), {});
    assert.deepEqual(await readTags(dir), {});
    assert.deepEqual(await readTags(file(Buffer.alloc(0))), {});
    assert.deepEqual(await readTags(file(Buffer.from('ID3'))), {});
    // A tag that claims 200 MB in a file of 40 bytes; a frame that runs past the tag.
    assert.deepEqual(await readTags(file(Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0x60, 0, 0, 0]), frame('TIT2', latin1('Short')), Buffer.from('TPE1')]))), { title: 'Short' });
    assert.deepEqual(await readTags(file(id3(3, Buffer.concat([frame('TIT2', latin1('Kept')), Buffer.from('TPE1'), u32(0x7fffffff), Buffer.alloc(10)])))), { title: 'Kept' });
    // Garbage after a good frame ends the walk.
    assert.deepEqual(await readTags(file(id3(3, Buffer.concat([frame('TIT2', latin1('Good')), Buffer.from('\x01\x02garbage...')])))), { title: 'Good' });
    // ID3v2.2 compression: the tag is not read.
    assert.deepEqual(await readTags(file(id3(2, frame22('TT2', latin1('Hidden')), 0x40))), {});
  });

  it('never throws on random bytes behind an ID3 header or an MP4 box header', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('id3v3', 'id3v4', 'mp4', 'raw'), async (bytes, kind) => {
        const b = Buffer.from(bytes);
        const data = kind === 'mp4' ? Buffer.concat([box('ftyp', Buffer.from('M4A 0000')), u32(b.length + 8), Buffer.from('moov'), b]) : kind === 'raw' ? b : id3(kind === 'id3v3' ? 3 : 4, b, b[0] ?? 0);
        const tags = await readTags(file(data, kind === 'mp4' ? '.m4a' : '.mp3'));
        assert.equal(typeof tags, 'object');
      }),
      { numRuns: 150 },
    );
  });

  it('resynchronise drops the 0x00 after each 0xFF only', () => {
    assert.deepEqual(resynchronise(Buffer.from([0xff, 0x00, 0xe0, 0xff, 0x00, 0x00, 0x01, 0xff])), Buffer.from([0xff, 0xe0, 0xff, 0x00, 0x01, 0xff]));
  });
});

describe('readTags: MP4 by hand', () => {
  const data = (type: number, value: Buffer) => box('data', u32(type, 0), value);
  const item = (name: string, d: Buffer) => box(name, d);
  const meta = (full: boolean, ...children: Buffer[]) => box('meta', ...(full ? [u32(0)] : []), box('hdlr', u32(0, 0), Buffer.from('mdirappl'), Buffer.alloc(9)), ...children);

  it('reads ilst ©nam/©ART/©alb in UTF-8 and UTF-16, in ISO and QuickTime meta boxes', async () => {
    const ilst = box('ilst', item('©too', data(1, Buffer.from('Lavf'))), item('©nam', data(1, Buffer.from('Nom é', 'utf8'))), item('©ART', data(2, Buffer.from(Buffer.from('Artiste', 'utf16le')).swap16())), item('©alb', data(1, Buffer.from('Album'))));
    const movie = (full: boolean) => Buffer.concat([box('ftyp', Buffer.from('M4A 0000')), box('moov', box('mvhd', Buffer.alloc(100)), box('udta', meta(full, ilst))), box('mdat', Buffer.alloc(16))]);
    const want = { title: 'Nom é', artist: 'Artiste', album: 'Album' };
    assert.deepEqual(await readTags(file(movie(true), '.m4a')), want);
    assert.deepEqual(await readTags(file(movie(false), '.mov')), want);
  });

  it("reads QuickTime's plain udta text items when ilst lacks them", async () => {
    const text = (s: string) => Buffer.concat([Buffer.from([0, s.length, 0, 0]), Buffer.from(s)]);
    const movie = Buffer.concat([box('moov', box('udta', box('©nam', text('QT title')), box('©ART', text('QT artist')), meta(true, box('ilst', item('©nam', data(1, Buffer.from('ilst title'))))))), box('mdat')]);
    assert.deepEqual(await readTags(file(movie, '.mov')), { title: 'ilst title', artist: 'QT artist' });
  });

  it('gives what it found before a box that runs past its parent', async () => {
    const bad = Buffer.concat([u32(5000), Buffer.from('©ART'), Buffer.alloc(8)]);
    const movie = box('moov', box('udta', meta(true, box('ilst', item('©nam', data(1, Buffer.from('Before'))), bad))));
    assert.deepEqual(await readTags(file(movie, '.m4a')), { title: 'Before' });
    assert.deepEqual(await readTags(file(box('moov', box('udta', Buffer.from([0, 0, 0, 99, 0x6d]))), '.m4a')), {});
  });
});

describe('readTags: files ffmpeg writes', () => {
  const ffmpeg = promisify(execFile);
  const made: Record<string, string> = {};
  const META = ['-metadata', 'title=Sine à 440', '-metadata', 'artist=Test Tönes', '-metadata', 'album=Rivulet ♪'];
  const WANT = { title: 'Sine à 440', artist: 'Test Tönes', album: 'Rivulet ♪' };
  const make = async (name: string, args: string[]) => {
    const out = join(dir, name);
    await ffmpeg('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=f=440:d=0.5', ...args, out]);
    made[name] = out;
  };
  before(async () => {
    await Promise.all([
      make('v23.mp3', ['-c:a', 'libmp3lame', ...META, '-id3v2_version', '3']),
      make('v24.mp3', ['-c:a', 'libmp3lame', ...META, '-id3v2_version', '4']),
      make('both.mp3', ['-c:a', 'libmp3lame', '-metadata', 'title=Old Style', '-metadata', 'artist=Someone', '-write_id3v1', '1']),
      make('none.mp3', ['-c:a', 'libmp3lame', '-map_metadata', '-1', '-id3v2_version', '0']),
      make('tone.m4a', ['-c:a', 'aac', ...META]),
    ]);
  });

  it('reads ID3v2.3 (UTF-16) and ID3v2.4 (UTF-8) tags', async () => {
    assert.deepEqual(await readTags(made['v23.mp3']), WANT);
    assert.deepEqual(await readTags(made['v24.mp3']), WANT);
  });

  it('reads the ID3v1 tag ffmpeg writes, and nothing from an untagged file', async () => {
    // ffmpeg writes no ID3v1 without an ID3v2 tag: its ID3v1 tag goes behind an untagged file.
    const v1 = readFileSync(made['both.mp3']).subarray(-128);
    assert.equal(v1.toString('latin1', 0, 3), 'TAG');
    assert.deepEqual(await readTags(file(Buffer.concat([readFileSync(made['none.mp3']), v1]))), { title: 'Old Style', artist: 'Someone' });
    assert.deepEqual(await readTags(made['none.mp3']), {});
  });

  it("reads an M4A's ilst", async () => {
    assert.deepEqual(await readTags(made['tone.m4a']), WANT);
  });
});
