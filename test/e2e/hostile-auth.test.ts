/** Logins under attack: a captured Digest answer replayed on another connection or from another
 * address is refused while real players still log in and play whole sessions; wrong passwords
 * from many parallel connections of one address are answered one after another; a login resets
 * the count; over-long credentials are refused before hashing. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerChallenge } from '../../src/auth/digest-client.js';
import { UsersFileDoc } from '../../src/auth/users-file.js';
import { fixture } from '../helpers/fixtures.js';
import { gstDecode, gstPlayedThrough, GST_H264, run } from '../helpers/run.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const CLIP = 'h264-aac-faststart.mp4'; // 10 s, 25 fps: 250 video frames
const USER = 'alice';
const PASSWORD = 'wonder land';

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

/** A TCP relay to the server that keeps what the client sent, to capture its requests. */
async function recordingProxy(
  port: number,
): Promise<{ port: number; sent: () => string; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = connect({ port, host: '127.0.0.1' });
    sockets.add(client).add(up);
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      up.write(d);
    });
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no proxy port');
  return {
    port: addr.port,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** RTSP requests (method, URI, Authorization) in what a client sent; `$` frames are skipped. */
function requestsIn(text: string): { method: string; uri: string; authorization?: string }[] {
  const out: { method: string; uri: string; authorization?: string }[] = [];
  for (const m of text.matchAll(/([A-Z_]+) (\S+) RTSP\/1\.0\r\n((?:[^\r\n]+\r\n)*)\r\n/g)) {
    const auth = /^authorization:[ \t]*(.*)$/im.exec(m[3]);
    out.push({ method: m[1], uri: m[2], authorization: auth?.[1].trim() });
  }
  return out;
}

/** Video and audio frames ffmpeg decoded from `url` to the end of the stream. */
async function ffmpegFrames(
  url: string,
  transport: 'udp' | 'tcp',
): Promise<{ video: number; audio: number; err: string }> {
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      transport,
      '-i',
      url,
      '-map',
      '0',
      '-f',
      'framecrc',
      '-',
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const lines = r.stdout.split('\n').filter((l) => /^\d+,/.test(l));
  return {
    video: lines.filter((l) => l.startsWith('0,')).length,
    audio: lines.filter((l) => l.startsWith('1,')).length,
    err: r.stderr,
  };
}

describe('hostile logins', () => {
  let media: { dir: string; cleanup: () => void };
  let etc: { dir: string; cleanup: () => void };
  let sets: string[];

  before(async () => {
    media = tempDir('rivulet-hauth-media-');
    etc = tempDir('rivulet-hauth-etc-');
    const clip = await fixture(CLIP);
    for (const d of ['digest', 'basic']) {
      mkdirSync(join(media.dir, d));
      copyFileSync(clip, join(media.dir, d, CLIP));
    }
    writeFileSync(join(media.dir, 'digest', 'qtaccess'), 'require valid-user\n');
    writeFileSync(join(media.dir, 'basic', 'qtaccess'), 'AuthScheme basic\nrequire user alice\n');
    const users = UsersFileDoc.create('Streaming Server');
    users.setPassword(USER, PASSWORD);
    writeFileSync(join(etc.dir, 'qtusers'), users.toString());
    sets = [`auth.usersFile=${join(etc.dir, 'qtusers')}`, `auth.groupsFile=${join(etc.dir, 'qtgroups')}`];
  });
  after(() => {
    media.cleanup();
    etc.cleanup();
  });

  describe('Digest replay', () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer({ mediaDir: media.dir, sets });
    });
    after(() => srv.close());

    it('GStreamer (no qop) plays a whole session; its captured answer is refused on another connection and address', async () => {
      const proxy = await recordingProxy(srv.port);
      try {
        const { r, decoded } = await gstDecode(
          `rtsp://127.0.0.1:${proxy.port}/digest/${CLIP}`,
          GST_H264,
          10_000,
          { props: [`user-id=${USER}`, `user-pw=${PASSWORD}`, 'protocols=tcp'] },
        );
        assert.ok(gstPlayedThrough(r), r.stderr.slice(-2000) + r.stdout.slice(-2000));
        assert.ok(decoded >= 245, `decoded ${decoded} of 250 frames`);
        const reqs = requestsIn(proxy.sent());
        const authed = reqs.filter((q) => q.authorization?.startsWith('Digest '));
        for (const m of ['DESCRIBE', 'SETUP', 'PLAY'])
          assert.ok(
            authed.some((q) => q.method === m),
            `${m} sent with Digest: ${JSON.stringify(reqs)}`,
          );
        const describe = authed.find((q) => q.method === 'DESCRIBE')!;
        assert.doesNotMatch(describe.authorization!, /qop=/, 'GStreamer answers RFC 2069 style');
        assert.ok(!srv.logs.some((l) => /authentication failed/.test(l)), 'no request was refused');

        // The attacker replays the captured DESCRIBE on connections of its own.
        const from = [undefined, '127.0.0.2'];
        for (const local of from) {
          const c = await RawRtspClient.connect(srv.port, '127.0.0.1', local);
          const replay = await c.request('DESCRIBE', describe.uri, {
            Authorization: describe.authorization!,
          });
          assert.equal(replay.status, 401, `replay from ${local ?? '127.0.0.1'}`);
          assert.equal(replay.body, '', 'no SDP leaks');
          assert.match(replay.headers.getAll('www-authenticate').join('\n'), /stale=true/);
          c.close();
        }
        assert.ok(
          srv.logs.some(
            (l) => /nonce issued to another connection or address/.test(l) && /client=127\.0\.0\.2/.test(l),
          ),
        );
      } finally {
        await proxy.close();
      }
    });

    it('a scripted no-qop client: its answer works again on its own connection, not on another', async () => {
      const uri = srv.url(`digest/${CLIP}`);
      const a = await RawRtspClient.connect(srv.port);
      const challenge = (await a.request('DESCRIBE', uri)).headers.getAll('www-authenticate').at(-1)!;
      const auth = answerChallenge(challenge, {
        user: USER,
        password: PASSWORD,
        method: 'DESCRIBE',
        uri,
        qop: false,
      });
      assert.doesNotMatch(auth, /qop/);
      assert.equal((await a.request('DESCRIBE', uri, { Authorization: auth })).status, 200);
      assert.equal(
        (await a.request('DESCRIBE', uri, { Authorization: auth })).status,
        200,
        'same connection',
      );
      const b = await RawRtspClient.connect(srv.port);
      const replay = await b.request('DESCRIBE', uri, { Authorization: auth });
      assert.equal(replay.status, 401, 'another connection from the same address');
      // The replayer is asked again but cannot answer without the password.
      const fresh = replay.headers.getAll('www-authenticate').at(-1)!;
      const guess = answerChallenge(fresh, {
        user: USER,
        password: 'guess',
        method: 'DESCRIBE',
        uri,
        qop: false,
      });
      assert.equal((await b.request('DESCRIBE', uri, { Authorization: guess })).status, 401);
      a.close();
      b.close();
    });

    for (const transport of ['udp', 'tcp'] as const) {
      it(`ffmpeg plays a whole Digest session over ${transport} (DESCRIBE, SETUP per track, PLAY)`, async () => {
        const url = srv
          .url(`digest/${CLIP}`)
          .replace('rtsp://', `rtsp://${USER}:${encodeURIComponent(PASSWORD)}@`);
        const f = await ffmpegFrames(url, transport);
        assert.ok(f.video >= 245, `video frames ${f.video}: ${f.err.slice(-1000)}`);
        assert.ok(f.audio >= 400, `audio frames ${f.audio} (10 s of AAC at 44.1 kHz is 431)`);
      });
    }
  });

  describe('failed-login delay', () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer({
        mediaDir: media.dir,
        sets: [
          ...sets,
          'auth.failuresBeforeDelay=1',
          'auth.maxFailureDelay=0.3',
          // Let a 6000-character password through the parser, to reach the login check.
          'rtsp.maxLineBytes=16384',
          'rtsp.maxHeaderBytes=32768',
        ],
      });
    });
    after(() => srv.close());
    const uri = () => srv.url(`basic/${CLIP}`);

    it('20 parallel wrong passwords from one address are answered one after another; a login resets', async () => {
      const N = 20;
      const clients = await Promise.all(Array.from({ length: N }, () => RawRtspClient.connect(srv.port)));
      const t0 = performance.now();
      const answers = await Promise.all(
        clients.map(async (c, i) => {
          const r = await c.request('DESCRIBE', uri(), { Authorization: basic(USER, `guess${i}`) });
          return { status: r.status, at: performance.now() - t0 };
        }),
      );
      for (const c of clients) c.close();
      assert.deepEqual(
        answers.map((a) => a.status),
        Array<number>(N).fill(401),
      );
      // 1 free failure, then 250 ms, then 300 ms each (the cap), queued one after another.
      const due = [0, 250];
      while (due.length < N) due.push(due[due.length - 1] + 300);
      const at = answers.map((a) => a.at).sort((x, y) => x - y);
      for (let i = 0; i < N; i++)
        assert.ok(
          at[i] >= due[i] - 30,
          `answer ${i + 1} came at ${at[i].toFixed(0)} ms, due at ${due[i]} ms`,
        );
      assert.ok(at[N - 1] >= 5600, `the last answer waited for all before it (${at[N - 1].toFixed(0)} ms)`);

      const c = await RawRtspClient.connect(srv.port);
      assert.equal(
        (await c.request('DESCRIBE', uri(), { Authorization: basic(USER, PASSWORD) })).status,
        200,
      );
      const logged = srv.logs.length;
      const t1 = performance.now();
      assert.equal((await c.request('DESCRIBE', uri(), { Authorization: basic(USER, 'oops') })).status, 401);
      const fast = performance.now() - t1;
      const line = srv.logs.slice(logged).find((l) => /authentication failed: wrong password/.test(l));
      assert.match(line ?? '', /failures=1\b.*delayMs=0\b/, 'after a login the count starts again');
      assert.ok(fast < 250, `not delayed (${fast.toFixed(0)} ms)`);
      const t2 = performance.now();
      assert.equal((await c.request('DESCRIBE', uri(), { Authorization: basic(USER, 'oops2') })).status, 401);
      assert.ok(performance.now() - t2 >= 240, 'the next failure is delayed again');
      c.close();
    });

    it('over-long Basic credentials are refused before hashing, with a log line', async () => {
      // From other addresses: the delays of the test above do not apply.
      const c = await RawRtspClient.connect(srv.port, '127.0.0.1', '127.0.0.3');
      const huge = await c.request('DESCRIBE', uri(), { Authorization: basic(USER, 'x'.repeat(6000)) });
      assert.equal(huge.status, 401);
      assert.ok(
        srv.logs.some(
          (l) =>
            /authentication failed: Authorization: value of 8014 bytes is over the 4096-byte limit/.test(l) &&
            /client=127\.0\.0\.3/.test(l),
        ),
        srv.logs.filter((l) => /127\.0\.0\.3/.test(l)).join(''),
      );
      const long = await c.request('DESCRIBE', uri(), { Authorization: basic(USER, 'x'.repeat(300)) });
      assert.equal(long.status, 401);
      assert.ok(srv.logs.some((l) => /Basic password of 300 bytes is over the 256-byte limit/.test(l)));
      c.close();
    });
  });
});
