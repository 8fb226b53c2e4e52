import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { splitWords } from './dss-text.js';
import { MAX_ENTRIES, parsePlaylistText, readPlaylist } from './playlist-file.js';
import { formatIssue, PlaylistError } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'rivulet-playlist-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh folder holding `files` (name → text); names ending in a media extension get the first
 * bytes of an MP4 so that the media layer recognises them. */
function folder(files: Record<string, string>): string {
  const dir = join(root, `t${n++}`);
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, /\.(mp4|mov)$/.test(name) ? Buffer.from('\0\0\0\x18ftypisom\0\0\0\0isom', 'latin1') : text);
  }
  return dir;
}
const messages = (issues: { line?: number; message: string }[]) => issues.map((i) => `${i.line ?? '-'}: ${i.message}`);

describe('DSS words', () => {
  it('splits on blanks, keeps quoted spaces, reads "" as a quote, and refuses an open quote', () => {
    assert.deepEqual(splitWords('  a.mov\t5 '), ['a.mov', '5']);
    assert.deepEqual(splitWords('"My Movie.mov" 3'), ['My Movie.mov', '3']);
    assert.deepEqual(splitWords('"say ""hi"".mov"'), ['say "hi".mov']);
    assert.deepEqual(splitWords('"a b"7'), ['a b', '7']);
    assert.deepEqual(splitWords('"open.mov 3'), { error: 'a quoted name has no closing quote (")' });
  });
});

describe('parsePlaylistText', () => {
  it('reads entries, weights, includes and comments, and says what is wrong with the other lines', () => {
    const text = [
      '*PLAY-LIST*',
      '# a comment',
      '',
      'a.mov',
      '   "with space.mov" 3',
      '+ more.playlist',
      'My Movie.mov',
      'b.mov 11',
      '"never closed.mov 2',
      'c.mov 4 trailing words',
      '+',
    ].join('\r\n');
    const { lines, issues } = parsePlaylistText(text, '/x/list.playlist');
    assert.deepEqual(lines, [
      { kind: 'entry', line: 4, path: 'a.mov', weight: 10 },
      { kind: 'entry', line: 5, path: 'with space.mov', weight: 3 },
      { kind: 'include', line: 6, path: 'more.playlist' },
      { kind: 'entry', line: 10, path: 'c.mov', weight: 4 },
    ]);
    assert.deepEqual(messages(issues), [
      "7: line skipped: 'Movie.mov' is not a weight from 1 to 10 (a path with spaces must be in quotes)",
      "8: line skipped: '11' is not a weight from 1 to 10",
      '9: line skipped: a quoted name has no closing quote (")',
      '10: text after the weight ignored: trailing words',
      '11: line skipped: + names no playlist to include',
    ]);
    assert.equal(formatIssue(issues[0]), "/x/list.playlist:7: line skipped: 'Movie.mov' is not a weight from 1 to 10 (a path with spaces must be in quotes)");
  });

  it('refuses a file whose first line is not *PLAY-LIST* (a BOM and leading blanks are fine)', () => {
    assert.throws(() => parsePlaylistText('a.mov\n', '/x/l.playlist'), (e: Error) => e instanceof PlaylistError && /first line must be \*PLAY-LIST\*/.test(e.message));
    assert.throws(() => parsePlaylistText('', '/x/l.playlist'), PlaylistError);
    assert.equal(parsePlaylistText('\uFEFF  *PLAY-LIST*\na.mov', '/x/l.playlist').lines.length, 1);
  });
});

