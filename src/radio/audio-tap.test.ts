import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Frame, type StreamTrack, type TrackReader } from '../core/index.js';
import type { AudioBytes } from '../readers/audio-bytes.js';
import { AudioTap, WRITE_MS, type TapListener } from './audio-tap.js';

/** A frame whose byte form is `text`. */
function frame(text: string): Frame {
  const f = new Frame(0, 0, true, 0);
  f.add(Buffer.from(text));
  return f;
}
const audio = { form: (f: Frame) => f.packets[0] } as unknown as AudioBytes;

describe('AudioTap', () => {
  it('writes each interval as one buffer shared by every listener, a late joiner from the frame after its burst', async () => {
    const readers = new Set<TrackReader>();
    const tap = new AudioTap({ readers } as unknown as StreamTrack, audio);
    const got = new Map<string, Buffer[]>();
    const listener = (name: string): TapListener => ({ take: (b) => got.set(name, [...(got.get(name) ?? []), b]) });
    const a = listener('a');
    const b = listener('b');
    tap.join(a);
    assert.ok(readers.has(tap), 'the tap reads the track while someone listens');
    tap.deliver(frame('one,'));
    tap.deliver(frame('two,'));
    tap.join(b); // its burst held one and two
    tap.deliver(frame('three,'));
    await sleep(WRITE_MS * 1.5);
    assert.deepEqual(got.get('a')?.map(String), ['one,two,three,']);
    assert.deepEqual(got.get('b')?.map(String), ['three,']);
    assert.equal(got.get('a')![0].buffer, got.get('b')![0].buffer, 'one buffer for both');
    tap.deliver(frame('four,'));
    await sleep(WRITE_MS * 1.5);
    assert.deepEqual(got.get('b')?.map(String), ['three,', 'four,']);
    tap.leave(a);
    tap.leave(b);
    assert.ok(!readers.has(tap), 'nobody listens: the tap stops reading');
    tap.deliver(frame('five,'));
    await sleep(WRITE_MS * 1.5);
    assert.equal(got.get('a')?.length, 2, 'nothing after leaving');
  });
});
