import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CoreEvents } from '../core/events.js';
import type { Stream } from '../core/stream.js';
import { StreamRegistry } from '../core/stream-registry.js';
import { createLogger } from '../logging/index.js';
import { PlaylistSourceError, startPlaylistSource } from './playlist-source.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-playlist-src-')));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A 16-bit mono WAV of `seconds` of a ramp (streamed as L16 at `rate`). */
function wav(name: string, rate: number, seconds: number): string {
  const samples = Math.round(rate * seconds);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE((i * 37) % 20000, i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  writeFileSync(join(dir, name), Buffer.concat([h, data]));
  return name;
}

const A = wav('a.wav', 8000, 0.4);
const B = wav('b.wav', 8000, 0.3);
const OTHER_RATE = wav('c.wav', 16000, 0.3);

/** A short H.264 clip (MP4: the parameter sets live in avcC only). */
async function h264(name: string, size: string): Promise<string> {
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25:duration=0.4`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', join(dir, name),
  ]);
  return name;
}

interface Seen {
  ssrc: number;
  seq: number;
  ts: number;
  at: number;
  /** First payload byte (the NAL unit header for H.264). */
  head: number;
}

/** Starts a playlist and records every packet its track is fed, until the stream ends. */
async function broadcast(items: string[], mode: 'sequential' | 'sequential_looped' = 'sequential') {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => void lines.push(l) });
  const events = new CoreEvents();
  const registry = new StreamRegistry({ publisherTimeout: 60, log, events });
  const ended = new Promise<string>((resolve) => events.on('path.unpublished', ({ reason }) => resolve(reason)));
  const stream: Stream = await startPlaylistSource({
    key: 'station',
    playlist: { items, mode, recent: 0, autostart: true },
    mediaRoot: dir,
    registry,
    log,
    graceTime: 0,
    sendAhead: 0.05,
  });
  const seen: Seen[] = [];
  const track = stream.tracks[0];
  const ingest = track.ingest.bind(track);
  track.ingest = (p: Buffer) => {
    seen.push({ ssrc: p.readUInt32BE(8), seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), at: performance.now(), head: p[12] });
    ingest(p);
  };
  return { stream, seen, ended, lines, registry };
}

describe('startPlaylistSource', () => {
  it('plays items on one timeline: same SSRC, sequence and timestamps continue, paced in real time', async () => {
    const t0 = performance.now();
    const { stream, seen, ended } = await broadcast([A, B]);
    assert.equal(stream.source?.kind, 'playlist');
    assert.equal(stream.source?.label, 'playlist station');
    assert.match(await ended, /played through/);
    const took = performance.now() - t0;
    assert.ok(seen.length > 10, `packets fed: ${seen.length}`);
    assert.equal(new Set(seen.map((s) => s.ssrc)).size, 1, 'one SSRC across items');
    for (let i = 1; i < seen.length; i++) {
      assert.equal(seen[i].seq, (seen[i - 1].seq + 1) & 0xffff, `sequence continues at packet ${i}`);
      const d = (seen[i].ts - seen[i - 1].ts) >>> 0;
      assert.ok(d > 0 && d <= 8000 * 0.05, `timestamp goes forward by at most a packet's worth at packet ${i}: ${d}`);
    }
    // 0.7 s of media at 8 kHz, minus the last packet's own length.
    const span = (seen[seen.length - 1].ts - seen[0].ts) >>> 0;
    assert.ok(span > 8000 * 0.6 && span < 8000 * 0.7, `timestamps span both items: ${span}`);
    assert.ok(took > 550 && took < 1500, `real-time pace: ${took.toFixed(0)} ms for 0.7 s`);
    assert.equal(stream.state, 'ended');
  });

  it('skips an item whose codec does not match the first, with one log line, and goes on', async () => {
    const { seen, ended, lines } = await broadcast([A, OTHER_RATE, B]);
    await ended;
    const skipped = lines.filter((l) => l.includes('playlist item skipped'));
    assert.equal(skipped.length, 1, skipped.join(''));
    assert.match(skipped[0], /c\.wav/);
    assert.match(skipped[0], /L16\/16000/);
    const span = (seen[seen.length - 1].ts - seen[0].ts) >>> 0;
    assert.ok(span > 8000 * 0.6, `both playable items played: ${span}`);
  });

  it('starts every H.264 item with its SPS and PPS in band, on its first frame\'s timestamp', async () => {
    const [small, large] = await Promise.all([h264('small.mp4', '160x120'), h264('large.mp4', '320x240')]);
    const { seen, ended, stream } = await broadcast([small, large]);
    await ended;
    const nal = (s: Seen) => s.head & 0x1f;
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i].seq, (seen[i - 1].seq + 1) & 0xffff, `sequence continues at packet ${i}`);
    const starts = seen.flatMap((s, i) => (nal(s) === 7 ? [i] : []));
    assert.equal(starts.length, 2, `one SPS per item: ${seen.map(nal).join(' ')}`);
    assert.equal(starts[0], 0, 'the broadcast starts with the first item\'s SPS');
    for (const i of starts) {
      assert.equal(nal(seen[i + 1]), 8, `a PPS follows the SPS at packet ${i}`);
      // The item's first frame: its IDR slice (directly or as the first FU-A fragment).
      const frame = seen.slice(i + 2).filter((s) => s.ts === seen[i].ts);
      assert.ok(frame.length > 0, `the first frame shares the parameter sets' timestamp at packet ${i}`);
      assert.ok(i === 0 || seen[i - 1].ts !== seen[i].ts, `the parameter sets start a new timestamp at packet ${i}`);
    }
    assert.ok(seen[starts[1]].ts - seen[0].ts > 90000 * 0.35, 'the second item\'s parameter sets come at its start');
    assert.equal(stream.tracks[0].format.encodingName, 'H264');
  });

  it('refuses to start when nothing in the list plays, and ends a loop that finds nothing more', async () => {
    await assert.rejects(
      () => broadcast(['missing.wav', 'also-missing.wav']),
      (e: unknown) => e instanceof PlaylistSourceError && e.status === 404 && /nothing in it plays/.test(e.message),
    );
  });

  it('stops playing when its stream ends (no timers left behind)', async () => {
    const { stream, seen, ended } = await broadcast([A, B], 'sequential_looped');
    await new Promise((r) => setTimeout(r, 150));
    stream.end('test over');
    assert.equal(await ended, 'test over');
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, n, 'no packets after the end');
  });
});
