import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { skipUnlessCI } from '../../test/helpers/tools.js';
import { run } from '../../test/helpers/run.js';
import { aacFormat } from '../codecs/aac/format.js';
import { AdtsFramer, adtsHeader } from '../codecs/aac/adts.js';
import { mpaFormat } from '../codecs/mpa/format.js';
import { MpegAudioFramer } from '../codecs/mpa/framer.js';
import { parseMpegAudioHeader } from '../codecs/mpa/header.js';
import { opusFormat } from '../codecs/opus/format.js';
import { OggOpusReader } from '../codecs/opus/ogg.js';
import { H264 } from '../core/test-helpers/fakes.js';
import { StreamTrack } from '../core/stream-track.js';
import type { Frame } from '../core/frame.js';
import { AudioFeed, audioCodecOf, type AudioFeedFormat } from '../sources/audio-feed.js';
import { audioBytesOf, type AudioBytes } from './audio-bytes.js';

/** A track fed by an AudioFeed, its frames read back as bytes by a listener that joined first. */
function feedTrack(contentType: string, chunks: Buffer[], maxPayloadSize?: number) {
  const got: {
    format?: AudioFeedFormat;
    track?: StreamTrack;
    bytes?: AudioBytes;
    frames: Frame[];
    out: Buffer[];
    tags: Array<{ title?: string; artist?: string }>;
  } = { frames: [], out: [], tags: [] };
  const feed = new AudioFeed({
    codec: audioCodecOf(contentType)!,
    maxPayloadSize,
    onFormat: (f) => {
      got.format = f;
      const track = new StreamTrack({ id: 1, format: f.format });
      const bytes = audioBytesOf(track)!;
      got.track = track;
      got.bytes = bytes;
      got.out.push(bytes.header());
      track.readers.add({
        deliver: (frame) => {
          got.frames.push(frame);
          got.out.push(frame.form(bytes.form));
        },
      });
    },
    onPacket: (p) => got.track!.ingest(p),
    onTags: (t) => got.tags.push(t),
  });
  for (const c of chunks) feed.push(c);
  return { ...got, feed };
}

/** `data` in chunks of odd, varying sizes. */
function oddChunks(data: Buffer): Buffer[] {
  const sizes = [1, 7, 333, 2, 1501, 17, 4096, 3];
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < data.length; k++) {
    out.push(data.subarray(i, i + sizes[k % sizes.length]));
    i += sizes[k % sizes.length];
  }
  return out;
}

const ffmpegMissing =
  spawnSync('ffmpeg', ['-version']).error !== undefined ||
  spawnSync('ffprobe', ['-version']).error !== undefined;

