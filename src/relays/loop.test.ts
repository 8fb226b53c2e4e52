import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtspClientError } from '../rtsp/client/index.js';
import { parseVia } from '../rtsp/headers/via.js';
import { isLoopRefusal, relayVia } from './loop.js';

describe('relay loops', () => {
  it('relayVia names the relays before this server in order, leaving out what no Via can carry', () => {
    const via = relayVia(['origin', 'tier-1:8554', 'bad hop', ''], 'edge');
    assert.equal(via, 'RTSP/1.0 origin, RTSP/1.0 tier-1:8554, RTSP/1.0 edge');
    assert.deepEqual(parseVia([via]), ['origin', 'tier-1:8554', 'edge']);
    assert.equal(relayVia([], 'edge'), 'RTSP/1.0 edge');
  });

  it('isLoopRefusal: a 403 Loop Detected only', () => {
    const answered = (status: number, phrase: string) =>
      new RtspClientError('status', `ANNOUNCE rtsp://b/x was answered ${status} ${phrase}`, status);
    assert.equal(isLoopRefusal(answered(403, 'Loop Detected')), true);
    assert.equal(isLoopRefusal(answered(403, 'Forbidden')), false);
    assert.equal(isLoopRefusal(answered(404, 'Loop Detected')), false);
    assert.equal(isLoopRefusal(new Error('403 Loop Detected')), false, 'not an answer from a far end');
    assert.equal(isLoopRefusal(undefined), false);
  });
});
