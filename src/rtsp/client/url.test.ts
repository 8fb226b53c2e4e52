import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Headers } from '../message/index.js';
import { RtspClientError } from './errors.js';
import { contentBase, parseRtspUrl, redactUrl, resolveControl, stripUserInfo } from './url.js';

describe('parseRtspUrl', () => {
  it('splits host, port and percent-decoded credentials, and keeps them off the wire URL', () => {
    const u = parseRtspUrl('rtsp://al%20ice:p%40ss%3Aw@cam.example:8554/live/a?x=1');
    assert.equal(u.secure, false);
    assert.equal(u.host, 'cam.example');
    assert.equal(u.port, 8554);
    assert.deepEqual(u.credentials, { user: 'al ice', password: 'p@ss:w' });
    assert.equal(u.href, 'rtsp://cam.example:8554/live/a?x=1');
    assert.equal(u.display, 'rtsp://al%20ice@cam.example:8554/live/a?x=1');
    assert.ok(!u.display.includes('p%40ss'));
  });
  it('uses the RFC default ports and unwraps IPv6 literals', () => {
    assert.equal(parseRtspUrl('rtsp://h/a').port, 554);
    const s = parseRtspUrl('rtsps://[::1]/a');
    assert.equal(s.port, 322);
    assert.equal(s.secure, true);
    assert.equal(s.host, '::1');
    assert.equal(parseRtspUrl('rtsp://h/a').credentials, undefined);
  });
  it('refuses what is not an rtsp URL, without echoing a password', () => {
    for (const bad of ['http://h/a', 'not a url', 'rtsp:///nohost', 'rtsp://u:secret@:99999/a']) {
      assert.throws(
        () => parseRtspUrl(bad),
        (e: unknown) => e instanceof RtspClientError && e.code === 'url' && !e.message.includes('secret'),
        bad,
      );
    }
  });
});

describe('URL helpers', () => {
  it('strips and redacts user info', () => {
    assert.equal(stripUserInfo('rtsp://a:b@h/x'), 'rtsp://h/x');
    assert.equal(stripUserInfo('rtsp://h/x@y'), 'rtsp://h/x@y');
    assert.equal(redactUrl('rtsp://a:b@h/x'), 'rtsp://a@h/x');
    assert.equal(redactUrl('rtsp://:b@h/x'), 'rtsp://h/x');
    assert.equal(redactUrl('rtsp://h/x'), 'rtsp://h/x');
  });
  it('takes Content-Base, then Content-Location, then the request URL (RFC 2326 C.1.1)', () => {
    const req = 'rtsp://h/a.mp4';
    assert.equal(contentBase(new Headers({ 'Content-Base': 'rtsp://other/b/' , 'Content-Location': 'rtsp://x/' }), req), 'rtsp://other/b/');
    assert.equal(contentBase(new Headers({ 'Content-Location': 'rtsp://x/c' }), req), 'rtsp://x/c');
    assert.equal(contentBase(new Headers({ 'Content-Base': 'sub/' }), 'rtsp://h/dir/a'), 'rtsp://h/dir/sub/');
    assert.equal(contentBase(new Headers(), req), req);
  });
  it('resolves control URLs as real clients do', () => {
    assert.equal(resolveControl('rtsp://h/a.mp4/', 'trackID=1'), 'rtsp://h/a.mp4/trackID=1');
    assert.equal(resolveControl('rtsp://h/a.mp4', 'trackID=1'), 'rtsp://h/a.mp4/trackID=1');
    assert.equal(resolveControl('rtsp://h/a.mp4', '*'), 'rtsp://h/a.mp4');
    assert.equal(resolveControl('rtsp://h/a.mp4', undefined), 'rtsp://h/a.mp4');
    assert.equal(resolveControl('rtsp://h:5/a.mp4', '/other/t1'), 'rtsp://h:5/other/t1');
    assert.equal(resolveControl('rtsp://h/a', 'rtsp://u:p@x/t=1'), 'rtsp://x/t=1');
  });
});
