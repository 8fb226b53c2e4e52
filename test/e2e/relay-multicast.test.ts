/** Multicast in and out, end to end, in a private network namespace the test makes (only its own
 * loopback, with a multicast route on it: nothing leaves 127.0.0.1). Inside it, a `rivulet serve`
 * child, ffmpeg sending RTP to a group and ffmpeg viewers: (a) `paths.mc/in.source:
 * udp://239.1.2.3:5000` with the sender's SDP inline plays to an RTSP viewer; (b) a path published
 * by ffmpeg and forwarded to `udp://239.10.10.10:6000?ttl=1` is decoded by ffmpeg reading an SDP
 * file that names the group. Ports are fixed: the namespace is the test's alone. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { stopServe } from '../helpers/cli.js';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { spawnPublisher, type Publisher } from '../helpers/publish.js';
import { loopedInput, rtpSenderArgs, writtenSdp } from '../helpers/rtp-sender.js';
import { decodeErrors, run } from '../helpers/run.js';
import { sleep, until } from '../helpers/rtsp-client.js';
import { tempDir } from '../helpers/server.js';
import { inCI, missingTool } from '../helpers/tools.js';
import { asRoot, namespaceProblem, Namespace } from '../helpers/netns.js';

const CLIP = 'h264-aac-faststart.mp4';
const GROUP_IN = '239.1.2.3';
const PORT_IN = 5000;
const GROUP_OUT = '239.10.10.10';
const PORT_OUT = 6000;

/** ffmpeg inside the namespace decodes `frames` video frames from `input` (after `inputArgs`);
 * returns its run and the frames it reported. */
async function decodeInside(
  ns: Namespace,
  inputArgs: string[],
  input: string,
  frames: number,
): Promise<{ stderr: string; frames: number }> {
  const [cmd, args] = ns.argv('ffmpeg', [
    '-hide_banner',
    '-nostats',
    ...inputArgs,
    '-i',
    input,
    '-map',
    '0:v',
    '-frames:v',
    String(frames),
    '-f',
    'null',
    '-',
  ]);
  const r = await run(cmd, args, { timeoutMs: 40_000 });
  const got = r.code === 0 ? Number([...r.stderr.matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0) : 0;
  return { stderr: r.stderr, frames: got };
}

describe('multicast relays in a private network namespace', () => {
  const problem = namespaceProblem(['ffmpeg']);
  let ns: Namespace | undefined;
  let dir: { dir: string; cleanup: () => void } | undefined;
  let server: ChildProcess | undefined;
  let serverOut = '';
  let port = 0;
  let senderSdp = '';
  const children: Publisher[] = [];

  /** Skips (or, in CI, fails) when no namespace can be made here, saying exactly why. */
  const unavailable = (t: TestContext): boolean => {
    if (problem === undefined) return false;
    if (inCI && asRoot) throw new Error(problem);
    missingTool(
      t,
      'a private network namespace (unshare, nsenter, ip from util-linux and iproute2)',
      problem,
    );
    return true;
  };

  /** A long-running program inside the namespace, killed at the end. */
  const inside = (cmd: string, args: string[]): Publisher => {
    const p = spawnPublisher(...ns!.argv(cmd, args));
    children.push(p);
    return p;
  };

  before(async () => {
    if (problem !== undefined) return;
    ns = await Namespace.open();
    dir = tempDir('rivulet-multicast-');
    const clip = await fixture(CLIP);
    // (a) The encoder sends to the group: video at PORT_IN, audio at PORT_IN + 2, as a udp://
    // source expects track N at port + 2N; its SDP is what the path is configured with.
    const sdpFile = join(dir.dir, 'sender.sdp');
    const sender = inside(
      'ffmpeg',
      rtpSenderArgs(
        clip,
        `rtp://${GROUP_IN}:${PORT_IN}?ttl=1`,
        `rtp://${GROUP_IN}:${PORT_IN + 2}?ttl=1`,
        sdpFile,
      ),
    );
    senderSdp = await writtenSdp(sdpFile, sender.log);
    // JSON is YAML: the inline SDP needs no quoting of its own.
    const config = {
      media: { dir: dir.dir },
      state: { folder: join(dir.dir, 'state') },
      logs: { folder: join(dir.dir, 'logs') },
      control: { socket: '' },
      relays: { serverId: 'mc-test' },
      paths: {
        'mc/in': { source: `udp://${GROUP_IN}:${PORT_IN}`, sdp: senderSdp },
        'live/out': { forward: [`udp://${GROUP_OUT}:${PORT_OUT}?ttl=1`] },
      },
    };
    const configFile = join(dir.dir, 'rivulet.yaml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const [cmd, args] = ns.argv(process.execPath, [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'serve',
      '--config',
      configFile,
      '--rtsp-port',
      '0',
      '--bind',
      '127.0.0.1',
    ]);
    server = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      if (serverOut.length < 2_000_000) serverOut += d.toString();
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    assert.ok(
      await until(
        () => /listening for RTSP on port \d+/.test(serverOut) || server!.exitCode !== null,
        30_000,
        50,
      ),
      serverOut,
    );
    port = Number(/listening for RTSP on port (\d+)/.exec(serverOut)?.[1] ?? 0);
    assert.ok(port > 0, `the server did not start:\n${serverOut.slice(-3000)}`);
  });

  after(async () => {
    for (const c of children.reverse()) await c.stop();
    if (server) await stopServe(server);
    ns?.close();
    dir?.cleanup();
  });

  it('(a) plays RTP an encoder sends to a multicast group (udp:// source with inline SDP) to an RTSP viewer', async (t) => {
    if (unavailable(t)) return;
    const got = await decodeInside(ns!, ['-rtsp_transport', 'tcp'], `rtsp://127.0.0.1:${port}/mc/in`, 50);
    assert.equal(got.frames, 50, `${got.stderr.slice(-2000)}\n${serverOut.slice(-2000)}`);
  });

  it('(b) forwards a published path to a multicast group; ffmpeg reading an SDP that names the group decodes it', async (t) => {
    if (unavailable(t)) return;
    // The receiver's SDP: the stream's formats (the same clip, the same payload types as ffmpeg
    // announces them) at the group, video at PORT_OUT and audio at PORT_OUT + 2.
    const sdp = senderSdp
      .replace(/^c=IN IP4 .*$/gm, `c=IN IP4 ${GROUP_OUT}/1`)
      .replace(/^m=video \d+ /m, `m=video ${PORT_OUT} `)
      .replace(/^m=audio \d+ /m, `m=audio ${PORT_OUT + 2} `);
    const file = join(dir!.dir, 'forward.sdp');
    writeFileSync(file, sdp);
    const reading = decodeInside(ns!, ['-protocol_whitelist', 'file,udp,rtp'], file, 50);
    // The reader joins the group before the broadcast (and so the forward) starts.
    await sleep(1500);
    const clip = await fixture(CLIP);
    const publish = [
      '-c',
      'copy',
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      `rtsp://127.0.0.1:${port}/live/out`,
    ];
    inside('ffmpeg', [...loopedInput(clip), ...publish]);
    const got = await reading;
    assert.equal(got.frames, 50, `${got.stderr.slice(-2000)}\n${serverOut.slice(-2000)}`);
    assert.deepEqual(decodeErrors(got.stderr), []);
    assert.match(
      serverOut,
      new RegExp(
        `relay forward live/out → udp://${GROUP_OUT.replace(/\./g, '\\.')}:${PORT_OUT}\\?ttl=1: playing`,
      ),
    );
  });
});
