import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { fixture, recipes } from '../../../test/helpers/fixtures.js';
import { MAX_MOOV_SIZE, openMovie, parseMoov } from './reader.js';
import { box, fullBox, ftyp, moov, u32, u64, type SynthTrack } from './test-helpers/build-boxes.js';
import { probe } from './test-helpers/probe.js';
import { Mp4Error, type Mp4Track } from './types.js';

/** ffprobe codec name → the sample entry four-cc the reader must report. */
const CODEC: Record<string, string> = {
  h264: 'avc1',
  aac: 'mp4a',
  hevc: 'hvc1',
  mpeg4: 'mp4v',
  h263: 's263',
  mjpeg: 'jpeg',
  mp3: 'mp4a',
  opus: 'Opus',
  adpcm_ima_qt: 'ima4',
  pcm_s16be: 'twos',
  pcm_s16le: 'sowt',
  pcm_s24le: 'in24',
  pcm_f32le: 'fl32',
  pcm_u8: 'raw ',
  pcm_mulaw: 'ulaw',
  pcm_alaw: 'alaw',
  unknown: 'rtp ',
};
/** Uncompressed audio: ffmpeg's reader regroups the one-frame samples into larger packets. */
const REGROUPED = new Set(Object.keys(CODEC).filter((c) => c.startsWith('pcm_')));

/** For regrouped audio: every ffmpeg packet starts on one of the track's samples at that
 * sample's time, and packets and samples cover exactly the same bytes. */
function assertRegrouped(t: Mp4Track, packets: { pos: number; size: number; dts: number }[]): void {
  const byOffset = new Map<number, number>();
  const ranges: [number, number][] = [];
  for (let i = 0; i < t.sampleCount; i++) {
    const x = t.sample(i);
    byOffset.set(x.offset, x.dts - t.editMediaTime);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === x.offset) last[1] += x.size;
    else ranges.push([x.offset, x.offset + x.size]);
  }
  const covered: [number, number][] = [];
  for (const p of packets) {
    assert.equal(byOffset.get(p.pos), p.dts, `track ${t.id}: packet at ${p.pos} starts a sample at its dts`);
    const last = covered[covered.length - 1];
    if (last && last[1] === p.pos) last[1] += p.size;
    else covered.push([p.pos, p.pos + p.size]);
  }
  assert.deepEqual(covered, ranges, `track ${t.id} bytes`);
}

function video(t: Mp4Track[]): Mp4Track {
  return t.find((x) => x.handler === 'vide')!;
}
function audio(t: Mp4Track[]): Mp4Track {
  return t.find((x) => x.handler === 'soun')!;
}

describe('openMovie matches ffprobe on every fixture', () => {
  // Only ISO-BMFF / QuickTime files; audio-only formats (.mp3, .wav, .au, .aiff) have readers of
  // their own.
  for (const name of Object.keys(recipes).filter((n) => /\.(mp4|mov|3gp|m4a)$/.test(n))) {
    it(name, async () => {
      const file = await fixture(name);
      const [movie, ref] = await Promise.all([openMovie(file), probe(file)]);
      assert.equal(movie.path, file);
      assert.equal(movie.tracks.length, ref.streams.length);
      assert.deepEqual(movie.skippedTracks, []);
      assert.equal(movie.fragmented, false);
      assert.ok(Math.abs(movie.duration - ref.duration) < 0.05, `duration ${movie.duration} vs ${ref.duration}`);
      for (const s of ref.streams) {
        const t = movie.tracks[s.index];
        assert.ok(s.codec in CODEC, `${name}: add ffprobe codec '${s.codec}' (reader says '${t.codec}') to CODEC`);
        assert.equal(t.codec, CODEC[s.codec]);
        assert.equal(t.timescale, s.timeBase);
        if (REGROUPED.has(s.codec)) {
          assertRegrouped(
            t,
            ref.packets.filter((p) => p.stream === s.index),
          );
          continue;
        }
        // Sample-exact for everything ffmpeg packetizes one sample per packet.
        // ffmpeg flags every packet of a data stream (an RTP hint track) as a keyframe, whatever
        // its stss says, so sync flags are compared for media tracks only. ffmpeg's hinter also
        // ends an audio hint track with a zero-duration sample, which ffmpeg's reader drops when
        // the edit list (rounded to the movie timescale) ends exactly where that sample starts.
        const media = s.codec !== 'unknown';
        const extra = !media && t.sampleCount === s.packets + 1 ? 1 : 0;
        assert.equal(t.sampleCount - extra, s.packets);
        // ffprobe lists a stream's packets in decode order with the edit list shift applied.
        const expected = ref.packets
          .filter((p) => p.stream === s.index)
          .map((p) => [p.pos, p.size, p.dts, p.pts, media ? p.key : null]);
        const actual = Array.from({ length: t.sampleCount - extra }, (_, i) => {
          const x = t.sample(i);
          return [x.offset, x.size, x.dts - t.editMediaTime, x.cts - t.editMediaTime, media ? x.sync : null];
        });
        assert.deepEqual(actual, expected, `track ${t.id} samples`);
        assert.equal(
          t.totalBytes - (extra ? t.sample(t.sampleCount - 1).size : 0),
          expected.reduce((sum, p) => sum + (p[1] as number), 0),
        );
      }
    });
  }
});

