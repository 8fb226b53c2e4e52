/** Push to an Icecast server, with real programs: ffmpeg publishes a mount to Rivulet, whose
 * `paths.<name>.push: icecast://…` feeds it to Debian's icecast2 as that server's source; ffmpeg
 * listens there and decodes it, an ICY listener there sees the title set on Rivulet, and when
 * icecast2 stops and starts again at the same address the push comes back by itself. An Ogg/Opus
 * mount goes the same way. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RelayStatus } from '../../src/core/index.js';
import { startIcecast, type Icecast } from '../helpers/icecast.js';
import { icyListen } from '../helpers/icy.js';
import { ffmpegIcecastPublish, ffmpegListen, icecastSourceUrl, heardTone, type RadioProcess } from '../helpers/radio-clients.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { skipUnlessCI } from '../helpers/tools.js';

const TOOLS = ['icecast2', 'ffmpeg'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = skipUnlessCI(missing.length > 0, `needs ${missing.join(', ')} (Debian icecast2, ffmpeg)`);

const PW = 'rivulet-pw';
const ICE_PW = 'ice-source-pw';
const LISTEN_S = 3;

async function until(f: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what()}`);
}


/** The address Rivulet pushes to: a fixed port of 127.0.0.1 passed on to whichever icecast2 runs
 * now. Closed, the port refuses connections as a stopped server's would; opened again, it is
 * the same address with a new icecast2 behind it (the helper picks each icecast2 a free port). */
class Front {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;
  #target = 0;

