/** Hostile input: truncated files, garbage, absurd box sizes and randomly mutated real files must
 * produce an Mp4Error or a usable (possibly partial) movie, never another exception or a hang. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fixture } from '../../../test/helpers/fixtures.js';
import { childBoxes, readBoxHeader } from './boxes.js';
import { openMovie, parseMoov } from './reader.js';
import { createSampleReader } from './sample-reader.js';
import { u32, u64 } from './test-helpers/build-boxes.js';
import { Mp4Error, type Mp4Movie, type Mp4Track } from './types.js';

/** Calls every lookup on a sample of indexes; none may throw for in-range arguments. */
function exercise(t: Mp4Track): void {
  const n = t.sampleCount;
  const picks = new Set<number>();
  for (let i = 0; i < Math.min(n, 40); i++) picks.add(i);
  for (let i = Math.max(0, n - 40); i < n; i++) picks.add(i);
  for (const i of picks) {
    const s = t.sample(i);
    assert.equal(s.index, i);
    assert.ok(Number.isFinite(s.offset) && Number.isFinite(s.dts) && Number.isFinite(s.cts));
    const k = t.syncAtOrBefore(i);
    assert.ok(k >= 0 && k <= i);
    const j = t.sampleAtDts(s.dts);
    assert.ok(j >= 0 && j < n);
  }
  assert.equal(t.sampleAtDts(Number.NaN), 0);
  assert.ok(t.sampleAtDts(Number.MAX_VALUE) < Math.max(n, 1));
}

function expectMp4Error(e: unknown): void {
  if (!(e instanceof Mp4Error)) throw e;
}

async function readAll(movie: Mp4Movie, file: string, limit = Infinity): Promise<void> {
  const reader = createSampleReader(file, { readAhead: 4096 });
  try {
    for (const t of movie.tracks) {
      for (let i = 0; i < Math.min(t.sampleCount, limit); i++) {
        const s = t.sample(i);
        try {
          assert.equal((await reader.read(s)).length, s.size);
        } catch (e) {
          expectMp4Error(e);
        }
      }
    }
  } finally {
    await reader.close();
  }
}

/** Offset and size of the moov box in a whole file. */
function moovRange(file: Buffer): { start: number; end: number } {
  for (const h of childBoxes(file, 0, file.length)) if (h.type === 'moov') return { start: h.start, end: h.end };
  throw new Error('fixture without moov');
}

