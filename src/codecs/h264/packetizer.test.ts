import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { H264Depacketizer } from './depacketizer.js';
import { H264Packetizer } from './packetizer.js';
import { RtpLoop, lengthPrefixed, payloadBytes } from '../test-helpers/rtp-loop.js';
import type { NalAccessUnit, RtpPayload } from '../types.js';

/** A NAL unit of `size` bytes with the given header byte and a recognisable body. */
function nal(header: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = header;
  for (let i = 1; i < size; i++) b[i] = (i * 7) & 0xff;
  return b;
}

function assertWellFormed(payloads: readonly RtpPayload[], max: number): void {
  payloads.forEach((p, i) => {
    assert.equal(
      p.length,
      p.parts.reduce((n, x) => n + x.length, 0),
      'length matches parts',
    );
    assert.ok(p.length <= max, `payload ${i} is ${p.length} > ${max}`);
    assert.equal(p.marker, i === payloads.length - 1, `marker only on the last payload (${i})`);
  });
}

describe('H264Packetizer', () => {
  it('sends a NAL unit that fits as a single NAL unit packet, unchanged', () => {
    const slice = nal(0x41, 500);
    const out = new H264Packetizer().packetize(lengthPrefixed([slice]));
    assert.equal(out.length, 1);
    assert.deepEqual(payloadBytes(out[0]), slice);
    assert.equal(out[0].marker, true);
  });

  it('fragments a large NAL unit into FU-A packets (RFC 6184 §5.8)', () => {
    const idr = nal(0x65, 3000); // F=0 NRI=3 type=5
    const out = new H264Packetizer({ maxPayloadSize: 1400 }).packetize(lengthPrefixed([idr]));
    // 2999 body bytes over fragments of at most 1398 → 3 fragments, spread evenly.
    assert.deepEqual(
      out.map((p) => p.length),
      [2 + 1000, 2 + 1000, 2 + 999],
    );
    const bytes = out.map(payloadBytes);
    assert.deepEqual(
      bytes.map((b) => [b[0], b[1]]),
      [
        [0x7c, 0x85], // FU indicator: NRI 3, type 28; FU header: S=1, type 5
        [0x7c, 0x05], // middle: S=0 E=0
        [0x7c, 0x45], // last: E=1
      ],
    );
    assert.deepEqual(Buffer.concat([idr.subarray(0, 1), ...bytes.map((b) => b.subarray(2))]), idr);
    assertWellFormed(out, 1400);
  });

  it('keeps F and NRI of the fragmented NAL unit in the FU indicator', () => {
    const out = new H264Packetizer({ maxPayloadSize: 100 }).packetize(
      lengthPrefixed([nal(0x80 | 0x41, 150)]),
    );
    const [first, last] = out.map(payloadBytes);
    assert.equal(first[0], 0x80 | 0x40 | 28); // F=1, NRI=2
    assert.equal(first[1], 0x80 | 1);
    assert.equal(last[1], 0x40 | 1);
    const low = new H264Packetizer({ maxPayloadSize: 100 }).packetize(lengthPrefixed([nal(0x01, 150)]));
    assert.equal(payloadBytes(low[0])[0], 28); // NRI=0
  });

  it('aggregates small NAL units into a STAP-A (RFC 6184 §5.7.1)', () => {
    const sei = nal(0x06, 5); // NRI 0
    const sps = nal(0x67, 10); // NRI 3
    const pps = nal(0x68, 4);
    const idr = nal(0x65, 2000);
    const out = new H264Packetizer({ maxPayloadSize: 1400 }).packetize(lengthPrefixed([sei, sps, pps, idr]));
    const stap = payloadBytes(out[0]);
    assert.deepEqual(
      stap,
      Buffer.concat([Buffer.from([0x78, 0, 5]), sei, Buffer.from([0, 10]), sps, Buffer.from([0, 4]), pps]),
    );
    assert.equal(out.length, 3); // STAP-A + 2 FU-A
    assertWellFormed(out, 1400);

    const plain = new H264Packetizer({ aggregate: false }).packetize(lengthPrefixed([sps, pps]));
    assert.deepEqual(plain.map(payloadBytes), [sps, pps]);
  });

  it('does not aggregate past maxPayloadSize and sends a lone small NAL unit as-is', () => {
    const a = nal(0x41, 60);
    const b = nal(0x41, 60);
    // 1 + 2 + 60 + 2 + 60 = 125 > 100
    const out = new H264Packetizer({ maxPayloadSize: 100 }).packetize(lengthPrefixed([a, b]));
    assert.deepEqual(out.map(payloadBytes), [a, b]);
    // Exactly at the limit: aggregated.
    const fit = new H264Packetizer({ maxPayloadSize: 125 }).packetize(lengthPrefixed([a, b]));
    assert.equal(fit.length, 1);
    assert.equal(fit[0].length, 125);
  });

  it('honours 1- and 2-byte NAL length prefixes', () => {
    const n = [nal(0x67, 20), nal(0x65, 200)];
    for (const size of [1, 2] as const) {
      const out = new H264Packetizer({ nalLengthSize: size, aggregate: false }).packetize(
        lengthPrefixed(n, size),
      );
      assert.deepEqual(out.map(payloadBytes), n);
    }
  });

  it('yields the NAL units before a corrupt length and nothing for an empty sample', () => {
    const good = nal(0x41, 30);
    const sample = Buffer.concat([lengthPrefixed([good]), Buffer.from([0, 0, 0x10, 0, 1, 2])]);
    const out = new H264Packetizer().packetize(sample);
    assert.deepEqual(out.map(payloadBytes), [good]);
    assert.equal(out[0].marker, true);
    assert.deepEqual(new H264Packetizer().packetize(Buffer.alloc(0)), []);
  });

  it('validates its options', () => {
    assert.throws(() => new H264Packetizer({ maxPayloadSize: 2 }), RangeError);
    assert.throws(() => new H264Packetizer({ maxPayloadSize: 70000 }), RangeError);
    assert.throws(() => new H264Packetizer({ nalLengthSize: 3 as 4 }), RangeError);
  });

  it('round-trips random access units through RTP and the depacketizer', () => {
    const nalArb = fc
      .record({
        f: fc.constant(0),
        nri: fc.integer({ min: 0, max: 3 }),
        type: fc.integer({ min: 1, max: 23 }),
        size: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6000 })),
        seed: fc.integer({ min: 0, max: 255 }),
      })
      .map(({ nri, type, size, seed }) => {
        const b = Buffer.alloc(size);
        for (let i = 1; i < size; i++) b[i] = (seed + i * 31) & 0xff;
        b[0] = (nri << 5) | type;
        return b;
      });
    fc.assert(
      fc.property(
        fc.array(fc.array(nalArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 3, max: 1600 }),
        fc.boolean(),
        (aus, maxPayloadSize, aggregate) => {
          const packetizer = new H264Packetizer({ maxPayloadSize, aggregate });
          const depacketizer = new H264Depacketizer();
          const loop = new RtpLoop();
          const received: NalAccessUnit[] = [];
          aus.forEach((au, k) => {
            const payloads = packetizer.packetize(lengthPrefixed(au));
            assertWellFormed(payloads, maxPayloadSize);
            for (const { payload, info } of loop.send(payloads, k * 3000)) {
              received.push(...depacketizer.push(payload, info));
            }
          });
          assert.deepEqual(depacketizer.flush(), []);
          assert.deepEqual(
            received,
            aus.map((au, k) => ({ timestamp: k * 3000, nalus: au, damaged: false })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('H264Depacketizer', () => {
  const packetizer = new H264Packetizer({ maxPayloadSize: 100 });

  it('drops a NAL unit whose middle fragment was lost and flags the AU', () => {
    const sps = nal(0x67, 10);
    const idr = nal(0x65, 400);
    const packets = new RtpLoop(100).send(packetizer.packetize(lengthPrefixed([sps, idr])), 9000);
    assert.ok(packets.length >= 4);
    const d = new H264Depacketizer();
    const out = packets.filter((_, i) => i !== 2).flatMap((p) => d.push(p.payload, p.info));
    assert.deepEqual(out, [{ timestamp: 9000, nalus: [sps], damaged: true }]);
  });

  it('ends an access unit on a timestamp change when the marker packet is lost', () => {
    const a = nal(0x41, 20);
    const b = nal(0x41, 30);
    const loop = new RtpLoop(0);
    const first = loop.send(packetizer.packetize(lengthPrefixed([a])), 0);
    const second = loop.send(packetizer.packetize(lengthPrefixed([b])), 3000);
    const d = new H264Depacketizer();
    // Without sequence numbers the loss is undetectable; the timestamp still splits the AUs.
    const out = [...d.push(first[0].payload, { timestamp: 0, marker: false })];
    out.push(...d.push(second[0].payload, { timestamp: 3000, marker: true }));
    assert.deepEqual(out, [
      { timestamp: 0, nalus: [a], damaged: false },
      { timestamp: 3000, nalus: [b], damaged: false },
    ]);
  });

  it('ignores a continuation fragment without its start and survives malformed payloads', () => {
    const d = new H264Depacketizer();
    assert.deepEqual(d.push(Buffer.from([0x7c, 0x05, 1, 2]), { timestamp: 1, marker: false }), []);
    assert.deepEqual(d.push(Buffer.from([0x78, 0, 9, 1]), { timestamp: 1, marker: false }), []); // STAP-A overrun
    assert.deepEqual(d.push(Buffer.alloc(0), { timestamp: 1, marker: false }), []);
    const out = d.push(Buffer.from([0x41, 1]), { timestamp: 1, marker: true });
    assert.deepEqual(out, [{ timestamp: 1, nalus: [Buffer.from([0x41, 1])], damaged: true }]);
  });

  it('never throws on random payloads', () => {
    const d = new H264Depacketizer();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        (bytes, m, ts) => {
          d.push(Buffer.from(bytes), { timestamp: ts, marker: m, sequence: ts });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
