import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { ffprobe } from '../../../test/helpers/run.js';
import { tempDir } from '../../../test/helpers/server.js';
import { clearAudioCache, openMedia, sniffMedia } from '../open-media.js';
import { Mp4Error } from '../mp4/types.js';
import { openAiff, readExtended } from './aiff.js';
import { openAu } from './au.js';
import { Mp3Track, openMp3 } from './mp3.js';
import { openWav } from './wav.js';

const tmp = tempDir('rivulet-audio-');
after(() => tmp.cleanup());
let n = 0;
function file(bytes: Buffer, ext: string): string {
  const p = join(tmp.dir, `f${n++}${ext}`);
  writeFileSync(p, bytes);
  return p;
}

function le32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
function chunkLE(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'latin1'), le32(body.length), body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}
function chunkBE(id: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'latin1'), be32(body.length), body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}
function fmtChunk(tag: number, channels: number, rate: number, bits: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(16);
  const align = channels * Math.ceil(bits / 8);
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * align, 8);
  b.writeUInt16LE(align, 12);
  b.writeUInt16LE(bits, 14);
  return chunkLE('fmt ', Buffer.concat([b, extra]));
}
function riff(form: string, ...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from(form, 'latin1'), ...chunks]);
  return Buffer.concat([Buffer.from('RIFF'), le32(body.length), body]);
}

describe('openWav', () => {
  it('finds 16-bit stereo PCM after other chunks (odd sizes padded) and reports it as sowt', async () => {
    const data = Buffer.alloc(4 * 1000, 7);
    const wav = riff('WAVE', chunkLE('LIST', Buffer.alloc(5)), fmtChunk(1, 2, 44100, 16), chunkLE('data', data));
    const m = await openWav(file(wav, '.wav'));
    const t = m.tracks[0];
    assert.deepEqual([m.brand, t.codec, t.channels, t.sampleRate, t.timescale, t.sampleCount, t.sound?.sampleSize], ['wav', 'sowt', 2, 44100, 44100, 1000, 16]);
    assert.equal(m.duration, 1000 / 44100);
    // RIFF(12) + LIST(8 + 5 + 1 pad) + fmt(8 + 16) + data header(8).
    assert.deepEqual(t.sample(0), { index: 0, offset: 12 + 14 + 24 + 8, size: 4, dts: 0, cts: 0, sync: true });
    assert.deepEqual(t.chunks!(), { offsets: Float64Array.from([58]), firstSample: Float64Array.from([0]), counts: Uint32Array.from([1000]) });
  });

  it('maps 8-bit, 24-bit, µ-law, A-law, float and WAVE_FORMAT_EXTENSIBLE', async () => {
    const codec = async (tag: number, bits: number, extra?: Buffer<ArrayBufferLike>) => {
      const t = (await openWav(file(riff('WAVE', fmtChunk(tag, 1, 8000, bits, extra), chunkLE('data', Buffer.alloc(48))), '.wav'))).tracks[0];
      return [t.codec, t.sound?.sampleSize, t.sound?.formatFlags, t.sampleCount];
    };
    assert.deepEqual(await codec(1, 8), ['raw ', 8, undefined, 48]);
    assert.deepEqual(await codec(1, 24), ['lpcm', 24, 4, 16]);
    assert.deepEqual(await codec(7, 8), ['ulaw', 8, undefined, 48]);
    assert.deepEqual(await codec(6, 8), ['alaw', 8, undefined, 48]);
    assert.deepEqual(await codec(3, 32), ['lpcm', 32, 1, 12]);
    // cbSize, validBits, channelMask, SubFormat GUID starting with the real tag (PCM).
    const ext = Buffer.concat([Buffer.from([22, 0, 16, 0]), le32(4), Buffer.from([1, 0]), Buffer.alloc(14)]);
    assert.deepEqual(await codec(0xfffe, 16, ext), ['sowt', 16, undefined, 24]);
  });

  it('reads to the end of the file when the data size is 0 or unknown, and RF64 sizes from ds64', async () => {
    const streamed = riff('WAVE', fmtChunk(1, 1, 8000, 16), Buffer.from('data'), le32(0xffffffff), Buffer.alloc(100));
    assert.equal((await openWav(file(streamed, '.wav'))).tracks[0].sampleCount, 50);
    const ds64 = chunkLE('ds64', Buffer.concat([Buffer.alloc(8), Buffer.from([60, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8)]));
    const body = Buffer.concat([Buffer.from('WAVE'), ds64, fmtChunk(1, 1, 8000, 16), Buffer.from('data'), le32(0xffffffff), Buffer.alloc(100)]);
    const rf64 = Buffer.concat([Buffer.from('RF64'), le32(0xffffffff), body]);
    assert.equal((await openWav(file(rf64, '.wav'))).tracks[0].sampleCount, 30);
  });

  it('rejects files without fmt or data', async () => {
    await assert.rejects(openWav(file(riff('WAVE', chunkLE('data', Buffer.alloc(4))), '.wav')), /no fmt chunk/);
    await assert.rejects(openWav(file(riff('WAVE', fmtChunk(1, 1, 8000, 16)), '.wav')), /no data chunk/);
    await assert.rejects(openWav(file(Buffer.from('RIFF\0\0\0\0AVI '), '.wav')), Mp4Error);
  });

  it('matches ffprobe on an ffmpeg-made file', async () => {
    const path = await fixture('tone-s16le.wav');
    const m = await openWav(path);
    const p = await ffprobe(path);
    assert.ok(Math.abs(m.duration - Number(p.format.duration)) < 0.001);
    assert.equal(m.tracks[0].channels, 2);
  });
});

/** 80-bit IEEE extended, big endian. */
function extended(v: number): Buffer {
  const b = Buffer.alloc(10);
  const e = Math.floor(Math.log2(v));
  b.writeUInt16BE(16383 + e, 0);
  const mant = BigInt(Math.round(v * 2 ** (63 - e)));
  b.writeBigUInt64BE(mant, 2);
  return b;
}
function comm(channels: number, frames: number, bits: number, rate: number, compression?: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(channels, 0);
  b.writeUInt32BE(frames, 2);
  b.writeUInt16BE(bits, 6);
  const parts = [b, extended(rate)];
  if (compression) parts.push(Buffer.from(compression, 'latin1'), Buffer.from([0, 0]));
  return chunkBE('COMM', Buffer.concat(parts));
}
function form(type: string, ...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from(type), ...chunks]);
  return Buffer.concat([Buffer.from('FORM'), be32(body.length), body]);
}

