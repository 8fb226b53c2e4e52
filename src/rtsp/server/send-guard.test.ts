import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendGuard } from './send-guard.js';

class FakeSocket extends EventEmitter {
  paused = false;
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
}

function setup(bound: number, stallMs = 0) {
  const socket = new FakeSocket();
  const state = { unsent: 0, bound, stalls: 0 };
  const guard = new SendGuard({
    socket,
    unsent: () => state.unsent,
    bound: () => state.bound,
    stallMs: () => stallMs,
    onStall: () => state.stalls++,
  });
  return { socket, state, guard };
}

describe('SendGuard', () => {
  it('pauses reading over the bound and holds answers until the bytes drain', async () => {
    const { socket, state, guard } = setup(1000);
    state.unsent = 1000;
    guard.check();
    assert.ok(!socket.paused && guard.room() === undefined, 'at the bound is still fine');
    state.unsent = 1001;
    guard.check();
    assert.ok(socket.paused && guard.throttled);
    let released = false;
    void guard.room()!.then(() => (released = true));
    state.unsent = 0;
    socket.emit('drain');
    await sleep(0);
    assert.ok(released && !socket.paused && !guard.throttled);
    guard.stop();
  });

  it('goes on when a raised bound (reload) leaves room, without a drain', async () => {
    const { socket, state, guard } = setup(10);
    state.unsent = 50;
    guard.check();
    assert.ok(socket.paused);
    state.bound = 100;
    await sleep(150);
    assert.ok(!socket.paused);
    guard.stop();
  });

  it('gives up once over the bound longer than the stall time, and only then', async () => {
    const { state, guard } = setup(10, 250);
    state.unsent = 50;
    guard.check();
    await sleep(150);
    assert.equal(state.stalls, 0);
    await sleep(250);
    assert.equal(state.stalls, 1);
    await sleep(150);
    assert.equal(state.stalls, 1, 'once');
  });

  it('releases whoever waits when stopped', async () => {
    const { state, guard } = setup(10);
    state.unsent = 50;
    guard.check();
    const wait = guard.room();
    assert.ok(wait);
    guard.stop();
    await wait;
    assert.equal(guard.room(), undefined);
  });
});
