import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestGuard } from './request-guard.js';

describe('RequestGuard', () => {
  it('admits requests up to the pending limit', () => {
    const g = new RequestGuard({ maxPendingRequests: 2 }, () => undefined);
    assert.ok(g.admit());
    assert.ok(g.admit());
    assert.ok(!g.admit());
    g.done();
    assert.ok(g.admit());
    assert.equal(g.pending, 2);
  });

  it('fires when one message stays incomplete too long, not when messages keep completing', async () => {
    let fired = 0;
    const g = new RequestGuard({ requestTimeoutMs: 150 }, () => fired++);
    g.afterPush(true, false);
    for (let i = 0; i < 5; i++) {
      await sleep(60);
      g.afterPush(true, true); // one completed, another begun
    }
    assert.equal(fired, 0);
    await sleep(250);
    assert.equal(fired, 1);
    g.stop();
  });

  it('forgets a message once it completes, and never fires after stop', async () => {
    let fired = 0;
    const g = new RequestGuard({ requestTimeoutMs: 50 }, () => fired++);
    g.afterPush(true, false);
    g.afterPush(false, true);
    await sleep(120);
    assert.equal(fired, 0);
    g.afterPush(true, false);
    g.stop();
    await sleep(120);
    assert.equal(fired, 0);
  });

  it('reads its limits at each use when given a getter (config reload)', () => {
    let max = 1;
    const g = new RequestGuard(() => ({ maxPendingRequests: max }), () => undefined);
    assert.ok(g.admit());
    assert.ok(!g.admit());
    max = 3;
    assert.ok(g.admit());
    assert.ok(g.admit());
    assert.ok(!g.admit());
  });
});
