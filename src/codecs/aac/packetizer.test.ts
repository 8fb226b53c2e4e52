import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AacDepacketizer, type AacAccessUnit } from './depacketizer.js';
import { AacPacketizer, type AacPayload } from './packetizer.js';
import { RtpLoop, payloadBytes } from '../test-helpers/rtp-loop.js';

function frame(size: number, seed = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (seed + i * 17) & 0xff;
  return b;
}

/** Sends payloads as RTP, time-stamping each by its first AU (1024 samples per AU). */
function sendAll(payloads: readonly AacPayload[], loop: RtpLoop, base = 0) {
  return payloads.flatMap((p) => loop.send([p], base + p.auIndex * 1024));
}

describe('AacPacketizer', () => {
  it('writes AU-headers-length 16 and one 13+3-bit AU-header (RFC 3640 §3.2.1)', () => {
    const au = frame(371);
    const out = new AacPacketizer().packetize(au);
    assert.equal(out.length, 1);
    const b = payloadBytes(out[0]);
    assert.deepEqual([...b.subarray(0, 4)], [0x00, 0x10, (371 << 3) >> 8, (371 << 3) & 0xff]);
    assert.equal(b.readUInt16BE(2) >> 3, 371); // AU-size
    assert.equal(b.readUInt16BE(2) & 7, 0); // AU-Index
    assert.deepEqual(b.subarray(4), au);
    assert.equal(out[0].marker, true);
    assert.equal(out[0].length, 375);
    assert.deepEqual([out[0].auIndex, out[0].auCount], [0, 1]);
  });

  it('fragments a large AU, repeating the full AU-size, marker on the last fragment only', () => {
    const au = frame(3000);
    const out = new AacPacketizer({ maxPayloadSize: 1000 }).packetize(au);
    // 3000 bytes over 996-byte fragments → 4 fragments of 750.
    assert.deepEqual(
      out.map((p) => p.length),
      [754, 754, 754, 754],
    );
    assert.deepEqual(
      out.map((p) => p.marker),
      [false, false, false, true],
    );
    const bytes = out.map(payloadBytes);
    for (const b of bytes)
      assert.deepEqual([...b.subarray(0, 4)], [0x00, 0x10, (3000 << 3) >> 8, (3000 << 3) & 0xff]);
    assert.deepEqual(Buffer.concat(bytes.map((b) => b.subarray(4))), au);
  });

  it('aggregates consecutive AUs with index deltas of 0', () => {
    const aus = [frame(100, 1), frame(200, 2), frame(300, 3), frame(900, 4)];
    const out = new AacPacketizer({ maxPayloadSize: 1000 }).packetizeMany(aus);
    assert.equal(out.length, 2);
    assert.deepEqual([out[0].auIndex, out[0].auCount, out[1].auIndex, out[1].auCount], [0, 3, 3, 1]);
    const b = payloadBytes(out[0]);
    assert.equal(b.readUInt16BE(0), 48); // 3 AU-headers × 16 bits
    assert.deepEqual(
      [b.readUInt16BE(2), b.readUInt16BE(4), b.readUInt16BE(6)],
      [100 << 3, 200 << 3, 300 << 3],
    );
    assert.deepEqual(b.subarray(8), Buffer.concat(aus.slice(0, 3)));
    assert.ok(out.every((p) => p.marker));
  });

  it('drops AUs the 13-bit size cannot describe instead of throwing', () => {
    const p = new AacPacketizer();
    const out = p.packetizeMany([frame(10), frame(8192), frame(0), frame(10)]);
    assert.equal(p.droppedCount, 2);
    // The dropped AUs split the run: AUs 0 and 3 are not adjacent, so they are not aggregated.
    assert.deepEqual(
      out.map((x) => [x.auIndex, x.auCount]),
      [
        [0, 1],
        [3, 1],
      ],
    );
  });

  it('validates maxPayloadSize', () => {
    assert.throws(() => new AacPacketizer({ maxPayloadSize: 4 }), RangeError);
  });

  it('round-trips random AUs through RTP and the depacketizer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 8191 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 5, max: 1600 }),
        fc.boolean(),
        (sizes, maxPayloadSize, many) => {
          const aus = sizes.map((s, i) => frame(s, i));
          const packetizer = new AacPacketizer({ maxPayloadSize });
          const payloads = many
            ? packetizer.packetizeMany(aus)
            : aus.flatMap((au, i) => packetizer.packetize(au).map((p) => ({ ...p, auIndex: i })));
          for (const p of payloads) {
            assert.ok(p.length <= maxPayloadSize);
            assert.equal(
              p.length,
              p.parts.reduce((n, x) => n + x.length, 0),
            );
          }
          // The marker closes every AU: one marker per AU-ending payload.
          assert.equal(
            payloads.filter((p) => p.marker).reduce((n, p) => n + p.auCount, 0),
            aus.length,
          );
          const d = new AacDepacketizer();
          const got: AacAccessUnit[] = sendAll(payloads, new RtpLoop(), 0xfffff000).flatMap(
            ({ payload, info }) => [...d.push(payload, info)],
          );
          assert.deepEqual(
            got,
            aus.map((data, i) => ({ timestamp: (0xfffff000 + i * 1024) >>> 0, data })),
          );
          assert.equal(d.droppedCount, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('AacDepacketizer', () => {
  it('drops a fragmented AU with a lost fragment and recovers on the next AU', () => {
    const p = new AacPacketizer({ maxPayloadSize: 500 });
    const loop = new RtpLoop();
    const first = loop.send(p.packetize(frame(1200)), 0);
    const second = loop.send(p.packetize(frame(100)), 1024);
    const d = new AacDepacketizer();
    const out = [first[0], first[2], ...second].flatMap((x) => [...d.push(x.payload, x.info)]);
    assert.deepEqual(out, [{ timestamp: 1024, data: frame(100) }]);
    assert.equal(d.droppedCount, 1);
  });

  it('never throws on random payloads', () => {
    const d = new AacDepacketizer();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        (bytes, m, ts) => {
          for (const au of d.push(Buffer.from(bytes), { timestamp: ts, marker: m, sequence: ts })) {
            assert.ok(Buffer.isBuffer(au.data));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
