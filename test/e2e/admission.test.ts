/** Admission control: limits.maxConnections and limits.maxBandwidthKbps refuse the viewer that
 * would go over with 453 while those already playing carry on; both change while running, in
 * process and through SIGHUP with the `rivulet serve` command. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { mediaDirWith } from '../helpers/media.js';
import { ffmpegPublish } from '../helpers/publish.js';
import { ffprobe, run } from '../helpers/run.js';
import {
  RawRtspClient,
  sleep,
  udpReceiver,
  until,
  type Reply,
  type UdpReceiver,
} from '../helpers/rtsp-client.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

const FILE = 'h264-aac-moovend.mp4';
const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];

interface Viewer {
  c: RawRtspClient;
  rx?: UdpReceiver;
  session: string;
  packets(): number;
  /** TEARDOWN, then close everything. */
  close(): Promise<void>;
  /** Close the sockets without a TEARDOWN (a UDP session plays on). */
  drop(): void;
}

/** A scripted viewer of both tracks (the first over TCP or UDP, the second over TCP). */
async function viewer(
  srv: TestServer,
  path: string,
  transport: 'tcp' | 'udp',
): Promise<{ v: Viewer; play: Reply }> {
  const c = await RawRtspClient.connect(srv.port);
  const url = srv.url(path);
  const o = await c.request('OPTIONS', url);
  if (o.status !== 200)
    return {
      v: { c, session: '', packets: () => 0, close: async () => c.close(), drop: () => c.close() },
      play: o,
    };
  const rxs = transport === 'udp' ? [await udpReceiver(), await udpReceiver()] : [];
  const rx = rxs[0];
  let session = '';
  for (const id of [1, 2]) {
    const u = rxs[id - 1];
    const t = u
      ? `RTP/AVP;unicast;client_port=${u.rtpPort}-${u.rtpPort + 1}`
      : `RTP/AVP/TCP;unicast;interleaved=${2 * id - 2}-${2 * id - 1}`;
    const s = await c.request('SETUP', `${url}/trackID=${id}`, {
      Transport: t,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(s.status, 200, `SETUP ${s.status}`);
    session = sid(s);
  }
  const play = await c.request('PLAY', url, { Session: session });
  const v: Viewer = {
    c,
    rx,
    session,
    packets: () => (rx ? rx.rtpPackets.length : c.frames.filter((f) => f.channel === 0).length),
    close: async () => {
      if (!c.socket.destroyed) await c.request('TEARDOWN', url, { Session: session }).catch(() => undefined);
      v.drop();
    },
    drop: () => {
      c.close();
      for (const r of rxs) r.close();
      rxs.length = 0;
    },
  };
  return { v, play };
}

/** Both viewers get more packets over the next second. */
async function stillPlaying(viewers: Viewer[]): Promise<void> {
  const before = viewers.map((v) => v.packets());
  await sleep(1000);
  viewers.forEach((v, i) =>
    assert.ok(v.packets() > before[i] + 10, `viewer ${i + 1} kept receiving (${before[i]} → ${v.packets()})`),
  );
}

describe('admission control', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };

  before(async () => {
    media = await mediaDirWith([FILE]);
    srv = await startServer({ mediaDir: media.dir, sets: ['limits.maxConnections=2'] });
  });
  after(async () => {
    await srv.close();
    media.cleanup();
  });

  it('limits.maxConnections: 2 — a third viewer gets 453 while the first two keep receiving', async () => {
    const a = await viewer(srv, FILE, 'tcp');
    const b = await viewer(srv, FILE, 'udp');
    assert.equal(a.play.status, 200);
    assert.equal(b.play.status, 200);
    assert.ok(await until(() => a.v.packets() > 10 && b.v.packets() > 10));
    assert.equal(srv.server.load.connections, 2);

    const ff = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-rtsp_transport',
        'tcp',
        '-i',
        srv.url(FILE),
        '-frames:v',
        '10',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 20_000 },
    );
    assert.notEqual(ff.code, 0);
    assert.match(ff.stderr, /453 Not Enough Bandwidth/);
    const c = await viewer(srv, FILE, 'tcp');
    assert.equal(c.play.status, 453);
    assert.equal(c.play.headers.get('connection'), 'close');
    await c.v.c.closed;
    assert.ok(
      srv.logs.some((l) => /server full: 2 connections in use, limits\.maxConnections is 2/.test(l)),
      'the refusal is logged',
    );
    await stillPlaying([a.v, b.v]);

    // A UDP viewer whose RTSP connection closed still counts while it plays.
    b.v.c.close();
    assert.ok(await until(() => srv.server.connections.size === 1), 'the server saw it close');
    assert.equal(srv.server.load.connections, 2);
    assert.equal((await viewer(srv, FILE, 'tcp')).play.status, 453);

    // Raised while running: the next viewer is let in, nobody is cut off.
    srv.server.setLimits({ maxConnections: 3, maxBandwidthKbps: 0 });
    const d = await viewer(srv, FILE, 'tcp');
    assert.equal(d.play.status, 200);
    await stillPlaying([a.v, b.v, d.v]);
    for (const v of [a.v, d.v]) await v.close();
    // b's session plays on over UDP, its connection gone: it ends with its file or its timeout.
    b.v.drop();
  });

  it('limits.maxBandwidthKbps below three streams — the third PLAY gets 453 while two keep playing', async () => {
    srv.server.setLimits({ maxConnections: 0, maxBandwidthKbps: 0 });
    // The UDP viewer of the last test plays on to the end of its file.
    assert.ok(await until(() => srv.server.load.bandwidthKbps === 0, 15_000));
    const a = await viewer(srv, FILE, 'tcp');
    assert.equal(a.play.status, 200);
    const one = srv.server.load.bandwidthKbps;
    // The file's own figure, as ffprobe reads it from the container.
    const probed = (await ffprobe(join(media.dir, FILE))) as { format: { bit_rate?: string } };
    const fileKbps = Number(probed.format.bit_rate) / 1000;
    assert.ok(
      one > fileKbps * 0.8 && one < fileKbps * 1.2,
      `a stream counts ${one.toFixed(0)} kbit/s; the file is ${fileKbps.toFixed(0)} kbit/s`,
    );
    srv.server.setLimits({ maxConnections: 0, maxBandwidthKbps: Math.round(one * 2.5) });
    const b = await viewer(srv, FILE, 'udp');
    assert.equal(b.play.status, 200);
    assert.ok(await until(() => b.v.packets() > 10));

    const c = await viewer(srv, FILE, 'tcp');
    assert.equal(c.play.status, 453);
    assert.ok(
      srv.logs.some((l) =>
        /not enough bandwidth: \d+ kbit\/s being sent, this stream needs \d+, limits\.maxBandwidthKbps is \d+/.test(
          l,
        ),
      ),
    );
    const ff = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-rtsp_transport',
        'tcp',
        '-i',
        srv.url(FILE),
        '-frames:v',
        '10',
        '-f',
        'null',
        '-',
      ],
      { timeoutMs: 20_000 },
    );
    assert.notEqual(ff.code, 0);
    assert.match(ff.stderr, /453 Not Enough Bandwidth/);
    await stillPlaying([a.v, b.v]);

    // When one stops, the refused viewer's retry plays.
    await a.v.close();
    await until(() => srv.server.load.bandwidthKbps < one * 1.5, 3000);
    assert.equal((await c.v.c.request('PLAY', srv.url(FILE), { Session: c.v.session })).status, 200);
    await stillPlaying([b.v, c.v]);
    for (const v of [b.v, c.v]) await v.close();
  });

  it('counts a live stream at its announced or measured bitrate', async () => {
    srv.server.setLimits({ maxConnections: 0, maxBandwidthKbps: 0 });
    assert.ok(await until(() => srv.server.load.bandwidthKbps === 0, 15_000));
    const path = 'live/admitted';
    const pub = ffmpegPublish(await fixture(FILE), srv.url(path), 'tcp');
    try {
      assert.ok(
        await until(() => (srv.server.live?.get(path)?.tracks[0].packetsIn ?? 0) > 10, 15_000),
        'broadcast started',
      );
      await sleep(1200);
      const v = await viewer(srv, path, 'tcp');
      assert.equal(v.play.status, 200);
      assert.ok(
        srv.server.load.bandwidthKbps > 50,
        `live viewer counts ${srv.server.load.bandwidthKbps} kbit/s`,
      );
      srv.server.setLimits({ maxConnections: 0, maxBandwidthKbps: srv.server.load.bandwidthKbps * 1.5 });
      const w = await viewer(srv, path, 'tcp');
      assert.equal(w.play.status, 453);
      await stillPlaying([v.v]);
      await v.v.close();
      await w.v.close();
    } finally {
      await pub.stop();
    }
  });
});

