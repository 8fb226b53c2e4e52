import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pacer, type Pumpable } from './pacer.js';

/** Timers currently keeping the event loop alive. */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

class Player implements Pumpable {
  calls: number[] = [];
  pump(nowMs: number): void {
    this.calls.push(nowMs);
  }
}

/** Waits until `cond` holds (polling), failing after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail('condition not reached in time');
    await sleep(2);
  }
}

describe('Pacer', () => {
  it('changes its tick while running, keeping one timer', async () => {
    const pacer = new Pacer(200);
    const p = new Player();
    pacer.add(p);
    const timers = activeTimeouts();
    pacer.intervalMs = 5;
    assert.equal(pacer.intervalMs, 5);
    assert.equal(activeTimeouts(), timers, 'the old timer is gone');
    await until(() => p.calls.length >= 3, 150);
    pacer.stop();
    assert.equal(activeTimeouts(), timers - 1);
  });

  it('pumps every registered player on each tick with performance.now()', async () => {
    const pacer = new Pacer(5);
    const a = new Player();
    const b = new Player();
    pacer.add(a);
    pacer.add(b);
    assert.equal(pacer.size, 2);
    const before = performance.now();
    await until(() => a.calls.length >= 3 && b.calls.length >= 3);
    pacer.stop();
    for (let i = 1; i < a.calls.length; i++) assert.ok(a.calls[i] > a.calls[i - 1], 'time moves forward');
    assert.ok(a.calls[0] >= before && a.calls[a.calls.length - 1] <= performance.now());
    // Both players are pumped in the same ticks.
    assert.ok(Math.abs(a.calls.length - b.calls.length) <= 1);
  });

  it('adding a player twice pumps it once per tick', async () => {
    const pacer = new Pacer(5);
    const a = new Player();
    const ticks = new Player();
    pacer.add(a);
    pacer.add(a);
    pacer.add(ticks);
    assert.equal(pacer.size, 2);
    await until(() => ticks.calls.length >= 3);
    pacer.stop();
    assert.ok(a.calls.length <= ticks.calls.length + 1);
  });

  it('stops pumping a deleted player and keeps pumping the others', async () => {
    const pacer = new Pacer(5);
    const a = new Player();
    const b = new Player();
    pacer.add(a);
    pacer.add(b);
    await until(() => a.calls.length >= 1);
    pacer.delete(a);
    const frozen = a.calls.length;
    const bBefore = b.calls.length;
    await until(() => b.calls.length >= bBefore + 3);
    pacer.stop();
    assert.equal(a.calls.length, frozen);
  });

  it('runs one timer while players are registered and none when empty', async () => {
    const base = activeTimeouts();
    const pacer = new Pacer(5);
    assert.equal(activeTimeouts(), base, 'no timer before the first player');
    const a = new Player();
    const b = new Player();
    pacer.add(a);
    pacer.add(b);
    assert.equal(activeTimeouts(), base + 1, 'one shared timer for every player');
    pacer.delete(a);
    assert.equal(activeTimeouts(), base + 1, 'still running for the other player');
    pacer.delete(b);
    assert.equal(activeTimeouts(), base, 'the timer is gone once the last player leaves');
    // And it starts again for a new player.
    pacer.add(a);
    await until(() => a.calls.length >= 1);
    pacer.delete(a);
    assert.equal(activeTimeouts(), base);
    pacer.delete(a); // deleting an unknown player is harmless
    assert.equal(pacer.size, 0);
  });

  it('stop() forgets every player and clears the timer', async () => {
    const base = activeTimeouts();
    const pacer = new Pacer(5);
    const a = new Player();
    pacer.add(a);
    pacer.stop();
    assert.equal(pacer.size, 0);
    assert.equal(activeTimeouts(), base);
    await sleep(20);
    assert.equal(a.calls.length, 0);
  });

  it('removes a player that throws, reports the error and keeps pumping the others', async () => {
    const base = activeTimeouts();
    const errors: unknown[] = [];
    const pacer = new Pacer(5, (e) => errors.push(e));
    const boom = new Error('player broke');
    let badCalls = 0;
    const bad: Pumpable = {
      pump() {
        badCalls++;
        throw boom;
      },
    };
    const good = new Player();
    pacer.add(bad);
    pacer.add(good);
    await until(() => good.calls.length >= 3);
    assert.equal(badCalls, 1, 'the throwing player is not pumped again');
    assert.deepEqual(errors, [boom]);
    assert.equal(pacer.size, 1);
    pacer.delete(good);
    assert.equal(activeTimeouts(), base);
  });

  it('stops its timer when the only player throws', async () => {
    const base = activeTimeouts();
    const errors: unknown[] = [];
    const pacer = new Pacer(5, (e) => errors.push(e));
    pacer.add({
      pump() {
        throw new Error('x');
      },
    });
    await until(() => errors.length === 1);
    assert.equal(pacer.size, 0);
    assert.equal(activeTimeouts(), base);
  });

  it('a player may remove itself while being pumped', async () => {
    const pacer = new Pacer(5);
    let calls = 0;
    const self: Pumpable = {
      pump() {
        calls++;
        pacer.delete(self);
      },
    };
    const other = new Player();
    pacer.add(self);
    pacer.add(other);
    await until(() => other.calls.length >= 3);
    pacer.stop();
    assert.equal(calls, 1);
  });

  it('ticks longer while the event loop is loaded, back to its period when it is not, one timer throughout', async () => {
    const pacer = new Pacer(5, () => undefined, 25);
    let busyMs = 12;
    const periods = new Set<number>();
    const p: Pumpable = {
      pump: () => {
        periods.add(pacer.intervalMs);
        const end = performance.now() + busyMs;
        while (performance.now() < end);
      },
    };
    pacer.add(p);
    const timers = activeTimeouts();
    try {
      await until(() => pacer.intervalMs === 25, 10_000);
      assert.deepEqual(
        [...periods].sort((a, b) => a - b),
        [5, 15],
        'in steps of 10 ms, up to the longest',
      );
      assert.equal(activeTimeouts(), timers, 'one timer while the period changes');
      busyMs = 0;
      await until(() => pacer.intervalMs === 5, 10_000);
      assert.equal(activeTimeouts(), timers);
    } finally {
      pacer.stop();
    }
  });

  it('keeps its period without a longest tick, however loaded', async () => {
    const pacer = new Pacer(5);
    let ticks = 0;
    pacer.add({
      pump: () => {
        ticks++;
        const end = performance.now() + 10;
        while (performance.now() < end);
      },
    });
    await until(() => ticks >= 40, 10_000);
    pacer.stop();
    assert.equal(pacer.intervalMs, 5);
  });

  it('pumpSoon pumps a registered player at once, not a deleted one, and reports one that throws', async () => {
    const errors: unknown[] = [];
    const pacer = new Pacer(60_000, (e) => errors.push(e));
    const p = new Player();
    const gone = new Player();
    const bad: Pumpable = {
      pump: () => {
        throw new Error('broken');
      },
    };
    for (const x of [p, gone, bad]) pacer.add(x);
    for (const x of [p, gone, bad]) pacer.pumpSoon(x);
    pacer.delete(gone);
    await sleep(5);
    assert.equal(p.calls.length, 1, 'pumped before the minute-long tick');
    assert.equal(gone.calls.length, 0);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['broken'],
    );
    assert.equal(pacer.size, 1, 'the player that threw is removed');
    pacer.stop();
  });
});
