import assert from 'node:assert/strict';
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'sdp-transform';
import { fixture } from '../../test/helpers/fixtures.js';
import type { RtpPayload } from '../codecs/types.js';
import { createLogger } from '../logging/index.js';
import { HintError, parseHintSample } from '../media/mp4/hint.js';
import { createSampleReader, openMovie } from '../media/mp4/index.js';
import type { ChunkLayout, Mp4Movie, Mp4Track, SampleInfo, SampleReader } from '../media/mp4/types.js';
import { readRtpHeader } from '../rtp/packet.js';
import { buildSdp } from '../sdp/index.js';
import { fileOutput, FilePlayer } from './file-player.js';
import { HintReplayer } from './hint-track.js';
import { describeMovie } from './movie-stream.js';
import { Pacer } from './pacer.js';
import { MemorySink } from '../transport/test-helpers/memory-sink.js';

// ---- synthetic tracks over an in-memory "file" ---------------------------------------------

/** Distinct bytes at every position, so a slice shows where it came from. */
const FILE = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

class MemoryReader implements SampleReader {
  reads = 0;
  constructor(readonly file: Buffer) {}
  async read(info: SampleInfo): Promise<Buffer> {
    this.reads++;
    if (info.offset + info.size > this.file.length) throw new Error('beyond end of file');
    return this.file.subarray(info.offset, info.offset + info.size);
  }
  async close(): Promise<void> {}
}

interface FakeOpts {
  handler?: string;
  chunks?: ChunkLayout;
  sampleEntries?: Buffer[];
}
function fakeTrack(id: number, samples: { offset: number; size: number }[], o: FakeOpts = {}): Mp4Track {
  return {
    id,
    handler: o.handler ?? 'soun',
    timescale: 1000,
    duration: samples.length,
    codec: 'test',
    sampleCount: samples.length,
    editMediaTime: 0,
    allSync: true,
    totalBytes: samples.reduce((n, s) => n + s.size, 0),
    references: {},
    sampleEntries: o.sampleEntries,
    sample(i: number): SampleInfo {
      if (!(i >= 0 && i < samples.length)) throw new RangeError(`sample ${i}`);
      return { index: i, offset: samples[i].offset, size: samples[i].size, dts: i, cts: i, sync: true };
    },
    sampleAtDts: (d: number) => Math.max(0, Math.min(samples.length - 1, Math.floor(d))),
    syncAtOrBefore: (i: number) => i,
    chunks: o.chunks ? () => o.chunks! : undefined,
  };
}

// Hint sample building (the same layout as in src/media/mp4/hint.test.ts).
function e16(type: number, f: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(16);
  b[0] = type;
  f(b);
  return b;
}
const imm = (bytes: number[]) =>
  e16(1, (b) => {
    b[1] = bytes.length;
    Buffer.from(bytes).copy(b, 2);
  });
const smp = (ref: number, len: number, n: number, off: number, bpb = 1, spb = 1) =>
  e16(2, (b) => {
    b.writeInt8(ref, 1);
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(n, 4);
    b.writeUInt32BE(off, 8);
    b.writeUInt16BE(bpb, 12);
    b.writeUInt16BE(spb, 14);
  });
const dsc = (ref: number, len: number, idx: number, off: number) =>
  e16(3, (b) => {
    b.writeInt8(ref, 1);
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(idx, 4);
    b.writeUInt32BE(off, 8);
  });
function pkt(entries: Buffer[], o: { bits?: number; flags?: number; rtpo?: number } = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.bits ?? 0x0060, 4);
  h.writeUInt16BE((o.flags ?? 0) | (o.rtpo !== undefined ? 4 : 0), 8);
  h.writeUInt16BE(entries.length, 10);
  const parts = [h];
  if (o.rtpo !== undefined) {
    const x = Buffer.alloc(16);
    x.writeUInt32BE(16, 0);
    x.writeUInt32BE(12, 4);
    x.write('rtpo', 8, 'latin1');
    x.writeInt32BE(o.rtpo, 12);
    parts.push(x);
  }
  return Buffer.concat([...parts, ...entries]);
}
function hintSample(packets: Buffer[], trailing = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(packets.length);
  return Buffer.concat([h, ...packets, trailing]);
}
const bytes = (p: RtpPayload) => Buffer.concat(p.parts);
const at = (off: number, len: number) => FILE.subarray(off, off + len);

