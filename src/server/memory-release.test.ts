import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../logging/index.js';
import { releaseFreeMemory } from '../transport/native-fanout.js';
import { MemoryRelease } from './memory-release.js';

describe('MemoryRelease', () => {
  it('releases on every tick and stops when told', async () => {
    let calls = 0;
    const m = new MemoryRelease({ intervalMs: 20, log: silentLogger(), release: () => (++calls, calls % 2 === 0) });
    await new Promise((r) => setTimeout(r, 130));
    m.stop();
    const seen = calls;
    assert.ok(seen >= 4, `released ${seen} times`);
    assert.ok(m.released >= 1 && m.released < seen);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(calls, seen, 'no release after stop');
  });

  it('does nothing without the native helper', async () => {
    let calls = 0;
    const m = new MemoryRelease({ intervalMs: 10, log: silentLogger(), release: () => (calls++, undefined) });
    await new Promise((r) => setTimeout(r, 50));
    m.stop();
    assert.equal(calls, 1, 'one probe, no timer');
  });

  it('has the native malloc_trim where the native helper is built (Linux)', { skip: process.platform !== 'linux' }, () => {
    assert.equal(typeof releaseFreeMemory(), 'boolean');
  });
});