describe('openMovie fixture facts', () => {
  it('reads the faststart file: brand, tracks, codecs, dimensions, audio format', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    assert.equal(movie.brand, 'mp4');
    assert.equal(movie.tracks.length, 2);
    const v = video(movie.tracks);
    const a = audio(movie.tracks);
    assert.equal(v.codec, 'avc1');
    assert.equal(v.timescale, 12800);
    assert.equal(v.sampleCount, 250);
    assert.equal(v.width, 320);
    assert.equal(v.height, 240);
    assert.ok(v.avcC && v.avcC.length > 7);
    assert.equal(v.allSync, false);
    assert.equal(a.codec, 'mp4a');
    assert.equal(a.timescale, 44100);
    assert.equal(a.channels, 2);
    assert.equal(a.sampleRate, 44100);
    assert.equal(a.esds?.objectTypeIndication, 0x40);
    assert.deepEqual([...a.esds.decoderSpecificInfo.subarray(0, 2)], [0x12, 0x10]);
    assert.ok(a.esds.avgBitrate > 80_000 && a.esds.avgBitrate < 110_000);
    assert.equal(a.allSync, true);
    assert.ok(Object.isFrozen(movie) && Object.isFrozen(movie.tracks) && Object.isFrozen(v));
  });

  it('finds a moov stored after mdat and gives the same tables', async () => {
    const [start, end] = await Promise.all([
      openMovie(await fixture('h264-aac-faststart.mp4')),
      openMovie(await fixture('h264-aac-moovend.mp4')),
    ]);
    assert.equal(end.tracks.length, 2);
    for (let k = 0; k < 2; k++) {
      const a = start.tracks[k];
      const b = end.tracks[k];
      assert.equal(a.sampleCount, b.sampleCount);
      for (let i = 0; i < a.sampleCount; i++) {
        const x = a.sample(i);
        const y = b.sample(i);
        assert.deepEqual({ ...x, offset: 0 }, { ...y, offset: 0 });
      }
    }
    assert.ok(end.tracks[0].sample(0).offset < start.tracks[0].sample(0).offset, 'mdat precedes moov');
  });

  it('reads B-frame composition offsets and the edit list', async () => {
    const movie = await openMovie(await fixture('h264-high-bframes.mp4'));
    const v = video(movie.tracks);
    assert.ok(v.editMediaTime > 0);
    let reordered = 0;
    for (let i = 0; i < v.sampleCount; i++) {
      const s = v.sample(i);
      if (s.cts !== s.dts) reordered++;
      assert.ok(s.cts >= s.dts, 'ffmpeg writes non-negative offsets');
    }
    assert.ok(reordered > 0);
    assert.equal(v.sample(0).cts - v.editMediaTime, 0, 'the edit makes the first frame present at 0');
    assert.equal(audio(movie.tracks).editMediaTime, 1024, 'AAC encoder priming');
  });

  it('finds sync samples: first is sync, syncAtOrBefore steps back to the GOP start', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    const v = video(movie.tracks);
    assert.equal(v.sample(0).sync, true);
    const syncs = Array.from({ length: v.sampleCount }, (_, i) => i).filter((i) => v.sample(i).sync);
    assert.deepEqual(syncs, [0, 50, 100, 150, 200], '-g 50');
    assert.equal(v.syncAtOrBefore(0), 0);
    assert.equal(v.syncAtOrBefore(49), 0);
    assert.equal(v.syncAtOrBefore(50), 50);
    assert.equal(v.syncAtOrBefore(75), 50);
    assert.equal(v.syncAtOrBefore(249), 200);
    const a = audio(movie.tracks);
    assert.equal(a.syncAtOrBefore(17), 17, 'every audio sample is sync');
  });

  it('maps decode times to samples', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    const v = video(movie.tracks);
    assert.equal(v.sampleAtDts(0), 0);
    assert.equal(v.sampleAtDts(-100), 0);
    assert.equal(v.sampleAtDts(512 * 10), 10);
    assert.equal(v.sampleAtDts(512 * 10 + 511), 10);
    assert.equal(v.sampleAtDts(1e15), 249);
    const a = audio(movie.tracks);
    for (const i of [0, 1, 100, 431]) {
      const s = a.sample(i);
      assert.equal(a.sampleAtDts(s.dts), i);
      if (i > 0) assert.equal(a.sampleAtDts(s.dts - 1), i - 1);
    }
  });

  it('throws RangeError for sample indexes outside the track', async () => {
    const movie = await openMovie(await fixture('aac-only.m4a'));
    const a = movie.tracks[0];
    assert.throws(() => a.sample(-1), RangeError);
    assert.throws(() => a.sample(a.sampleCount), RangeError);
    assert.throws(() => a.sample(1.5), RangeError);
    assert.throws(() => a.syncAtOrBefore(a.sampleCount), RangeError);
  });

  it('reads QuickTime .mov (sound description v1 with esds inside wave)', async () => {
    const movie = await openMovie(await fixture('h264-aac.mov'));
    assert.equal(movie.brand, 'mov');
    assert.deepEqual(
      movie.tracks.map((t) => t.codec),
      ['avc1', 'mp4a'],
    );
    const a = audio(movie.tracks);
    assert.equal(a.channels, 2);
    assert.equal(a.sampleRate, 44100);
    assert.deepEqual([...a.esds!.decoderSpecificInfo.subarray(0, 2)], [0x12, 0x10]);
  });

  it('reads 3GP with the channel count from the AudioSpecificConfig', async () => {
    const movie = await openMovie(await fixture('h264-aac.3gp'));
    assert.equal(movie.brand, '3gp');
    const v = video(movie.tracks);
    assert.equal(v.width, 176);
    assert.equal(v.height, 144);
    const a = audio(movie.tracks);
    assert.equal(a.timescale, 16000);
    assert.equal(a.sampleRate, 16000);
    assert.equal(a.channels, 1);
  });

  it('reads H.265 with its hvcC', async () => {
    const movie = await openMovie(await fixture('h265-aac.mp4'));
    const v = video(movie.tracks);
    assert.equal(v.codec, 'hvc1');
    assert.ok(v.hvcC && v.hvcC.length > 23);
    assert.equal(v.avcC, undefined);
  });

  it('reads MPEG-4 Part 2 video with its esds', async () => {
    const movie = await openMovie(await fixture('mp4v-only.mp4'));
    assert.equal(movie.tracks.length, 1);
    assert.equal(movie.tracks[0].codec, 'mp4v');
    assert.equal(movie.tracks[0].esds?.objectTypeIndication, 0x20);
  });
});

