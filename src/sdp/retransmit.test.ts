import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'sdp-transform';
import { configSchema } from '../config/schema.js';
import type { StreamDescription } from '../stream/types.js';
import { buildSdp } from './build.js';
import { parseSdp } from './parse.js';
import { rtxPayloadType, rtxPayloadTypeOf, sdpRetransmitFor, viewerRetransmit } from './retransmit.js';

const video = { media: 'video' as const, payloadType: 96, encodingName: 'H264', clockRate: 90000, fmtp: { 'packetization-mode': '1' } };
const audio = { media: 'audio' as const, payloadType: 97, encodingName: 'MPEG4-GENERIC', clockRate: 44100, channels: 2, fmtp: { mode: 'AAC-hbr' } };
const desc: StreamDescription = {
  name: 'x',
  tracks: [
    { id: 1, control: 'trackID=1', format: video },
    { id: 2, control: 'trackID=2', format: audio },
    // A hinted track's own section using 96 and 98: RTX takes 97 there.
    { id: 3, control: 'trackID=3', format: { ...video, payloadType: 98 }, mediaSdp: 'm=video 0 RTP/AVP 96 98\r\na=rtpmap:96 H264/90000\r\na=rtpmap:98 H264/90000\r\n' },
  ],
};
const cfg = configSchema.parse({}).retransmit;

describe('SDP retransmission offer', () => {
  it('adds a=rtcp-fb nack and an rtx payload type with apt= and rtx-time= to each track', () => {
    const text = buildSdp(desc, { serverAddress: '127.0.0.1', retransmit: { profile: 'RTP/AVPF', rtxTimeMs: 1500 } });
    const media = parse(text).media;
    assert.deepEqual(media.map((m) => [m.protocol, m.payloads]), [
      ['RTP/AVPF', '96 97'],
      ['RTP/AVPF', '97 96'],
      ['RTP/AVPF', '96 98 97'],
    ]);
    const lines = text.split('m=').slice(1).map((m) => m.split('\r\n'));
    for (const l of ['a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96;rtx-time=1500', 'a=rtcp-fb:96 nack']) assert.ok(lines[0].includes(l), l);
    for (const l of ['a=rtpmap:96 rtx/44100', 'a=fmtp:96 apt=97;rtx-time=1500', 'a=rtcp-fb:97 nack']) assert.ok(lines[1].includes(l), l);
    for (const l of ['a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=98;rtx-time=1500', 'a=rtcp-fb:98 nack']) assert.ok(lines[2].includes(l), l);
    // The same rule at SETUP.
    assert.deepEqual(desc.tracks.map((t) => rtxPayloadTypeOf(t)), [97, 96, 97]);
    // Our own parser (and so relays and publishers) still read the media formats.
    assert.deepEqual(parseSdp(text).media.map((m) => m.format.encodingName), ['H264', 'MPEG4-GENERIC', 'H264']);
  });

  it('offers nothing to clients not on the AVPF list (they cannot send NACKs), nor when off', () => {
    assert.equal(sdpRetransmitFor(cfg, 'LibVLC/3.0.18 (LIVE555 Streaming Media v2022.10.01)'), undefined);
    assert.equal(sdpRetransmitFor(cfg, 'GStreamer/1.22.0')?.profile, 'RTP/AVPF');
    assert.equal(sdpRetransmitFor({ ...cfg, avpfUserAgents: ['*'] }, undefined)?.profile, 'RTP/AVPF');
    assert.equal(sdpRetransmitFor({ ...cfg, enabled: false }, 'GStreamer/1.22.0'), undefined);
    assert.doesNotMatch(buildSdp(desc, { serverAddress: '127.0.0.1' }), /rtx|rtcp-fb/);
  });

  it('gives a viewer retransmission only with AVPF feedback and a free payload type', () => {
    assert.deepEqual(viewerRetransmit(cfg, desc.tracks[0], true), { payloadType: 97, historyMs: 1500, historyBytes: 1048576, maxPercent: 20 });
    assert.equal(viewerRetransmit(cfg, desc.tracks[0], false), undefined);
    assert.equal(viewerRetransmit({ ...cfg, enabled: false }, desc.tracks[0], true), undefined);
    const all = Array.from({ length: 32 }, (_, i) => 96 + i);
    assert.equal(rtxPayloadType(all), undefined);
  });
});
