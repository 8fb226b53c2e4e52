/** Access control with real clients: ffprobe/ffmpeg and GStreamer log in with Basic and Digest
 * to folders protected by qtaccess files; encoders publish with broadcaster credentials or from
 * allowed addresses; `rivulet passwd` changes users and groups under a running server. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerChallenge } from '../../src/auth/digest-client.js';
import { fixture, repoRoot } from '../helpers/fixtures.js';
import { ffmpegPublish, type Publisher } from '../helpers/publish.js';
import { decodeErrors, ffmpegDecode, run, gstDecode, gstPlayedThrough, GST_H264 } from '../helpers/run.js';
import { RawRtspClient, sleep, until, type Reply } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { missingTool } from '../helpers/tools.js';

const MAIN = join(repoRoot, 'src/cli/main.ts');
const CLIP = 'h264-aac-faststart.mp4';

/** Runs `rivulet passwd` as users do. */
function passwdCli(args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'passwd', ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `rtsp://user:pass@127.0.0.1:port/path` */
const withCreds = (srv: TestServer, path: string, user: string, pw: string) =>
  srv.url(path).replace('rtsp://', `rtsp://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@`);

async function probe(url: string): Promise<{ ok: boolean; stderr: string; codecs: string[] }> {
  const r = await run(
    'ffprobe',
    ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', url],
    { timeoutMs: 30_000 },
  );
  const codecs =
    r.code === 0
      ? (JSON.parse(r.stdout) as { streams: { codec_name: string }[] }).streams
          .map((s) => s.codec_name)
          .sort()
      : [];
  return { ok: r.code === 0, stderr: r.stderr, codecs };
}

/** ffmpeg plays `url` until it has decoded `frames` video frames (or fails); returns how many it
 * decoded and its log, where a refused login shows as "401 Unauthorized". */
async function decode(
  url: string,
  frames = 25,
  transport: 'tcp' | 'udp' = 'tcp',
): Promise<{ frames: number; stderr: string; code: number | null }> {
  const { r, frames: decoded } = await ffmpegDecode(url, { frames, transport });
  if (decoded > 0) assert.deepEqual(decodeErrors(r.stderr), [], url);
  return { frames: decoded, stderr: r.stderr, code: r.code };
}

/** Asserts that ffmpeg decoded every frame asked for. */
function played(d: { frames: number; stderr: string }, frames = 25, why = ''): void {
  assert.equal(d.frames, frames, `${why} ${d.stderr.slice(-2000)}`);
}

/** Asserts that ffmpeg was refused with a 401 and decoded nothing. */
function refused401(d: { frames: number; stderr: string; code: number | null }, why = ''): void {
  assert.notEqual(d.code, 0, why);
  assert.equal(d.frames, 0, why);
  assert.match(d.stderr, /401 Unauthorized/, `${why} ${d.stderr.slice(-2000)}`);
}

/** Logs in on a raw connection the way a client does: request, 401, request with credentials. */
async function loginRequest(
  c: RawRtspClient,
  method: string,
  uri: string,
  user: string,
  pw: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Reply> {
  const first = await c.request(method, uri, headers, body);
  if (first.status !== 401) return first;
  const challenges = first.headers.getAll('www-authenticate');
  const md5 = challenges.find((x) => /algorithm=MD5/.test(x)) ?? challenges[challenges.length - 1];
  return c.request(
    method,
    uri,
    { ...headers, Authorization: answerChallenge(md5, { user, password: pw, method, uri }) },
    body,
  );
}

const SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n';

describe('access control with real clients', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let etc: { dir: string; cleanup: () => void };
  let users: string;
  let groups: string;
  const pubs: Publisher[] = [];

  before(async () => {
    media = tempDir('rivulet-auth-media-');
    etc = tempDir('rivulet-auth-etc-');
    users = join(etc.dir, 'qtusers');
    groups = join(etc.dir, 'qtgroups');
    const clip = await fixture(CLIP);
    for (const d of ['open', 'digest', 'basic', 'live']) {
      mkdirSync(join(media.dir, d));
      if (d !== 'live') copyFileSync(clip, join(media.dir, d, CLIP));
    }
    writeFileSync(join(media.dir, 'digest', 'qtaccess'), 'AuthName "Digest area"\nrequire valid-user\n');
    writeFileSync(
      join(media.dir, 'basic', 'qtaccess'),
      'AuthName "Basic area"\nAuthScheme basic\nrequire user alice\n',
    );
    assert.equal(passwdCli(['-c', '-f', users, '-g', groups, '-p', 'wonder land', 'alice']).code, 0);
    assert.equal(passwdCli(['-f', users, '-g', groups, '-p', 'oder', '-A', 'broadcaster', 'enc']).code, 0);
    srv = await startServer({
      mediaDir: media.dir,
      // Only loopback 127.0.0.1 may publish without a password.
      sets: [
        `auth.usersFile=${users}`,
        `auth.groupsFile=${groups}`,
        'live.publishAllow=127.0.0.1/32',
        'auth.failuresBeforeDelay=100',
      ],
    });
  });
  after(async () => {
    for (const p of pubs) await p.stop();
    await srv.close();
    media.cleanup();
    etc.cleanup();
  });

  it('ffprobe plays an open folder without a login and a Digest-protected one with it', async () => {
    assert.deepEqual((await probe(srv.url(`open/${CLIP}`))).codecs, ['aac', 'h264']);
    const r = await probe(withCreds(srv, `digest/${CLIP}`, 'alice', 'wonder land'));
    assert.ok(r.ok, r.stderr);
    assert.deepEqual(r.codecs, ['aac', 'h264']);
    played(await decode(withCreds(srv, `digest/${CLIP}`, 'alice', 'wonder land')));
  });

  it('ffprobe gets 401 without a password or with a wrong one, and the failure is logged', async () => {
    const none = await probe(srv.url(`digest/${CLIP}`));
    assert.ok(!none.ok);
    assert.match(none.stderr, /401 Unauthorized/);
    const wrong = await probe(withCreds(srv, `digest/${CLIP}`, 'alice', 'guess'));
    assert.ok(!wrong.ok);
    assert.match(wrong.stderr, /401 Unauthorized/);
    refused401(
      await decode(withCreds(srv, `digest/${CLIP}`, 'alice', 'guess')),
      'ffmpeg with a wrong password',
    );
    assert.ok(
      srv.logs.some(
        (l) =>
          /authentication failed: wrong password/.test(l) &&
          /user=alice/.test(l) &&
          /client=127\.0\.0\.1/.test(l),
      ),
    );
  });

  it('ffmpeg decodes a protected movie over Basic, and only the named user may', async () => {
    played(await decode(withCreds(srv, `basic/${CLIP}`, 'alice', 'wonder land'), 50), 50, 'Basic');
    refused401(await decode(withCreds(srv, `basic/${CLIP}`, 'alice', 'wrong')), 'Basic, wrong password');
    const other = await probe(withCreds(srv, `basic/${CLIP}`, 'enc', 'oder'));
    assert.ok(!other.ok);
    assert.match(other.stderr, /403/, 'a valid user the qtaccess does not name: 403');
    const c = await RawRtspClient.connect(srv.port);
    const d = await c.request('DESCRIBE', srv.url(`basic/${CLIP}`));
    assert.equal(d.status, 401);
    assert.deepEqual(d.headers.getAll('www-authenticate'), ['Basic realm="Basic area"']);
    assert.equal(d.headers.get('connection'), undefined, 'a 401 keeps the connection open');
    c.close();
  });

  it('ffmpeg decodes a Digest-protected movie over UDP (every SETUP and PLAY authorized, nc increasing)', async () => {
    played(
      await decode(withCreds(srv, `digest/${CLIP}`, 'alice', 'wonder land'), 75, 'udp'),
      75,
      'Digest over UDP',
    );
  });

  it('GStreamer rtspsrc with user-id/user-pw plays over Digest and Basic', async () => {
    for (const dir of ['digest', 'basic']) {
      const { r, decoded } = await gstDecode(srv.url(`${dir}/${CLIP}`), GST_H264, 25, {
        props: ['user-id=alice', 'user-pw=wonder land', 'protocols=tcp'],
      });
      assert.ok(gstPlayedThrough(r), `${dir}: ${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`);
      assert.ok(decoded >= 25, dir);
    }
    const bad = await run(
      'gst-launch-1.0',
      [
        'rtspsrc',
        `location=${srv.url(`digest/${CLIP}`)}`,
        'user-id=alice',
        'user-pw=nope',
        'protocols=tcp',
        '!',
        'fakesink',
      ],
      { timeoutMs: 30_000 },
    );
    assert.notEqual(bad.code, 0);
    assert.equal(bad.timedOut, false);
    assert.match(bad.stdout + bad.stderr, /Unauthorized/, bad.stdout.slice(-2000) + bad.stderr.slice(-2000));
  });

  it('Digest answers: SHA-256 offered first, stale nonces, refused replays', async () => {
    const c = await RawRtspClient.connect(srv.port);
    const uri = srv.url(`digest/${CLIP}`);
    const first = await c.request('DESCRIBE', uri);
    const ch = first.headers.getAll('www-authenticate');
    assert.equal(ch.length, 2);
    assert.match(ch[0], /^Digest realm="Streaming Server", nonce="\w+", algorithm=SHA-256, qop="auth"$/);
    assert.match(ch[1], /algorithm=MD5/);
    const sha = answerChallenge(ch[0], { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri });
    assert.equal((await c.request('DESCRIBE', uri, { Authorization: sha })).status, 200, 'SHA-256 Digest');
    assert.equal(
      (await c.request('DESCRIBE', uri, { Authorization: sha })).status,
      401,
      'the same nc/cnonce again is a replay',
    );
    const noQop = answerChallenge(ch[1], {
      user: 'alice',
      password: 'wonder land',
      method: 'DESCRIBE',
      uri,
      qop: false,
    });
    assert.equal(
      (await c.request('DESCRIBE', uri, { Authorization: noQop })).status,
      200,
      'MD5 without qop (RFC 2069 style)',
    );
    c.close();
  });

  describe('broadcasting', () => {
    it('ffmpeg publishes with broadcaster credentials where the allow-list does not cover it; without them it gets 401', async () => {
      const strict = await startServer({
        mediaDir: media.dir,
        sets: [`auth.usersFile=${users}`, `auth.groupsFile=${groups}`, 'live.publishAllow='],
      });
      try {
        const file = await fixture(CLIP);
        const bad = ffmpegPublish(file, strict.url('live/nocreds'), 'tcp');
        pubs.push(bad);
        assert.ok(await until(() => bad.child.exitCode !== null, 20_000), 'ffmpeg gives up');
        assert.match(bad.log(), /401/);
        const good = ffmpegPublish(file, withCreds(strict, 'live/cam', 'enc', 'oder'), 'tcp');
        pubs.push(good);
        assert.ok(
          await until(() => strict.server.live?.get('live/cam')?.state === 'active', 20_000),
          `broadcast starts: ${good.log()}`,
        );
        const viewer = await probe(strict.url('live/cam'));
        assert.deepEqual(viewer.codecs, ['aac', 'h264'], 'and viewers can watch it');
        played(await decode(strict.url('live/cam')), 25, 'a viewer of the broadcast');
        const alice = ffmpegPublish(file, withCreds(strict, 'live/alice', 'alice', 'wonder land'), 'tcp');
        pubs.push(alice);
        assert.ok(await until(() => alice.child.exitCode !== null, 20_000));
        assert.match(alice.log(), /403/, 'a valid user outside the broadcaster group');
        await good.stop();
      } finally {
        await strict.close();
      }
    });

    it('from a non-allowed address (127.0.0.2): 401 with a challenge, 403 for a non-broadcaster, 200 for a broadcaster', async () => {
      const c = await RawRtspClient.connect(srv.port, '127.0.0.1', '127.0.0.2');
      const uri = srv.url('live/remote');
      const hdr = { 'Content-Type': 'application/sdp' };
      const plain = await c.request('ANNOUNCE', uri, hdr, SDP);
      assert.equal(plain.status, 401);
      assert.match(plain.headers.getAll('www-authenticate').join('\n'), /Digest realm="Streaming Server"/);
      assert.equal((await loginRequest(c, 'ANNOUNCE', uri, 'alice', 'wonder land', hdr, SDP)).status, 403);
      assert.equal((await loginRequest(c, 'ANNOUNCE', uri, 'enc', 'oder', hdr, SDP)).status, 200);
      const setup = await loginRequest(c, 'SETUP', `${uri}/streamid=0`, 'enc', 'oder', {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
      });
      assert.equal(setup.status, 200);
      const session = setup.headers.get('session')!.split(';')[0];
      assert.equal((await c.request('RECORD', uri, { Session: session })).status, 401, 'RECORD is WRITE too');
      assert.equal((await loginRequest(c, 'RECORD', uri, 'enc', 'oder', { Session: session })).status, 200);
      c.close();
      // 127.0.0.1 is on the allow-list: no login.
      const local = await RawRtspClient.connect(srv.port);
      assert.equal((await local.request('ANNOUNCE', srv.url('live/local'), hdr, SDP)).status, 200);
      local.close();
    });
  });

  it('rivulet passwd round trip under a running server: add, change, groups, delete', async () => {
    const path = `digest/${CLIP}`;
    const f = ['-f', users, '-g', groups];
    assert.equal(passwdCli([...f, 'bob'], 'first pw\nfirst pw\n').code, 0);
    played(await decode(withCreds(srv, path, 'bob', 'first pw')), 25, 'a new user works at once');
    assert.equal(passwdCli([...f, '-p', 'second pw', 'bob']).code, 0);
    refused401(await decode(withCreds(srv, path, 'bob', 'first pw')), 'the old password no longer works');
    played(await decode(withCreds(srv, path, 'bob', 'second pw')), 25, 'the new one does');

    const c = await RawRtspClient.connect(srv.port, '127.0.0.1', '127.0.0.2');
    const hdr = { 'Content-Type': 'application/sdp' };
    assert.equal(
      (await loginRequest(c, 'ANNOUNCE', srv.url('live/bob'), 'bob', 'second pw', hdr, SDP)).status,
      403,
    );
    assert.equal(passwdCli([...f, '-A', 'broadcaster', 'bob']).code, 0);
    assert.equal(
      (await loginRequest(c, 'ANNOUNCE', srv.url('live/bob'), 'bob', 'second pw', hdr, SDP)).status,
      200,
      'group membership counts at once',
    );
    assert.equal(passwdCli([...f, '-D', 'broadcaster', 'bob']).code, 0);
    assert.equal(
      (await loginRequest(c, 'ANNOUNCE', srv.url('live/bob2'), 'bob', 'second pw', hdr, SDP)).status,
      403,
    );
    c.close();

    assert.equal(passwdCli([...f, '-C', 'viewers']).code, 0);
    assert.equal(passwdCli([...f, '-R', 'viewers', '-F']).code, 0);
    const del = passwdCli([...f, '-d', 'bob'], 'y\n');
    assert.equal(del.code, 0, del.err);
    refused401(await decode(withCreds(srv, path, 'bob', 'second pw')), 'a deleted user');
  });

  it('rivulet passwd prompts twice without echo on a terminal', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) {
      return missingTool(t, 'script(1) (util-linux)', 'it gives `rivulet passwd` a terminal');
    }
    const cmd = `${process.execPath} --import tsx ${MAIN} passwd -f ${users} carol`;
    const r = spawnSync(
      'sh',
      [
        '-c',
        `(sleep 2; printf 'tty secret\\r'; sleep 1; printf 'tty secret\\r'; sleep 1) | script -qefc "${cmd}" /dev/null`,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
    );
    assert.match(r.stdout, /New password for carol: /);
    assert.match(r.stdout, /Re-type new password: /);
    assert.ok(!r.stdout.includes('tty secret'), 'the password is not echoed');
    assert.match(r.stdout, /Added user carol/);
    await sleep(10);
    played(
      await decode(withCreds(srv, `digest/${CLIP}`, 'carol', 'tty secret')),
      25,
      'the password typed on the terminal',
    );
  });
});
