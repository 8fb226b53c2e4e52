import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../../../test/helpers/fixtures.js';
import { ReadCache } from './read-cache.js';
import { openMovie } from './reader.js';
import { createSampleReader, type SampleReaderOptions } from './sample-reader.js';
import { ftyp, moov, u32, u64 } from './test-helpers/build-boxes.js';
import { Mp4Error, type Mp4Track } from './types.js';

/** NAL unit types of a length-prefixed access unit; throws if the lengths do not tile it exactly. */
function nalTypes(au: Buffer, lengthSize: number, hevc: boolean): number[] {
  const types: number[] = [];
  let pos = 0;
  while (pos < au.length) {
    assert.ok(pos + lengthSize <= au.length, 'length prefix fits');
    const len = au.readUIntBE(pos, lengthSize);
    pos += lengthSize;
    assert.ok(len > 0 && pos + len <= au.length, `NAL length ${len} fits`);
    types.push(hevc ? (au[pos] >> 1) & 0x3f : au[pos] & 0x1f);
    assert.equal(au[pos] & 0x80, 0, 'forbidden_zero_bit');
    pos += len;
  }
  return types;
}

async function allSamples(t: Mp4Track, file: string, readAhead?: number | SampleReaderOptions, order?: number[]): Promise<Buffer[]> {
  const reader = createSampleReader(file, typeof readAhead === 'object' ? readAhead : readAhead === undefined ? {} : { readAhead });
  try {
    const out: Buffer[] = [];
    for (const i of order ?? Array.from({ length: t.sampleCount }, (_, k) => k)) out[i] = await reader.read(t.sample(i));
    return out;
  } finally {
    await reader.close();
  }
}

