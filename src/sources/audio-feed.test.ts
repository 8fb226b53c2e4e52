import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { adtsHeader } from '../codecs/aac/adts.js';
import { parseMpegAudioHeader } from '../codecs/mpa/header.js';
import { OggOpusWriter } from '../codecs/opus/ogg.js';
import { readRtpHeader, type RtpHeader } from '../rtp/packet.js';
import { tsDiff } from '../rtp/seq.js';
import { AudioFeed, audioCodecOf, type AudioCodec, type AudioFeedFormat } from './audio-feed.js';

const L3_128_44 = [0xff, 0xfb, 0x90, 0x44];
const L3_128_48 = [0xff, 0xfb, 0x94, 0x44];
const L3_128_44_MONO = [0xff, 0xfb, 0x90, 0xc4];

function mp3(header: number[], count: number): Buffer {
  const size = parseMpegAudioHeader(Buffer.from(header))!.frameSize;
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => {
      const b = Buffer.alloc(size, (i % 0x7f) + 1);
      Buffer.from(header).copy(b);
      return b;
    }),
  );
}

interface Run {
  feed: AudioFeed;
  formats: AudioFeedFormat[];
  packets: RtpHeader[];
  raw: Buffer[];
  tags: Array<{ title?: string; artist?: string }>;
}

function run(codec: AudioCodec, chunks: Buffer[], opts: { maxPayloadSize?: number } = {}): Run {
  const r: Run = { feed: undefined as unknown as AudioFeed, formats: [], packets: [], raw: [], tags: [] };
  r.feed = new AudioFeed({
    codec,
    ...opts,
    onFormat: (f) => r.formats.push(f),
    onPacket: (p) => {
      assert.equal(r.formats.length, 1, 'the format comes before the first packet');
      r.raw.push(p);
      r.packets.push(readRtpHeader(p)!);
    },
    onTags: (t) => r.tags.push(t),
  });
  for (const c of chunks) r.feed.push(c);
  return r;
}

/** Timestamp steps between consecutive frames (packets with the marker end a frame). */
function steps(packets: RtpHeader[]): number[] {
  const starts = packets.filter((p, i) => i === 0 || packets[i - 1].marker).map((p) => p.timestamp);
  return starts.slice(1).map((t, i) => tsDiff(t, starts[i]));
}

describe('audioCodecOf', () => {
  it('maps the content types radio sources send', () => {
    const table: Array<[string | undefined, AudioCodec | undefined]> = [
      ['audio/mpeg', 'mp3'],
      ['audio/MP3', 'mp3'],
      ['audio/mpeg3; charset=x', 'mp3'],
      ['audio/aac', 'aac'],
      ['audio/aacp', 'aac'],
      [' Audio/X-AAC ;rate=44100', 'aac'],
      ['audio/ogg', 'ogg-opus'],
      ['application/ogg', 'ogg-opus'],
      ['audio/opus', 'ogg-opus'],
      ['audio/wav', undefined],
      ['constructor', undefined],
      ['', undefined],
      [undefined, undefined],
    ];
    for (const [type, codec] of table) assert.equal(audioCodecOf(type), codec, String(type));
  });
});

