/** The DSS-format log files of the running server, read as an operator's tools read them: an
 * ffmpeg viewer of the bundled sample leaves one StreamingServer.log line whose fields (matched
 * to the file's #Fields) say who, what, how long, how much and with which codecs, and one
 * through an HTTP tunnel has transport TCP; s-ip is looked up once, not per line; a tiny
 * logs.accessRollSize rolls the file to DSS's names; SIGUSR1 to `rivulet serve` starts new files
 * where logrotate moved the old ones; Error.log has the STARTUP/SHUTDOWN marks and the server's warnings;
 * and a log folder that cannot be written is reported once while streaming goes on. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { connect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import type { ClientRecord } from '../../src/core/index.js';
import { ACCESS_FIELDS } from '../../src/logging/index.js';
import { rivuletVersion } from '../../src/server/version.js';
import { repoRoot } from '../helpers/fixtures.js';
import { run } from '../helpers/run.js';
import { until } from '../helpers/rtsp-client.js';
import { serveCli, startServer, tempDir, type TestServer } from '../helpers/server.js';

const MEDIA = join(repoRoot, 'media');

/** ffmpeg reads two seconds of the sample over `transport` (`http`: an HTTP tunnel) and copies
 * what it got (no decoding); returns the run and the media bytes it received (its `video:…
 * audio:…` summary). */
async function play(url: string, transport: 'tcp' | 'udp' | 'http') {
  const started = Date.now();
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-rtsp_transport',
      transport,
      '-i',
      url,
      '-t',
      '2',
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'null',
      '-',
    ],
    {
      timeoutMs: 60_000,
    },
  );
  const seconds = (Date.now() - started) / 1000;
  const m = /video:\s*([\d.]+)\s*(k|Ki)B audio:\s*([\d.]+)\s*(k|Ki)B/.exec(r.stderr);
  const bytes = m ? (Number(m[1]) + Number(m[3])) * 1024 : 0;
  return { r, seconds, bytes };
}

/** The lines of `file` that are not comments. */
const entries = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
    : [];

