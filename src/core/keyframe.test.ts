import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { h264Keyframe, h265Keyframe, keyframeDetector, mp4vKeyframe } from './keyframe.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

/** H.264 NAL header byte: forbidden 0, nal_ref_idc 3, type. */
const nal264 = (type: number) => 0x60 | type;
/** STAP-A (type 24) aggregating the given NAL units. */
function stapA(...units: Buffer[]): Buffer {
  const parts: Buffer[] = [b(0x78)];
  for (const u of units) {
    const size = Buffer.alloc(2);
    size.writeUInt16BE(u.length);
    parts.push(size, u);
  }
  return Buffer.concat(parts);
}
/** FU-A (type 28) fragment of a NAL of `type`. */
const fuA = (type: number, start: boolean, end = false) =>
  b(0x60 | 28, (start ? 0x80 : 0) | (end ? 0x40 : 0) | type, 0xaa, 0xbb);

/** H.265 2-byte NAL header for `type` (layer 0, tid 1). */
const hdr265 = (type: number) => [(type << 1) & 0x7e, 0x01];
/** AP (type 48) aggregating the given NAL units. */
function ap265(...units: Buffer[]): Buffer {
  const parts: Buffer[] = [b(...hdr265(48))];
  for (const u of units) {
    const size = Buffer.alloc(2);
    size.writeUInt16BE(u.length);
    parts.push(size, u);
  }
  return Buffer.concat(parts);
}
/** FU (type 49) fragment of a NAL of `type`. */
const fu265 = (type: number, start: boolean) => b(...hdr265(49), (start ? 0x80 : 0) | type, 0xaa, 0xbb);

describe('h264Keyframe', () => {
  it('takes an IDR slice (5) and an SPS (7) as key', () => {
    assert.equal(h264Keyframe(b(0x65, 0x88, 0x84)), true);
    assert.equal(h264Keyframe(b(0x67, 0x42, 0xc0, 0x1e)), true);
  });

  it('ignores nal_ref_idc and looks only at the type bits', () => {
    assert.equal(h264Keyframe(b(0x05, 0x88)), true);
    assert.equal(h264Keyframe(b(0x25, 0x88)), true);
  });

  it('takes non-IDR slices, PPS, SEI and AUD as not key', () => {
    for (const t of [1, 6, 8, 9, 12])
      assert.equal(h264Keyframe(b(nal264(t), 0x9a, 0x00)), false, `type ${t}`);
  });

  it('finds an SPS or an IDR inside a STAP-A', () => {
    const aud = b(nal264(9), 0xf0);
    const sps = b(nal264(7), 0x42, 0xc0, 0x1e, 0xda);
    const pps = b(nal264(8), 0xce, 0x3c, 0x80);
    const idr = b(nal264(5), 0x88, 0x84, 0x00);
    assert.equal(h264Keyframe(stapA(sps, pps)), true);
    assert.equal(h264Keyframe(stapA(aud, pps, idr)), true, 'IDR as the third unit');
    assert.equal(h264Keyframe(stapA(aud, b(nal264(6), 0x05, 0x10))), false, 'AUD + SEI only');
    assert.equal(h264Keyframe(stapA(b(nal264(1), 0x9a, 0x00))), false, 'non-IDR slice only');
  });

  it('stops at a STAP-A unit whose size runs past the payload', () => {
    // First unit claims 100 bytes: the IDR byte after it must not be read as a unit.
    assert.equal(h264Keyframe(b(0x78, 0x00, 0x64, nal264(1), nal264(5))), false);
    // Zero-size unit ends the walk.
    assert.equal(h264Keyframe(b(0x78, 0x00, 0x00, 0x00, 0x01, nal264(5))), false);
  });

  it('takes only the start fragment of an FU-A carrying an IDR', () => {
    assert.equal(h264Keyframe(fuA(5, true)), true);
    assert.equal(h264Keyframe(fuA(5, false)), false, 'continuation');
    assert.equal(h264Keyframe(fuA(5, false, true)), false, 'end fragment');
    assert.equal(h264Keyframe(fuA(1, true)), false, 'start of a non-IDR slice');
  });

  it('never throws on truncated or garbage payloads', () => {
    for (const p of [
      b(),
      b(0x78),
      b(0x78, 0x00),
      b(0x78, 0xff, 0xff),
      b(0x7c),
      b(0xff),
      b(0x78, 0x00, 0x05, 0x65),
    ]) {
      assert.equal(h264Keyframe(p), false, p.toString('hex'));
    }
  });
});

