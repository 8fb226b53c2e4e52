/** A playlist channel over the transports that are not plain RTSP: tunnelled through HTTP (on an
 * RTSP port and on an rtsp.httpPorts port) and over TLS (rtsps://), as ffmpeg watches it across
 * item changes, every picture checked against the clips' own. */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertInOrder, assertWatched, clipSet, FrameCatalog, makeClip, watchChannel } from '../helpers/media.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { selfSigned } from '../helpers/tls.js';

const ITEMS = clipSet('item', 3, 2);

describe('playlist channel over HTTP tunnels and TLS', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  let catalog: FrameCatalog;

  before(async () => {
    media = tempDir('rivulet-playlist-tx-');
    await Promise.all(ITEMS.map((c) => makeClip(media.dir, c)));
    catalog = await FrameCatalog.of('ffmpeg', Object.fromEntries(ITEMS.map((c) => [c.name, join(media.dir, c.name)])));
    const tls = await selfSigned(media.dir);
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(config, ['paths:', '  station:', '    playlist:', `      items: [${ITEMS.map((c) => c.name).join(', ')}]`, ''].join('\n'));
    srv = await startServer({ mediaDir: media.dir, configFile: config, sets: ['rtsp.httpPorts=0', `tls.cert=${tls.cert}`, `tls.key=${tls.key}`, 'tls.ports=0'] });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  const order = ITEMS.map((c) => c.name);

  it('ffmpeg watches it tunnelled through HTTP on the RTSP port and on the HTTP port', async () => {
    const [onRtsp, onHttp] = await Promise.all([
      watchChannel(srv.url('station'), 'ffmpeg', 'http', 7),
      watchChannel(`rtsp://127.0.0.1:${srv.server.httpPorts[0]}/station`, 'ffmpeg', 'http', 7),
    ]);
    assertInOrder(assertWatched(onRtsp, catalog, 'tunnel on the RTSP port', 2), order, 'tunnel on the RTSP port');
    assertInOrder(assertWatched(onHttp, catalog, 'tunnel on the HTTP port', 2), order, 'tunnel on the HTTP port');
  });

  it('ffmpeg watches it over rtsps://', async () => {
    const w = await watchChannel(`rtsps://127.0.0.1:${srv.server.tlsPorts[0]}/station`, 'ffmpeg', 'tcp', 7);
    assertInOrder(assertWatched(w, catalog, 'rtsps', 2), order, 'rtsps');
  });
});