describe('HintReplayer', () => {
  // Media track: samples of 100 bytes at 1000, 1100, 1200.
  const media = fakeTrack(1, [0, 1, 2].map((i) => ({ offset: 1000 + 100 * i, size: 100 })), {
    sampleEntries: [Buffer.from('\x00\x00\x00\x10avc1 description', 'latin1')],
  });

  it('builds each packet from immediate, sample, self-referencing and sample description constructors', async () => {
    const trailing = Buffer.from('HINT-DATA');
    const s0 = hintSample(
      [
        pkt([imm([0xaa, 0xbb]), smp(0, 10, 2, 5), smp(-1, 4, 1, 0) /* patched below */], { bits: 0x0060, rtpo: -3600 }),
        pkt([dsc(0, 4, 1, 4), smp(0, 3, 3, 97)], { bits: 0x00e0 }),
        pkt([imm([1])], { flags: 0x1 }), // repeat: dropped
        pkt([smp(-1, 5, 2, 3)]), // bytes of the other hint sample
      ],
      trailing,
    );
    // The self reference points at this sample's trailing bytes, as a hinter would.
    const selfOff = s0.length - trailing.length;
    const fixed = Buffer.from(s0);
    fixed.set(smp(-1, 4, 1, selfOff), 4 + 12 + 16 + 16 + 16);
    const other = Buffer.from('0123456789');
    const file = Buffer.from(FILE);
    other.copy(file, 7000);
    const hint = fakeTrack(3, [{ offset: 6000, size: fixed.length }, { offset: 7000, size: other.length }], { handler: 'hint' });
    fixed.copy(file, 6000);
    const reader = new MemoryReader(file);
    const r = new HintReplayer(hint, [media]);
    const out = await r.load(hint.sample(0), fixed, reader);
    assert.equal(out.length, 3);
    assert.deepEqual(bytes(out[0]), Buffer.concat([Buffer.from([0xaa, 0xbb]), at(1105, 10), Buffer.from('HINT')]));
    assert.equal(out[0].length, 16);
    assert.equal(out[0].marker, false);
    assert.equal(out[0].timestampOffset, -3600);
    assert.deepEqual(bytes(out[1]), Buffer.concat([Buffer.from('avc1', 'latin1'), at(1297, 3)]));
    assert.equal(out[1].marker, true);
    assert.equal(out[1].timestampOffset, undefined);
    assert.deepEqual(bytes(out[2]), Buffer.from('34567'));
    for (const p of out) assert.equal(p.length, bytes(p).length);
  });

  it('reads a referenced sample once per hint sample however many packets use it', async () => {
    const reader = new MemoryReader(FILE);
    const hint = fakeTrack(3, [{ offset: 0, size: 0 }], { handler: 'hint' });
    const s = hintSample([pkt([imm([0x7c, 0x85]), smp(0, 40, 1, 0)]), pkt([imm([0x7c, 0x05]), smp(0, 40, 1, 40)]), pkt([imm([0x7c, 0x45]), smp(0, 20, 1, 80)])]);
    const out = await new HintReplayer(hint, [media]).load(hint.sample(0), s, reader);
    assert.deepEqual(Buffer.concat(out.map((p) => bytes(p).subarray(2))), at(1000, 100));
    assert.equal(reader.reads, 1);
  });

  it('reads block-addressed audio through the chunk, across chunk boundaries', async () => {
    // QuickTime 16-bit mono PCM: 1-byte "samples", 2 bytes per block, chunks of 8 at 3000 and 4000.
    const pcm = fakeTrack(2, Array.from({ length: 16 }, (_, i) => ({ offset: i < 8 ? 3000 + i : 4000 + i - 8, size: 1 })), {
      chunks: { offsets: Float64Array.from([3000, 4000]), firstSample: Float64Array.from([0, 8]), counts: Uint32Array.from([8, 8]) },
    });
    const hint = fakeTrack(3, [{ offset: 0, size: 0 }], { handler: 'hint' });
    const r = new HintReplayer(hint, [pcm]);
    const reader = new MemoryReader(FILE);
    // Sample 7 is at byte 12 of the first chunk (16 bytes long): 4 bytes there, 4 in the next.
    let [p] = await r.load(hint.sample(0), hintSample([pkt([smp(0, 8, 7, 0, 2, 1)])]), reader);
    assert.deepEqual(bytes(p), Buffer.concat([at(3012, 4), at(4000, 4)]));
    // An offset of whole blocks moves on by samples: sample 1 + 2 blocks + 1 byte.
    [p] = await r.load(hint.sample(0), hintSample([pkt([smp(0, 3, 1, 5, 2, 1)])]), reader);
    assert.deepEqual(bytes(p), at(3005, 3));
    await assert.rejects(r.load(hint.sample(0), hintSample([pkt([smp(0, 40, 1, 0, 2, 1)])]), reader), /past the last chunk/);
  });

  it('takes an RTP header extension and padding out of the payload', async () => {
    const hint = fakeTrack(3, [{ offset: 0, size: 0 }], { handler: 'hint' });
    const r = new HintReplayer(hint, [media]);
    const ext = [0xbe, 0xde, 0x00, 0x01, 9, 9, 9, 9];
    const [a] = await r.load(hint.sample(0), hintSample([pkt([imm([...ext, 1, 2, 3, 0, 0, 3])], { bits: 0x3060 })]), new MemoryReader(FILE));
    assert.deepEqual([...bytes(a)], [1, 2, 3]);
    assert.equal(a.length, 3);
    await assert.rejects(r.load(hint.sample(0), hintSample([pkt([imm([1, 2, 0])], { bits: 0x2060 })]), new MemoryReader(FILE)), HintError);
    await assert.rejects(r.load(hint.sample(0), hintSample([pkt([imm([0, 0, 0, 9])], { bits: 0x1060 })]), new MemoryReader(FILE)), HintError);
  });

  it('raises HintError for references the file does not back', async () => {
    const hint = fakeTrack(3, [{ offset: 0, size: 0 }, { offset: 0, size: 0 }], { handler: 'hint' });
    const r = new HintReplayer(hint, [media, undefined]);
    const reader = new MemoryReader(FILE);
    const cases: [Buffer, RegExp][] = [
      [smp(1, 4, 1, 0), /track reference 1/],
      [smp(5, 4, 1, 0), /track reference 5/],
      [smp(0, 4, 4, 0), /sample 4 of track 1, which has 3/],
      [smp(0, 4, 1, 97), /bytes 97-101 of sample 1 of track 1, which has 100/],
      [smp(-1, 4, 1, 0), /bytes 0-4 of sample 1 of track 3, which has 0/],
      [dsc(0, 4, 2, 0), /sample description 2 of track 1/],
      [dsc(0, 40, 1, 0), /past the end of sample description 1/],
    ];
    for (const [c, why] of cases) await assert.rejects(r.load(hint.sample(1), hintSample([pkt([c])]), reader), (e: unknown) => e instanceof HintError && why.test(e.message));
    await assert.rejects(r.load(hint.sample(1), Buffer.from([0, 9, 0, 0]), reader), HintError);
  });
});

