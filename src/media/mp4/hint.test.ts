import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HintError,
  MAX_HINT_PAYLOAD,
  parseHintSample,
  parseRtpHintEntry,
  type ImmediateConstructor,
  type SampleConstructor,
  type SampleDescriptionConstructor,
} from './hint.js';

// Hand-built hint samples, laid out as ISO/IEC 14496-12 §9.1.3 describes them.

function entry16(type: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(16);
  b[0] = type;
  fill(b);
  return b;
}
const noop = () => entry16(0, () => undefined);
function imm(bytes: number[]): Buffer {
  return entry16(1, (b) => {
    b[1] = bytes.length;
    Buffer.from(bytes).copy(b, 2);
  });
}
function smp(ref: number, length: number, sample: number, offset: number, bpb = 1, spb = 1): Buffer {
  return entry16(2, (b) => {
    b.writeInt8(ref, 1);
    b.writeUInt16BE(length, 2);
    b.writeUInt32BE(sample, 4);
    b.writeUInt32BE(offset, 8);
    b.writeUInt16BE(bpb, 12);
    b.writeUInt16BE(spb, 14);
  });
}
function desc(ref: number, length: number, index: number, offset: number): Buffer {
  return entry16(3, (b) => {
    b.writeInt8(ref, 1);
    b.writeUInt16BE(length, 2);
    b.writeUInt32BE(index, 4);
    b.writeUInt32BE(offset, 8);
  });
}
function tlv(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body]);
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
/** The extra-information block: its length (counting itself) then TLV boxes. */
function extra(...tlvs: Buffer[]): Buffer {
  const body = Buffer.concat(tlvs);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(4 + body.length);
  return Buffer.concat([h, body]);
}

interface PacketSpec {
  rel?: number;
  /** 16 RTP header bits: P 0x2000, X 0x1000, M 0x80, PT 0x7f. */
  bits?: number;
  seq?: number;
  flags?: number;
  extra?: Buffer;
  entries: Buffer[];
  /** Override the entry count (for malformed samples). */
  count?: number;
}
function packet(p: PacketSpec): Buffer {
  const h = Buffer.alloc(12);
  h.writeInt32BE(p.rel ?? 0, 0);
  h.writeUInt16BE(p.bits ?? 0x8060, 4);
  h.writeUInt16BE(p.seq ?? 1, 6);
  h.writeUInt16BE((p.flags ?? 0) | (p.extra ? 0x4 : 0), 8);
  h.writeUInt16BE(p.count ?? p.entries.length, 10);
  return Buffer.concat([h, p.extra ?? Buffer.alloc(0), ...p.entries]);
}
function sample(packets: Buffer[], trailing: Buffer = Buffer.alloc(0), count = packets.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(count, 0);
  return Buffer.concat([h, ...packets, trailing]);
}

const rejects = (buf: Buffer, why: RegExp) => assert.throws(() => parseHintSample(buf), (e: unknown) => e instanceof HintError && why.test(e.message));

