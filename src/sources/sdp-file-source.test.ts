import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedSources } from './sdp-file-source.js';

const sdp = (origin: string, session = '', media = '') =>
  `v=0\r\no=- 0 0 IN IP4 ${origin}\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n${session}` +
  `m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n${media}m=audio 5002 RTP/AVP 0\r\n`;
const list = (m: Map<number, Set<string> | undefined>, port: number) => (m.get(port) ? [...m.get(port)!] : 'any');

describe('allowedSources (who may feed an SDP-file stream)', () => {
  it('takes a=source-filter incl, media level before session level', () => {
    const m = allowedSources(
      sdp('10.0.0.9', 'a=source-filter: incl IN IP4 * 10.0.0.1 10.0.0.2\r\n', 'a=source-filter: incl IN IP4 0.0.0.0 10.0.0.3\r\n'),
    );
    assert.deepEqual(list(m, 5000), ['10.0.0.3']);
    assert.deepEqual(list(m, 5002), ['10.0.0.1', '10.0.0.2']);
  });

  it('falls back to a unicast o= address', () => {
    assert.deepEqual(list(allowedSources(sdp('192.168.1.50')), 5000), ['192.168.1.50']);
  });

  it('means anyone for o= 0.0.0.0, loopback (ffmpeg writes 127.0.0.1 wherever it runs) or a host name, and ignores excl', () => {
    for (const o of ['0.0.0.0', '127.0.0.1', 'encoder.example.com']) assert.equal(list(allowedSources(sdp(o)), 5000), 'any', o);
    assert.equal(list(allowedSources(sdp('0.0.0.0', 'a=source-filter: excl IN IP4 * 10.0.0.1\r\n')), 5000), 'any');
  });
});
