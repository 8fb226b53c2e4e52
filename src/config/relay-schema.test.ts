import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pushSchema, RELAY_DEFAULTS } from './relay-schema.js';

/** The issues of a refused `push` list, as `path: message`. */
function refusal(value: unknown): string[] {
  const r = pushSchema.safeParse(value);
  assert.equal(r.success, false, JSON.stringify(value));
  return (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('pushSchema: icecast:// destinations', () => {
  it('takes an Icecast mount as a URL or { url, retry }, over TCP', () => {
    const [a, b] = pushSchema.parse(['icecast://source:pw@radio.example.com/live', { url: 'icecast://dj:x@10.0.0.2:8100/m', retry: { min: 2, max: 8 } }]);
    assert.deepEqual(a, { url: 'icecast://source:pw@radio.example.com/live', transport: 'tcp', retry: { ...RELAY_DEFAULTS.retry } });
    assert.deepEqual(b, { url: 'icecast://dj:x@10.0.0.2:8100/m', transport: 'tcp', retry: { min: 2, max: 8 } });
    assert.equal(pushSchema.parse([{ url: 'icecast://s:p@h/m', transport: 'tcp' }])[0].transport, 'tcp');
  });

  it('says what is wrong, at its key, without the password', () => {
    assert.deepEqual(refusal(['icecast://source:secret@host']), ["0: needs a mount, e.g. icecast://source:password@host/stream (got 'icecast://source:***@host')"]);
    assert.deepEqual(refusal([{ url: 'icecast://host/m' }]), ["0.url: needs the source user and password, e.g. icecast://source:password@host/stream (got 'icecast://host/m')"]);
    assert.deepEqual(refusal([{ url: 'icecast://s:p@host/m', transport: 'udp' }]), ['0.transport: an icecast:// destination is fed over TCP only']);
    assert.deepEqual(refusal(['ftp://host/m']), ["0: expected rtsp://[user:password@]host[:port]/path, rtsps://… or icecast://user:password@host[:port]/mount (got 'ftp://host/m')"]);
    assert.deepEqual(refusal([7]), ['0: expected rtsp://[user:password@]host[:port]/path, icecast://user:password@host[:port]/mount or { url, transport, retry }']);
    assert.deepEqual(refusal(['icecast://s:p@h/m', 'icecast://s:p@h/m']), ["1: pushes to 'icecast://s:***@h/m' a second time"]);
  });
});