describe('readPlaylist', () => {
  it('reads a playlist as the QTSS admin wrote it: absolute quoted paths with weights', async () => {
    const movies = folder({ 'My Movie.mov': '', 'sample_100kbit.mp4': '' });
    const dir = folder({
      'radio/radio.playlist': [
        '*PLAY-LIST*',
        '#',
        '# Created by QTSS Admin CGI Server',
        '#',
        `"${join(movies, 'My Movie.mov')}" 10`,
        `${join(movies, 'sample_100kbit.mp4')} 5`,
        '',
      ].join('\n'),
    });
    const list = await readPlaylist(join(dir, 'radio/radio.playlist'));
    assert.deepEqual(list.issues, []);
    assert.deepEqual(
      list.entries.map((e) => [e.file, e.weight, e.from.line]),
      [
        [join(movies, 'My Movie.mov'), 10, 5],
        [join(movies, 'sample_100kbit.mp4'), 5, 6],
      ],
    );
    assert.equal(list.entries[0].from.playlist, join(dir, 'radio/radio.playlist'));
  });

  it('resolves paths against the folder of the playlist that names them, includes too', async () => {
    const dir = folder({
      'main.playlist': '*PLAY-LIST*\nfirst.mp4\n+ sub/inner.playlist\nmissing.mp4 2\n',
      'sub/inner.playlist': '*PLAY-LIST*\nclip.mp4 7\n',
    });
    const list = await readPlaylist(join(dir, 'main.playlist'));
    assert.deepEqual(
      list.entries.map((e) => [e.file, e.weight, e.from]),
      [
        [join(dir, 'first.mp4'), 10, { playlist: join(dir, 'main.playlist'), line: 2 }],
        [join(dir, 'sub/clip.mp4'), 7, { playlist: join(dir, 'sub/inner.playlist'), line: 2 }],
        // A missing file stays in the list: the broadcaster skips it, the check reports it.
        [join(dir, 'missing.mp4'), 2, { playlist: join(dir, 'main.playlist'), line: 4 }],
      ],
    );
  });

  it('adds a folder entry: its media files and subfolders, by name, with the weight of the line', async () => {
    const dir = folder({
      'l.playlist': '*PLAY-LIST*\nshows 4\n',
      'shows/b.mp4': '',
      'shows/a.mov': '',
      'shows/notes.txt': 'not media',
      'shows/show.sdp': 'v=0\n',
      'shows/.hidden.mp4': '',
      'shows/sub/c.mp4': '',
    });
    const list = await readPlaylist(join(dir, 'l.playlist'));
    assert.deepEqual(
      list.entries.map((e) => [e.file, e.weight]),
      [
        [join(dir, 'shows/a.mov'), 4],
        [join(dir, 'shows/b.mp4'), 4],
        [join(dir, 'shows/sub/c.mp4'), 4],
      ],
    );
    assert.deepEqual(list.issues, []);
  });

  it('reports an include loop with file and line, and keeps what it read', async () => {
    const dir = folder({
      'a.playlist': '*PLAY-LIST*\na.mp4\n+ b.playlist\n',
      'b.playlist': '*PLAY-LIST*\nb.mp4\n+ a.playlist\n+ b.playlist\n',
    });
    const list = await readPlaylist(join(dir, 'a.playlist'));
    assert.deepEqual(list.entries.map((e) => e.file), [join(dir, 'a.mp4'), join(dir, 'b.mp4')]);
    assert.deepEqual(
      list.issues.map(formatIssue),
      [
        `${join(dir, 'b.playlist')}:3: include skipped: ${join(dir, 'a.playlist')} is already being read (an include loop)`,
        `${join(dir, 'b.playlist')}:4: include skipped: ${join(dir, 'b.playlist')} is already being read (an include loop)`,
      ],
    );
  });

  it('includes the same list twice from two places (not a loop), and reports a broken include', async () => {
    const dir = folder({
      'top.playlist': '*PLAY-LIST*\n+ x.playlist\n+ x.playlist\n+ nope.playlist\n+ bad.playlist\n',
      'x.playlist': '*PLAY-LIST*\nx.mp4\n',
      'bad.playlist': 'x.mp4\n',
    });
    const list = await readPlaylist(join(dir, 'top.playlist'));
    assert.equal(list.entries.length, 2);
    assert.deepEqual(messages(list.issues), [
      `4: include skipped: cannot read ${join(dir, 'nope.playlist')}: no such file`,
      `5: include skipped: ${join(dir, 'bad.playlist')} is not a playlist: its first line must be *PLAY-LIST*`,
    ]);
  });

  it('does not follow a folder link into itself', async () => {
    const dir = folder({ 'l.playlist': '*PLAY-LIST*\nf\n', 'f/a.mp4': '' });
    symlinkSync(join(dir, 'f'), join(dir, 'f/again'));
    const list = await readPlaylist(join(dir, 'l.playlist'));
    assert.deepEqual(list.entries.map((e) => e.file), [join(dir, 'f/a.mp4')]);
    assert.match(list.issues[0].message, /folder skipped: .*again is inside itself/);
  });

  it(`stops at ${MAX_ENTRIES} entries, however many a hostile list expands to`, async () => {
    // 4 levels of 20 includes of a 20-line list would be 3.2 million entries.
    const lines = (body: string) => `*PLAY-LIST*\n${Array.from({ length: 20 }, () => body).join('\n')}\n`;
    const dir = folder({ 'l0.playlist': lines('+ l1.playlist'), 'l1.playlist': lines('+ l2.playlist'), 'l2.playlist': lines('+ l3.playlist'), 'l3.playlist': lines('a.mp4') });
    const list = await readPlaylist(join(dir, 'l0.playlist'));
    assert.equal(list.entries.length, MAX_ENTRIES);
    assert.deepEqual(
      list.issues.map((i) => i.message),
      [`the list stops at ${MAX_ENTRIES} entries; the rest is left out`],
    );
  });

  it('throws PlaylistError for a missing file or one that is not a playlist', async () => {
    const dir = folder({ 'text.playlist': 'hello\n' });
    await assert.rejects(readPlaylist(join(dir, 'none.playlist')), /cannot read .*none\.playlist: no such file/);
    await assert.rejects(readPlaylist(join(dir, 'text.playlist')), (e: Error) => e instanceof PlaylistError && /is not a playlist/.test(e.message));
  });

  it('refuses a FIFO at once rather than wait for something to write to it', async () => {
    const fifo = join(folder({}), 'pipe.playlist');
    mkdirSync(join(fifo, '..'), { recursive: true });
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000).unref());
    const r = await Promise.race([readPlaylist(fifo).then(() => 'read', (e: Error) => e), hung]);
    // Release a read blocked on it, so the test ends (and fails).
    if (r === 'hung') closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    assert.ok(r instanceof PlaylistError, String(r));
    assert.match(r.message, /pipe\.playlist is not a regular file/);
  });
});