// ---- describeMovie on hinted files ----------------------------------------------------------

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rivulet-hint-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of a fixture with `from` replaced by `to` at its `nth` occurrence (0-based). */
async function patched(name: string, from: string, to: string, nth = 0): Promise<string> {
  const buf = await readFile(await fixture(name));
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = buf.indexOf(from, at + 1, 'latin1');
    assert.ok(at >= 0, `'${from}' #${nth} in ${name}`);
  }
  buf.write(to, at, 'latin1');
  const out = join(dir, `${nth}-${from.replace(/\W/g, '')}-${name}`);
  await writeFile(out, buf);
  return out;
}

describe('describeMovie with hint tracks', () => {
  let movie: Mp4Movie;
  before(async () => {
    movie = await openMovie(await fixture('hinted-h264-aac.mp4'));
  });

  it('streams the hint tracks by default, with the formats their SDP text gives', () => {
    const p = describeMovie(movie);
    assert.deepEqual(
      p.tracks.map((t) => [t.description.id, t.kind, t.mp4.handler, t.clockRate, t.description.format.encodingName, t.description.format.payloadType]),
      [
        [3, 'video', 'hint', 90000, 'H264', 96],
        [4, 'audio', 'hint', 48000, 'MPEG4-GENERIC', 97],
      ],
    );
    assert.equal(p.tracks[0].description.control, 'trackID=3');
    assert.equal(p.tracks[0].description.format.fmtp['packetization-mode'], '1');
    assert.equal(p.tracks[1].description.format.channels, 2);
    assert.equal(p.tracks[0].description.width, 320);
    assert.ok(p.tracks.every((t) => typeof t.load === 'function'));
    assert.deepEqual(p.skipped, []);
    assert.equal(p.stream.sessionSdp, undefined, 'ffmpeg writes no movie-level SDP');
  });

  it("writes the hint track's media sections with our session lines and control URLs", () => {
    const sdp = buildSdp(describeMovie(movie, 'clip.mp4').stream, { serverAddress: '192.0.2.1' });
    const s = parse(sdp);
    assert.equal(s.origin?.address, '192.0.2.1');
    assert.equal(s.name, 'clip.mp4');
    assert.equal(s.control, '*');
    assert.ok(/a=range:npt=0-12\.0\d\d\r\n/.test(sdp), sdp);
    assert.deepEqual(s.media.map((m) => m.control), ['trackID=3', 'trackID=4']);
    assert.ok(!sdp.includes('streamid='), 'the file\'s own control lines are replaced');
    // The hinter's fmtp text is kept as written (spaces after ';' included).
    const text = movie.tracks[2].hintSdp!;
    const fmtp = /a=fmtp:96 (.*)\r\n/.exec(text)![1];
    assert.ok(sdp.includes(`a=fmtp:96 ${fmtp}\r\n`));
    assert.ok(sdp.includes('a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n'));
    assert.ok(sdp.includes('b=AS:320\r\n'));
  });

  it('packetizes natively with preferHintTracks false, listing the unused hint tracks', () => {
    const p = describeMovie(movie, 'x', { preferHintTracks: false });
    assert.deepEqual(p.tracks.map((t) => [t.description.id, t.mp4.handler, 'load' in t]), [
      [1, 'vide', false],
      [2, 'soun', false],
    ]);
    assert.deepEqual(p.skipped.map((s) => [s.id, s.reason]), [
      [3, 'hint track of track 1 not used: vod.preferHintTracks is false'],
      [4, 'hint track of track 2 not used: vod.preferHintTracks is false'],
    ]);
  });

  it('falls back to native packetizing for a broken hint track and says why', async () => {
    // Video hint track: its 'rtp ' entry loses 'tims'. Audio hint track: its SDP loses the m= line.
    const file = await patched('hinted-h264-aac.mp4', 'tims', 'xims');
    const both = join(dir, 'both-broken.mp4');
    const buf = await readFile(file);
    const m = buf.indexOf('m=audio', 0, 'latin1');
    buf.write('x=audio', m, 'latin1');
    await writeFile(both, buf);
    const p = describeMovie(await openMovie(both));
    assert.deepEqual(p.tracks.map((t) => [t.description.id, t.mp4.handler]), [
      [1, 'vide'],
      [2, 'soun'],
    ]);
    assert.deepEqual(p.skipped.map((s) => [s.id, s.reason]), [
      [3, "broken RTP hint track for track 1 (the 'rtp ' sample entry has no RTP timescale ('tims')); track 1 is packetized natively instead"],
      [4, 'broken RTP hint track for track 2 (unusable SDP text: the SDP describes no RTP/AVP audio or video); track 2 is packetized natively instead'],
    ]);
  });

  it('reports a hint track whose SDP clock rate contradicts its timescale as broken', async () => {
    const p = describeMovie(await openMovie(await patched('hinted-h264-aac.mp4', 'H264/90000', 'H264/80000')));
    assert.deepEqual(p.tracks.map((t) => t.description.id), [1, 4]);
    assert.match(p.skipped[0].reason, /SDP clock rate 80000 differs from the RTP timescale 90000/);
  });

  it('streams a codec Rivulet cannot packetize from its hint track, even when native is preferred', async () => {
    const mj = await openMovie(await fixture('hinted-mjpeg.mov'));
    for (const preferHintTracks of [true, false]) {
      const p = describeMovie(mj, 'x', { preferHintTracks });
      assert.deepEqual(p.tracks.map((t) => [t.description.id, t.mp4.handler, t.description.format.encodingName, t.description.format.payloadType]), [[2, 'hint', 'JPEG', 26]]);
    }
  });

  it('merges a movie-level hnti SDP text into the session, keeping our own lines', () => {
    const fake = { ...movie, hintSdp: 'v=0\r\no=QTS 1 1 IN IP4 10.0.0.1\r\ns=Old title\r\ni=A hinted movie\r\nu=http://example.com/\r\ne=admin@example.com\r\nc=IN IP4 10.0.0.1\r\nt=1 2\r\na=range:npt=0-99\r\na=control:*\r\na=x-copyright: MMXXVI\r\n' };
    const p = describeMovie(fake, 'clip.mp4');
    const sdp = buildSdp(p.stream, { serverAddress: '192.0.2.1' });
    const s = parse(sdp);
    assert.equal(s.name, 'clip.mp4');
    assert.equal(s.description, 'A hinted movie');
    assert.equal(s.uri, 'http://example.com/');
    assert.equal(s.email, 'admin@example.com');
    assert.equal(s.connection?.ip, '0.0.0.0');
    assert.equal(s.timing?.start, 0);
    assert.equal(s.origin?.address, '192.0.2.1');
    assert.ok(sdp.includes('a=x-copyright: MMXXVI\r\n'));
    assert.equal(sdp.match(/a=range:/g)?.length, 1);
    assert.ok(!sdp.includes('npt=0-99'));
    assert.equal(sdp.match(/a=control:\*/g)?.length, 1);
  });
});

