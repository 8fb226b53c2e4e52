/** The `rivulet serve` command as users and scripts run it: flags, config file, --set, the
 * listening line, the bundled sample, clean exit on SIGTERM with RTCP BYE to viewers. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRtcpCompound } from '../../src/rtcp/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { ffprobe, run } from '../helpers/run.js';
import { RawRtspClient, udpReceiver, until } from '../helpers/rtsp-client.js';
import { serveCli, tempDir } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';
import { openTunnel } from '../helpers/tunnel-client.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');
const children: ChildProcess[] = [];

function serve(args: string[]): ReturnType<typeof serveCli> {
  const s = serveCli(args);
  children.push(s.child);
  return s;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (c) => r(c))));
}

describe('rivulet serve (command line)', () => {
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('serves the bundled sample, logs the port, and exits 0 with RTCP BYE on SIGTERM', async () => {
    const s = serve(['--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', 'media']);
    const port = await s.port;
    const urlRe = new RegExp(`rtsp://[^\\s]+:${port}/sample\\.mp4`);
    assert.ok(await until(() => urlRe.test(s.out()), 5000), `prints a URL to open:\n${s.out()}`);
    const probe = await ffprobe(`rtsp://127.0.0.1:${port}/sample.mp4`, ['-rtsp_transport', 'tcp']);
    assert.deepEqual(probe.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);

    const rx = await udpReceiver();
    try {
      const c = await RawRtspClient.connect(port);
      const setup = await c.request('SETUP', `rtsp://127.0.0.1:${port}/sample.mp4/trackID=1`, {
        Transport: `RTP/AVP;unicast;client_port=${rx.rtpPort}-${rx.rtpPort + 1}`,
      });
      assert.equal(setup.status, 200);
      await c.request('PLAY', `rtsp://127.0.0.1:${port}/sample.mp4`, {
        Session: setup.headers.get('session')!.split(';')[0],
      });
      assert.ok(await until(() => rx.rtpPackets.length > 10));
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
      assert.ok(
        await until(
          () => rx.rtcpPackets.some((p) => parseRtcpCompound(p).some((x) => x.type === 'bye')),
          3000,
        ),
        'viewer got BYE',
      );
      await c.closed;
    } finally {
      rx.close();
    }
  });

  it('reads a YAML config, lets --set and dedicated flags override it, and honours rtp.maxPayloadSize', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.dir, 'rivulet.yaml');
      writeFileSync(
        cfg,
        `rtsp:\n  ports: [1]\n  bind: ["127.0.0.1"]\nmedia:\n  dir: ${join(repoRoot, 'media')}\nrtp:\n  maxPayloadSize: 1400\n`,
      );
      const s = serve([
        '--config',
        cfg,
        '--rtsp-port',
        '0',
        '--set',
        'rtp.maxPayloadSize=500',
        '--set',
        'log.level=info',
      ]);
      const port = await s.port;
      const c = await RawRtspClient.connect(port);
      const setup = await c.request('SETUP', `rtsp://127.0.0.1:${port}/sample.mp4/trackID=1`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      await c.request('PLAY', `rtsp://127.0.0.1:${port}/sample.mp4`, {
        Session: setup.headers.get('session')!.split(';')[0],
      });
      assert.ok(await until(() => c.frames.filter((f) => f.channel === 0).length > 100));
      const sizes = c.frames.filter((f) => f.channel === 0).map((f) => f.payload.length - 12);
      assert.ok(Math.max(...sizes) <= 500, `largest payload ${Math.max(...sizes)}`);
      assert.ok(Math.max(...sizes) > 400, 'fragments fill the allowed size');
      c.close();
      s.child.kill('SIGINT');
      assert.equal(await exited(s.child), 0);
    } finally {
      t.cleanup();
    }
  });

  it('names the bad key in config errors and exits non-zero', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.dir, 'bad.yaml');
      writeFileSync(cfg, 'rtsp:\n  sessionTimeout: soon\n  colour: blue\n');
      const r = await run(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', cfg], {
        timeoutMs: 20_000,
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /rtsp\.sessionTimeout/);
      assert.match(r.stderr, /unknown key 'colour'/);
      const r2 = await run(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--set', 'rtp.nope=1'], {
        timeoutMs: 20_000,
      });
      assert.notEqual(r2.code, 0);
      assert.match(r2.stderr, /rtp\.nope/);
    } finally {
      t.cleanup();
    }
  });

  it('reports a port already in use in one line and exits non-zero', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    // The log files of these servers go to a scratch folder (not the working folder).
    const logs = tempDir();
    const logSets = ['--set', `logs.folder=${logs.dir}`, '--set', 'admin.port=0'];
    try {
      const r = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          MAIN,
          'serve',
          '--rtsp-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--media-dir',
          'media',
          ...logSets,
        ],
        { timeoutMs: 20_000 },
      );
      assert.equal(r.code, 1);
      const lines = (r.stdout + r.stderr)
        .trim()
        .split('\n')
        .filter((l) => /FATAL/.test(l));
      assert.equal(lines.length, 1);
      assert.match(lines[0], new RegExp(`port ${port}: the port is already in use`));
      // Error.log says why the server did not start, as DSS's did.
      assert.match(
        readFileSync(join(logs.dir, 'Error.log'), 'utf8'),
        new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d: FATAL: .*port ${port}: the port is already in use`, 'm'),
      );
      // The same for an extra HTTP-tunnelling port and an RTSPS port, after others opened.
      const t = tempDir();
      try {
        const { cert, key } = await selfSigned(t.dir);
        for (const [sets, keyName] of [
          [['--set', `rtsp.httpPorts=0,${port}`], 'rtsp.httpPorts'],
          [
            ['--set', `tls.cert=${cert}`, '--set', `tls.key=${key}`, '--set', `tls.ports=${port}`],
            'tls.ports',
          ],
        ] as const) {
          const r2 = await run(
            process.execPath,
            [
              '--import',
              'tsx',
              MAIN,
              'serve',
              '--rtsp-port',
              '0',
              '--bind',
              '127.0.0.1',
              '--media-dir',
              'media',
              ...logSets,
              ...sets,
            ],
            { timeoutMs: 20_000 },
          );
          assert.equal(r2.code, 1, r2.stdout + r2.stderr);
          const fatal = (r2.stdout + r2.stderr)
            .trim()
            .split('\n')
            .filter((l) => /FATAL/.test(l));
          assert.equal(fatal.length, 1, r2.stdout + r2.stderr);
          assert.match(
            fatal[0],
            new RegExp(`port ${port}: the port is already in use \\(${keyName.replace('.', '\\.')}\\)`),
          );
        }
      } finally {
        t.cleanup();
      }
    } finally {
      blocker.close();
      logs.cleanup();
    }
  });

  it('shuts down gracefully on SIGTERM: BYE to TCP and tunnelled viewers, 503 to new requests, exit within seconds', async () => {
    const s = serve(['--rtsp-port', '0', '--bind', '127.0.0.1', '--media-dir', 'media']);
    const port = await s.port;
    const url = `rtsp://127.0.0.1:${port}/sample.mp4`;
    const play = async (c: RawRtspClient) => {
      const setup = await c.request('SETUP', `${url}/trackID=1`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(setup.status, 200);
      assert.equal(
        (await c.request('PLAY', url, { Session: setup.headers.get('session')!.split(';')[0] })).status,
        200,
      );
      assert.ok(await until(() => c.frames.some((f) => f.channel === 0)));
    };
    const tcp = await RawRtspClient.connect(port);
    const tunnelled = RawRtspClient.over((await openTunnel(port)).stream);
    await play(tcp);
    await play(tunnelled);
    const idle = await RawRtspClient.connect(port);
    assert.equal((await idle.request('OPTIONS', '*')).status, 200);

    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const gotBye = (c: RawRtspClient) =>
      c.frames.some((f) => f.channel === 1 && parseRtcpCompound(f.payload).some((x) => x.type === 'bye'));
    assert.ok(
      await until(() => gotBye(tcp) && gotBye(tunnelled), 3000),
      'both viewers got RTCP BYE on their connection',
    );
    const refused = await idle.request('OPTIONS', '*');
    assert.equal(refused.status, 503);
    assert.equal(await exited(s.child), 0);
    const took = Date.now() - t0;
    assert.ok(took < 4000, `exited ${took} ms after SIGTERM`);
    await Promise.all([tcp.closed, tunnelled.closed, idle.closed]);
  });
});
