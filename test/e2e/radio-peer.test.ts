/** The radio test tools proven against Debian's icecast2, the reference Icecast server (no
 * Rivulet here): ffmpeg and GStreamer publish to it; the ICY listener, ffmpeg, GStreamer and VLC
 * listen and decode. Once these pass, the radio tests point the same tools at Rivulet. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startIcecast, type Icecast } from '../helpers/icecast.js';
import { fetchPlaylist, icyListen, mpegAudioCheck, parsePlaylist } from '../helpers/icy.js';
import { ffmpegIcecastPublish, ffmpegListen, gstShoutPublish, gstSoupListen, vlcListen, heardTone, type RadioProcess } from '../helpers/radio-clients.js';
import { makeRadioTrack } from '../helpers/radio-media.js';
import { ffprobe } from '../helpers/run.js';
import { skipUnlessCI } from '../helpers/tools.js';
import { userScratchDir } from '../helpers/unprivileged.js';

const TOOLS = ['icecast2', 'cvlc', 'ffmpeg', 'gst-launch-1.0'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = skipUnlessCI(missing.length > 0, `needs ${missing.join(', ')} (Debian icecast2, vlc-bin, ffmpeg, gstreamer1.0-tools)`);

const PASSWORD = 'peer-source-pw';
const METAINT = 8000;
const LISTEN_S = 3;


describe('radio peer: real clients against Debian icecast2', { skip }, () => {
  let ic: Icecast;
  const sources: RadioProcess[] = [];

  before(async () => {
    ic = await startIcecast({ sourcePassword: PASSWORD, adminPassword: 'peer-admin-pw', mounts: [{ name: '/m', metaint: METAINT }] });
    sources.push(ffmpegIcecastPublish(ic.sourceUrl('/m'), { codec: 'mp3', iceName: 'Peer FM', iceGenre: 'Tests', sineHz: 440 }));
    sources.push(gstShoutPublish('127.0.0.1', ic.port, '/s', PASSWORD, { streamname: 'Shout FM', title: 'Shout Song', artist: 'Gst' }));
    sources.push(ffmpegIcecastPublish(ic.sourceUrl('/aac'), { codec: 'aac' }));
    sources.push(ffmpegIcecastPublish(ic.sourceUrl('/opus'), { codec: 'opus', legacy: true }));
    try {
      for (const m of ['/m', '/s', '/aac', '/opus']) await ic.waitForMount(m);
    } catch (e) {
      throw new Error(`${String(e)}\n${sources.map((s) => s.stderr()).join('\n')}`, { cause: e });
    }
  });
  after(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await ic?.stop();
  });

  it('the status shows each source with the station info it sent', async () => {
    const s = await ic.sources();
    assert.equal(s.get('/m')?.server_name, 'Peer FM');
    assert.equal(s.get('/m')?.genre, 'Tests');
    assert.equal(s.get('/m')?.server_type, 'audio/mpeg');
    assert.equal(s.get('/s')?.server_name, 'Shout FM');
    assert.equal(s.get('/aac')?.server_type, 'audio/aac');
    assert.equal(s.get('/opus')?.server_type, 'audio/ogg');
  });

  it('an ICY listener finds StreamTitle blocks every icy-metaint bytes, and the title follows updinfo', async () => {
    const song = `Peer Artist - Song ${process.pid}`;
    let updated: Promise<void> | undefined;
    const r = await icyListen(ic.mountUrl('/m'), {
      metadata: true,
      ms: 30_000,
      bytes: 4 * 1024 * 1024,
      until: (sofar) => {
        // Change the title once the listener has had a few blocks under the old one.
        if (!updated && sofar.metaBlocks.length >= 3) updated = ic.updateMetadata('/m', song);
        return sofar.metaBlocks.some((b) => b.title === song);
      },
    });
    await updated;
    assert.equal(r.status, 200, r.statusLine);
    assert.equal(r.headers['content-type'], 'audio/mpeg');
    assert.equal(r.headers['icy-name'], 'Peer FM');
    assert.equal(r.metaint, METAINT);
    assert.equal(r.ended, 'until', `the title never changed: ${JSON.stringify(r.metaBlocks.slice(-5))} ${r.error ?? ''}`);
    assert.deepEqual(r.metaErrors, []);
    r.metaBlocks.forEach((b, i) => assert.equal(b.audioOffset, (i + 1) * METAINT, `block ${i} sits after ${METAINT} audio bytes`));
    const first = r.metaBlocks.findIndex((b) => b.title === song);
    assert.ok(first >= 3, 'the new title came after the update, not before');
    assert.ok(r.metaBlocks[0].length > 0 && r.metaBlocks[0].title !== undefined, `the first block carries the title: ${JSON.stringify(r.metaBlocks[0])}`);
    // With the blocks taken out, what is left is whole MP3 frames back to back.
    const mp3 = mpegAudioCheck(r.audio);
    assert.equal(mp3.resyncs, 0, 'no stray bytes in the audio');
    assert.ok(mp3.frames * 1152 >= r.audio.length / 500, `mostly frames: ${JSON.stringify(mp3)}`);
    assert.equal(mp3.sampleRate, 44100);
  });

  it('a listener without Icy-MetaData gets plain MP3 and no icy-metaint', async () => {
    const r = await icyListen(ic.mountUrl('/m'), { bytes: 48_000 });
    assert.equal(r.status, 200, r.statusLine);
    assert.equal(r.ended, 'bytes');
    assert.equal(r.headers['icy-metaint'], undefined);
    assert.equal(r.metaBlocks.length, 0);
    const mp3 = mpegAudioCheck(r.audio);
    assert.equal(mp3.resyncs, 0);
    assert.ok(mp3.frames >= 100, JSON.stringify(mp3));
  });

  it('a wrong source password is refused', async () => {
    const bad = ffmpegIcecastPublish(ic.sourceUrl('/bad', 'source', 'wrong'), { realtime: true });
    const { code } = await bad.exited;
    assert.notEqual(code, 0);
    assert.match(bad.stderr(), /401|Unauthorized|authoriz/i);
    assert.equal((await ic.sources()).has('/bad'), false);
  });

  it('the .m3u playlist points at the mount', async () => {
    const p = await fetchPlaylist(`${ic.mountUrl('/m')}.m3u`);
    assert.equal(p.status, 200);
    assert.equal(p.kind, 'm3u');
    assert.equal(new URL(p.urls[0]).pathname, '/m', p.text);
    const pls = parsePlaylist('[playlist]\nNumberOfEntries=1\nFile1=http://h:8000/m\nTitle1=Peer FM\nLength1=-1\nVersion=2\n');
    assert.deepEqual(pls, { kind: 'pls', urls: ['http://h:8000/m'], titles: ['Peer FM'] });
  });

  it('ffmpeg decodes the MP3 mount', async () => {
    heardTone(await ffmpegListen(ic.mountUrl('/m'), LISTEN_S), LISTEN_S, 'ffmpeg');
  });

  it('GStreamer souphttpsrc decodes the MP3 mount', async () => {
    heardTone(await gstSoupListen(ic.mountUrl('/m'), LISTEN_S), LISTEN_S, 'gst souphttpsrc');
  });

  it('VLC (as an unprivileged user) decodes the MP3 mount', async () => {
    const r = await vlcListen(ic.mountUrl('/m'), LISTEN_S);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    // VLC plays for LISTEN_S of wall time; its start-up may eat into that on a slow machine.
    heardTone(r, LISTEN_S / 2, 'vlc');
  });

  it('shout2send publishes MP3 with its title tags, and ffmpeg hears it', async () => {
    heardTone(await ffmpegListen(ic.mountUrl('/s'), 2), 2, 'ffmpeg on the shout2send mount');
    const r = await icyListen(ic.mountUrl('/s'), { metadata: true, ms: 15_000, until: (s) => s.metaBlocks.some((b) => b.title !== undefined) });
    assert.deepEqual(r.metaErrors, []);
    assert.match(r.metaBlocks.find((b) => b.title !== undefined)?.title ?? '', /Shout Song/);
  });

  it('ffmpeg publishes AAC and Ogg/Opus (SOURCE method), and ffmpeg decodes both', async () => {
    // icecast2 starts a listener at a buffer boundary, not an ADTS frame boundary: the decoder
    // complains about the first, partial frame(s) and then decodes cleanly. (Rivulet starts on a
    // frame boundary, so its tests expect no error at all.)
    const aac = await ffmpegListen(ic.mountUrl('/aac'), 2);
    const startup = /Error decoding AAC frame header|exceeds limit|not allowed in AAC-LC|Error while decoding stream|Reserved bit set|Input buffer exhausted|channel element .* is not allocated|Too large remapped id|invalid band type|Pulse tool not allowed|Invalid data found/i;
    assert.ok(aac.errors.length <= 12 && aac.errors.every((l) => startup.test(l)), aac.errors.join('\n'));
    heardTone({ ...aac, errors: [] }, 2, 'ffmpeg on AAC');
    heardTone(await ffmpegListen(ic.mountUrl('/opus'), 2), 2, 'ffmpeg on Ogg/Opus');
  });

  it('radio fixtures carry their title and artist tags', async () => {
    const dir = userScratchDir('rivulet-radio-media-');
    try {
      for (const name of ['t.mp3', 't.aac', 't.ogg']) {
        const p = await makeRadioTrack(dir.dir, { name, title: 'Fixture Song', artist: 'Fixture Artist', seconds: 1 });
        const probe = (await ffprobe(p)) as unknown as {
          format: { tags?: Record<string, string> };
          streams: { tags?: Record<string, string> }[];
        };
        const tags = { ...probe.format.tags, ...probe.streams[0]?.tags };
        const lower = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
        assert.equal(lower.title, 'Fixture Song', `${name}: ${JSON.stringify(tags)}`);
        assert.equal(lower.artist, 'Fixture Artist', name);
      }
    } finally {
      dir.cleanup();
    }
  });

  it('the ICY listener reads an `ICY 200 OK` answer, and catches a block one byte out of place', async () => {
    const dir = userScratchDir('rivulet-icy-');
    try {
      const mp3 = readFileSync(await makeRadioTrack(dir.dir, { name: 'x.mp3', seconds: 2 }));
      const audio = mp3.subarray(mpegAudioCheck(mp3).leadingBytes); // without the ID3 tag
      const metaint = 1000;
      const meta = Buffer.alloc(32);
      meta.write("StreamTitle='It''s a test';");
      /** The audio with a metadata block after every `metaint + shift` bytes. */
      const body = (shift: number) => {
        const parts: Buffer[] = [];
        for (let off = 0; off < audio.length; off += metaint + shift) {
          const chunk = audio.subarray(off, off + metaint + shift);
          parts.push(chunk);
          if (chunk.length === metaint + shift) parts.push(Buffer.from([2]), meta);
        }
        return Buffer.concat(parts);
      };
      const serve = (b: Buffer) => {
        const srv = createServer((sock) => {
          sock.once('data', () => sock.end(Buffer.concat([Buffer.from(`ICY 200 OK\r\nicy-name:Fake\r\nicy-metaint:${metaint}\r\n\r\n`), b])));
          sock.on('error', () => {});
        });
        return new Promise<{ url: string; close: () => void }>((resolve) =>
          srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/x`, close: () => srv.close() })),
        );
      };
      const good = await serve(body(0));
      const ok = await icyListen(good.url, { metadata: true, ms: 10_000 });
      good.close();
      assert.equal(ok.status, 200);
      assert.equal(ok.statusLine, 'ICY 200 OK');
      assert.equal(ok.headers['icy-name'], 'Fake');
      assert.deepEqual(ok.metaErrors, []);
      assert.equal(ok.metaBlocks[0].title, "It''s a test");
      assert.ok(ok.audio.equals(audio.subarray(0, ok.audio.length)), 'the audio comes back as sent');
      assert.equal(mpegAudioCheck(ok.audio).resyncs, 0);

      const bad = await serve(body(1));
      const off = await icyListen(bad.url, { metadata: true, ms: 10_000 });
      bad.close();
      assert.ok(off.metaErrors.length > 0 || mpegAudioCheck(off.audio).resyncs > 0, 'a block one byte late is caught');
    } finally {
      dir.cleanup();
    }
  });
});
