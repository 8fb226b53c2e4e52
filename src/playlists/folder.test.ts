import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_FOLDER_PLAYLISTS, pathOfSdpName, scanPlaylistFolder } from './folder.js';
import { MAX_FILE_BYTES } from './dss-text.js';

const root = mkdtempSync(join(tmpdir(), 'rivulet-plfolder-'));
after(() => rmSync(root, { recursive: true, force: true }));

const LIST = '*PLAY-LIST*\na.mp4\n';

/** A fresh folder under the scratch root with these files (content or a folder). */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('scanPlaylistFolder', () => {
  it('finds flat NAME.playlist files and the DSS NAME/NAME.playlist layout, in name order, with their .config', async () => {
    const dir = folder('both', {
      'other.playlist': LIST,
      'news/news.playlist': LIST,
      'news/news.config': 'play_mode sequential\n',
      'news/news.current': 'a.mp4\n',
      'other.config': 'play_mode weighted_random\n',
      'notes.txt': 'not a playlist',
      'empty/readme': '',
      'wrong/x.playlist': LIST,
      '.hidden.playlist': LIST,
      '.playlist': LIST,
    });
    const scan = await scanPlaylistFolder(dir);
    assert.deepEqual(scan.playlists, [
      { key: 'news', playlistFile: join(dir, 'news/news.playlist'), configFile: join(dir, 'news/news.config') },
      { key: 'other', playlistFile: join(dir, 'other.playlist'), configFile: join(dir, 'other.config') },
    ]);
    assert.deepEqual(scan.problems, []);
  });

  it("broadcasts at the config's destination_sdp_file without .sdp, relative to the media folder", async () => {
    const media = join(root, 'media');
    const dir = folder('dest', {
      'chan/chan.playlist': LIST,
      'chan/chan.config': 'destination_sdp_file "live/Channel One.sdp"\n',
      'abs.playlist': LIST,
      'abs.config': `destination_sdp_file ${media}/tv/abs.sdp\n`,
      'plain.playlist': LIST,
      'plain.config': 'destination_sdp_file plain-channel\n',
    });
    const scan = await scanPlaylistFolder(dir, { mediaRoot: media });
    assert.deepEqual(
      scan.playlists.map((p) => p.key),
      ['tv/abs', 'live/Channel One', 'plain-channel'],
    );
    assert.deepEqual(scan.problems, []);
  });

  it('falls back to the name, with a problem, when destination_sdp_file names no path in the media folder; keeps the first of two at one path', async () => {
    const dir = folder('bad', {
      'a.playlist': LIST,
      'a.config': 'destination_sdp_file ../../etc/passwd.sdp\n',
      'b.playlist': LIST,
      'b.config': 'destination_sdp_file /elsewhere/b.sdp\n',
      'c.playlist': LIST,
      'c.config': 'destination_sdp_file a.sdp\n',
    });
    const scan = await scanPlaylistFolder(dir, { mediaRoot: join(root, 'media') });
    assert.deepEqual(
      scan.playlists.map((p) => [p.key, p.playlistFile]),
      [
        ['a', join(dir, 'a.playlist')],
        ['b', join(dir, 'b.playlist')],
      ],
    );
    assert.deepEqual(
      scan.problems.map((p) => [p.file, p.message]),
      [
        [join(dir, 'a.config'), "destination_sdp_file '../../etc/passwd.sdp' names no path inside the media folder; broadcast at 'a'"],
        [join(dir, 'b.config'), "destination_sdp_file /elsewhere/b.sdp is not inside the media folder; broadcast at 'b'"],
        [join(dir, 'c.playlist'), `skipped: path 'a' is already broadcast from ${join(dir, 'a.playlist')}`],
      ],
    );
  });

  it('reports a folder that cannot be read, and skips an unreadable entry with a problem', async () => {
    const missing = await scanPlaylistFolder(join(root, 'nope'));
    assert.deepEqual(missing.playlists, []);
    assert.deepEqual(missing.problems, [{ file: join(root, 'nope'), message: 'cannot read the playlists folder: no such folder' }]);

    const dir = folder('links', { 'good.playlist': LIST });
    symlinkSync(join(root, 'gone'), join(dir, 'dangling.playlist'));
    const scan = await scanPlaylistFolder(dir);
    assert.deepEqual(scan.playlists.map((p) => p.key), ['good']);
    assert.equal(scan.problems.length, 1);
    assert.match(scan.problems[0].message, /^skipped: ENOENT/);
    assert.equal(scan.problems[0].file, join(dir, 'dangling.playlist'));
  });

  it('broadcasts a .config it will not read at the name, saying why', async () => {
    // One over the size bound: refused for every user (a file of mode 0 is readable to root,
    // as CI runs).
    const dir = folder('locked', { 'x.playlist': LIST, 'x.config': `#${' '.repeat(MAX_FILE_BYTES)}\n` });
    const scan = await scanPlaylistFolder(dir);
    assert.deepEqual(scan.playlists.map((p) => p.key), ['x']);
    assert.match(scan.problems[0].message, /x\.config is larger than \d+ bytes: not read; broadcast at 'x'$/);
  });

  it(`takes at most ${MAX_FOLDER_PLAYLISTS} playlists`, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i <= MAX_FOLDER_PLAYLISTS; i++) files[`p${String(i).padStart(4, '0')}.playlist`] = LIST;
    const scan = await scanPlaylistFolder(folder('many', files));
    assert.equal(scan.playlists.length, MAX_FOLDER_PLAYLISTS);
    assert.equal(scan.playlists[0].key, 'p0000');
    assert.deepEqual(
      scan.problems.map((p) => p.message),
      [`only the first ${MAX_FOLDER_PLAYLISTS} playlists are broadcast; p1000.playlist and the rest are left out`],
    );
  });
});

describe('pathOfSdpName', () => {
  it('turns a DSS destination_sdp_file into a path', () => {
    assert.equal(pathOfSdpName('tv.sdp'), 'tv');
    assert.equal(pathOfSdpName('./live/tv.SDP'), 'live/tv');
    assert.equal(pathOfSdpName('live\\tv.sdp'), 'live/tv');
    assert.equal(pathOfSdpName('/srv/media/a/b.sdp', '/srv/media'), 'a/b');
    assert.deepEqual(pathOfSdpName('.sdp'), { error: "destination_sdp_file '.sdp' names no path inside the media folder" });
    assert.deepEqual(pathOfSdpName('/srv/media/x.sdp'), { error: 'destination_sdp_file /srv/media/x.sdp is not inside the media folder' });
    assert.deepEqual(pathOfSdpName('/srv/media', '/srv/media'), { error: "destination_sdp_file '/srv/media' names no path inside the media folder" });
  });
});
