/** An MP3 playlist on air (issue 15, DSS's MP3Broadcaster): `paths.radio.playlist` of tagged MP3
 * tones feeds the mount; ffmpeg hears MP3 at rtsp://…/radio, the stream's now-playing title
 * follows the files as they play, and the file at another sample rate is skipped with one log
 * line naming both rates. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { icyListen, mpegAudioCheck } from '../helpers/icy.js';
import { decodeErrors, run } from '../helpers/run.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

/** The files in list order: name, sample rate, tags, and the title they should put on air. */
const FILES = [
  { name: 'alpha.mp3', rate: 44100, tags: ['-metadata', 'title=Alpha', '-metadata', 'artist=Rivulet'], title: 'Rivulet - Alpha' },
  { name: 'odd.mp3', rate: 22050, tags: ['-metadata', 'title=Odd One'], title: 'Odd One' },
  { name: 'beta.mp3', rate: 44100, tags: ['-metadata', 'title=Beta'], title: 'Beta' },
] as const;
const SECONDS = 2;
const LISTEN_S = 5;

describe('radio: an MP3 playlist on air', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = tempDir('rivulet-radio-playlist-');
    await Promise.all(
      FILES.map(async (f, i) => {
        const r = await run('ffmpeg', [
          '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=f=${440 + 110 * i}:sample_rate=${f.rate}`, '-t', String(SECONDS),
          '-c:a', 'libmp3lame', '-b:a', '128k', '-ac', '2', ...f.tags, join(media.dir, f.name),
        ], { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
      }),
    );
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(config, ['paths:', '  radio:', `    playlist: { items: [${FILES.map((f) => f.name).join(', ')}], mode: sequential_looped }`, ''].join('\n'));
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  it('plays over RTSP as MP3, the title follows the files, and the file of another rate is skipped once', async () => {
    // What the stream says plays, next to the file its channel plays, sampled while ffmpeg listens.
    const seen: { title: string | undefined; file: string | undefined }[] = [];
    const sample = () => {
      const stream = srv.server.live?.get('radio');
      const status = stream?.source?.status?.() as { current?: string | null } | undefined;
      const now = { title: stream?.metadata.title, file: status?.current ? basename(status.current) : undefined };
      const last = seen.at(-1);
      if (!last || last.title !== now.title || last.file !== now.file) seen.push(now);
    };
    const timer = setInterval(sample, 25);
    let r;
    try {
      r = await run('ffmpeg', ['-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', srv.url('radio'), '-t', String(LISTEN_S), '-f', 'null', '-'], { timeoutMs: 60_000 });
    } finally {
      clearInterval(timer);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Stream #0:0: Audio: mp3\b[^\n]*44100 Hz, stereo/, 'the mount decodes as MP3 at the channel rate');
    assert.deepEqual(decodeErrors(r.stderr), [], 'no decode errors');

    // At every moment the title is the one of the file playing.
    const byFile = new Map<string, string>(FILES.map((f) => [f.name, f.title]));
    for (const s of seen.filter((x) => x.file !== undefined)) assert.equal(s.title, byFile.get(s.file!), `title while ${s.file} plays: ${JSON.stringify(seen)}`);
    const titles = seen.map((s) => s.title).filter((t, i, all) => t !== undefined && t !== all[i - 1]);
    assert.ok(!titles.includes('Odd One'), `the skipped file's title never goes on air: ${titles.join(' | ')}`);
    // Sequential, looped, without the odd one: the titles alternate, both heard while listening.
    assert.ok(titles.includes('Rivulet - Alpha') && titles.includes('Beta'), `both titles went on air: ${titles.join(' | ')}`);
    for (let i = 1; i < titles.length; i++) assert.notEqual(titles[i], titles[i - 1]);

    const skipped = srv.logs.filter((l) => l.includes('playlist item skipped'));
    assert.equal(skipped.length, 1, `one line for the skipped file, however often the loop reaches it: ${skipped.join('')}`);
    assert.match(skipped[0], /odd\.mp3/);
    assert.match(skipped[0], /22050 Hz stereo where the channel's is 44100 Hz stereo/);
  });

  it('is heard over HTTP with the titles in its ICY blocks, a listener joining mid-file starting at once', async () => {
    const url = `http://127.0.0.1:${srv.radioPort}/radio`;
    // Join part-way into whatever file plays.
    await new Promise((r) => setTimeout(r, 700));
    const titles: string[] = [];
    let seen = 0;
    const started = Date.now();
    const r = await icyListen(url, {
      metadata: true,
      bytes: 4 << 20,
      ms: 30_000,
      until: (res) => {
        for (const b of res.metaBlocks.slice(seen)) if (b.title !== undefined && b.title !== titles.at(-1)) titles.push(b.title);
        seen = res.metaBlocks.length;
        return titles.includes('Rivulet - Alpha') && titles.includes('Beta') && titles.length >= 3;
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'audio/mpeg');
    assert.equal(r.ended, 'until', `titles heard: ${titles.join(' | ')}`);
    assert.ok(!titles.includes('Odd One'));
    for (let i = 1; i < titles.length; i++) assert.notEqual(titles[i], titles[i - 1]);
    const check = mpegAudioCheck(r.audio);
    // The burst: the listener got recent audio at once, so it holds more audio than the time it
    // has been listening (a slow machine delays both alike).
    const ahead = check.samples / 44100 - (Date.now() - started) / 1000;
    assert.ok(ahead > 0.5, `a burst at join: ${ahead.toFixed(2)} s of audio beyond the time listened`);
    assert.equal(check.leadingBytes, 0, 'starts on a frame');
    assert.equal(check.resyncs, 0, 'whole frames across the file changes');
    assert.equal(check.sampleRate, 44100);
  });
});