describe(
  'audioBytesOf round trips through real files (ffmpeg)',
  { skip: skipUnlessCI(ffmpegMissing, 'ffmpeg/ffprobe not installed') },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-audio-bytes-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Writes `seconds` of a 440 Hz tone to `file`, encoded as `args` say. */
    async function tone(file: string, seconds: number, args: string[]): Promise<void> {
      const made = await run('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `sine=f=440:d=${seconds}`,
        ...args,
        file,
      ]);
      assert.equal(made.code, 0, made.stderr);
    }

    async function probe(
      file: string,
    ): Promise<{ rate: number; channels: number; packets: number; duration: number }> {
      const r = await run('ffprobe', [
        '-v',
        'error',
        '-count_packets',
        '-show_entries',
        'stream=sample_rate,channels,nb_read_packets:format=duration',
        '-of',
        'json',
        file,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as {
        streams: Array<{ sample_rate: string; channels: number; nb_read_packets: string }>;
        format: { duration: string };
      };
      return {
        rate: Number(j.streams[0].sample_rate),
        channels: j.streams[0].channels,
        packets: Number(j.streams[0].nb_read_packets),
        duration: Number(j.format.duration),
      };
    }

    const cases = [
      {
        name: 'MP3',
        ext: 'mp3',
        type: 'audio/mpeg',
        args: ['-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '128k', '-metadata', 'title=Tone'],
        frame: 1152 / 44100,
        rate: 44100,
        encoding: 'MPA',
      },
      {
        name: 'AAC (ADTS)',
        ext: 'aac',
        type: 'audio/aac',
        args: ['-ar', '48000', '-ac', '2', '-c:a', 'aac', '-f', 'adts'],
        frame: 1024 / 48000,
        rate: 48000,
        encoding: 'MPEG4-GENERIC',
      },
      {
        name: 'Ogg/Opus',
        ext: 'ogg',
        type: 'audio/ogg',
        args: ['-c:a', 'libopus', '-metadata', 'title=Tone', '-metadata', 'artist=Lab'],
        frame: 0.02,
        rate: 48000,
        encoding: 'opus',
      },
    ];
    for (const c of cases) {
      it(`${c.name}: fed in odd chunks, played back from the track, decodes cleanly`, async () => {
        const input = join(dir, `in.${c.ext}`);
        await tone(input, 3, c.args);
        // The ID3 tag ffmpeg writes before the MP3 must not reach listeners.
        const bytes = readFileSync(input);
        const got = feedTrack(c.type, oddChunks(bytes), 500);
        assert.equal(got.format!.format.encodingName, c.encoding);
        assert.equal(got.bytes!.contentType, c.type);
        const output = join(dir, `out.${c.ext}`);
        writeFileSync(output, Buffer.concat(got.out));

        const decode = await run('ffmpeg', ['-v', 'error', '-i', output, '-f', 'null', '-']);
        assert.equal(decode.code, 0);
        assert.equal(decode.stderr.trim(), '', `decode errors: ${decode.stderr}`);
        const [pin, pout] = [await probe(input), await probe(output)];
        assert.deepEqual([pout.rate, pout.channels], [c.rate, pin.channels]);
        // The last frame waits for a follower that never comes; nothing else is lost.
        assert.ok(
          pin.packets - pout.packets >= 0 && pin.packets - pout.packets <= 1,
          `packets ${pin.packets} → ${pout.packets}`,
        );
        if (c.ext !== 'aac')
          assert.ok(
            Math.abs(pin.duration - pout.duration) <= c.frame + 1e-6,
            `duration ${pin.duration} → ${pout.duration}`,
          );
        if (c.ext === 'ogg') assert.deepEqual(got.tags, [{ title: 'Tone', artist: 'Lab' }]);
      });
    }

    it('a listener joining mid-stream gets the Ogg headers, then pages that decode', async () => {
      const input = join(dir, 'join.ogg');
      await tone(input, 2, ['-ac', '2', '-c:a', 'libopus']);
      const got = feedTrack('audio/ogg', oddChunks(readFileSync(input)));
      const late = join(dir, 'late.ogg');
      // A second listener after 50 frames: header, then the shared (memoized) pages from there.
      writeFileSync(
        late,
        Buffer.concat([got.bytes!.header(), ...got.frames.slice(50).map((f) => f.form(got.bytes!.form))]),
      );
      assert.deepEqual(
        got.frames.slice(50).map((f) => f.form(got.bytes!.form)),
        got.out.slice(51),
      );
      const decode = await run('ffmpeg', ['-v', 'error', '-i', late, '-f', 'null', '-']);
      assert.equal(decode.code, 0);
      assert.equal(decode.stderr.trim(), '', decode.stderr);
      assert.equal((await probe(late)).channels, 2);
    });
  },
);

describe('audioBytesOf', () => {
  const mpaFrames = (n: number): Buffer => {
    const size = parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x90, 0x44]))!.frameSize;
    return Buffer.concat(
      Array.from({ length: n }, (_, i) =>
        Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x44]), Buffer.alloc(size - 4, i + 1)]),
      ),
    );
  };

  it('is one shared object per track, and undefined for formats it cannot write', () => {
    const track = new StreamTrack({ id: 1, format: mpaFormat() });
    assert.equal(audioBytesOf(track), audioBytesOf(track));
    assert.equal(audioBytesOf(new StreamTrack({ id: 2, format: H264 })), undefined);
    const noConfig = aacFormat({
      payloadType: 96,
      sampleRate: 44100,
      channels: 2,
      audioSpecificConfig: Buffer.alloc(0),
    });
    assert.equal(audioBytesOf(new StreamTrack({ id: 3, format: noConfig })), undefined);
    // A config ADTS cannot carry (channel configuration 0: a program config element).
    const pce = aacFormat({
      payloadType: 96,
      sampleRate: 44100,
      channels: 2,
      audioSpecificConfig: Buffer.from('1200', 'hex'),
    });
    assert.equal(audioBytesOf(new StreamTrack({ id: 4, format: pce })), undefined);
    const opus = audioBytesOf(
      new StreamTrack({ id: 5, format: opusFormat({ payloadType: 111, channels: 2 }) }),
    )!;
    assert.equal(opus.header().subarray(28, 36).toString('latin1'), 'OpusHead');
    assert.equal(audioBytesOf(track)!.header().length, 0);
  });

  it('joins MPA fragments that the track delivers as separate frames into whole MPEG frames', () => {
    const stream = mpaFrames(4);
    const got = feedTrack('audio/mpeg', [stream], 100);
    assert.ok(got.frames.length > 12, 'each fragment is a frame of the track');
    const out = Buffer.concat(got.out);
    assert.deepEqual(out, stream.subarray(0, 3 * 417));
    // Only frames that end an MPEG frame carry bytes, and those are whole frames.
    for (const b of got.out.filter((x) => x.length > 0)) assert.equal(b.length % 417, 0);
    const framer = new MpegAudioFramer();
    assert.equal(framer.push(Buffer.concat([out, stream.subarray(3 * 417)])).length, 3);
  });

  it('writes each AAC AU behind an ADTS header made from the config, fragmented or not', () => {
    const aus = [Buffer.alloc(50, 1), Buffer.alloc(3000, 2), Buffer.alloc(70, 3), Buffer.alloc(70, 4)];
    const framer = new AdtsFramer();
    const header = (n: number): Buffer =>
      adtsHeader({ objectType: 2, sampleRate: 44100, channelConfiguration: 2 }, n);
    const stream = Buffer.concat(aus.flatMap((a) => [header(a.length), a]));
    const got = feedTrack('audio/aac', [stream], 400);
    const out = Buffer.concat(got.out);
    assert.deepEqual(
      out,
      stream.subarray(0, stream.length - 77),
      'byte for byte, but for the last frame still waiting',
    );
    assert.deepEqual(
      framer.push(Buffer.concat([out, header(5), Buffer.alloc(5)])).map((f) => f.data),
      aus.slice(0, 3),
    );
  });

  it('writes Opus frames as one Ogg page each, sequence continuing, granule from the RTP time', () => {
    const track = new StreamTrack({ id: 1, format: opusFormat({ payloadType: 96, channels: 1 }) });
    const bytes = audioBytesOf(track)!;
    const frames: Frame[] = [];
    track.readers.add({ deliver: (f) => frames.push(f) });
    let ts = 0xffff_fc00; // wraps after two frames
    for (let i = 0; i < 4; i++) {
      const p = Buffer.alloc(12 + 3);
      p[0] = 0x80;
      p[1] = 96 | 0x80;
      p.writeUInt16BE(i, 2);
      p.writeUInt32BE(ts >>> 0, 4);
      p[12] = 0xf8; // 20 ms
      track.ingest(p);
      ts += 960;
    }
    // Built newest first (as a burst counting back may), numbered as if built in order.
    const first = frames[1].form(bytes.form);
    const pages = [frames[0], frames[1], frames[3], frames[2]].map((f) => f.form(bytes.form));
    assert.equal(pages[1], first, 'memoized');
    [pages[2], pages[3]] = [pages[3], pages[2]];
    assert.deepEqual(
      pages.map((p) => p.readUInt32LE(18)),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      pages.map((p) => p.readBigUInt64LE(6)),
      [0n, 960n, 1920n, 2880n],
    );
    const reader = new OggOpusReader();
    const got = reader.push(Buffer.concat([bytes.header(), ...pages]));
    assert.deepEqual(
      got.map((f) => [f.channels, f.samples]),
      [
        [1, 960],
        [1, 960],
        [1, 960],
        [1, 960],
      ],
    );
  });
});
