import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'sdp-transform';
import type { StreamDescription } from '../stream/types.js';
import { buildSdp } from './build.js';

const SPROP = 'Z0LAHtoCgL/lwEQAAAMABAAAAwDwPFi5IA==,aM48gA==';

function movie(duration: number | undefined): StreamDescription {
  return {
    name: 'big buck.mp4',
    duration,
    tracks: [
      {
        id: 1,
        control: 'trackID=1',
        bitrateKbps: 512.6,
        width: 320,
        height: 240,
        frameRate: 25,
        format: {
          media: 'video',
          payloadType: 96,
          encodingName: 'H264',
          clockRate: 90000,
          fmtp: { 'packetization-mode': '1', 'profile-level-id': '42c01e', 'sprop-parameter-sets': SPROP },
        },
      },
      {
        id: 2,
        control: 'trackID=2',
        bitrateKbps: 96,
        format: {
          media: 'audio',
          payloadType: 97,
          encodingName: 'MPEG4-GENERIC',
          clockRate: 44100,
          channels: 2,
          fmtp: { streamtype: '5', mode: 'AAC-hbr', config: '1210' },
        },
      },
    ],
  };
}

/** The session-level `a=` lines sdp-transform has no grammar for (range, tool). */
function extraSessionAttributes(sdp: string): string[] {
  return (parse(sdp).invalid ?? []).map((i) => i.value);
}

describe('buildSdp', () => {
  it('writes v/o/s/c/t and a=control:* for an IPv4 server', () => {
    const text = buildSdp(movie(10), { serverAddress: '192.0.2.7', sessionId: 1234, sessionVersion: 5678 });
    const s = parse(text);
    assert.equal(s.version, 0);
    assert.deepEqual(s.origin, {
      username: '-',
      sessionId: 1234,
      sessionVersion: 5678,
      netType: 'IN',
      ipVer: 4,
      address: '192.0.2.7',
    });
    assert.equal(s.name, 'big buck.mp4');
    assert.deepEqual(s.connection, { version: 4, ip: '0.0.0.0' });
    assert.deepEqual(s.timing, { start: 0, stop: 0 });
    assert.equal(s.control, '*');
    assert.ok(text.startsWith('v=0\r\n'), 'v= comes first');
    assert.ok(text.endsWith('\r\n'));
    assert.ok(
      text
        .split('\r\n')
        .slice(0, -1)
        .every((l) => /^[a-z]=/.test(l)),
      'every line is <type>=<value>, CRLF-terminated',
    );
  });

  it('defaults the o= session id and version to the current NTP-era seconds', () => {
    const ntpNow = Math.floor(Date.now() / 1000) + 2208988800;
    const o = parse(buildSdp(movie(10), { serverAddress: '192.0.2.7' })).origin;
    assert.ok(Math.abs(Number(o.sessionId) - ntpNow) <= 2);
    assert.ok(Math.abs(o.sessionVersion - ntpNow) <= 2);
  });

  it('gives a VOD presentation an npt range with millisecond precision', () => {
    const text = buildSdp(movie(12.3456), { serverAddress: '192.0.2.7' });
    assert.deepEqual(extraSessionAttributes(text), ['range:npt=0-12.346', 'tool:Rivulet']);
  });

  it('gives a live stream (no duration) the open range npt=now-', () => {
    const text = buildSdp(movie(undefined), { serverAddress: '192.0.2.7', tool: 'Rivulet 1.2' });
    assert.deepEqual(extraSessionAttributes(text), ['range:npt=now-', 'tool:Rivulet 1.2']);
  });

  it('describes each track with rtpmap, fmtp, control and b=AS', () => {
    const [video, audio] = parse(buildSdp(movie(10), { serverAddress: '192.0.2.7' })).media;

    assert.equal(video.type, 'video');
    assert.equal(video.port, 0);
    assert.equal(video.protocol, 'RTP/AVP');
    assert.equal(String(video.payloads), '96');
    assert.deepEqual(video.rtp, [{ payload: 96, codec: 'H264', rate: 90000 }]);
    assert.deepEqual(video.fmtp, [
      { payload: 96, config: `packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=${SPROP}` },
    ]);
    assert.equal(video.control, 'trackID=1');
    assert.deepEqual(video.bandwidth, [{ type: 'AS', limit: 513 }], 'b=AS is the rounded kbit/s');
    assert.equal(video.framerate, 25);
    assert.deepEqual(video.invalid, [{ value: 'framesize:96 320-240' }]);

    assert.equal(audio.type, 'audio');
    assert.deepEqual(audio.rtp, [{ payload: 97, codec: 'MPEG4-GENERIC', rate: 44100, encoding: 2 }]);
    assert.deepEqual(audio.fmtp, [{ payload: 97, config: 'streamtype=5;mode=AAC-hbr;config=1210' }]);
    assert.equal(audio.control, 'trackID=2');
    assert.deepEqual(audio.bandwidth, [{ type: 'AS', limit: 96 }]);
    assert.equal(audio.framerate, undefined);
    assert.equal(audio.invalid, undefined, 'no framesize for audio');
  });

  it('leaves out a=fmtp without parameters and b=AS without a bitrate; b=AS is at least 1', () => {
    const desc: StreamDescription = {
      name: 'x',
      duration: 1,
      tracks: [
        {
          id: 1,
          control: 'trackID=1',
          format: { media: 'audio', payloadType: 0, encodingName: 'PCMU', clockRate: 8000, fmtp: {} },
        },
        {
          id: 2,
          control: 'trackID=2',
          bitrateKbps: 0.2,
          format: { media: 'audio', payloadType: 8, encodingName: 'PCMA', clockRate: 8000, fmtp: {} },
        },
      ],
    };
    const text = buildSdp(desc, { serverAddress: '192.0.2.7' });
    assert.doesNotMatch(text, /a=fmtp/);
    const [a, b] = parse(text).media;
    assert.equal(a.bandwidth, undefined);
    assert.deepEqual(a.rtp, [{ payload: 0, codec: 'PCMU', rate: 8000 }], 'no channel count when undefined');
    assert.deepEqual(b.bandwidth, [{ type: 'AS', limit: 1 }]);
  });

  it('orders media sections like the tracks', () => {
    const desc = movie(10);
    desc.tracks.reverse();
    assert.deepEqual(
      parse(buildSdp(desc, { serverAddress: '192.0.2.7' })).media.map((m) => m.control),
      ['trackID=2', 'trackID=1'],
    );
  });

  it('uses IN IP6 for an IPv6 server address', () => {
    const s = parse(buildSdp(movie(10), { serverAddress: '2001:db8::1' }));
    assert.equal(s.origin.ipVer, 6);
    assert.equal(s.origin.address, '2001:db8::1');
    assert.deepEqual(s.connection, { version: 6, ip: '::' });
  });

  it('treats an IPv4-mapped IPv6 address as IPv4', () => {
    const s = parse(buildSdp(movie(10), { serverAddress: '::ffff:192.0.2.7' }));
    assert.equal(s.origin.ipVer, 4);
    assert.equal(s.origin.address, '192.0.2.7');
    assert.deepEqual(s.connection, { version: 4, ip: '0.0.0.0' });
  });

  it('names an unnamed session Rivulet', () => {
    assert.equal(parse(buildSdp({ name: '', tracks: [] }, { serverAddress: '192.0.2.7' })).name, 'Rivulet');
  });
});
