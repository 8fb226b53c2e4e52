import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SdpSourceError, SourceError } from '../../sources/index.js';
import { PathError } from '../../vod/path-error.js';
import { RtspError, rtspErrorFromPath } from './errors.js';

describe('rtspErrorFromPath', () => {
  it('answers not-found 404, forbidden 403, bad-request 400, unsupported 415, keeping the message', () => {
    for (const [kind, status] of [
      ['not-found', 404],
      ['forbidden', 403],
      ['bad-request', 400],
      ['unsupported', 415],
    ] as const) {
      const e = rtspErrorFromPath(new PathError(kind, `why ${kind}`));
      assert.ok(e instanceof RtspError);
      assert.equal(e.status, status);
      assert.equal(e.message, `why ${kind}`);
      assert.equal(e.close, false);
    }
  });

  it("answers a source's failure with the status it carries, whatever its kind", () => {
    for (const e of [new SourceError('cannot listen', 500), new SdpSourceError('cam.sdp: bad SDP', 415)]) {
      const r = rtspErrorFromPath(e);
      assert.equal(r.status, e.status);
      assert.equal(r.message, e.message);
    }
  });
});