describe('createSampleReader', () => {
  it('reads a valid length-prefixed H.264 access unit as sample 0', async () => {
    const file = await fixture('h264-aac-faststart.mp4');
    const movie = await openMovie(file);
    const v = movie.tracks.find((t) => t.codec === 'avc1')!;
    const reader = createSampleReader(file);
    const au = await reader.read(v.sample(0));
    await reader.close();
    assert.equal(au.length, v.sample(0).size);
    const len = au.readUInt32BE(0);
    assert.ok(len > 0 && len + 4 <= au.length);
    assert.ok([5, 6, 7, 8, 9].includes(au[4] & 0x1f), `first NAL type ${au[4] & 0x1f}`);
    assert.ok(nalTypes(au, 4, false).includes(5), 'the first sample is an IDR picture');
  });

  it('every H.264 and H.265 sample tiles into NAL units; sync samples hold IDR/IRAP pictures', async () => {
    for (const [name, hevc] of [
      ['h264-high-bframes.mp4', false],
      ['h265-aac.mp4', true],
    ] as const) {
      const file = await fixture(name);
      const v = (await openMovie(file)).tracks[0];
      const samples = await allSamples(v, file);
      samples.forEach((au, i) => {
        const types = nalTypes(au, 4, hevc);
        if (v.sample(i).sync) assert.ok(types.some((t) => (hevc ? t >= 16 && t <= 23 : t === 5)), `${name} sample ${i}`);
      });
    }
  });

  it('returns exactly the file bytes at each sample, for any read-ahead and access order', async () => {
    const file = await fixture('h264-aac-faststart.mp4');
    const bytes = await readFile(file);
    const movie = await openMovie(file);
    for (const t of movie.tracks) {
      const expected = Array.from({ length: t.sampleCount }, (_, i) => {
        const s = t.sample(i);
        return bytes.subarray(s.offset, s.offset + s.size);
      });
      const shuffled = Array.from({ length: t.sampleCount }, (_, i) => i).sort(() => Math.random() - 0.5);
      for (const readAhead of [0, 100, 4096, undefined]) {
        assert.deepEqual(await allSamples(t, file, readAhead), expected, `readAhead ${readAhead}`);
      }
      assert.deepEqual(await allSamples(t, file, 8192, shuffled), expected, 'random order');
      // Through a shared cache: blocks smaller and larger than samples, a cache too small to
      // hold the file, and samples read in any order.
      for (const [blockSize, maxBytes] of [
        [512, 4096],
        [65536, 1 << 20],
        [4096, 1 << 24],
      ]) {
        const cache = new ReadCache({ maxBytes, blockSize });
        assert.deepEqual(await allSamples(t, file, { cache }), expected, `cache ${blockSize}/${maxBytes}`);
        assert.deepEqual(await allSamples(t, file, { cache }, shuffled), expected, `cache ${blockSize}/${maxBytes}, random order`);
        assert.ok(cache.stats().bytes <= maxBytes);
      }
    }
  });

  it('readNow gives the bytes of samples already in memory, and nothing otherwise', async () => {
    const movie = await openMovie(await fixture('h264-aac-faststart.mp4'));
    const t = movie.tracks.find((x) => x.codec === 'avc1')!;
    const expected = await allSamples(t, movie.path);
    for (const opts of [{ readAhead: 65536 }, { cache: new ReadCache({ maxBytes: 1 << 24, blockSize: 4096 }) }] as SampleReaderOptions[]) {
      const reader = createSampleReader(movie.path, opts);
      assert.equal(reader.readNow!(t.sample(0)), undefined, 'nothing is in memory before the first read');
      let now = 0;
      for (let i = 0; i < t.sampleCount; i++) {
        const got = reader.readNow!(t.sample(i));
        if (got) now++;
        assert.ok((got ?? (await reader.read(t.sample(i)))).equals(expected[i]), `sample ${i}`);
      }
      assert.ok(now > 0, 'later samples were in memory');
      await reader.close();
      assert.equal(reader.readNow!(t.sample(1)), undefined, 'a closed reader has nothing');
    }
  });

  it('keeps earlier results intact after the window moves, and serves concurrent reads', async () => {
    const file = await fixture('h264-aac-faststart.mp4');
    const bytes = await readFile(file);
    const v = (await openMovie(file)).tracks[0];
    const reader = createSampleReader(file, { readAhead: 2048 });
    const first = await reader.read(v.sample(1));
    const copy = Buffer.from(first);
    await reader.read(v.sample(200));
    await reader.read(v.sample(2));
    assert.deepEqual(first, copy);
    const all = await Promise.all(Array.from({ length: v.sampleCount }, (_, i) => reader.read(v.sample(i))));
    all.forEach((b, i) => {
      const s = v.sample(i);
      assert.ok(b.equals(bytes.subarray(s.offset, s.offset + s.size)));
    });
    await reader.close();
  });

  it('close() is idempotent and later reads reject', async () => {
    const file = await fixture('aac-only.m4a');
    const a = (await openMovie(file)).tracks[0];
    const unused = createSampleReader(file);
    await unused.close();
    const reader = createSampleReader(file);
    const pending = reader.read(a.sample(0));
    await reader.close();
    assert.equal((await pending).length, a.sample(0).size, 'a read in flight completes');
    await reader.close();
    await assert.rejects(reader.read(a.sample(1)), /closed/);
  });

  it('rejects invalid sample descriptions with Mp4Error', async () => {
    const reader = createSampleReader(await fixture('aac-only.m4a'));
    const base = { index: 0, dts: 0, cts: 0, sync: true };
    await assert.rejects(reader.read({ ...base, offset: -1, size: 10 }), Mp4Error);
    await assert.rejects(reader.read({ ...base, offset: 0, size: NaN }), Mp4Error);
    await assert.rejects(reader.read({ ...base, offset: 10, size: 3e9 }), /sample 0 beyond end of file/);
    assert.equal((await reader.read({ ...base, offset: 0, size: 0 })).length, 0);
    await reader.close();
  });

  describe('on prepared files', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rivulet-samples-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reports a short read on a truncated file as Mp4Error', async () => {
      const src = await fixture('h264-aac-faststart.mp4');
      const bytes = await readFile(src);
      const movie = await openMovie(src);
      const v = movie.tracks[0];
      const cutAt = v.sample(100).offset + 10;
      const cut = join(dir, 'cut.mp4');
      await writeFile(cut, bytes.subarray(0, cutAt));
      const truncated = await openMovie(cut);
      const t = truncated.tracks[0];
      for (const opts of [{ readAhead: 0 }, { readAhead: 65536 }, { cache: new ReadCache({ maxBytes: 1 << 20 }) }]) {
        const reader = createSampleReader(cut, opts);
        assert.equal((await reader.read(t.sample(99))).length, t.sample(99).size);
        await assert.rejects(reader.read(t.sample(100)), (e: Error) => e instanceof Mp4Error && e.message === 'sample 100 beyond end of file');
        await assert.rejects(reader.read(t.sample(249)), Mp4Error);
        await reader.close();
      }
    });

    it('reads samples stored beyond 4 GiB through co64 in a sparse file', async () => {
      const base = 2 ** 32 + 12_345;
      const samples = [randomBytes(1000), randomBytes(2000), randomBytes(3000)];
      const chunkOffsets = [base, base + 100_000];
      const moovAt = base + 200_000;
      const m = moov([
        {
          id: 1,
          sizes: samples.map((s) => s.length),
          stsc: [
            [1, 2],
            [2, 1],
          ],
          chunkOffsets,
          co64: true,
        },
      ]);
      const type = ftyp('isom');
      const head = Buffer.concat([type, u32(1), Buffer.from('mdat'), u64(moovAt - type.length)]);
      const file = join(dir, 'large.mp4');
      await writeFile(file, head);
      // The hole up to the moov costs no disk space.
      await truncate(file, moovAt);
      const fh = await open(file, 'r+');
      try {
        await fh.write(samples[0], 0, samples[0].length, chunkOffsets[0]);
        await fh.write(samples[1], 0, samples[1].length, chunkOffsets[0] + samples[0].length);
        await fh.write(samples[2], 0, samples[2].length, chunkOffsets[1]);
        await fh.write(m, 0, m.length, moovAt);
      } finally {
        await fh.close();
      }
      assert.equal((await stat(file)).size, moovAt + m.length);

      const movie = await openMovie(file);
      const t = movie.tracks[0];
      assert.equal(t.sample(1).offset, base + 1000);
      assert.ok(t.sample(2).offset > 2 ** 32);
      const reader = createSampleReader(file, { readAhead: 1500 });
      for (let i = 0; i < 3; i++) assert.ok((await reader.read(t.sample(i))).equals(samples[i]), `sample ${i}`);
      await reader.close();
    });
  });
});
