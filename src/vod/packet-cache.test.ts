import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RtpPayload } from '../codecs/types.js';
import { PacketCache } from './packet-cache.js';
import type { VodTrack } from './types.js';

const payloads = (bytes: number): RtpPayload[] => [{ parts: [Buffer.alloc(bytes)], length: bytes, marker: true }];
const track = () => ({}) as VodTrack;

describe('PacketCache', () => {
  it('keeps payloads per track, payload size and sample', () => {
    const c = new PacketCache({ maxBytes: 10_000 });
    const a = track();
    const b = track();
    const ids = [c.laneId(a, 1400), c.laneId(a, 1000), c.laneId(b, 1400)];
    assert.equal(new Set(ids).size, 3, 'one id per track and payload size');
    assert.equal(c.laneId(a, 1400), ids[0], 'the same pair keeps its id');
    const p = payloads(100);
    c.set(ids[0], 7, p);
    assert.equal(c.get(ids[0], 7), p);
    assert.equal(c.get(ids[1], 7), undefined);
    assert.equal(c.get(ids[0], 8), undefined);
    assert.deepEqual(c.stats(), { entries: 1, bytes: 100, hits: 1, misses: 2 });
  });

  it('holds at most maxBytes of payload, dropping the oldest; shrinking drops at once; 0 keeps nothing', () => {
    const c = new PacketCache({ maxBytes: 1000 });
    const id = c.laneId(track(), 1400);
    for (let i = 0; i < 20; i++) c.set(id, i, payloads(100));
    assert.equal(c.stats().bytes, 1000);
    assert.equal(c.get(id, 9), undefined, 'the oldest went first');
    assert.ok(c.get(id, 19));
    c.maxBytes = 300;
    assert.equal(c.stats().entries, 3);
    c.maxBytes = 0;
    assert.equal(c.stats().entries, 0);
    c.set(id, 1, payloads(1));
    assert.equal(c.stats().entries, 0);
  });
});
