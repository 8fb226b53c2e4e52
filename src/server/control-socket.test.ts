import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ApiRoute } from '../http/index.js';
import { createLogger } from '../logging/index.js';
import { ControlSocket, MAX_SOCKET_PATH_BYTES } from './control-socket.js';

const root = mkdtempSync(join(tmpdir(), 'rivulet-ctl-'));
after(() => rmSync(root, { recursive: true, force: true }));

const echo: ApiRoute = {
  name: 'echo',
  method: 'POST',
  match: (s) => (s[0] === 'echo' ? {} : undefined),
  handle: (_p, req) => ({ status: 200, body: { got: req.body ?? null } }),
};

function logger() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

function post(socketPath: string, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ControlSocket', () => {
  it('listens in a folder it makes, for its owner only, answers JSON, and removes the file when closed', async () => {
    const path = join(root, 'a', 'b', 'control.sock');
    const { log, lines } = logger();
    const ctl = await ControlSocket.open(path, [echo], log);
    assert.ok(ctl);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(lines.some((l) => l.includes(`control socket listening on ${path}`)));
    const ok = await post(path, '/api/v1/echo', '{"a":1}');
    assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { got: { a: 1 } }]);
    const bad = await post(path, '/api/v1/echo', '{nope');
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.text) as { error: string }).error, /^the request body is not JSON: /);
    const big = await post(path, '/api/v1/echo', 'x'.repeat(70 * 1024)).catch((e: NodeJS.ErrnoException) => ({ status: 0, text: e.code ?? '' }));
    assert.ok(big.status === 413 || big.text === 'EPIPE' || big.text === 'ECONNRESET', `a body over the bound is refused: ${JSON.stringify(big)}`);
    await ctl.close();
    assert.equal(existsSync(path), false);
  });

  it('takes over a socket file nobody answers on, and leaves one a live server answers on alone, with one warning', async () => {
    const path = join(root, 'stale.sock');
    // A server killed without closing leaves its socket file behind.
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(child.signal, 'SIGKILL');
    assert.ok(existsSync(path), 'the stale file is there');
    const first = logger();
    const ctl = await ControlSocket.open(path, [echo], first.log);
    assert.ok(ctl, 'the stale socket was taken over');
    assert.ok(first.lines.some((l) => l.includes('removed a stale control socket')));

    const second = logger();
    assert.equal(await ControlSocket.open(path, [echo], second.log), undefined);
    const warned = second.lines.filter((l) => l.includes('WARN'));
    assert.equal(warned.length, 1);
    assert.match(warned[0], /no control surface \(rivulet playlist start\|stop\|status will not reach this server\): another server answers on /);
    assert.equal((await post(path, '/api/v1/echo', '')).status, 200, 'the first still answers');
    await ctl.close();
  });

  it('refuses a path longer than a socket path may be, with a warning', async () => {
    const path = join(root, 'x'.repeat(MAX_SOCKET_PATH_BYTES), 'c.sock');
    const { log, lines } = logger();
    assert.equal(await ControlSocket.open(path, [echo], log), undefined);
    assert.ok(lines.some((l) => /WARN .*a Unix socket path may have at most 107 \(set control.socket to a shorter one\)/.test(l)), lines.join(''));
    assert.equal(existsSync(join(root, 'x'.repeat(MAX_SOCKET_PATH_BYTES))), false, 'nothing made');
  });

  it('leaves a file there that is no socket alone, and runs without a control surface', async () => {
    const path = join(root, 'not-a-socket');
    writeFileSync(path, 'precious\n');
    const { log, lines } = logger();
    assert.equal(await ControlSocket.open(path, [echo], log), undefined);
    assert.equal(readFileSync(path, 'utf8'), 'precious\n', 'the file is still there');
    assert.ok(lines.some((l) => l.includes(`no control surface (rivulet playlist start|stop|status will not reach this server): ${path} exists and is not a socket`)), lines.join(''));
  });

  it('closes the connection, with a log line, when an answer cannot be sent', async () => {
    const path = join(root, 'unsendable.sock');
    const { log, lines } = logger();
    const unsendable: ApiRoute = { ...echo, name: 'unsendable', match: (s) => (s[0] === 'unsendable' ? {} : undefined), handle: () => ({ status: 200, body: { n: 1n } }) };
    const ctl = await ControlSocket.open(path, [unsendable], log);
    assert.ok(ctl);
    try {
      const r = await post(path, '/api/v1/unsendable', '').catch((e: NodeJS.ErrnoException) => e);
      assert.ok(r instanceof Error && r.message === 'socket hang up', `the client sees the connection close: ${JSON.stringify(r)}`);
      assert.ok(lines.some((l) => l.includes('API answer could not be sent') && l.includes('BigInt')), lines.join(''));
    } finally {
      await ctl.close();
    }
  });
});