// ---- the player with hint tracks -------------------------------------------------------------

describe('FilePlayer replaying hint tracks', () => {
  it('skips the packets of malformed hint samples with one log line and plays the rest', async () => {
    const src = await fixture('hinted-h264-aac.3gp');
    const copy = join(dir, 'bad-samples.3gp');
    await copyFile(src, copy);
    const movie = await openMovie(copy);
    const hint = movie.tracks.find((t) => t.id === 4)!;
    // Audio hint samples 3-5: a packet count far beyond the sample.
    const fh = await open(copy, 'r+');
    for (const i of [2, 3, 4]) await fh.write(Buffer.from([0xff, 0xff]), 0, 2, hint.sample(i).offset);
    await fh.close();
    const pres = describeMovie(movie);
    const logs: string[] = [];
    const pacer = new Pacer(5);
    const sinks = pres.tracks.map(() => new MemorySink());
    const player = new FilePlayer({
      tracks: pres.tracks.map((vod, i) => ({ vod, output: fileOutput(vod, sinks[i], 't') })),
      duration: movie.duration,
      reader: createSampleReader(copy),
      pacer,
      log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
      sendAhead: 10,
    });
    const ended = new Promise<string>((r) => player.once('end', r));
    player.play({ start: 0, end: 1.5 });
    assert.equal(await ended, 'end of stream');
    pacer.stop();
    player.close();
    const warned = logs.filter((l) => l.includes('malformed hint sample'));
    assert.equal(warned.length, 1, logs.join(''));
    assert.match(warned[0], /track=4 sample=3/);
    // Audio: the packets of every hint sample in the range but the three broken ones.
    const original = await readFile(src);
    let expected = 0;
    for (let i = 0; i < hint.sampleCount; i++) {
      const s = hint.sample(i);
      if (s.dts / hint.timescale < 1.5 && ![2, 3, 4].includes(i)) expected += parseHintSample(original.subarray(s.offset, s.offset + s.size)).length;
    }
    assert.ok(expected > 0);
    assert.equal(sinks[1].rtp.length, expected);
    assert.ok(sinks[0].rtp.length > 20, 'video plays on');
    for (const p of [...sinks[0].rtp, ...sinks[1].rtp]) assert.ok(readRtpHeader(p));
  });
});