describe('h265Keyframe', () => {
  it('takes every IRAP type 16..21 as key', () => {
    for (let t = 16; t <= 21; t++) assert.equal(h265Keyframe(b(...hdr265(t), 0xaf)), true, `type ${t}`);
  });

  it('takes VPS (32) and SPS (33) as key', () => {
    assert.equal(h265Keyframe(b(...hdr265(32), 0x0c)), true);
    assert.equal(h265Keyframe(b(...hdr265(33), 0x01)), true);
  });

  it('takes trailing/leading pictures, PPS, AUD and SEI as not key', () => {
    for (const t of [0, 1, 8, 9, 15, 22, 34, 35, 39])
      assert.equal(h265Keyframe(b(...hdr265(t), 0x00)), false, `type ${t}`);
  });

  it('finds a parameter set or IRAP inside an AP (48)', () => {
    const pps = b(...hdr265(34), 0xc1);
    const trail = b(...hdr265(1), 0xaa);
    assert.equal(h265Keyframe(ap265(b(...hdr265(32), 0x0c), pps)), true);
    assert.equal(h265Keyframe(ap265(pps, b(...hdr265(19), 0xaf))), true, 'IDR_W_RADL second');
    assert.equal(h265Keyframe(ap265(pps, trail)), false);
  });

  it('takes only the start fragment of an FU (49) of an IRAP', () => {
    assert.equal(h265Keyframe(fu265(19, true)), true);
    assert.equal(h265Keyframe(fu265(21, true)), true);
    assert.equal(h265Keyframe(fu265(19, false)), false, 'continuation');
    assert.equal(h265Keyframe(fu265(1, true)), false, 'start of a trailing picture');
  });

  it('never throws on truncated or garbage payloads', () => {
    for (const p of [
      b(),
      b(0x26),
      b(...hdr265(48)),
      b(...hdr265(48), 0xff, 0xff, 0x26),
      b(...hdr265(49)),
      b(0xff, 0xff),
    ]) {
      assert.equal(h265Keyframe(p), false, p.toString('hex'));
    }
  });
});

describe('mp4vKeyframe', () => {
  it('takes a VOS (b0) or VOL (20..2f) header as key', () => {
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb0, 0x01, 0, 0, 1, 0xb5)), true);
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0x00, 0, 0, 1, 0x20, 0x00, 0x84)), true, 'VO then VOL');
  });

  it('takes a GOV header (b3) as key', () => {
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb3, 0x00, 0x10)), true);
  });

  it('reads the VOP coding type from the two top bits after 00 00 01 b6', () => {
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb6, 0x10, 0x00)), true, 'I-VOP (00)');
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb6, 0x3f, 0x00)), true, 'I-VOP, low bits set');
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb6, 0x50, 0x00)), false, 'P-VOP (01)');
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb6, 0x90, 0x00)), false, 'B-VOP (10)');
    assert.equal(mp4vKeyframe(b(0, 0, 1, 0xb6, 0xd0, 0x00)), false, 'S-VOP (11)');
  });

  it('finds the start code after leading bytes', () => {
    assert.equal(mp4vKeyframe(b(0xff, 0xee, 0, 0, 1, 0xb6, 0x00, 0x00)), true);
  });

  it('takes a continuation of a VOP (no start code) as not key', () => {
    assert.equal(mp4vKeyframe(b(0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc)), false);
    assert.equal(mp4vKeyframe(b()), false);
    assert.equal(mp4vKeyframe(b(0, 0, 1)), false);
  });
});

describe('keyframeDetector', () => {
  it('picks the detector by encoding name, case-insensitively', () => {
    assert.equal(keyframeDetector('H264', 'video'), h264Keyframe);
    assert.equal(keyframeDetector('h264', 'video'), h264Keyframe);
    assert.equal(keyframeDetector('H265', 'video'), h265Keyframe);
    assert.equal(keyframeDetector('MP4V-ES', 'video'), mp4vKeyframe);
    assert.equal(keyframeDetector('mp4v-es', 'video'), mp4vKeyframe);
  });

  it('returns undefined for audio and for video formats it cannot look inside', () => {
    assert.equal(keyframeDetector('MPEG4-GENERIC', 'audio'), undefined);
    assert.equal(keyframeDetector('PCMU', 'audio'), undefined);
    assert.equal(keyframeDetector('H264', 'audio'), undefined);
    assert.equal(keyframeDetector('JPEG', 'video'), undefined);
    assert.equal(keyframeDetector('VP8', 'video'), undefined);
  });
});

describe('keyframe detectors on random input', () => {
  it('never throw and always answer a boolean', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const p = Buffer.from(bytes);
        for (const d of [h264Keyframe, h265Keyframe, mp4vKeyframe]) assert.equal(typeof d(p), 'boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('never throw on aggregation/fragment headers followed by random bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x78, 0x7c, 0x60 | 29), fc.uint8Array({ maxLength: 40 }), (h, rest) => {
        assert.equal(typeof h264Keyframe(Buffer.from([h, ...rest])), 'boolean');
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(48, 49, 50), fc.uint8Array({ maxLength: 40 }), (t, rest) => {
        assert.equal(typeof h265Keyframe(Buffer.from([...hdr265(t), ...rest])), 'boolean');
      }),
    );
  });
});