describe('AudioFeed', () => {
  it('sends MP3 frames as MPA (PT 14, 90 kHz) with exact, drift-free timestamps', () => {
    const r = run('mp3', [mp3(L3_128_44, 201)]);
    assert.equal(r.formats.length, 1);
    const f = r.formats[0];
    assert.deepEqual(
      [
        f.format.payloadType,
        f.format.encodingName,
        f.format.clockRate,
        f.sampleRate,
        f.channels,
        f.bitrateKbps,
      ],
      [14, 'MPA', 90000, 44100, 2, 128],
    );
    // 200 frames confirmed (the last waits for what follows it).
    assert.equal(r.packets.length, 200);
    assert.ok(
      r.packets.every(
        (p) =>
          p.version === 2 &&
          p.payloadType === 14 &&
          p.ssrc === r.feed.ssrc &&
          p.marker &&
          p.payloadOffset === 12,
      ),
    );
    r.packets.forEach((p, i) => assert.equal(p.sequence, (r.packets[0].sequence + i) & 0xffff));
    // 1152 samples at 44.1 kHz are 2351.02 ticks: accumulated, never rounded per frame.
    r.packets.forEach((p, i) =>
      assert.equal(tsDiff(p.timestamp, r.packets[0].timestamp), Math.floor((i * 1152 * 90000) / 44100)),
    );
    assert.deepEqual(
      [r.feed.bytesIn, r.feed.framesIn, r.feed.bytesSkipped, r.feed.mismatchedFrames],
      [201 * 417, 200, 0, 0],
    );
    r.feed.flush();
    assert.equal(r.packets.length, 201, 'the last frame goes at the end');
    assert.equal(
      tsDiff(r.packets[200].timestamp, r.packets[0].timestamp),
      Math.floor((200 * 1152 * 90000) / 44100),
    );
  });

  it('fragments large frames, marker on the last packet of each frame', () => {
    const r = run('mp3', [mp3(L3_128_44, 4)], { maxPayloadSize: 200 });
    // 417 bytes over 196-byte fragments: 3 packets a frame, one timestamp each frame.
    assert.equal(r.packets.length, 9);
    assert.deepEqual(
      r.packets.map((p) => p.marker),
      [false, false, true, false, false, true, false, false, true],
    );
    assert.deepEqual(steps(r.packets), [2351, 2351]);
    assert.equal(new Set(r.packets.slice(0, 3).map((p) => p.timestamp)).size, 1);
  });

  it('drops and counts frames whose rate or channel count differ from the first format', () => {
    const r = run('mp3', [mp3(L3_128_44, 3), mp3(L3_128_48, 3), mp3(L3_128_44_MONO, 3), mp3(L3_128_44, 3)]);
    assert.equal(r.formats.length, 1);
    assert.ok(r.feed.mismatchedFrames >= 4, `mismatched ${r.feed.mismatchedFrames}`);
    assert.equal(r.packets.length, r.feed.framesIn - r.feed.mismatchedFrames);
    // Dropped frames take no time on the RTP clock.
    assert.ok(steps(r.packets).every((s) => s === 2351 || s === 2352));
  });

  it('sends ADTS as MPEG4-GENERIC with the AudioSpecificConfig, 1024 ticks a frame', () => {
    const config = { objectType: 2, sampleRate: 48000, channelConfiguration: 1 };
    const aus = Array.from({ length: 6 }, (_, i) => Buffer.alloc(300 + i * 400, i + 1));
    const stream = Buffer.concat(aus.flatMap((a) => [adtsHeader(config, a.length), a]));
    const r = run('aac', [stream.subarray(0, 5), stream.subarray(5)], { maxPayloadSize: 1000 });
    const f = r.formats[0];
    assert.deepEqual(
      [
        f.format.payloadType,
        f.format.encodingName,
        f.format.clockRate,
        f.format.channels,
        f.format.fmtp.config,
      ],
      [96, 'MPEG4-GENERIC', 48000, 1, '1188'],
    );
    assert.equal(r.feed.framesIn, 5);
    assert.deepEqual(steps(r.packets), [1024, 1024, 1024, 1024]);
    assert.ok(r.packets.length > 5, 'large AUs are fragmented');
  });

  it('sends Ogg/Opus packets as opus (48 kHz, samples from each TOC), with the tags', () => {
    const w = new OggOpusWriter({
      channels: 1,
      inputSampleRate: 16000,
      tags: {
        vendor: 'x',
        comments: [
          ['title', 'On Air'],
          ['ARTIST', 'Us'],
        ],
      },
    });
    const tocs = [0xf8, 0xf0, 0x08]; // 20 ms, 10 ms, SILK 20 ms
    const packets = tocs.map((t) => Buffer.from([t, 1, 2, 3]));
    const stream = Buffer.concat([
      w.headers,
      w.pages(packets.slice(0, 2), 1440n),
      w.pages(packets.slice(2), 2400n),
    ]);
    const r = run('ogg-opus', [stream]);
    const f = r.formats[0];
    assert.deepEqual(f.format, {
      media: 'audio',
      payloadType: 96,
      encodingName: 'opus',
      clockRate: 48000,
      channels: 2,
      fmtp: { 'sprop-stereo': '0', 'sprop-maxcapturerate': '16000' },
    });
    assert.deepEqual([f.sampleRate, f.channels], [48000, 1]);
    assert.deepEqual(steps(r.packets), [960, 480]);
    assert.deepEqual(
      r.raw.map((p) => p.subarray(12)),
      packets,
    );
    assert.deepEqual(r.tags, [{ title: 'On Air', artist: 'Us' }]);
  });

  it('sends the same packets for any chunking', () => {
    const stream = Buffer.concat([
      Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x02xx', 'latin1'),
      mp3(L3_128_44, 12),
    ]);
    const payloads = (r: Run): Buffer[] => r.raw.map((p) => p.subarray(12));
    const whole = payloads(run('mp3', [stream]));
    assert.equal(whole.length, 11);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        const chunks: Buffer[] = [];
        for (let i = 0, k = 0; i < stream.length; i += sizes[k++ % sizes.length])
          chunks.push(stream.subarray(i, i + sizes[k % sizes.length]));
        assert.deepEqual(payloads(run('mp3', chunks)), whole);
      }),
      { numRuns: 100 },
    );
  });
});
