/** Many viewers of one file share its handle and its blocks (vod.readCacheBytes): the file is
 * read from disk about once, and a reload resizes the cache at once. */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaDirWith } from '../helpers/media.js';
import { RawRtspClient, until } from '../helpers/rtsp-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FILE = 'h264-aac-faststart.mp4';
const VIEWERS = 12;

describe('shared read cache', () => {
  let media: { dir: string; cleanup: () => void };
  let srv: TestServer;
  before(async () => {
    media = await mediaDirWith([FILE]);
    srv = await startServer({ mediaDir: media.dir });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  it('viewers of one file at different positions share one handle and read each block once', async () => {
    const size = statSync(join(media.dir, FILE)).size;
    const base = srv.url(FILE);
    const clients: RawRtspClient[] = [];
    try {
      for (let i = 0; i < VIEWERS; i++) {
        const c = await RawRtspClient.connect(srv.port);
        clients.push(c);
        assert.equal((await c.request('DESCRIBE', base)).status, 200);
        const setup = await c.request('SETUP', `${base}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
        assert.equal(setup.status, 200);
        const session = setup.headers.get('session')!.split(';')[0];
        // Each at its own moment of the file, as students of a lecture archive are.
        assert.equal((await c.request('PLAY', base, { Session: session, Range: `npt=${(i * 8) / VIEWERS}-` })).status, 200);
      }
      assert.ok(await until(() => clients.every((c) => c.frames.filter((f) => f.channel === 0).length >= 20)), 'every viewer receives video');
      const s = srv.server.readCacheStats();
      assert.equal(s.openFiles, 1, 'one file handle for all viewers');
      // Every block of the file at most once (a block is 64 KiB), however many viewers.
      assert.ok(s.misses <= Math.ceil(size / (64 * 1024)), `${s.misses} disk reads of a ${size}-byte file`);
      // Later viewers take the samples' bytes from the cache, or the payloads made of them from
      // the packet cache, which then reads nothing.
      const p = srv.server.packetCacheStats();
      assert.ok(s.hits + p.hits > s.misses, `read cache hits ${s.hits}, packet cache hits ${p.hits}, disk reads ${s.misses}`);
      assert.ok(s.bytes > 0 && s.bytes <= s.maxBytes);

      // A reload that turns the cache off empties it at once; the viewers play on.
      const next = structuredClone(srv.server.config);
      next.vod.readCacheBytes = 0;
      const result = await srv.server.reload(next);
      assert.ok(result.applied.includes('vod.readCacheBytes'));
      assert.deepEqual([srv.server.readCacheStats().bytes, srv.server.readCacheStats().maxBytes], [0, 0]);
      const counts = clients.map((c) => c.frames.length);
      assert.ok(await until(() => clients.every((c, i) => c.frames.length > counts[i] + 10)), 'viewers go on receiving');
    } finally {
      for (const c of clients) c.close();
    }
    assert.ok(await until(() => srv.server.readCacheStats().openFiles === 0), 'the handle is closed when the last viewer leaves');
  });
});