describe('openAiff', () => {
  it('decodes the 80-bit rate', () => {
    assert.equal(readExtended(Buffer.from('400eac44000000000000', 'hex'), 0), 44100);
    assert.equal(readExtended(extended(22254.545454), 0).toFixed(3), '22254.545');
  });

  it('reads AIFF: COMM, then SSND with its offset', async () => {
    const ssnd = chunkBE('SSND', Buffer.concat([be32(4), be32(0), Buffer.alloc(4), Buffer.alloc(2 * 2 * 100)]));
    const m = await openAiff(file(form('AIFF', comm(2, 100, 16, 44100), chunkBE('ANNO', Buffer.from('x')), ssnd), '.aiff'));
    const t = m.tracks[0];
    assert.deepEqual([m.brand, t.codec, t.channels, t.sampleRate, t.sampleCount, t.sound?.sampleSize], ['aiff', 'twos', 2, 44100, 100, 16]);
    // FORM(12) + COMM(8 + 18) + ANNO(8 + 1 + 1) + SSND header (8) + offset/blockSize (8) + offset 4.
    assert.equal(t.sample(0).offset, 12 + 26 + 10 + 8 + 8 + 4);
  });

  it('maps AIFF-C compression types', async () => {
    const codec = async (c: string, bits: number) => {
      const ssnd = chunkBE('SSND', Buffer.concat([be32(0), be32(0), Buffer.alloc(64)]));
      const t = (await openAiff(file(form('AIFC', comm(1, 16, bits, 8000, c), ssnd), '.aifc'))).tracks[0];
      return [t.codec, t.sound?.sampleSize, t.sampleCount];
    };
    assert.deepEqual(await codec('sowt', 16), ['sowt', 16, 16]);
    assert.deepEqual(await codec('NONE', 16), ['twos', 16, 16]);
    assert.deepEqual(await codec('ulaw', 16), ['ulaw', 8, 16], 'µ-law claims 16 bits but stores 8');
    assert.deepEqual(await codec('ALAW', 16), ['alaw', 8, 16]);
    assert.deepEqual((await codec('ima4', 16))[0], 'ima4');
  });

  it('matches ffprobe on an ffmpeg-made file', async () => {
    const path = await fixture('tone-s16be.aiff');
    const m = await openAiff(path);
    assert.ok(Math.abs(m.duration - Number((await ffprobe(path)).format.duration)) < 0.001);
    assert.equal(m.tracks[0].sampleRate, 22050);
  });
});

