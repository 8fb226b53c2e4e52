import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtpLoop, payloadBytes } from '../test-helpers/rtp-loop.js';
import { H263Depacketizer } from './depacketizer.js';
import { h263Format, parseD263 } from './format.js';
import { H263Packetizer } from './packetizer.js';

/** Coded bits without accidental start codes (no two zero bytes in a row). */
function bits(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 1 + ((seed + i * 13) % 250);
  return b;
}
/** Picture start code: 22 bits 0000 0000 0000 0000 1000 00, then the temporal reference. */
const PSC = Buffer.from([0x00, 0x00, 0x80, 0x02]);
/** GOB start code (17 bits) with GN 1, byte aligned. */
const GBSC = Buffer.from([0x00, 0x00, 0x84]);

describe('H263Packetizer (RFC 4629)', () => {
  it('starts a picture with P=1 and leaves out the two zero bytes of the start code', () => {
    const pic = Buffer.concat([PSC, bits(100)]);
    const out = new H263Packetizer().packetize(pic);
    assert.equal(out.length, 1);
    const b = payloadBytes(out[0]);
    // RR=0, P=1, V=0, PLEN=0, PEBIT=0.
    assert.deepEqual([...b.subarray(0, 2)], [0x04, 0x00]);
    assert.deepEqual(b.subarray(2), pic.subarray(2));
    assert.equal(out[0].marker, true);
  });

  it('sends follow-on packets with P=0 and the marker on the last packet of the picture', () => {
    const pic = Buffer.concat([PSC, bits(2500)]);
    const out = new H263Packetizer({ maxPayloadSize: 1000 }).packetize(pic);
    assert.deepEqual(
      out.map((p) => p.length),
      [1000, 1000, 2 + 2504 - 998 - 998 - 2],
    );
    assert.deepEqual(
      out.map((p) => payloadBytes(p)[0]),
      [0x04, 0x00, 0x00],
    );
    assert.deepEqual(
      out.map((p) => p.marker),
      [false, false, true],
    );
    assert.deepEqual(Buffer.concat([Buffer.alloc(2), ...out.map((p) => payloadBytes(p).subarray(2))]), pic);
  });

  it('cuts before a GOB start code and sends that packet with P=1', () => {
    const gob0 = Buffer.concat([PSC, bits(600)]);
    const gob1 = Buffer.concat([GBSC, bits(600, 5)]);
    const out = new H263Packetizer({ maxPayloadSize: 1000 }).packetize(Buffer.concat([gob0, gob1]));
    assert.equal(out.length, 2);
    assert.deepEqual(payloadBytes(out[0]).subarray(2), gob0.subarray(2));
    const second = payloadBytes(out[1]);
    assert.equal(second[0] & 0x04, 0x04, 'P=1 at the GOB start');
    assert.deepEqual(second.subarray(2), gob1.subarray(2));
  });

  it('round-trips random pictures through RTP and the depacketizer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 4000 }), fc.boolean()), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 3, max: 1500 }),
        (pics, max) => {
          const pictures = pics.map(([b, psc]) =>
            psc ? Buffer.concat([PSC, Buffer.from(b)]) : Buffer.concat([Buffer.from([1]), Buffer.from(b)]),
          );
          const p = new H263Packetizer({ maxPayloadSize: max });
          const loop = new RtpLoop();
          const d = new H263Depacketizer();
          const got = pictures.flatMap((pic, i) => {
            const payloads = p.packetize(pic);
            for (const x of payloads) assert.ok(x.length <= max);
            return loop.send(payloads, i * 6000).flatMap(({ payload, info }) => [...d.push(payload, info)]);
          });
          assert.deepEqual(
            got.map((g) => g.data),
            pictures,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('h263Format', () => {
  it('uses H263-1998 without parameters for baseline (profile 0)', () => {
    assert.deepEqual(h263Format({ payloadType: 96, profile: 0, level: 10 }), {
      media: 'video',
      payloadType: 96,
      encodingName: 'H263-1998',
      clockRate: 90000,
      fmtp: {},
    });
  });

  it('uses H263-2000 with profile and level for other profiles', () => {
    const f = h263Format({ payloadType: 97, profile: 3, level: 45 });
    assert.equal(f.encodingName, 'H263-2000');
    assert.deepEqual(f.fmtp, { profile: '3', level: '45' });
  });

  it('parses d263', () => {
    assert.deepEqual(parseD263(Buffer.from([0x46, 0x46, 0x4d, 0x50, 0, 10, 0])), {
      vendor: 'FFMP',
      decoderVersion: 0,
      level: 10,
      profile: 0,
    });
    assert.equal(parseD263(Buffer.alloc(6)), null);
  });
});
