import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeaderError } from '../../net/index.js';
import { formatRtpInfo, parseRtpInfo, rtpInfoUrl, type RtpInfoEntry } from './rtp-info.js';

describe('RTP-Info', () => {
  it('formats a PLAY response value', () => {
    assert.equal(
      formatRtpInfo([
        { url: 'rtsp://h/a.mp4/trackID=1', seq: 45102, rtptime: 2890844526 },
        { url: 'rtsp://h/a.mp4/trackID=2', seq: 30211 },
      ]),
      'url=rtsp://h/a.mp4/trackID=1;seq=45102;rtptime=2890844526,url=rtsp://h/a.mp4/trackID=2;seq=30211',
    );
  });

  it('parses the RFC 2326 example and variants seen in the wild', () => {
    assert.deepEqual(
      parseRtpInfo(
        'url=rtsp://foo.com/bar.avi/streamid=0;seq=45102, url=rtsp://foo.com/bar.avi/streamid=1;seq=30211',
      ),
      [
        { url: 'rtsp://foo.com/bar.avi/streamid=0', seq: 45102 },
        { url: 'rtsp://foo.com/bar.avi/streamid=1', seq: 30211 },
      ],
    );
    assert.deepEqual(parseRtpInfo('url="rtsp://h/a";rtptime=1;seq=2;ssrc=0A13C760'), [
      { url: 'rtsp://h/a', seq: 2, rtptime: 1 },
    ]);
    // ',' and ';' inside URLs stay in the URL (RFC 2326 §12.33 warns about them).
    assert.deepEqual(parseRtpInfo('url=rtsp://h/a,b;c=d;seq=1,url=rtsp://h/e'), [
      { url: 'rtsp://h/a,b;c=d', seq: 1 },
      { url: 'rtsp://h/e' },
    ]);
  });

  it('throws HeaderError on bad entries', () => {
    for (const v of [
      '',
      'seq=1',
      'url=;seq=1',
      'url=x;seq=70000',
      'url=x;rtptime=4294967296',
      'url=x;seq=a',
      'foo',
    ])
      assert.throws(() => parseRtpInfo(v), HeaderError, v);
  });

  it('format → parse round-trips', () => {
    const entry: fc.Arbitrary<RtpInfoEntry> = fc.record(
      {
        url: fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,10}(:\d{1,5})?(\/[A-Za-z0-9._=-]{1,12}){0,3}$/),
        seq: fc.integer({ min: 0, max: 0xffff }),
        rtptime: fc.integer({ min: 0, max: 0xffffffff }),
      },
      { requiredKeys: ['url'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (es) =>
        assert.deepEqual(parseRtpInfo(formatRtpInfo(es)), es),
      ),
      { numRuns: 300 },
    );
  });

  it('random strings throw nothing but HeaderError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: fc.constantFrom(...'url=seq;rtptime,"1 '.split('')) }),
        ),
        (s) => {
          try {
            parseRtpInfo(s);
          } catch (e) {
            assert.ok(e instanceof HeaderError, String(e));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('rtpInfoUrl', () => {
  it('leaves a valid URL unchanged (the same string)', () => {
    const u = 'rtsp://h:554/live/cam%201/trackID=1';
    assert.equal(rtpInfoUrl(u), u);
    assert.equal(rtpInfoUrl('rtsp://h/caf\u00e9.mp4'), 'rtsp://h/caf\u00e9.mp4');
  });

  it('percent-encodes what formatRtpInfo refuses, so the reply stays parseable', () => {
    assert.equal(rtpInfoUrl('rtsp://"h/a"b.mp4/trackID=1'), 'rtsp://%22h/a%22b.mp4/trackID=1');
    assert.equal(rtpInfoUrl('rtsp://h/a\u00a0b\x7f'), 'rtsp://h/a%C2%A0b%7F');
    const url = rtpInfoUrl('rtsp://h/"x"/trackID=2');
    assert.deepEqual(parseRtpInfo(formatRtpInfo([{ url, seq: 1, rtptime: 2 }])), [{ url, seq: 1, rtptime: 2 }]);
  });
});
