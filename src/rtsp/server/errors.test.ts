import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PathError } from '../../vod/path-error.js';
import { RtspError, rtspErrorFromPath } from './errors.js';

describe('rtspErrorFromPath', () => {
  it('answers not-found 404, forbidden 403, bad-request 400, keeping the message', () => {
    for (const [kind, status] of [
      ['not-found', 404],
      ['forbidden', 403],
      ['bad-request', 400],
    ] as const) {
      const e = rtspErrorFromPath(new PathError(kind, `why ${kind}`));
      assert.ok(e instanceof RtspError);
      assert.equal(e.status, status);
      assert.equal(e.message, `why ${kind}`);
      assert.equal(e.close, false);
    }
  });
});