describe('openMovie on hand-built files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rivulet-mp4-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  let n = 0;
  async function write(...parts: Buffer[]): Promise<string> {
    const p = join(dir, `f${n++}.mp4`);
    await writeFile(p, Buffer.concat(parts));
    return p;
  }

  const simple: SynthTrack = { id: 1, sizes: [10, 20, 30], stsc: [[1, 3]], chunkOffsets: [100] };

  it('parses tref (hint), elst v1 after an empty edit, negative v1 ctts, stss', async () => {
    const hinted: SynthTrack = {
      id: 7,
      sizes: [5, 6, 7, 8],
      stsc: [
        [1, 1],
        [3, 2],
      ],
      chunkOffsets: [1000, 2000, 3000],
      stts: [
        [1, 100],
        [3, 200],
      ],
      ctts: {
        version: 1,
        runs: [
          [1, 200],
          [2, -100 >>> 0],
          [1, 0],
        ],
      },
      stss: [1, 3],
      elst: {
        version: 1,
        entries: [
          [500, -1],
          [1000, 200],
        ],
      },
    };
    const hint: SynthTrack = {
      id: 8,
      handler: 'hint',
      codec: 'rtp ',
      sizes: [40],
      stsc: [[1, 1]],
      chunkOffsets: [5000],
      tref: { hint: [7] },
    };
    const file = await write(ftyp('isom', 'isom', 'mp42'), moov([hinted, hint]));
    const movie = await openMovie(file);
    assert.equal(movie.brand, 'mp4');
    const [v, h] = movie.tracks;
    assert.equal(v.id, 7);
    assert.equal(v.editMediaTime, 200);
    assert.deepEqual(v.references, {});
    assert.deepEqual(h.references, { hint: [7] });
    assert.equal(h.handler, 'hint');
    assert.equal(h.codec, 'rtp ');
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => v.sample(i)),
      [
        { index: 0, offset: 1000, size: 5, dts: 0, cts: 200, sync: true },
        { index: 1, offset: 2000, size: 6, dts: 100, cts: 0, sync: false },
        { index: 2, offset: 3000, size: 7, dts: 300, cts: 200, sync: true },
        { index: 3, offset: 3007, size: 8, dts: 500, cts: 500, sync: false },
      ],
    );
    assert.equal(v.totalBytes, 26);
    assert.equal(v.duration, 700);
    assert.equal(v.sampleAtDts(99), 0);
    assert.equal(v.sampleAtDts(100), 1);
    assert.equal(v.sampleAtDts(499), 2);
    assert.equal(v.syncAtOrBefore(1), 0);
    assert.equal(v.syncAtOrBefore(3), 2);
  });

  it('reads stz2 (4, 8 and 16-bit fields), constant sizes and elst v0', async () => {
    const sizes = [1, 15, 7, 0, 9];
    const tracks: SynthTrack[] = [4, 8, 16].map((fieldSize, k) => ({
      id: k + 1,
      sizes,
      stz2FieldSize: fieldSize as 4 | 8 | 16,
      stsc: [[1, 5]],
      chunkOffsets: [64],
    }));
    tracks.push({
      id: 9,
      constant: { size: 4, count: 6 },
      stsc: [[1, 2]],
      chunkOffsets: [10, 20, 30],
      elst: { version: 0, entries: [[100, 33]] },
    });
    const movie = await openMovie(await write(ftyp(), moov(tracks)));
    for (const t of movie.tracks.slice(0, 3)) {
      assert.deepEqual(
        sizes.map((_, i) => t.sample(i).size),
        sizes,
      );
      assert.equal(t.sample(4).offset, 64 + 1 + 15 + 7 + 0);
    }
    const c = movie.tracks[3];
    assert.equal(c.editMediaTime, 33);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => c.sample(i).offset),
      [10, 14, 20, 24, 30, 34],
    );
    assert.equal(c.totalBytes, 24);
  });

  it('reads QuickTime sound descriptions v1 and v2', async () => {
    const esds = fullBox(
      'esds',
      0,
      0,
      Buffer.from([3, 0x19, 0, 1, 0, 4, 0x11, 0x40, 0x15, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 5, 2, 0x11, 0x90, 6, 1, 2]),
    );
    const wave = box('wave', box('frma', Buffer.from('mp4a')), esds, u32(0, 0));
    const base = { sizes: [4], stsc: [[1, 1]] as [number, number][], chunkOffsets: [0], handler: 'soun', codec: 'mp4a' };
    const v1: SynthTrack = { ...base, id: 1, soundVersion: 1, channels: 2, sampleRate: 48000, entryChildren: [wave] };
    const v2: SynthTrack = { ...base, id: 2, soundVersion: 2, channels: 6, sampleRate: 96000, entryChildren: [esds] };
    const movie = await openMovie(await write(ftyp('qt  ', 'qt  '), moov([v1, v2])));
    assert.equal(movie.brand, 'mov');
    assert.equal(movie.tracks[0].sampleRate, 48000);
    assert.equal(movie.tracks[0].channels, 2);
    assert.deepEqual([...movie.tracks[0].esds!.decoderSpecificInfo], [0x11, 0x90]);
    assert.equal(movie.tracks[0].esds!.maxBitrate, 0x10000);
    assert.equal(movie.tracks[1].sampleRate, 96000);
    assert.equal(movie.tracks[1].channels, 2, 'the AudioSpecificConfig says stereo');
    assert.ok(movie.tracks[1].esds);
  });

  it('parses ES_Descriptor flags (dependsOn, URL, OCR) and 4-byte descriptor lengths', async () => {
    const dcd = Buffer.from([4, 0x80, 0x80, 0x80, 0x14, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 7, 5, 0x80, 0x80, 0x80, 2, 0x12, 0x10]);
    const esBody = Buffer.concat([Buffer.from([0, 1, 0xe0, 0, 2, 3, 0x61, 0x62, 0x63, 0, 5]), dcd]);
    const esds = fullBox('esds', 0, 0, Buffer.from([3, esBody.length]), esBody);
    const t: SynthTrack = { id: 1, handler: 'soun', codec: 'mp4a', sizes: [1], stsc: [[1, 1]], chunkOffsets: [0], entryChildren: [esds] };
    const movie = await openMovie(await write(ftyp(), moov([t])));
    assert.deepEqual(movie.tracks[0].esds, {
      objectTypeIndication: 0x40,
      decoderSpecificInfo: Buffer.from([0x12, 0x10]),
      avgBitrate: 7,
      maxBitrate: 9,
    });
  });

  it('excludes inconsistent tracks but keeps the others', async () => {
    const tracks: SynthTrack[] = [
      { id: 1, sizes: [1, 2, 3], stts: [[2, 10]], stsc: [[1, 3]], chunkOffsets: [0] },
      { id: 2, sizes: [1, 2, 3], stsc: [[1, 2]], chunkOffsets: [0] },
      { id: 3, sizes: [1, 2, 3], stsc: [[1, 3]], chunkOffsets: [0], omit: ['stco'] },
      { id: 4, sizes: [1], stsc: [[2, 1]], chunkOffsets: [0, 1] },
      simple,
      { id: 5, sizes: [1], stsc: [[1, 1]], chunkOffsets: [0], omit: ['stsd'] },
    ];
    const movie = await openMovie(await write(ftyp(), moov(tracks)));
    assert.deepEqual(
      movie.tracks.map((t) => t.id),
      [1],
    );
    assert.deepEqual(
      movie.skippedTracks?.map((s) => s.id),
      [1, 2, 3, 4, 5],
    );
    assert.match(movie.skippedTracks[0].reason, /stts covers 2 of 3/);
    assert.match(movie.skippedTracks[1].reason, /chunk offsets cover 2 of 3/);
    assert.match(movie.skippedTracks[2].reason, /stco/);
  });

  it('rejects a moov whose every track is broken, and a moov without tracks', async () => {
    const broken: SynthTrack = { id: 1, sizes: [1, 2], stts: [[1, 1]], stsc: [[1, 2]], chunkOffsets: [0] };
    await assert.rejects(openMovie(await write(ftyp(), moov([broken]))), (e: Error) => e instanceof Mp4Error && /no usable tracks/.test(e.message));
    await assert.rejects(openMovie(await write(ftyp(), moov([]))), Mp4Error);
  });

  it('takes the duration from the longest track when mvhd has none, and flags mvex', async () => {
    const t: SynthTrack = { ...simple, timescale: 1000 };
    const movie = await openMovie(await write(ftyp(), moov([t], { duration: 0, extra: [box('mvex')] })));
    assert.equal(movie.duration, 3);
    assert.equal(movie.fragmented, true);
    const withMvhd = await openMovie(await write(ftyp(), moov([t], { timescale: 600, duration: 1200 })));
    assert.equal(withMvhd.duration, 2);
  });

  it('treats a file without ftyp as QuickTime, and skips unknown top-level boxes', async () => {
    const movie = await openMovie(await write(box('wide'), box('free', Buffer.alloc(100)), moov([simple])));
    assert.equal(movie.brand, 'mov');
    assert.equal(movie.tracks[0].sampleCount, 3);
  });

  it('accepts a last-box moov with size 0 and a moov with a 64-bit size', async () => {
    const m = moov([simple]);
    const zero = Buffer.from(m);
    zero.writeUInt32BE(0, 0);
    assert.equal((await openMovie(await write(ftyp(), box('mdat', Buffer.alloc(50)), zero))).tracks.length, 1);
    const large = Buffer.concat([u32(1), Buffer.from('moov'), Buffer.alloc(8), m.subarray(8)]);
    large.writeBigUInt64BE(BigInt(large.length), 8);
    assert.equal((await openMovie(await write(ftyp(), large))).tracks.length, 1);
  });

  it('inflates a QuickTime compressed moov (cmov)', async () => {
    const m = moov([simple]);
    const cmov = box('moov', box('cmov', box('dcom', Buffer.from('zlib')), box('cmvd', u32(m.length), deflateSync(m))));
    const movie = await openMovie(await write(ftyp('qt  '), cmov));
    assert.equal(movie.tracks[0].sample(2).offset, 130);
    const bad = box('moov', box('cmov', box('dcom', Buffer.from('zlib')), box('cmvd', u32(m.length), Buffer.from('nope'))));
    await assert.rejects(openMovie(await write(ftyp('qt  '), bad)), Mp4Error);
  });

  it('rejects files without a moov, garbage, empty files and directories with Mp4Error', async () => {
    await assert.rejects(openMovie(await write(ftyp(), box('mdat', Buffer.alloc(10)))), /no moov/);
    await assert.rejects(openMovie(await write(ftyp(), u32(0), Buffer.from('mdat'), Buffer.alloc(10))), /no moov/);
    await assert.rejects(openMovie(await write(Buffer.from('#EXTM3U\nhello.mp4\n'))), /not an ISO-BMFF/);
    await assert.rejects(openMovie(await write(Buffer.alloc(0))), /no moov/);
    await assert.rejects(openMovie(await write(Buffer.alloc(1000))), Mp4Error);
    const sub = join(dir, 'a-directory.mp4');
    await mkdir(sub);
    await assert.rejects(openMovie(sub), Mp4Error);
  });

  it('refuses a moov above the size cap without reading it', async () => {
    const size = MAX_MOOV_SIZE + 1024;
    const file = await write(ftyp(), u32(1), Buffer.from('moov'), u64(size));
    await truncate(file, ftyp().length + size);
    await assert.rejects(openMovie(file), /exceeds the 268435456 byte limit/);
  });

  it('passes file system errors through for missing files', async () => {
    await assert.rejects(openMovie(join(dir, 'missing.mp4')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('parseMoov rejects a buffer that is not a moov', () => {
    assert.throws(() => parseMoov(ftyp(), { quickTime: false }), Mp4Error);
  });
});
