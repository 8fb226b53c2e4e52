/** Live-stream helpers for end-to-end tests: wait for a broadcast, watch it with a scripted
 * TCP viewer. */
import assert from 'node:assert/strict';
import { RawRtspClient, until, type Reply } from './rtsp-client.js';
import type { TestServer } from './server.js';

const sid = (r: Reply) => r.headers.get('session')!.split(';')[0];

/** Waits until the server reports the broadcast at `path` active. */
export async function waitActive(srv: TestServer, path: string, ms = 15_000): Promise<void> {
  const ok = await until(
    () =>
      srv.server.live?.get(path)?.state === 'active' &&
      (srv.server.live.get(path)!.tracks[0].packetsIn ?? 0) > 10,
    ms,
    50,
  );
  assert.ok(ok, `broadcast ${path} did not start`);
}

/** A scripted viewer over TCP: DESCRIBE, SETUP every track, PLAY. */
export async function rawViewer(
  srv: TestServer,
  path: string,
): Promise<{ c: RawRtspClient; session: string; play: Reply }> {
  const c = await RawRtspClient.connect(srv.port);
  const d = await c.request('DESCRIBE', srv.url(path));
  assert.equal(d.status, 200, `DESCRIBE ${path}`);
  const n = (d.body.match(/^m=/gm) ?? []).length;
  let session = '';
  for (let i = 1; i <= n; i++) {
    const s = await c.request('SETUP', `${srv.url(path)}/trackID=${i}`, {
      Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i - 2}-${2 * i - 1}`,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(s.status, 200);
    session = sid(s);
  }
  const play = await c.request('PLAY', srv.url(path), { Session: session });
  return { c, session, play };
}