describe('admission limits reloaded with SIGHUP (rivulet serve)', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
  });

  it('applies a changed limits.maxConnections without a restart', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.dir, 'rivulet.yaml');
      const write = (n: number) =>
        writeFileSync(
          cfg,
          `rtsp:\n  ports: [0]\n  bind: ["127.0.0.1"]\nmedia:\n  dir: ${join(repoRoot, 'media')}\nlimits:\n  maxConnections: ${n}\n`,
        );
      write(1);
      const srv = serveCli(['--config', cfg]);
      const child = srv.child;
      children.push(child);
      const port = await srv.port;
      const first = await RawRtspClient.connect(port);
      assert.equal((await first.request('OPTIONS', '*')).status, 200);
      const second = await RawRtspClient.connect(port);
      assert.equal((await second.request('OPTIONS', '*')).status, 453);

      write(2);
      child.kill('SIGHUP');
      assert.ok(await until(() => /admission limits changed/.test(srv.out()), 5000), srv.out());
      const third = await RawRtspClient.connect(port);
      assert.equal((await third.request('OPTIONS', '*')).status, 200);
      assert.equal((await first.request('OPTIONS', '*')).status, 200, 'the first connection is untouched');

      // A broken file on reload is reported and changes nothing.
      writeFileSync(cfg, 'limits:\n  maxConnections: lots\n');
      child.kill('SIGHUP');
      assert.ok(await until(() => /config reload failed.*limits\.maxConnections/.test(srv.out()), 5000), srv.out());
      assert.equal(child.exitCode, null, 'still running');
      first.close();
      third.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    } finally {
      t.cleanup();
    }
  });
});