describe('robustness', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rivulet-fuzz-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  let n = 0;
  async function write(bytes: Buffer): Promise<string> {
    const p = join(dir, `f${n++}.mp4`);
    await writeFile(p, bytes);
    return p;
  }

  it('truncated files give Mp4Error or a movie whose missing samples fail with Mp4Error', async () => {
    for (const name of ['h264-aac-faststart.mp4', 'h264-aac-moovend.mp4', 'h264-aac.mov'] as const) {
      const bytes = await readFile(await fixture(name));
      const { start, end } = moovRange(bytes);
      const cuts = new Set([0, 1, 7, 8, 9, 16, 24, 31, 32, 33, start, start + 4, start + 8, start + 200, end - 1, end]);
      for (let k = 1; k < 30; k++) cuts.add(Math.floor((bytes.length * k) / 30));
      cuts.add(bytes.length - 1);
      let usable = 0;
      for (const cut of [...cuts].filter((c) => c >= 0 && c < bytes.length)) {
        const file = await write(bytes.subarray(0, cut));
        try {
          const movie = await openMovie(file);
          usable++;
          assert.ok(cut >= end, `${name} cut at ${cut} cannot have a whole moov`);
          for (const t of movie.tracks) exercise(t);
          await readAll(movie, file);
        } catch (e) {
          expectMp4Error(e);
        }
      }
      if (name === 'h264-aac-faststart.mp4') assert.ok(usable > 20, 'faststart files stay playable when cut');
    }
  });

  it('garbage files are rejected with Mp4Error', async () => {
    // None of these can hold a playable track, so each must be refused, never opened.
    const fourcc = fc
      .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 4, maxLength: 4 })
      .map((c) => String.fromCharCode(...c))
      .filter((t) => t !== 'moov' && t !== 'trak');
    const boxes = fc
      .array(fc.tuple(fourcc, fc.uint8Array({ maxLength: 300 })), { maxLength: 8 })
      .map((list) => Buffer.concat(list.map(([type, body]) => Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]))));
    const garbage = fc.oneof(
      // Random bytes.
      fc.uint8Array({ minLength: 0, maxLength: 2000 }).map((b) => Buffer.from(b)),
      // Well-formed top-level boxes, none of them a moov.
      boxes,
      // An ftyp and a moov whose children are anything but a track.
      boxes.map((body) => Buffer.concat([u32(24), Buffer.from('ftypisom'), u32(0, 0, 0), u32(8 + body.length), Buffer.from('moov'), body])),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        await assert.rejects(openMovie(await write(bytes)), Mp4Error);
      }),
      { numRuns: 300 },
    );
  });

  it('absurd sizes on every box of a real moov give Mp4Error or a partial movie', async () => {
    const file = await readFile(await fixture('h264-aac-faststart.mp4'));
    const { start, end } = moovRange(file);
    const moov = file.subarray(start, end);
    const headers: number[] = [];
    const visit = (from: number, to: number, depth: number): void => {
      for (const h of childBoxes(moov, from, to)) {
        headers.push(h.start);
        // Descend into containers (their bodies parse as boxes); leaf bodies throw and are skipped.
        if (depth < 8 && ['trak', 'mdia', 'minf', 'stbl', 'edts', 'udta', 'dinf'].includes(h.type)) {
          visit(h.bodyStart, h.end, depth + 1);
        }
      }
    };
    visit(8, moov.length, 0);
    assert.ok(headers.length > 30);
    const sizes = [0, 1, 2, 7, 8, 9, 0x7fffffff, 0xffffffff];
    for (const at of headers) {
      for (const size of sizes) {
        const m = Buffer.from(moov);
        m.writeUInt32BE(size, at);
        try {
          const parsed = parseMoov(m, { quickTime: false });
          for (const t of parsed.tracks) exercise(t);
        } catch (e) {
          expectMp4Error(e);
        }
      }
      // size 1 with a huge or tiny largesize
      for (const large of [0, 15, 2 ** 40]) {
        const m = Buffer.from(moov);
        m.writeUInt32BE(1, at);
        m.writeBigUInt64BE(BigInt(large), at + 8);
        try {
          parseMoov(m, { quickTime: false });
        } catch (e) {
          expectMp4Error(e);
        }
      }
    }
  });

  it('top-level boxes with size 0, 1 or huge are handled', async () => {
    const head = Buffer.concat([u32(24), Buffer.from('ftypisom'), u32(0, 0, 0)]);
    for (const tail of [
      Buffer.concat([u32(0), Buffer.from('mdat'), Buffer.alloc(100)]),
      Buffer.concat([u32(1), Buffer.from('mdat'), u64(2 ** 50)]),
      Buffer.concat([u32(1), Buffer.from('mdat'), u64(3)]),
      Buffer.concat([u32(0xffffffff), Buffer.from('mdat')]),
      Buffer.concat([u32(1), Buffer.from('moov'), u64(300 * 1024 * 1024)]),
      Buffer.concat([u32(16), Buffer.from('moov'), u32(8), Buffer.from('trak')]),
    ]) {
      await assert.rejects(openMovie(await write(Buffer.concat([head, tail]))), Mp4Error);
    }
  });

  it('randomly mutated moov boxes parse or fail with Mp4Error (property)', async () => {
    const file = await readFile(await fixture('h264-high-bframes.mp4'));
    const { start, end } = moovRange(file);
    const moov = Buffer.from(file.subarray(start, end));
    assert.equal(readBoxHeader(moov, 0, moov.length).type, 'moov');
    const len = moov.length;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(len - 1), value: fc.nat(255) }),
      fc.record({
        kind: fc.constant('word' as const),
        at: fc.nat(len - 4),
        value: fc.oneof(
          fc.constantFrom(0, 1, 2, 7, 8, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe),
          fc.nat(2000),
          fc.nat(0xffffffff),
        ),
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (mutations) => {
        const m = Buffer.from(moov);
        for (const mu of mutations) {
          if (mu.kind === 'byte') m[mu.at] = mu.value;
          else m.writeUInt32BE(mu.value >>> 0, mu.at);
        }
        try {
          const parsed = parseMoov(m, { quickTime: false });
          for (const t of parsed.tracks) exercise(t);
        } catch (e) {
          expectMp4Error(e);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('randomly mutated whole files open and read, or fail with Mp4Error (property)', async () => {
    const bytes = await readFile(await fixture('h264-aac.3gp'));
    const { end } = moovRange(bytes);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(end + 64), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(bytes.length), { nil: undefined }),
        async (mutations, cut) => {
          const b = Buffer.from(bytes.subarray(0, cut ?? bytes.length));
          for (const [at, v] of mutations) if (at < b.length) b[at] = v;
          const file = await write(b);
          try {
            const movie = await openMovie(file);
            for (const t of movie.tracks) exercise(t);
            await readAll(movie, file, 20);
          } catch (e) {
            expectMp4Error(e);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