  async open(target: number): Promise<void> {
    this.#target = target;
    const server = createServer((client) => {
      const up = connect(this.#target, '127.0.0.1');
      for (const s of [client, up]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(up).on('close', () => client.destroy());
      up.pipe(client).on('close', () => up.destroy());
      up.on('close', () => client.destroy());
      client.on('close', () => up.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('radio push to Debian icecast2', { skip, timeout: 90_000 }, () => {
  let srv: TestServer;
  let ic: Icecast | undefined;
  const front = new Front();
  const media = tempDir('rivulet-radio-push-');
  const procs: RadioProcess[] = [];
  const states: RelayStatus[] = [];
  const target = (mount: string) => `icecast://127.0.0.1:${front.port}${mount}`;
  const stateOf = (mount: string) => states.findLast((s) => s.target === target(mount));
  const log = () => `${JSON.stringify(states.slice(-6))}\n${srv.logs.slice(-20).join('')}\n${procs.map((p) => p.stderr().slice(-1000)).join('\n')}\n${ic?.log().slice(-2000) ?? ''}`;

  const icecast = () => startIcecast({ sourcePassword: ICE_PW, mounts: [{ name: '/relayed', metaint: 8000 }] });

  before(async () => {
    ic = await icecast();
    await front.open(ic.port);
    const retry = '{ min: 0.5, max: 2 }';
    const configFile = join(media.dir, 'rivulet.yaml');
    writeFileSync(
      configFile,
      'paths:\n' +
        `  radio:\n    push:\n      - url: icecast://source:${ICE_PW}@127.0.0.1:${front.port}/relayed\n        retry: ${retry}\n` +
        `      - url: icecast://source:wrong-pw@127.0.0.1:${front.port}/denied\n        retry: ${retry}\n` +
        `  opus:\n    push:\n      - url: icecast://source:${ICE_PW}@127.0.0.1:${front.port}/relayed-opus\n        retry: ${retry}\n`,
    );
    srv = await startServer({ mediaDir: media.dir, sets: [`radio.sourcePassword=${PW}`], configFile });
    srv.server.events.on('relay.state', (s) => states.push(s));
    const publish = (mount: string, opts: Parameters<typeof ffmpegIcecastPublish>[1]) => {
      procs.push(ffmpegIcecastPublish(icecastSourceUrl('127.0.0.1', srv.radioPort, mount, PW), opts));
    };
    publish('radio', { codec: 'mp3', iceName: 'Relay FM', iceGenre: 'Tests', sineHz: 440 });
    publish('opus', { codec: 'opus', iceName: 'Relay Opus', sineHz: 660 });
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await srv?.close();
    await front.close();
    await ic?.stop();
    media.cleanup();
  });

  it('feeds the MP3 mount to icecast2 with its station info; ffmpeg decodes it there', async () => {
    await until(() => stateOf('/relayed')?.state === 'playing', 15_000, () => `the push to play: ${log()}`);
    const source = await ic!.waitForMount('/relayed');
    assert.equal(source.server_type, 'audio/mpeg');
    assert.equal(source.server_name, 'Relay FM');
    assert.equal(source.genre, 'Tests');
    heardTone(await ffmpegListen(ic!.mountUrl('/relayed'), LISTEN_S), LISTEN_S, 'ffmpeg at icecast2 /relayed');
    const listed = srv.server.clients.list().find((c) => c.kind === 'relay' && c.path === 'radio');
    assert.equal(listed?.protocol, 'icecast', 'the push is listed as a relay client');
    assert.ok(srv.server.clients.get(listed.id)!.bytesSent > 16_000, 'its bytes are counted');
  });

  it('reports icecast2 refusing a wrong password, and keeps trying', async () => {
    await until(() => (stateOf('/denied')?.reconnects ?? 0) >= 2, 15_000, () => `two refusals: ${log()}`);
    const refused = states.findLast((s) => s.target === target('/denied') && s.state === 'retrying');
    assert.match(refused?.lastError ?? '', /^refused: HTTP\/1\.[01] 401\b/);
    assert.equal((await ic!.sources()).has('/denied'), false);
  });

  it('a title set on Rivulet reaches the ICY listeners of icecast2', async () => {
    const song = `Relayed Artist - Song ${process.pid}`;
    let updated: Promise<Response> | undefined;
    const r = await icyListen(ic!.mountUrl('/relayed'), {
      metadata: true,
      ms: 20_000,
      bytes: 4 * 1024 * 1024,
      until: (sofar) => {
        if (!updated && sofar.metaBlocks.length >= 2) {
          const q = new URLSearchParams({ mount: '/radio', mode: 'updinfo', song });
          updated = fetch(`http://127.0.0.1:${srv.radioPort}/admin/metadata?${q.toString()}`, { headers: { Authorization: `Basic ${Buffer.from(`source:${PW}`).toString('base64')}` } });
        }
        return sofar.metaBlocks.some((b) => b.title === song);
      },
    });
    assert.equal((await updated)?.status, 200, 'Rivulet took the title');
    assert.equal(r.status, 200, r.statusLine);
    assert.deepEqual(r.metaErrors, []);
    assert.ok(
      r.metaBlocks.some((b) => b.title === song),
      `icecast2's listener saw ${JSON.stringify(r.metaBlocks.map((b) => b.title).filter(Boolean))}: ${log()}`,
    );
  });

  it('feeds an Ogg/Opus mount too', async () => {
    await until(() => stateOf('/relayed-opus')?.state === 'playing', 15_000, () => `the opus push to play: ${log()}`);
    const source = await ic!.waitForMount('/relayed-opus');
    assert.equal(source.server_type, 'audio/ogg');
    heardTone(await ffmpegListen(ic!.mountUrl('/relayed-opus'), LISTEN_S), LISTEN_S, 'ffmpeg at icecast2 /relayed-opus');
  });

  it('comes back by itself when icecast2 stops and starts again at the same address', async () => {
    const reconnects = stateOf('/relayed')?.reconnects ?? 0;
    await front.close();
    await ic!.stop();
    ic = undefined;
    await until(() => stateOf('/relayed')?.state === 'retrying', 10_000, () => `the push to notice: ${log()}`);
    assert.ok(stateOf('/relayed')!.lastError, 'the status says why');
    await sleep(1500); // attempts meet a closed port meanwhile
    ic = await icecast();
    await front.open(ic.port);
    await until(() => stateOf('/relayed')?.state === 'playing', 15_000, () => `the push to come back: ${log()}`);
    assert.ok(stateOf('/relayed')!.reconnects > reconnects);
    await ic.waitForMount('/relayed');
    heardTone(await ffmpegListen(ic.mountUrl('/relayed'), LISTEN_S), LISTEN_S, 'ffmpeg at the restarted icecast2');
  });
});
