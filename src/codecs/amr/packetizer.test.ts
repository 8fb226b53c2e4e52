import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtpLoop, payloadBytes } from '../test-helpers/rtp-loop.js';
import { AmrDepacketizer } from './depacketizer.js';
import { amrFormat, parseDamr } from './format.js';
import { AMR_NB_FRAME_BYTES, AMR_WB_FRAME_BYTES, splitAmrFrames } from './frames.js';
import { AmrPacketizer } from './packetizer.js';

/** A storage-format frame: header `0 FT Q 0 0`, then speech bytes. */
function frame(ft: number, wideband = false, seed = 0, q = true): Buffer {
  const size = (wideband ? AMR_WB_FRAME_BYTES : AMR_NB_FRAME_BYTES)[ft];
  const b = Buffer.alloc(1 + size);
  b[0] = (ft << 3) | (q ? 0x04 : 0);
  for (let i = 1; i <= size; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

describe('AmrPacketizer (RFC 4867 octet-aligned)', () => {
  it('writes CMR 15, one ToC per frame with F=1 on all but the last, then the speech bytes', () => {
    // AMR-NB 12.2 kbit/s (FT 7, 31 bytes) and 4.75 kbit/s (FT 0, 12 bytes), one frame damaged.
    const sample = Buffer.concat([frame(7, false, 1), frame(0, false, 2, false), frame(7, false, 3)]);
    const out = new AmrPacketizer().packetize(sample);
    assert.equal(out.length, 1);
    const b = payloadBytes(out[0]);
    assert.equal(b[0], 0xf0, 'CMR=15 (no mode request), reserved bits 0');
    assert.deepEqual([...b.subarray(1, 4)], [0x80 | (7 << 3) | 0x04, 0x80 | (0 << 3), (7 << 3) | 0x04]);
    assert.deepEqual(
      b.subarray(4),
      Buffer.concat([
        frame(7, false, 1).subarray(1),
        frame(0, false, 2).subarray(1),
        frame(7, false, 3).subarray(1),
      ]),
    );
    assert.equal(out[0].length, b.length);
    assert.equal(out[0].timestampOffset, 0);
  });

  it('carries NO_DATA frames as a ToC entry without speech bytes', () => {
    const noData = Buffer.from([15 << 3]);
    const b = payloadBytes(new AmrPacketizer().packetize(Buffer.concat([frame(2), noData]))[0]);
    assert.deepEqual([...b.subarray(0, 3)], [0xf0, 0x80 | (2 << 3) | 0x04, 15 << 3]);
    assert.equal(b.length, 3 + AMR_NB_FRAME_BYTES[2]);
  });

  it('spreads a long sample over packets time-stamped at their first frame (320 per AMR-WB frame)', () => {
    const frames = Array.from({ length: 30 }, (_, i) => frame(8, true, i)); // 61 bytes each
    const out = new AmrPacketizer({ wideband: true, maxPayloadSize: 200 }).packetize(Buffer.concat(frames));
    // 1 CMR + n × (1 ToC + 60) <= 200 → 3 frames per packet.
    assert.equal(out.length, 10);
    assert.deepEqual(
      out.map((p) => p.timestampOffset),
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27].map((k) => k * 320),
    );
    for (const p of out) assert.ok(p.length <= 200);
  });

  it('stops at a frame cut short by the end of the sample and counts the bytes', () => {
    const p = new AmrPacketizer();
    const sample = Buffer.concat([frame(7), frame(7).subarray(0, 10)]);
    const out = p.packetize(sample);
    assert.equal(payloadBytes(out[0]).length, 1 + 1 + 31);
    assert.equal(p.droppedBytes, 10);
    assert.equal(splitAmrFrames(Buffer.from([12 << 3, 1, 2]), false).frames.length, 0, 'reserved FT 12');
  });

  it('round-trips random NB and WB samples through RTP and the depacketizer', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 25 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 62, max: 400 }),
        (wb, samples, max) => {
          const types = (ft: number) => (wb ? ft : Math.min(ft, 8));
          const spf = wb ? 320 : 160;
          const p = new AmrPacketizer({ wideband: wb, maxPayloadSize: max });
          const d = new AmrDepacketizer({ wideband: wb });
          const loop = new RtpLoop();
          const want: { timestamp: number; data: Buffer }[] = [];
          const got: { timestamp: number; data: Buffer }[] = [];
          let t = 0;
          for (const [si, fts] of samples.entries()) {
            const fs = fts.map((ft, k) => frame(types(ft), wb, si * 100 + k));
            fs.forEach((f, k) => want.push({ timestamp: t + k * spf, data: f }));
            for (const pl of p.packetize(Buffer.concat(fs))) {
              assert.ok(pl.length <= max);
              for (const r of loop.send([pl], t + (pl.timestampOffset ?? 0)))
                got.push(...d.push(r.payload, r.info));
            }
            t += fs.length * spf;
          }
          assert.deepEqual(got, want);
          assert.equal(d.malformedCount, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('amrFormat', () => {
  it('describes AMR and AMR-WB as octet-aligned', () => {
    assert.deepEqual(amrFormat({ payloadType: 97, wideband: false }), {
      media: 'audio',
      payloadType: 97,
      encodingName: 'AMR',
      clockRate: 8000,
      channels: 1,
      fmtp: { 'octet-align': '1' },
    });
    const wb = amrFormat({ payloadType: 98, wideband: true });
    assert.equal(`${wb.encodingName}/${wb.clockRate}/${wb.channels}`, 'AMR-WB/16000/1');
  });

  it('parses damr', () => {
    assert.deepEqual(parseDamr(Buffer.from([0x46, 0x46, 0x4d, 0x50, 0, 0x81, 0xff, 0, 10])), {
      vendor: 'FFMP',
      decoderVersion: 0,
      modeSet: 0x81ff,
      modeChangePeriod: 0,
      framesPerSample: 10,
    });
  });
});