describe('parseHintSample', () => {
  it('reads every constructor kind, the header bits, flags and the rtpo TLV', () => {
    const buf = sample(
      [
        packet({ rel: -90, bits: 0x80e1, seq: 0xfffe, entries: [imm([1, 2, 3]), noop(), smp(0, 1000, 7, 4), smp(-1, 12, 2, 20)] }),
        packet({
          bits: 0x3061,
          seq: 0xffff,
          flags: 0x2 | 0x1,
          extra: extra(tlv('xyzw', Buffer.from('ignored!')), tlv('rtpo', i32(-7200))),
          entries: [desc(0, 5, 1, 8), smp(1, 64, 100, 0, 4, 1)],
        }),
        packet({ entries: [] }),
      ],
      Buffer.from('trailing data constructors with reference -1 may point at'),
    );
    const [a, b, c] = parseHintSample(buf);

    assert.equal(a.relativeTime, -90);
    assert.deepEqual([a.marker, a.payloadType, a.padding, a.extension], [true, 0x61, false, false]);
    assert.equal(a.sequence, 0xfffe);
    assert.deepEqual([a.bFrame, a.repeat, a.timestampOffset], [false, false, 0]);
    assert.equal(a.constructors.length, 3, 'no-ops are left out');
    const im = a.constructors[0] as ImmediateConstructor;
    assert.equal(im.type, 'immediate');
    assert.deepEqual([...im.data], [1, 2, 3]);
    assert.deepEqual(a.constructors[1], { type: 'sample', trackRef: 0, length: 1000, sampleNumber: 7, offset: 4, bytesPerBlock: 1, samplesPerBlock: 1 } satisfies SampleConstructor);
    assert.equal((a.constructors[2] as SampleConstructor).trackRef, -1);
    assert.equal(a.length, 3 + 1000 + 12);

    assert.deepEqual([b.marker, b.payloadType, b.padding, b.extension], [false, 0x61, true, true]);
    assert.deepEqual([b.bFrame, b.repeat, b.timestampOffset], [true, true, -7200]);
    assert.deepEqual(b.constructors[0], { type: 'sampleDescription', trackRef: 0, length: 5, descriptionIndex: 1, offset: 8 } satisfies SampleDescriptionConstructor);
    assert.deepEqual(b.constructors[1], { type: 'sample', trackRef: 1, length: 64, sampleNumber: 100, offset: 0, bytesPerBlock: 4, samplesPerBlock: 1 });
    assert.equal(b.length, 69);

    assert.deepEqual(c.constructors, []);
    assert.equal(c.length, 0);
  });

  it('reads a sample with no packets and allows bytes after the table', () => {
    assert.deepEqual(parseHintSample(sample([])), []);
    assert.equal(parseHintSample(sample([packet({ entries: [imm([9])] })], Buffer.alloc(100, 7))).length, 1);
  });

  it('takes the rtpo offset as signed and a TLV block without rtpo as offset 0', () => {
    const [p] = parseHintSample(sample([packet({ extra: extra(tlv('rtpo', i32(0x7fffffff))), entries: [] })]));
    assert.equal(p.timestampOffset, 0x7fffffff);
    const [q] = parseHintSample(sample([packet({ extra: extra(), entries: [imm([1])] })]));
    assert.equal(q.timestampOffset, 0);
    assert.equal(q.length, 1);
  });

  it('parses ffmpeg-style packets: immediates for the FU-A header, then sample data', () => {
    // What `-movflags rtphint` writes for a fragmented H.264 frame.
    const buf = sample([
      packet({ bits: 0x0060, seq: 3718, entries: [smp(0, 622, 1, 4)] }),
      packet({ bits: 0x0060, seq: 3719, entries: [imm([0x7c, 0x85]), smp(0, 1436, 1, 631)] }),
      packet({ bits: 0x00e0, seq: 3720, entries: [imm([0x7c, 0x45]), smp(0, 585, 1, 2067)] }),
    ]);
    const ps = parseHintSample(buf);
    assert.deepEqual(ps.map((p) => [p.sequence, p.marker, p.length]), [[3718, false, 622], [3719, false, 1438], [3720, true, 587]]);
  });

  describe('malformed samples raise HintError', () => {
    it('too short for the packet table', () => {
      rejects(Buffer.alloc(0), /no packet table/);
      rejects(Buffer.from([0, 1]), /no packet table/);
    });
    it('more packets than bytes', () => {
      rejects(sample([packet({ entries: [] })], Buffer.alloc(0), 2), /truncated in packet 2 of 2/);
      rejects(sample([], Buffer.alloc(0), 65535), /truncated in packet 1 of 65535/);
    });
    it('more constructors than bytes', () => {
      rejects(sample([packet({ entries: [imm([1])], count: 2 })]), /2 constructors do not fit/);
      rejects(sample([packet({ entries: [], count: 0xffff })]), /65535 constructors/);
    });
    it('an immediate constructor longer than 14 bytes', () => {
      const bad = imm([]);
      bad[1] = 15;
      rejects(sample([packet({ entries: [bad] })]), /immediate constructor claims 15 bytes/);
    });
    it('an unknown constructor type', () => {
      rejects(sample([packet({ entries: [entry16(4, () => undefined)] })]), /unknown constructor type 4/);
      rejects(sample([packet({ entries: [entry16(0xff, () => undefined)] })]), /unknown constructor type 255/);
    });
    it('sample 0 or sample description 0 (numbers start at 1)', () => {
      rejects(sample([packet({ entries: [smp(0, 10, 0, 0)] })]), /sample 0/);
      rejects(sample([packet({ entries: [desc(0, 10, 0, 0)] })]), /entry 0/);
    });
    it('a broken extra-information block or TLV', () => {
      const short = Buffer.alloc(4);
      short.writeUInt32BE(3);
      rejects(sample([packet({ extra: short, entries: [] })]), /extra information length 3/);
      const long = Buffer.alloc(4);
      long.writeUInt32BE(1000);
      rejects(sample([packet({ extra: long, entries: [] })]), /extra information length 1000/);
      const tiny = Buffer.alloc(8);
      tiny.writeUInt32BE(4, 0);
      rejects(sample([packet({ extra: extra(tiny), entries: [] })]), /TLV of invalid size 4/);
      rejects(sample([packet({ extra: extra(tlv('rtpo', Buffer.from([1, 2]))), entries: [] })]), /'rtpo' TLV of 10 bytes/);
      // Flag set but the sample ends right after the packet header.
      const h = packet({ flags: 0x4, entries: [] });
      rejects(sample([h]), /truncated extra information/);
    });
    it('a packet larger than RTP allows', () => {
      rejects(sample([packet({ entries: [smp(0, 65535, 1, 0), smp(0, 65535, 2, 0)] })]), /too large for RTP/);
      const ok = parseHintSample(sample([packet({ entries: [smp(0, MAX_HINT_PAYLOAD, 1, 0)] })]));
      assert.equal(ok[0].length, MAX_HINT_PAYLOAD);
    });
    it('a sample describing more than 16 MiB in all', () => {
      const big = packet({ entries: [smp(0, 65000, 1, 0)] });
      rejects(sample(Array.from({ length: 300 }, () => big)), /more than 16777216 bytes/);
    });
  });

  it('never throws anything but HintError, whatever the bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          parseHintSample(Buffer.from(bytes));
        } catch (e) {
          if (!(e instanceof HintError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips well-formed samples and rejects their truncations with HintError (property)', () => {
    const constructor = fc.oneof(
      fc.uint8Array({ maxLength: 14 }).map((b) => ({ kind: 1, b: imm([...b]), len: b.length })),
      fc.record({ ref: fc.integer({ min: -1, max: 3 }), len: fc.nat(2000), n: fc.integer({ min: 1, max: 1e6 }), off: fc.nat(1e6) }).map((r) => ({ kind: 2, b: smp(r.ref, r.len, r.n, r.off), len: r.len })),
      fc.constant({ kind: 0, b: noop(), len: 0 }),
    );
    const pkt = fc.record({
      rel: fc.integer({ min: -1e6, max: 1e6 }),
      bits: fc.integer({ min: 0, max: 0xffff }),
      seq: fc.nat(0xffff),
      rtpo: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
      entries: fc.array(constructor, { maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(pkt, { maxLength: 5 }), (specs) => {
        const buf = sample(specs.map((s) => packet({ rel: s.rel, bits: s.bits, seq: s.seq, extra: s.rtpo === null ? undefined : extra(tlv('rtpo', i32(s.rtpo))), entries: s.entries.map((e) => e.b) })));
        const parsed = parseHintSample(buf);
        assert.equal(parsed.length, specs.length);
        specs.forEach((s, i) => {
          const p = parsed[i];
          assert.equal(p.relativeTime, s.rel);
          assert.equal(p.sequence, s.seq);
          assert.equal(p.marker, (s.bits & 0x80) !== 0);
          assert.equal(p.payloadType, s.bits & 0x7f);
          assert.equal(p.timestampOffset, s.rtpo ?? 0);
          assert.equal(p.constructors.length, s.entries.filter((e) => e.kind !== 0).length);
          assert.equal(p.length, s.entries.reduce((n, e) => n + e.len, 0));
        });
        if (specs.length) {
          const cut = buf.subarray(0, buf.length - 1);
          assert.throws(() => parseHintSample(cut), HintError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

function rtpEntry(fields: Buffer[], maxPacketSize = 1450, type = 'rtp '): Buffer {
  const head = Buffer.alloc(24);
  head.write(type, 4, 'latin1');
  head.writeUInt16BE(1, 14); // data reference index
  head.writeUInt16BE(1, 16);
  head.writeUInt16BE(1, 18);
  head.writeUInt32BE(maxPacketSize, 20);
  const b = Buffer.concat([head, ...fields]);
  b.writeUInt32BE(b.length, 0);
  return b;
}

describe('parseRtpHintEntry', () => {
  it("reads ffmpeg's entry: max packet size and 'tims'", () => {
    // Bytes of the video hint entry in a file made with `ffmpeg -movflags rtphint`.
    const e = Buffer.from('0000002472747020000000000000000100010001000005aa0000000c74696d7300015f90', 'hex');
    assert.deepEqual(parseRtpHintEntry(e), {
      hintTrackVersion: 1,
      highestCompatibleVersion: 1,
      maxPacketSize: 1450,
      timescale: 90000,
      timestampOffset: 0,
      sequenceOffset: 0,
    });
  });

  it("reads 'tsro' and 'snro' (32 or 16 bits), skips unknown fields and stops at a zero terminator", () => {
    const snro16 = tlv('snro', Buffer.from([0x12, 0x34]));
    const e = rtpEntry([tlv('abcd', Buffer.alloc(3)), tlv('tims', Buffer.from([0, 0, 0xac, 0x44])), tlv('tsro', i32(-5)), snro16, Buffer.alloc(8)]);
    assert.deepEqual(parseRtpHintEntry(e), {
      hintTrackVersion: 1,
      highestCompatibleVersion: 1,
      maxPacketSize: 1450,
      timescale: 44100,
      timestampOffset: -5,
      sequenceOffset: 0x1234,
    });
    assert.equal(parseRtpHintEntry(rtpEntry([tlv('snro', i32(77))])).sequenceOffset, 77);
  });

  it("reports a missing 'tims' as timescale 0", () => {
    assert.equal(parseRtpHintEntry(rtpEntry([])).timescale, 0);
    assert.equal(parseRtpHintEntry(rtpEntry([tlv('xims', i32(90000))])).timescale, 0);
  });

  it('rejects other entries, short entries and fields of impossible size', () => {
    assert.throws(() => parseRtpHintEntry(rtpEntry([], 1450, 'avc1')), /'avc1' is not an RTP hint entry/);
    assert.throws(() => parseRtpHintEntry(Buffer.alloc(20)), HintError);
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(5);
    assert.throws(() => parseRtpHintEntry(rtpEntry([bad])), /invalid size 5/);
    const long = tlv('tims', i32(90000));
    long.writeUInt32BE(200);
    assert.throws(() => parseRtpHintEntry(rtpEntry([long])), /invalid size 200/);
  });

  it('never throws anything but HintError (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (tail) => {
        const b = Buffer.concat([rtpEntry([]), Buffer.from(tail)]);
        b.writeUInt32BE(b.length, 0);
        try {
          parseRtpHintEntry(b);
        } catch (e) {
          if (!(e instanceof HintError)) throw e;
        }
      }),
    );
  });
});