describe('openAu', () => {
  function au(encoding: number, rate: number, channels: number, data: Buffer, size = data.length): Buffer {
    return Buffer.concat([Buffer.from('.snd'), be32(32), be32(size), be32(encoding), be32(rate), be32(channels), Buffer.from('annotate'), data]);
  }

  it('reads µ-law, linear and A-law, with the data offset of the header', async () => {
    const t = (await openAu(file(au(1, 8000, 1, Buffer.alloc(160)), '.au'))).tracks[0];
    assert.deepEqual([t.codec, t.sampleRate, t.channels, t.sampleCount, t.sample(1).offset], ['ulaw', 8000, 1, 160, 33]);
    const l16 = (await openAu(file(au(3, 16000, 2, Buffer.alloc(400)), '.au'))).tracks[0];
    assert.deepEqual([l16.codec, l16.sound?.sampleSize, l16.sampleCount], ['twos', 16, 100]);
    assert.equal((await openAu(file(au(27, 8000, 1, Buffer.alloc(8)), '.au'))).tracks[0].codec, 'alaw');
  });

  it('reads to the end of the file when the size is unknown', async () => {
    const t = (await openAu(file(au(1, 8000, 1, Buffer.alloc(90), 0xffffffff), '.au'))).tracks[0];
    assert.equal(t.sampleCount, 90);
  });

  it('matches ffprobe on an ffmpeg-made file', async () => {
    const path = await fixture('tone-mulaw.au');
    const m = await openAu(path);
    assert.ok(Math.abs(m.duration - Number((await ffprobe(path)).format.duration)) < 0.001);
  });
});

/** MPEG-1 Layer III 128 kbit/s 44.1 kHz stereo (417 bytes, 418 with padding). */
function mp3Frame(fill: number, padded = false): Buffer {
  const f = Buffer.alloc(padded ? 418 : 417, fill);
  Buffer.from([0xff, 0xfb, padded ? 0x92 : 0x90, 0x44]).copy(f);
  return f;
}

