/** Radio over RTSP: playlists of audio files only (MP3, AAC in MP4, WAV) broadcast as channels;
 * ffmpeg decodes each across item changes without errors, for as long as it listens. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeErrors, run } from '../helpers/run.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

/** Per kind: the encoder arguments and the file extension; three 2 s tones each. */
const KINDS = {
  mp3: { ext: 'mp3', codec: ['-c:a', 'libmp3lame', '-b:a', '128k'], decoded: 'mp3' },
  aac: { ext: 'm4a', codec: ['-c:a', 'aac'], decoded: 'aac' },
  wav: { ext: 'wav', codec: [], decoded: 'pcm_s16be' },
} as const;
const TONES = [440, 550, 660];
const LISTEN_S = 7;

describe('radio over RTSP: audio-only playlists', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = tempDir('rivulet-radio-');
    const lines = ['paths:'];
    for (const [name, k] of Object.entries(KINDS)) {
      const files = TONES.map((hz) => `${name}${hz}.${k.ext}`);
      await Promise.all(
        files.map(async (f, i) => {
          const r = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=f=${TONES[i]}`, '-t', '2', ...k.codec, join(media.dir, f)], { timeoutMs: 60_000 });
          assert.equal(r.code, 0, r.stderr);
        }),
      );
      lines.push(`  ${name}:`, `    playlist: { items: [${files.join(', ')}] }`);
    }
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(config, `${lines.join('\n')}\n`);
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  for (const [name, k] of Object.entries(KINDS)) {
    it(`ffmpeg listens to a ${name.toUpperCase()} channel across item changes`, async () => {
      const r = await run('ffmpeg', ['-hide_banner', '-nostats', '-rtsp_transport', 'tcp', '-i', srv.url(name), '-t', String(LISTEN_S), '-f', 'null', '-'], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(decodeErrors(r.stderr), [], 'no decode errors');
      assert.match(r.stderr, new RegExp(`Stream #0:0: Audio: ${k.decoded}\\b`), `the channel's codec is ${k.decoded}`);
      // The last progress line gives the audio decoded; with -t it stops at LISTEN_S.
      const times = [...r.stderr.matchAll(/time=(\d+):(\d+):(\d+\.\d+)/g)].map((m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
      assert.ok((times.at(-1) ?? 0) >= LISTEN_S - 0.1, `decoded ${times.at(-1)} s of ${LISTEN_S}`);
      const items = srv.logs.filter((l) => l.includes(' playlist item playing ') && l.includes(`path=${name} `));
      assert.ok(items.length >= 1 + Math.floor(LISTEN_S / 2), `items changed while it listened: ${items.length} started`);
    });
  }
});
