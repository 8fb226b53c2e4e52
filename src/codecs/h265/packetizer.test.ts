import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { H265Depacketizer } from './depacketizer.js';
import { H265Packetizer } from './packetizer.js';
import { RtpLoop, lengthPrefixed, payloadBytes } from '../test-helpers/rtp-loop.js';
import type { NalAccessUnit, RtpPayload } from '../types.js';

/** NAL unit header: F(1) Type(6) LayerId(6) TID(3). */
function header(type: number, layerId = 0, tid = 1, f = 0): [number, number] {
  return [(f << 7) | (type << 1) | (layerId >> 5), ((layerId & 0x1f) << 3) | tid];
}

function nal(type: number, size: number, layerId = 0, tid = 1): Buffer {
  const b = Buffer.alloc(size);
  [b[0], b[1]] = header(type, layerId, tid);
  for (let i = 2; i < size; i++) b[i] = (i * 13) & 0xff;
  return b;
}

function assertWellFormed(payloads: readonly RtpPayload[], max: number): void {
  payloads.forEach((p, i) => {
    assert.equal(
      p.length,
      p.parts.reduce((n, x) => n + x.length, 0),
    );
    assert.ok(p.length <= max, `payload ${i} is ${p.length} > ${max}`);
    assert.equal(p.marker, i === payloads.length - 1);
  });
}

describe('H265Packetizer', () => {
  it('sends a NAL unit that fits unchanged', () => {
    const trail = nal(1, 300);
    const out = new H265Packetizer().packetize(lengthPrefixed([trail]));
    assert.deepEqual(out.map(payloadBytes), [trail]);
    assert.equal(out[0].marker, true);
  });

  it('fragments into FUs with a type-49 payload header and S/E bits (RFC 7798 §4.4.3)', () => {
    const idr = nal(19, 2500, 0, 1); // IDR_W_RADL, header 26 01
    assert.deepEqual([...idr.subarray(0, 2)], [0x26, 0x01]);
    const out = new H265Packetizer({ maxPayloadSize: 1000 }).packetize(lengthPrefixed([idr]));
    // 2498 body bytes over fragments of at most 997 → 3 fragments: 833, 833, 832.
    assert.deepEqual(
      out.map((p) => p.length),
      [836, 836, 835],
    );
    const bytes = out.map(payloadBytes);
    assert.deepEqual(
      bytes.map((b) => [...b.subarray(0, 3)]),
      [
        [49 << 1, 0x01, 0x80 | 19],
        [49 << 1, 0x01, 19],
        [49 << 1, 0x01, 0x40 | 19],
      ],
    );
    assert.deepEqual(Buffer.concat([idr.subarray(0, 2), ...bytes.map((b) => b.subarray(3))]), idr);
    assertWellFormed(out, 1000);
  });

  it('keeps F, LayerId and TID in the FU payload header', () => {
    const n = nal(1, 300, 37, 5);
    n[0] |= 0x80;
    const [first] = new H265Packetizer({ maxPayloadSize: 100 })
      .packetize(lengthPrefixed([n]))
      .map(payloadBytes);
    const [h0, h1] = header(49, 37, 5, 1);
    assert.deepEqual([...first.subarray(0, 3)], [h0, h1, 0x80 | 1]);
  });

  it('aggregates parameter sets into an AP (RFC 7798 §4.4.2)', () => {
    const vps = nal(32, 24);
    const sps = nal(33, 40);
    const pps = nal(34, 7);
    const idr = nal(19, 1500);
    const out = new H265Packetizer().packetize(lengthPrefixed([vps, sps, pps, idr]));
    assert.deepEqual(
      payloadBytes(out[0]),
      Buffer.concat([
        Buffer.from([48 << 1, 0x01, 0, 24]),
        vps,
        Buffer.from([0, 40]),
        sps,
        Buffer.from([0, 7]),
        pps,
      ]),
    );
    assert.equal(out.length, 3);
    assertWellFormed(out, 1400);
  });

  it('gives the AP the lowest LayerId and TID and the OR of the F bits', () => {
    const a = nal(1, 10, 3, 4);
    const b = nal(1, 10, 2, 6);
    b[0] |= 0x80;
    const [ap] = new H265Packetizer().packetize(lengthPrefixed([a, b])).map(payloadBytes);
    assert.deepEqual([...ap.subarray(0, 2)], header(48, 2, 4, 1));
  });

  it('validates maxPayloadSize', () => {
    assert.throws(() => new H265Packetizer({ maxPayloadSize: 3 }), RangeError);
    assert.doesNotThrow(() => new H265Packetizer({ maxPayloadSize: 4 }));
  });

  it('round-trips random access units through RTP and the depacketizer', () => {
    const nalArb = fc
      .record({
        type: fc.integer({ min: 0, max: 47 }),
        layerId: fc.integer({ min: 0, max: 63 }),
        tid: fc.integer({ min: 1, max: 7 }),
        size: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 6000 })),
      })
      .map(({ type, layerId, tid, size }) => nal(type, size, layerId, tid));
    fc.assert(
      fc.property(
        fc.array(fc.array(nalArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 4, max: 1600 }),
        fc.boolean(),
        (aus, maxPayloadSize, aggregate) => {
          const packetizer = new H265Packetizer({ maxPayloadSize, aggregate });
          const depacketizer = new H265Depacketizer();
          const loop = new RtpLoop();
          const received: NalAccessUnit[] = [];
          aus.forEach((au, k) => {
            const payloads = packetizer.packetize(lengthPrefixed(au));
            assertWellFormed(payloads, maxPayloadSize);
            for (const { payload, info } of loop.send(payloads, 0xffffff00 + k * 3000)) {
              received.push(...depacketizer.push(payload, info));
            }
          });
          assert.deepEqual(
            received,
            aus.map((au, k) => ({ timestamp: (0xffffff00 + k * 3000) >>> 0, nalus: au, damaged: false })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('H265Depacketizer', () => {
  it('drops a FU that lost its last fragment and flags the AU', () => {
    const big = nal(1, 500);
    const small = nal(1, 20);
    const p = new H265Packetizer({ maxPayloadSize: 200, aggregate: false });
    const packets = new RtpLoop().send(p.packetize(lengthPrefixed([big, small])), 0);
    // big → 3 FUs, small → 1 packet; drop the FU end.
    assert.equal(packets.length, 4);
    const d = new H265Depacketizer();
    const out = packets.filter((_, i) => i !== 2).flatMap((x) => d.push(x.payload, x.info));
    assert.deepEqual(out, [{ timestamp: 0, nalus: [small], damaged: true }]);
  });

  it('never throws on random payloads', () => {
    const d = new H265Depacketizer();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        (bytes, m, ts) => {
          d.push(Buffer.from(bytes), { timestamp: ts, marker: m, sequence: ts * 2 });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