describe('openMp3', () => {
  it('skips ID3v2, the Info frame and garbage between frames, and stops at ID3v1', async () => {
    const id3 = Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 1, 0]), Buffer.alloc(128)]);
    const info = mp3Frame(0);
    info.write('Info', 4 + 32, 'latin1');
    const frames = [mp3Frame(1), mp3Frame(2, true), mp3Frame(3)];
    const junk = Buffer.from([0xff, 0x00, 0x12, 0xff, 0xfb]);
    const tag = Buffer.concat([Buffer.from('TAG'), Buffer.alloc(125)]);
    const bytes = Buffer.concat([id3, info, frames[0], frames[1], junk, frames[2], mp3Frame(4), tag]);
    const m = await openMp3(file(bytes, '.mp3'));
    const t = m.tracks[0] as Mp3Track;
    assert.equal(t.codec, '.mp3');
    assert.equal(t.sampleCount, 4);
    const start = id3.length + info.length;
    assert.deepEqual([0, 1, 2, 3].map((i) => [t.sample(i).offset, t.sample(i).size, t.sample(i).dts]), [
      [start, 417, 0],
      [start + 417, 418, 1152],
      [start + 417 + 418 + junk.length, 417, 2304],
      [start + 417 + 418 + junk.length + 417, 417, 3456],
    ]);
    assert.equal(m.duration, (4 * 1152) / 44100);
    assert.equal(t.sampleAtDts(1152 * 2.5), 2);
  });

  it('drops a last frame cut short and rejects files without frames', async () => {
    const t = (await openMp3(file(Buffer.concat([mp3Frame(1), mp3Frame(2), mp3Frame(3).subarray(0, 100)]), '.mp3'))).tracks[0];
    assert.equal(t.sampleCount, 2);
    await assert.rejects(openMp3(file(Buffer.alloc(5000, 0x41), '.mp3')), /no MPEG audio frames/);
  });

  it('indexes an ffmpeg-made MP3 to within a frame of ffprobe', async () => {
    const path = await fixture('tone.mp3');
    const m = await openMp3(path);
    const p = await ffprobe(path);
    assert.ok(Math.abs(m.duration - Number(p.format.duration)) < 0.03, `${m.duration} vs ${p.format.duration}`);
    assert.deepEqual([m.tracks[0].sampleRate, m.tracks[0].channels], [44100, 2]);
  });
});

describe('openMedia', () => {
  it('sniffs files by content, using the name only for MPEG audio without a tag', () => {
    assert.equal(sniffMedia(Buffer.from('\0\0\0\x20ftypisom')), 'mp4');
    assert.equal(sniffMedia(Buffer.from('\0\0\0\x08wide\0\0\0\0mdat')), 'mp4');
    assert.equal(sniffMedia(Buffer.from('RIFF\0\0\0\0WAVEfmt ')), 'wav');
    assert.equal(sniffMedia(Buffer.from('RIFF\0\0\0\0AVI LIST')), 'avi');
    assert.equal(sniffMedia(Buffer.from('FORM\0\0\0\0AIFCFVER')), 'aiff');
    assert.equal(sniffMedia(Buffer.from('.snd\0\0\0\x18')), 'au');
    assert.equal(sniffMedia(Buffer.from('MThd\0\0\0\x06')), 'midi');
    assert.equal(sniffMedia(Buffer.from('ID3\x04\0\0')), 'mp3');
    assert.equal(sniffMedia(Buffer.from([0xff, 0xfb, 0x90, 0x44])), 'mp3');
    assert.equal(sniffMedia(Buffer.from('garbage!'), '.mp3'), 'mp3');
    assert.equal(sniffMedia(Buffer.from('garbage!'), '.mp4'), 'unknown');
  });

  it('opens each kind, caches the result, and re-reads a changed file', async () => {
    clearAudioCache();
    const p = file(Buffer.concat([mp3Frame(1), mp3Frame(2)]), '.bin');
    const a = await openMedia(p);
    assert.equal(a.brand, 'mp3');
    assert.equal(await openMedia(p), a, 'cached');
    appendFileSync(p, mp3Frame(3));
    const b = await openMedia(p);
    assert.notEqual(b, a);
    assert.equal(b.tracks[0].sampleCount, 3);
    assert.equal((await openMedia(await fixture('aac-only.m4a'))).brand, 'mp4');
  });

  it('says why MIDI, AVI and unknown files are not streamed', async () => {
    await assert.rejects(openMedia(file(Buffer.from('MThd\0\0\0\x06\0\0\0\x01\0\x60'), '.mid')), (e: Error) => e instanceof Mp4Error && /RTP MIDI/.test(e.message));
    await assert.rejects(openMedia(file(riff('AVI ', chunkLE('LIST', Buffer.alloc(4))), '.avi')), /AVI files are not read/);
    await assert.rejects(openMedia(file(Buffer.from('just some text, nothing else'), '.txt')), Mp4Error);
  });
});
