import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtpLoop, payloadBytes } from '../test-helpers/rtp-loop.js';
import { Mp4vDepacketizer } from './depacketizer.js';
import { mp4vFormat, mp4vProfileLevel } from './format.js';
import { Mp4vPacketizer } from './packetizer.js';

/** Bytes with no accidental 00 00 01 inside. */
function body(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 0x10 + ((seed + i * 7) % 200);
  return b;
}
const sc = (code: number) => Buffer.from([0, 0, 1, code]);

describe('Mp4vPacketizer (RFC 6416)', () => {
  it('sends a small VOP as one packet with the marker and no payload header', () => {
    const vop = Buffer.concat([sc(0xb6), body(500)]);
    const out = new Mp4vPacketizer().packetize(vop);
    assert.equal(out.length, 1);
    assert.deepEqual(payloadBytes(out[0]), vop);
    assert.equal(out[0].marker, true);
  });

  it('fragments a large VOP within the limit, marker on the last packet only', () => {
    const vop = Buffer.concat([sc(0xb6), body(3000)]);
    const out = new Mp4vPacketizer({ maxPayloadSize: 1000 }).packetize(vop);
    assert.deepEqual(
      out.map((p) => p.length),
      [1000, 1000, 1000, 4],
    );
    assert.deepEqual(
      out.map((p) => p.marker),
      [false, false, false, true],
    );
    assert.deepEqual(Buffer.concat(out.map(payloadBytes)), vop);
  });

  it('cuts before a start code that falls inside a packet (VOL headers, then the VOP)', () => {
    const headers = Buffer.concat([sc(0xb0), Buffer.from([0x01]), sc(0xb5), body(10), sc(0x20), body(30)]);
    const vop = Buffer.concat([sc(0xb6), body(1500)]);
    const out = new Mp4vPacketizer({ maxPayloadSize: 1000 }).packetize(Buffer.concat([headers, vop]));
    // The first packet ends where the VOP starts; the next ones start with its start code.
    assert.deepEqual(payloadBytes(out[0]), headers);
    assert.deepEqual(payloadBytes(out[1]).subarray(0, 4), sc(0xb6));
    assert.deepEqual(Buffer.concat(out.slice(1).map(payloadBytes)), vop);
  });

  it('round-trips random frames through RTP and the depacketizer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 1500 }),
        (frames, max) => {
          const p = new Mp4vPacketizer({ maxPayloadSize: max });
          const loop = new RtpLoop();
          const d = new Mp4vDepacketizer();
          const got = frames.flatMap((f, i) => {
            const payloads = p.packetize(Buffer.from(f));
            for (const x of payloads) assert.ok(x.length <= max);
            return loop.send(payloads, i * 3000).flatMap(({ payload, info }) => [...d.push(payload, info)]);
          });
          assert.deepEqual(
            got.map((g) => [g.timestamp, g.data, g.damaged]),
            frames.map((f, i) => [i * 3000, Buffer.from(f), false]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('mp4vFormat', () => {
  it('takes profile-level-id from the VOS header and the config as hex', () => {
    const config = Buffer.from('000001b001000001b58913000001000000012000c48d8800cd0a041e1443', 'hex');
    assert.equal(mp4vProfileLevel(config), 1);
    assert.deepEqual(mp4vFormat({ payloadType: 96, config }), {
      media: 'video',
      payloadType: 96,
      encodingName: 'MP4V-ES',
      clockRate: 90000,
      fmtp: { 'profile-level-id': '1', config: config.toString('hex').toUpperCase() },
    });
  });

  it('defaults profile-level-id to 1 without a VOS header', () => {
    const config = Buffer.from('00000100000001200008', 'hex');
    assert.equal(mp4vFormat({ payloadType: 97, config }).fmtp['profile-level-id'], '1');
    assert.equal(mp4vProfileLevel(Buffer.from('000001b0f5', 'hex')), 0xf5);
  });
});