/** A line as field name → value, by the file's own #Fields line. */
function byFields(text: string, line: string): Record<string, string> {
  const fieldsLine = text.split('\n').find((l) => l.startsWith('#Fields: '));
  assert.ok(fieldsLine, 'a #Fields line');
  const names = fieldsLine.slice('#Fields: '.length).trim().split(' ');
  const values = line.trim().split(' ');
  assert.equal(values.length, names.length, `one value per field:\n${fieldsLine}\n${line}`);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

const two = (n: number) => String(n).padStart(2, '0');
const yymmdd = (d: Date) => `${two(d.getFullYear() % 100)}${two(d.getMonth() + 1)}${two(d.getDate())}`;

/** Runs `body` with a server of the sample and its logs.folder; the server is closed after. */
async function withServer(
  sets: string[],
  body: (srv: TestServer, folder: string) => Promise<void>,
): Promise<void> {
  const srv = await startServer({ mediaDir: MEDIA, sets });
  try {
    await body(srv, srv.server.config.logs.folder);
  } finally {
    await srv.close();
  }
}

/** Stops the server (its logs written and closed) but keeps its scratch folder for reading. */
async function stopKeepingLogs(srv: TestServer): Promise<void> {
  await srv.server.stop();
}

describe('DSS log files', () => {
  it('an ffmpeg viewer leaves one access-log line with its address, status, duration, bytes, transport and codecs', async () => {
    await withServer([], async (srv, folder) => {
      const accessFile = join(folder, 'StreamingServer.log');
      const { r, seconds, bytes } = await play(srv.url('sample.mp4'), 'tcp');
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.ok(bytes > 10_000, `ffmpeg received ${bytes} bytes`);
      assert.ok(
        await until(() => entries(accessFile).length > 0, 10_000),
        `an access line in:\n${existsSync(accessFile) ? readFileSync(accessFile, 'utf8') : '(no file)'}`,
      );
      await stopKeepingLogs(srv);

      const text = readFileSync(accessFile, 'utf8');
      const lines = text.split('\n');
      assert.match(lines[0], /^#Log File Created On: \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/);
      assert.equal(lines[1], `#Software: Rivulet ${rivuletVersion()}`);
      assert.equal(lines[2], '#Version: 1.0');
      assert.match(lines[3], /^#Date: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(lines[4], '#Remark: all time values are in GMT.');
      assert.equal(
        lines[5],
        '#Fields: c-ip date time c-dns cs-uri-stem c-starttime x-duration c-rate c-status c-playerid c-playerversion c-playerlanguage cs(User-Agent) c-os c-osversion c-cpu filelength filesize avgbandwidth protocol transport audiocodec videocodec sc-bytes cs-bytes c-bytes s-pkts-sent c-pkts-received c-pkts-lost-client c-buffercount c-totalbuffertime c-quality s-ip s-dns s-totalclients s-cpu-util cs-uri-query c-username sc(Realm)',
      );
      assert.equal(lines[5], `#Fields: ${ACCESS_FIELDS.join(' ')}`);
      assert.match(lines[6], /^#Remark: Streaming beginning STARTUP \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.match(lines.at(-2)!, /^#Remark: Streaming beginning SHUTDOWN \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      const sessions = entries(accessFile);
      assert.equal(sessions.length, 1, sessions.join('\n'));
      const f = byFields(text, sessions[0]);
      assert.equal(f['c-ip'], '127.0.0.1');
      assert.match(f.date, /^\d{4}-\d\d-\d\d$/);
      assert.match(f.time, /^\d\d:\d\d:\d\d$/);
      assert.equal(f['cs-uri-stem'], '/sample.mp4');
      assert.equal(f['c-status'], '200');
      const duration = Number(f['x-duration']);
      assert.ok(
        duration >= 1 && duration <= Math.ceil(seconds) + 1,
        `x-duration ${duration} s for an ffmpeg run of ${seconds} s`,
      );
      assert.equal(f['c-rate'], '1');
      assert.match(f['cs(User-Agent)'], /^Lavf/);
      assert.equal(f.protocol, 'RTP');
      assert.equal(f.transport, 'TCP');
      assert.equal(f.videocodec, 'H264');
      assert.equal(f.audiocodec, 'MPEG4-GENERIC');
      assert.equal(f.filelength, '12');
      const sent = Number(f['sc-bytes']);
      // What was sent carries RTP headers and may run a little ahead of what ffmpeg kept.
      assert.ok(
        sent >= bytes * 0.9 && sent <= bytes * 3 + 200_000,
        `sc-bytes ${sent}, ffmpeg received ${bytes}`,
      );
      assert.ok(Number(f['s-pkts-sent']) > 0);
      assert.ok(Number(f['avgbandwidth']) > 0);
      assert.ok(Number(f['c-quality']) >= 0 && Number(f['c-quality']) <= 100);
      assert.equal(f['s-ip'], '127.0.0.1');

      const history = srv.server.logFiles!.accessHistory();
      assert.deepEqual(
        history.files.map((x) => x.count),
        [1],
        JSON.stringify(history),
      );
      assert.match(history.files[0].path, /sample\.mp4$/);
    });
  });

  it('an ffmpeg viewer through an HTTP tunnel is logged with transport TCP, the only other value DSS log tools know', async () => {
    await withServer([], async (srv, folder) => {
      const accessFile = join(folder, 'StreamingServer.log');
      const { r } = await play(srv.url('sample.mp4'), 'http');
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      await stopKeepingLogs(srv);
      const text = readFileSync(accessFile, 'utf8');
      const sessions = entries(accessFile);
      assert.equal(sessions.length, 1, text);
      const f = byFields(text, sessions[0]);
      assert.equal(f['cs-uri-stem'], '/sample.mp4');
      assert.equal(f.transport, 'TCP');
    });
  });

  it('s-ip of a server on every address is looked up once, not at each line, and again when logs.* apply', async () => {
    const lookups = mock.method(os, 'networkInterfaces');
    // The server imports the function by name: the named export follows the mock only so.
    syncBuiltinESMExports();
    try {
      await withServer(['rtsp.bind=0.0.0.0'], async (srv, folder) => {
        const now = Date.now();
        const record = (path: string): ClientRecord => ({
          kind: 'rtsp-file',
          protocol: 'rtsp',
          address: '192.0.2.9',
          url: `rtsp://example.com/${path}`,
          path,
          transport: 'UDP',
          bytesSent: 1000,
          packetsSent: 10,
          bytesReceived: 0,
          packetsLost: 0,
          status: 200,
          startedAt: now - 1000,
          endedAt: now,
          playStart: 0,
          fileLength: 0,
          fileSize: 0,
          reason: 'teardown',
        });
        const before = lookups.mock.callCount();
        for (const p of ['a.mp4', 'b.mp4', 'c.mp4']) srv.server.events.emit('client.ended', record(p));
        assert.equal(lookups.mock.callCount() - before, 1, 'three lines, one lookup');
        srv.server.logFiles!.apply();
        srv.server.events.emit('client.ended', record('d.mp4'));
        assert.equal(lookups.mock.callCount() - before, 2, 'looked up again after apply()');
        await stopKeepingLogs(srv);
        const file = join(folder, 'StreamingServer.log');
        const text = readFileSync(file, 'utf8');
        const ips = entries(file).map((l) => byFields(text, l)['s-ip']);
        assert.equal(ips.length, 4, text);
        assert.ok(ips.every((ip) => ip === ips[0] && ip !== '0.0.0.0'), ips.join(' '));
      });
    } finally {
      lookups.mock.restore();
      syncBuiltinESMExports();
    }
  });

  it('a tiny logs.accessRollSize rolls StreamingServer.log to StreamingServer.<yymmdd>000.log, each file with its header', async () => {
    const before = yymmdd(new Date());
    await withServer(['logs.accessRollSize=1'], async (srv, folder) => {
      // The first line after a new file's header already passes 1 byte: the STARTUP mark rolls it.
      assert.ok(
        await until(
          () => readdirSync(folder).some((n) => /^StreamingServer\.\d{6}000\.log$/.test(n)),
          10_000,
        ),
        readdirSync(folder).join(', '),
      );
      const { r } = await play(srv.url('sample.mp4'), 'udp');
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      await until(() => readdirSync(folder).some((n) => /^StreamingServer\.\d{6}001\.log$/.test(n)), 10_000);
      await stopKeepingLogs(srv);
      const after = yymmdd(new Date());
      const rolled = readdirSync(folder)
        .filter((n) => n.startsWith('StreamingServer.') && n !== 'StreamingServer.log')
        .sort();
      assert.ok(rolled.length >= 2, rolled.join(', '));
      rolled.forEach((name, i) => {
        assert.match(
          name,
          new RegExp(`^StreamingServer\\.(${before}|${after})${String(i).padStart(3, '0')}\\.log$`),
        );
        const text = readFileSync(join(folder, name), 'utf8');
        assert.match(text, /^#Log File Created On: [^\n]+\n#Software: Rivulet [^\n]+\n#Version: 1\.0\n/);
      });
      // The session's line went into a file of its own once the file before it rolled.
      const all = [...rolled, 'StreamingServer.log'].flatMap((n) => entries(join(folder, n)));
      assert.equal(all.length, 1, all.join('\n'));
      assert.match(all[0], /^127\.0\.0\.1 .* \/sample\.mp4 .* UDP /);
    });
  });

  it('SIGUSR1 (logrotate) makes `rivulet serve` write new files where the old ones were moved', async () => {
    const logs = tempDir('rivulet-rotate-');
    const s = serveCli([
      '--rtsp-port',
      '0',
      '--bind',
      '127.0.0.1',
      '--media-dir',
      MEDIA,
      '--set',
      `logs.folder=${logs.dir}`,
    ]);
    const file = (name: string) => join(logs.dir, name);
    try {
      await s.port;
      assert.ok(
        await until(() => existsSync(file('StreamingServer.log')) && existsSync(file('Error.log')), 10_000),
      );
      renameSync(file('StreamingServer.log'), file('StreamingServer.log.1'));
      renameSync(file('Error.log'), file('Error.log.1'));
      s.child.kill('SIGUSR1');
      assert.ok(
        await until(() => existsSync(file('Error.log')), 10_000),
        `a new Error.log after SIGUSR1:\n${s.out()}`,
      );
      s.child.kill('SIGTERM');
      await new Promise((r) => (s.child.exitCode !== null ? r(null) : s.child.once('exit', r)));
      assert.match(
        readFileSync(file('StreamingServer.log.1'), 'utf8'),
        /#Remark: Streaming beginning STARTUP /,
      );
      assert.match(
        readFileSync(file('StreamingServer.log'), 'utf8'),
        /^#Log File Created On: [^\n]+\n#Software: [^\n]+\n#Version: 1\.0\n#Date: [^\n]+\n#Remark: [^\n]+\n#Fields: [^\n]+\n#Remark: Streaming beginning SHUTDOWN [^\n]+\n$/,
      );
      assert.match(
        readFileSync(file('Error.log.1'), 'utf8'),
        /^#Log File Created On: [^\n]+\n# Streaming STARTUP /,
      );
      const fresh = readFileSync(file('Error.log'), 'utf8');
      assert.match(fresh, /^#Log File Created On: [^\n]+\n[^\n]+: INFO: \[logs\] log files reopened\n/);
      assert.match(fresh, /# Streaming SHUTDOWN [^\n]+\n$/);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
      logs.cleanup();
    }
  });

  it('Error.log has STARTUP and SHUTDOWN and the warning of a bad request, which the admin reads too', async () => {
    await withServer([], async (srv, folder) => {
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = connect(srv.port, '127.0.0.1', () =>
          sock.write('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: nonsense\r\n\r\n'),
        );
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        setTimeout(() => sock.end(), 2000);
      });
      assert.match(reply, /^RTSP\/1\.0 4\d\d /, reply);
      const warned = () =>
        srv.server.logFiles!.errorLines(100).some((l) => /: WARNING: \[rtsp\] bad request/.test(l));
      assert.ok(await until(warned, 10_000), srv.server.logFiles!.errorLines(100).join('\n'));
      await stopKeepingLogs(srv);
      const lines = readFileSync(join(folder, 'Error.log'), 'utf8').trimEnd().split('\n');
      const stamp = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';
      assert.match(lines[0], /^#Log File Created On: /);
      assert.match(lines[1], new RegExp(`^# Streaming STARTUP ${stamp}$`));
      assert.ok(
        lines.some((l) => new RegExp(`^${stamp}: WARNING: \\[rtsp\\] bad request .*status=4\\d\\d`).test(l)),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((l) => new RegExp(`^${stamp}: INFO: `).test(l)),
        'INFO lines at the default verbosity 2',
      );
      assert.ok(
        !lines.some((l) => / DEBUG: /.test(l)),
        'no DEBUG at verbosity 2, though the logger runs at debug',
      );
      assert.match(lines.at(-1)!, new RegExp(`^# Streaming SHUTDOWN ${stamp}$`));
    });
  });

  it('logs.* keys changed at run time apply at once: verbosity, folder, on and off', async () => {
    await withServer([], async (srv, folder) => {
      const moved = join(folder, 'moved');
      const logs = srv.server.config.logs;
      Object.assign(logs, { errorVerbosity: 1 });
      srv.server.logFiles!.apply();
      srv.server.log.info('an info line, above verbosity 1');
      srv.server.log.warn('a warning at verbosity 1');
      Object.assign(logs, { folder: moved });
      srv.server.logFiles!.apply();
      srv.server.log.warn('a warning in the new folder');
      Object.assign(logs, { error: false });
      srv.server.logFiles!.apply();
      srv.server.log.warn('a warning with the error log off');
      await stopKeepingLogs(srv);
      const first = readFileSync(join(folder, 'Error.log'), 'utf8');
      assert.doesNotMatch(first, /an info line/);
      assert.match(first, /WARNING: a warning at verbosity 1\n/);
      assert.doesNotMatch(first, /in the new folder/);
      const second = readFileSync(join(moved, 'Error.log'), 'utf8');
      assert.match(second, /^#Log File Created On: [^\n]+\n[^\n]+WARNING: a warning in the new folder\n$/);
      assert.match(readFileSync(join(moved, 'StreamingServer.log'), 'utf8'), /Streaming beginning SHUTDOWN/);
    });
  });

  it('a log folder that cannot be written is reported once, and ffmpeg plays all the same', async () => {
    const scratch = tempDir('rivulet-unwritable-');
    const blocker = join(scratch.dir, 'not-a-folder');
    writeFileSync(blocker, 'a file where the log folder should be');
    const srv = await startServer({ mediaDir: MEDIA, sets: [`logs.folder=${join(blocker, 'logs')}`] });
    try {
      const { r } = await play(srv.url('sample.mp4'), 'tcp');
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      srv.server.log.warn('more lines that cannot be written');
      await new Promise((res) => setTimeout(res, 300));
      const reports = srv.logs.filter((l) => /cannot write the log file/.test(l));
      assert.equal(reports.filter((l) => l.includes('StreamingServer.log')).length, 1, reports.join(''));
      assert.equal(reports.filter((l) => l.includes('Error.log')).length, 1, reports.join(''));
      assert.match(reports[0], /ENOTDIR|EEXIST/);
    } finally {
      await srv.close();
      scratch.cleanup();
    }
  });
});
