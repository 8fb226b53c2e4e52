/** Internet radio end to end: real encoders publish to Rivulet as Icecast 2 (ffmpeg's icecast://,
 * GStreamer's shout2send) and SHOUTcast v1 / x-audiocast sources (scripted), and real players
 * listen over plain HTTP (ffmpeg, curl, GStreamer souphttpsrc, VLC) and over RTSP (ffmpeg). */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { fetchPlaylist, icyListen, mpegAudioCheck, parsePlaylist, type IcyResult } from '../helpers/icy.js';
import { ffmpegIcecastPublish, ffmpegListen, gstShoutPublish, gstSoupListen, icecastSourceUrl, vlcListen, type RadioProcess } from '../helpers/radio-clients.js';
import { makeRadioTrack } from '../helpers/radio-media.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

const exec = promisify(execFile);
const PW = 'hackme';
const METAINT = 8192;

/** An `until` for icyListen collecting each new title into `titles` (consecutive repeats once). */
function titlesInto(titles: string[], done: () => boolean): (r: IcyResult) => boolean {
  let seen = 0;
  return (r) => {
    for (const b of r.metaBlocks.slice(seen)) if (b.title !== undefined && titles[titles.length - 1] !== b.title) titles.push(b.title);
    seen = r.metaBlocks.length;
    return done();
  };
}

