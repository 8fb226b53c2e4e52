import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isViaHop } from '../rtsp/headers/via.js';
import { resolveServerId } from './server-id.js';

describe('resolveServerId', () => {
  it('keeps a configured id', () => {
    assert.equal(resolveServerId('edge-1', 'host'), 'edge-1');
  });

  it('makes one from the host name and a random suffix, new each time, that a Via can carry', () => {
    const a = resolveServerId('', 'media server #2.example.com');
    const b = resolveServerId('', 'media server #2.example.com');
    assert.match(a, /^media-server-2\.example\.com-[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    for (const host of ['', '...', 'ü'.repeat(100), 'x'.repeat(300)])
      assert.ok(isViaHop(resolveServerId('', host)), host);
  });
});
