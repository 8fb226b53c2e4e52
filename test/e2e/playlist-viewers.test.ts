/** Viewers of a playlist channel (`paths.<name>.playlist`) as real clients see it: three 2 s
 * clips, each a moving test pattern of its own with a tone of its own, looped. ffmpeg and
 * GStreamer watch over UDP and TCP across item changes, and every picture they decode is checked
 * against the clips' own pictures; two viewers who tune in 5 s apart see the same item at the
 * same wall-clock moment. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertInOrder,
  assertWatched,
  clipSet,
  FrameCatalog,
  itemRuns,
  makeClip,
  watchChannel,
  type ItemRun,
  type Located,
  type WatchClient,
} from '../helpers/media.js';
import { sleep } from '../helpers/rtsp-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';

const ITEMS = clipSet('item', 3, 2);
const ORDER = ITEMS.map((i) => i.name);
/** Media seconds each client watches: items change every 2 s, so any 8 s holds at least three
 * changes wherever the viewer tunes in. */
const WATCH = 8;

describe('playlist channel viewers', () => {
  let srv: TestServer;
  let media: { dir: string; cleanup: () => void };
  const catalogs = new Map<WatchClient, FrameCatalog>();

  before(async () => {
    media = tempDir('rivulet-playlist-viewers-');
    await Promise.all(ITEMS.map((c) => makeClip(media.dir, c)));
    const files = Object.fromEntries(ORDER.map((n) => [n, join(media.dir, n)]));
    for (const client of ['ffmpeg', 'gstreamer'] as const) catalogs.set(client, await FrameCatalog.of(client, files));
    const config = join(media.dir, 'rivulet.yaml');
    writeFileSync(config, ['paths:', '  channel:', '    playlist:', `      items: [${ORDER.join(', ')}]`, '      mode: sequential_looped'].join('\n'));
    srv = await startServer({ mediaDir: media.dir, configFile: config });
  });
  after(async () => {
    await srv?.close();
    media?.cleanup();
  });

  for (const client of ['ffmpeg', 'gstreamer'] as const) {
    it(`${client} watches over UDP and TCP across item changes: every picture intact, in order, on time`, async () => {
      const watched = await Promise.all((['udp', 'tcp'] as const).map((t) => watchChannel(srv.url('channel'), client, t, WATCH)));
      for (const [i, w] of watched.entries()) {
        const what = `${client} over ${i === 0 ? 'UDP' : 'TCP'}`;
        assertInOrder(assertWatched(w, catalogs.get(client)!, what, 3), ORDER, what);
      }
    });
  }

  it('two viewers who tune in 5 s apart see the same item at the same moment', async () => {
    const watching = watchChannel(srv.url('channel'), 'ffmpeg', 'tcp', WATCH + 5);
    await sleep(5000);
    const second = await watchChannel(srv.url('channel'), 'ffmpeg', 'udp', WATCH);
    const first = await watching;
    const catalog = catalogs.get('ffmpeg')!;
    assertWatched(first, catalog, 'first viewer', 5);
    assertWatched(second, catalog, 'second viewer', 3);
    const a = catalog.locate(first.video).located;
    // A newcomer is first handed the frames since the last keyframe (up to a second old) all at
    // once; from then on both viewers get each frame as it is sent.
    const b = catalog.locate(second.video).located.filter((f) => f.wallMs > second.video[0].wallMs + 1200);
    const [ra, rb] = [itemRuns(a), itemRuns(b)];
    assert.ok(rb.length >= 3, `the second viewer crossed two item changes while both watched: ${JSON.stringify(rb)}`);
    const compared = sameItemAtSameMoment(a, b, ra.slice(1));
    assert.ok(compared >= 100, `compared ${compared} instants`);
  });
});

/** Asserts that wherever both viewers decoded a picture within 100 ms of each other, it was of
 * the same item, except within 0.5 s of an item change the first viewer saw (`changes`: its runs
 * starting at one); returns the number of instants compared. */
function sameItemAtSameMoment(a: Located[], b: Located[], changes: ItemRun[]): number {
  let compared = 0;
  let j = 0;
  for (const f of b) {
    while (j + 1 < a.length && Math.abs(a[j + 1].wallMs - f.wallMs) <= Math.abs(a[j].wallMs - f.wallMs)) j++;
    if (Math.abs(a[j].wallMs - f.wallMs) > 100) continue;
    compared++;
    if (a[j].item === f.item) continue;
    const near = changes.some((c) => Math.abs(c.wallFrom - f.wallMs) <= 500);
    assert.ok(near, `at ${new Date(f.wallMs).toISOString()} the first viewer shows ${a[j].item} (frame ${a[j].index}), the second ${f.item} (frame ${f.index}), with no item change within 0.5 s`);
  }
  return compared;
}