/** Polls until `f` is true or `ms` passed. */
async function until(f: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('internet radio', { timeout: 240_000 }, () => {
  let srv: TestServer;
  const media = tempDir('rivulet-radio-media-');
  const procs: RadioProcess[] = [];
  let base = '';

  const live = (mount: string) => srv.server.live?.get(mount)?.state === 'active';
  const publish = (mount: string, opts: Parameters<typeof ffmpegIcecastPublish>[1] = {}, pw = PW, port?: number) => {
    const p = ffmpegIcecastPublish(icecastSourceUrl('127.0.0.1', port ?? srv.radioPort, mount, pw), opts);
    procs.push(p);
    return p;
  };

  before(async () => {
    const yaml = join(media.dir, 'rivulet.yaml');
    writeFileSync(yaml, 'paths:\n  fb:\n    fallback: /backup\n');
    srv = await startServer({
      mediaDir: media.dir,
      sets: [`radio.sourcePassword=${PW}`, `radio.metaint=${METAINT}`, 'radio.burstBytes=32768', 'radio.maxFlowControlTime=3', 'live.graceTime=6'],
      configFile: yaml,
    });
    base = `http://127.0.0.1:${srv.radioPort}`;
    assert.ok(srv.radioPort > 0, 'the radio port is listening');
    // The station most tests listen to.
    publish('radio', { iceName: 'Rivulet FM', iceGenre: 'Tests', iceDescription: 'A sine', bitrate: '128k' });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await srv?.close();
    media.cleanup();
  });

  it('takes ffmpeg as an Icecast source and serves ICY listeners: headers, metadata every metaint bytes, title updates, burst at join', async () => {
    await until(() => live('radio'), 15_000, `the mount to go live:\n${procs[0].stderr()}`);
    await sleep(3500); // a few seconds of audio for the burst

    const started = Date.now();
    const first = await icyListen(`${base}/radio`, { metadata: true, bytes: 64_000, ms: 20_000 });
    const listenedS = (Date.now() - started) / 1000;
    assert.equal(first.status, 200, first.statusLine);
    assert.equal(first.headers['content-type'], 'audio/mpeg');
    assert.equal(first.headers['icy-name'], 'Rivulet FM');
    assert.equal(first.headers['icy-genre'], 'Tests');
    assert.equal(first.headers['icy-metaint'], String(METAINT));
    assert.match(first.headers['cache-control'] ?? '', /no-cache/);
    const check = mpegAudioCheck(first.audio);
    // The burst (radio.burstBytes, 2 s at 128 kbit/s): the listener holds more audio than the time
    // it has listened (a slow machine delays both alike).
    const ahead = check.samples / 44100 - listenedS;
    assert.ok(ahead > 1, `a new listener gets recent audio at once: ${ahead.toFixed(2)} s ahead`);
    assert.equal(check.leadingBytes, 0, 'audio starts on an MPEG frame boundary');
    assert.equal(check.resyncs, 0, 'no damaged frames');
    assert.ok(check.frames > 40);

    // Metadata updates, Icecast's way and SHOUTcast's, reach the listener's blocks.
    const songs: string[] = [];
    const listening = icyListen(`${base}/radio`, {
      metadata: true,
      bytes: 4 << 20,
      ms: 40_000,
      until: titlesInto(songs, () => songs.includes('Second Song')),
    });
    await sleep(1000);
    const icecast = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `source:${PW}`, `${base}/admin/metadata?mount=/radio&mode=updinfo&song=First+Song`]);
    assert.equal(icecast.stdout, '200');
    await until(() => songs.includes('First Song'), 20_000, `the first title in the blocks (got ${JSON.stringify(songs)})`);
    const wrong = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}/admin.cgi?mode=updinfo&pass=nope&mount=/radio&song=Hacked`]);
    assert.equal(wrong.stdout, '401');
    const shout = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}/admin.cgi?mode=updinfo&pass=${PW}&mount=/radio&song=Second+Song`]);
    assert.equal(shout.stdout, '200');
    const r = await listening;
    assert.deepEqual(r.metaErrors, [], 'every block sits exactly every metaint bytes');
    assert.ok(r.metaBlocks.every((b) => b.audioOffset % METAINT === 0));
    assert.ok(!songs.includes('Hacked'));
    assert.deepEqual(songs.slice(-2), ['First Song', 'Second Song']);
    assert.equal(mpegAudioCheck(r.audio).resyncs, 0);
  });

  it('curl with Icy-MetaData: 1 finds StreamTitle blocks exactly every icy-metaint bytes, and the new title after updinfo', async () => {
    await until(() => live('radio'), 15_000, 'the mount');
    const dir = tempDir('rivulet-radio-curl-');
    try {
      const headFile = join(dir.dir, 'head.txt');
      const bodyFile = join(dir.dir, 'body.bin');
      // curl ends at --max-time (exit 28): the body so far is what a listener got.
      const listening = exec('curl', ['-s', '-m', '7', '-H', 'Icy-MetaData: 1', '-D', headFile, '-o', bodyFile, `${base}/radio`]).catch((e: { code?: number }) => e);
      await sleep(2500);
      await exec('curl', ['-s', '-u', `source:${PW}`, `${base}/admin/metadata?mount=/radio&mode=updinfo&song=Curl+Heard+This`]);
      await listening;
      const head = readFileSync(headFile, 'latin1');
      const metaint = Number(/^icy-metaint:\s*(\d+)/im.exec(head)?.[1]);
      assert.equal(metaint, METAINT, head);
      // Walk the body strictly by the interval: every block must be well-formed where it sits.
      const body = readFileSync(bodyFile);
      const titles: string[] = [];
      const audio: Buffer[] = [];
      let off = 0;
      let blocks = 0;
      while (off + metaint < body.length) {
        audio.push(body.subarray(off, off + metaint));
        off += metaint;
        const len = body[off] * 16;
        if (off + 1 + len > body.length) break;
        const text = body.toString('latin1', off + 1, off + 1 + len).replace(/\0+$/, '');
        assert.match(text, /^(?:[A-Za-z]+='[^']*';)*$/, `block ${blocks} at byte ${off}`);
        const title = /StreamTitle='([^']*)';/.exec(text)?.[1];
        if (title !== undefined) titles.push(title);
        off += 1 + len;
        blocks++;
      }
      assert.ok(blocks >= 5, `${blocks} blocks in ${body.length} bytes`);
      assert.equal(titles.at(-1), 'Curl Heard This', `titles: ${JSON.stringify(titles)}`);
      assert.equal(mpegAudioCheck(Buffer.concat(audio)).resyncs, 0, 'the audio between the blocks is whole MP3 frames');
    } finally {
      dir.cleanup();
    }
  });

  it('plays the mount to ffmpeg, GStreamer and VLC over HTTP, and to ffmpeg over RTSP', async () => {
    await until(() => live('radio'), 15_000, 'the mount');
    const [ff, gst, vlc, rtsp] = await Promise.all([
      ffmpegListen(`${base}/radio`, 4),
      gstSoupListen(`${base}/radio`, 4),
      vlcListen(`${base}/radio`, 4),
      ffmpegListen(srv.url('radio'), 4),
    ]);
    for (const [name, l] of Object.entries({ ff, gst, vlc, rtsp })) {
      assert.ok(l.duration >= 3.5, `${name} decoded ${l.duration.toFixed(2)} s:\n${l.stderr.slice(-1500)}`);
      assert.ok(l.rms > 0.03, `${name} hears the tone (rms ${l.rms.toFixed(3)})`);
      assert.deepEqual(l.errors, [], `${name} decodes without errors`);
    }
  });

  it('gives .m3u and .pls playlists pointing at the address the listener used', async () => {
    await until(() => live('radio'), 15_000, 'the mount');
    const unknown = await fetchPlaylist(`${base}/nothing-here`);
    assert.equal(unknown.status, 404);
    const m3u = await fetchPlaylist(`${base}/radio.m3u`);
    assert.equal(m3u.status, 200);
    assert.match(m3u.contentType, /mpegurl/);
    assert.deepEqual(m3u.urls, [`${base}/radio`]);
    // curl, since fetch() will not send another Host.
    const plsText = await exec('curl', ['-s', '-H', `Host: localhost:${srv.radioPort}`, `${base}/radio.pls`]);
    const pls = parsePlaylist(plsText.stdout);
    assert.equal(pls.kind, 'pls');
    assert.deepEqual(pls.urls, [`http://localhost:${srv.radioPort}/radio`]);
    assert.deepEqual(pls.titles, ['Rivulet FM']);
    // The same from the RTSP port: sources and listeners are taken there too.
    const viaRtsp = await fetchPlaylist(`http://127.0.0.1:${srv.port}/radio.m3u`);
    assert.deepEqual(viaRtsp.urls, [`http://127.0.0.1:${srv.port}/radio`]);
    const heard = await icyListen(`http://127.0.0.1:${srv.port}/radio`, { bytes: 8000 });
    assert.equal(heard.status, 200);
    assert.ok(mpegAudioCheck(heard.audio).frames > 5);
    // Icecast's status document, which now-playing widgets read.
    const status = (await (await fetch(`${base}/status-json.xsl`)).json()) as { icestats: { source: { server_name: string; listenurl: string; server_type: string } | { server_name: string }[] } };
    const sources = [status.icestats.source].flat();
    const radio = sources.find((x) => x.server_name === 'Rivulet FM') as { listenurl: string; server_type: string } | undefined;
    assert.ok(radio, JSON.stringify(status));
    assert.equal(radio.listenurl, `${base}/radio`);
    assert.equal(radio.server_type, 'audio/mpeg');
  });

  it('refuses a wrong password and a second source on a taken mount; takes shout2send', async (t) => {
    const bad = publish('other', {}, 'wrong');
    const badExit = await Promise.race([bad.exited, sleep(15_000).then(() => undefined)]);
    assert.ok(badExit && badExit.code !== 0, `ffmpeg with a wrong password fails:\n${bad.stderr()}`);
    assert.match(bad.stderr(), /401|Unauthorized|authori/i);
    assert.ok(!live('other'));

    const second = publish('radio');
    const secondExit = await Promise.race([second.exited, sleep(15_000).then(() => undefined)]);
    assert.ok(secondExit && secondExit.code !== 0, `a second source on /radio is refused:\n${second.stderr()}`);
    assert.match(second.stderr(), /403|Forbidden/i);

    const gstOk = await exec('gst-inspect-1.0', ['--exists', 'shout2send']).then(() => true, () => false);
    if (!gstOk) return missingTool(t, 'shout2send', 'GStreamer Icecast source');
    const gst = gstShoutPublish('127.0.0.1', srv.radioPort, '/gst', PW, { streamname: 'Gst Radio' });
    procs.push(gst);
    await until(() => live('gst'), 20_000, `shout2send's mount:\n${gst.stderr()}`);
    const heard = await ffmpegListen(`${base}/gst`, 3);
    assert.ok(heard.duration >= 2.5 && heard.rms > 0.03, heard.stderr);
    assert.deepEqual(heard.errors, []);
    await gst.stop();
  });

  it('takes SHOUTcast v1 and x-audiocast sources with their answers', async () => {
    const mp3 = await makeRadioTrack(media.dir, { name: 'tone.mp3', seconds: 8, hz: 550 });
    const bytes = readFileSync(mp3);
    /** Opens a source connection, sends `first`, returns the server's first answer line(s). */
    const open = async (first: string, port = srv.radioPort): Promise<{ sock: Socket; answer: string }> => {
      const sock = connect(port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise((r) => sock.once('connect', r));
      sock.write(first);
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        sock.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('\n')) resolve(got);
        });
        sock.once('close', () => resolve(got));
      });
      return { sock, answer };
    };
    const refused = await open('nope\r\n');
    assert.match(refused.answer, /^invalid password/);
    refused.sock.destroy();

    const v1 = await open(`${PW}\r\n`);
    assert.match(v1.answer, /^OK2\r\n/);
    v1.sock.write('icy-name:Shout One\r\nicy-genre:Old\r\nicy-br:128\r\ncontent-type:audio/mpeg\r\n\r\n');
    // Real time or so: 128 kbit/s is 16 kB/s.
    let off = 0;
    const pace = setInterval(() => {
      if (off >= bytes.length) off = 0;
      v1.sock.write(bytes.subarray(off, off + 4000));
      off += 4000;
    }, 250);
    try {
      await until(() => live('stream'), 10_000, 'the SHOUTcast v1 mount /stream');
      const r = await icyListen(`${base}/stream`, { bytes: 16_000, ms: 15_000 });
      assert.equal(r.status, 200);
      assert.equal(r.headers['icy-name'], 'Shout One');
      assert.equal(mpegAudioCheck(r.audio).resyncs, 0);

      const xa = await open(`SOURCE ${PW} /xa\r\n`);
      assert.match(xa.answer, /^OK\r\n/);
      xa.sock.destroy();
      const taken = await open(`SOURCE ${PW} /stream\r\n`);
      assert.match(taken.answer, /Mount Point Taken or Invalid/);
      taken.sock.destroy();
      const badXa = await open(`SOURCE nope /xb\r\n`);
      assert.match(badXa.answer, /Bad Password/i);
      badXa.sock.destroy();
      // DSS took these sources on its RTSP ports: so does Rivulet, and RTSP still works there.
      const onRtsp = await open(`SOURCE ${PW} /xr\r\n`, srv.port);
      assert.match(onRtsp.answer, /^OK\r\n/);
      onRtsp.sock.destroy();
      const rtsp = await open('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', srv.port);
      assert.match(rtsp.answer, /^RTSP\/1\.0 200 OK/);
      rtsp.sock.destroy();
    } finally {
      clearInterval(pace);
      v1.sock.destroy();
    }
  });

  it('carries AAC and Ogg/Opus mounts to HTTP and RTSP players', async () => {
    publish('aac', { codec: 'aac' });
    publish('opus', { codec: 'opus' });
    await until(() => live('aac') && live('opus'), 20_000, 'the AAC and Opus mounts');
    await sleep(1000);
    const aacHead = await icyListen(`${base}/aac`, { bytes: 4000 });
    assert.equal(aacHead.headers['content-type'], 'audio/aac');
    const oggHead = await icyListen(`${base}/opus`, { bytes: 4000 });
    assert.equal(oggHead.headers['content-type'], 'audio/ogg');
    assert.equal(oggHead.audio.toString('latin1', 0, 4), 'OggS');
    const [aac, opus, aacRtsp, opusRtsp] = await Promise.all([
      ffmpegListen(`${base}/aac`, 3),
      ffmpegListen(`${base}/opus`, 3),
      ffmpegListen(srv.url('aac'), 3),
      ffmpegListen(srv.url('opus'), 3),
    ]);
    for (const [name, l] of Object.entries({ aac, opus, aacRtsp, opusRtsp })) {
      assert.ok(l.duration >= 2.5 && l.rms > 0.03, `${name}: ${l.duration.toFixed(2)} s, rms ${l.rms.toFixed(3)}\n${l.stderr.slice(-1500)}`);
    }
  });

  it('drops a listener that stops reading after the limit while another plays on, and counts it', async () => {
    await until(() => live('radio'), 15_000, 'the mount');
    const before = srv.server.radioStats().listenersDropped;
    // A player that stops reading, with a small receive buffer so that what waits for it piles up
    // at the server (a node socket cannot set SO_RCVBUF; python can).
    const stuck = spawn('python3', ['-c', [
      'import socket, sys, time',
      's = socket.socket()',
      's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
      `s.connect(('127.0.0.1', ${srv.radioPort}))`,
      "s.sendall(b'GET /radio HTTP/1.0\\r\\n\\r\\n')",
      "print('connected', flush=True)",
      'time.sleep(120)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise<void>((r) => stuck.once('exit', () => r()));
    const healthy = icyListen(`${base}/radio`, { metadata: true, bytes: 10 << 20, ms: 40_000, until: () => srv.server.radioStats().listenersDropped > before });
    const r = await healthy;
    assert.ok(srv.server.radioStats().listenersDropped > before, 'the stuck listener was dropped');
    assert.equal(r.ended, 'until', 'the healthy listener was still playing when it happened');
    assert.equal(mpegAudioCheck(r.audio).resyncs, 0);
    stuck.kill();
    await closed;
  });

  it('refuses listeners over limits.maxConnections with a clear HTTP answer', async () => {
    const small = await startServer({ mediaDir: media.dir, sets: [`radio.sourcePassword=${PW}`, 'limits.maxConnections=1'] });
    try {
      publish('full', {}, PW, small.radioPort);
      await until(() => small.server.live?.get('full')?.state === 'active', 15_000, 'the mount');
      const url = `http://127.0.0.1:${small.radioPort}/full`;
      const one = icyListen(url, { bytes: 400_000, ms: 6000 });
      await until(() => small.server.radioStats().listeners === 1, 5000, 'the first listener');
      const two = await icyListen(url, { bytes: 1000, ms: 5000 });
      assert.equal(two.status, 503);
      assert.match(two.audio.toString(), /maxConnections/);
      assert.equal((await one).status, 200);
    } finally {
      await small.close();
    }
  });

  it('keeps listeners through a source drop-out within the grace time', async () => {
    const src = publish('drop', { sineHz: 330 });
    await until(() => live('drop'), 15_000, 'the mount');
    await sleep(1500);
    let bytesAtStop = 0;
    let stoppedAt = 0;
    const listening = icyListen(`${base}/drop`, {
      bytes: 8 << 20,
      ms: 60_000,
      metadata: true,
      until: (r) => stoppedAt > 0 && Date.now() - stoppedAt > 9000 && r.metaBlocks.length * METAINT > bytesAtStop + 48_000,
    });
    await sleep(2000);
    await src.stop();
    stoppedAt = Date.now();
    bytesAtStop = 2 * 16_000 + 32_768;
    await sleep(2000);
    assert.ok(srv.server.live?.get('drop')?.state === 'waiting', 'the mount waits for its source');
    publish('drop', { sineHz: 330 });
    const r = await listening;
    assert.equal(r.ended, 'until', `the listener kept playing through the drop-out (${r.ended}, ${r.error ?? ''})`);
    assert.equal(mpegAudioCheck(r.audio).resyncs, 0);
  });

  it('plays the fallback mount while the source is away, and the mount again when it returns', async () => {
    const setTitle = (mount: string, song: string) => exec('curl', ['-s', '-u', `source:${PW}`, `${base}/admin/metadata?mount=/${mount}&mode=updinfo&song=${song}`]);
    publish('backup', { sineHz: 880 });
    const main = publish('fb', { sineHz: 330 });
    await until(() => live('fb') && live('backup'), 15_000, 'both mounts');
    await setTitle('backup', 'Backup');
    await setTitle('fb', 'Main');
    const titles: string[] = [];
    let phase = 'first';
    const listening = icyListen(`${base}/fb`, {
      metadata: true,
      bytes: 8 << 20,
      ms: 60_000,
      until: titlesInto(titles, () => phase === 'back' && titles[titles.length - 1] === 'Main'),
    });
    await until(() => titles.includes('Main'), 15_000, 'the main title');
    await main.stop();
    await until(() => titles[titles.length - 1] === 'Backup', 15_000, `the fallback's title (got ${JSON.stringify(titles)})`);
    publish('fb', { sineHz: 330 });
    await until(() => live('fb'), 15_000, 'the source back');
    await setTitle('fb', 'Main');
    phase = 'back';
    const r = await listening;
    assert.equal(r.ended, 'until', `the listener stayed on through both switches (${r.ended})`);
    assert.deepEqual(titles, ['Main', 'Backup', 'Main']);
    assert.deepEqual(r.metaErrors, []);
    assert.equal(mpegAudioCheck(r.audio).resyncs, 0, 'whole MP3 frames across the switches');
  });
});
