import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PathError, type PathErrorKind } from './path-error.js';
import { parseRequestUrl, resolveMediaFile } from './resolve-path.js';

/** Asserts that `fn` throws (or rejects with) a PathError of the given kind (RTSP answers
 * not-found 404, forbidden 403, bad-request 400: see rtsp/server/errors.test.ts). */
function isKind(kind: PathErrorKind) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof PathError, `expected PathError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return true;
  };
}

describe('parseRequestUrl', () => {
  it('splits an rtsp:// URL into path segments', () => {
    assert.deepEqual(parseRequestUrl('rtsp://example.com:8554/films/a.mp4'), {
      segments: ['films', 'a.mp4'],
      trackId: undefined,
      baseUrl: 'rtsp://example.com:8554/films/a.mp4',
    });
  });

  it('recognises trackID=N and streamid=N (any case) as the track suffix', () => {
    const t = parseRequestUrl('rtsp://h/a.mp4/trackID=2');
    assert.deepEqual(t.segments, ['a.mp4']);
    assert.equal(t.trackId, 2);
    assert.equal(t.baseUrl, 'rtsp://h/a.mp4', 'the base URL has no track suffix');
    const s = parseRequestUrl('rtsp://h/a.mp4/streamid=0');
    assert.deepEqual([s.segments, s.trackId, s.baseUrl], [['a.mp4'], 0, 'rtsp://h/a.mp4']);
    assert.equal(parseRequestUrl('rtsp://h/a.mp4/TRACKID=3').trackId, 3);
    assert.equal(parseRequestUrl('rtsp://h/a.mp4/track=4').trackId, 4);
  });

  it('only treats the last segment as a track suffix', () => {
    const p = parseRequestUrl('rtsp://h/trackID=1/a.mp4');
    assert.deepEqual(p.segments, ['trackID=1', 'a.mp4']);
    assert.equal(p.trackId, undefined);
  });

  it('percent-decodes segments but keeps the URL as written in baseUrl', () => {
    const p = parseRequestUrl('rtsp://h/my%20films/caf%C3%A9.mp4/trackID=1');
    assert.deepEqual(p.segments, ['my films', 'café.mp4']);
    assert.equal(p.baseUrl, 'rtsp://h/my%20films/caf%C3%A9.mp4');
  });

  it('ignores empty and . segments and a trailing slash', () => {
    const p = parseRequestUrl('rtsp://h//films/./a.mp4/');
    assert.deepEqual(p.segments, ['films', 'a.mp4']);
    assert.equal(p.baseUrl, 'rtsp://h/films/./a.mp4');
    assert.deepEqual(parseRequestUrl('rtsp://h/a..b.mp4').segments, ['a..b.mp4'], '.. inside a name is fine');
  });

  it('refuses .. with 403, plain or percent-encoded', () => {
    for (const u of [
      'rtsp://h/../etc/passwd',
      'rtsp://h/a/%2e%2e/b',
      'rtsp://h/%2E%2E',
      'rtsp://h/x/../a.mp4',
    ]) {
      assert.throws(() => parseRequestUrl(u), isKind('forbidden'), u);
    }
  });

  it('refuses encoded slashes and backslashes inside a segment with 403', () => {
    assert.throws(() => parseRequestUrl('rtsp://h/..%2Fetc%2Fpasswd'), isKind('forbidden'));
    assert.throws(() => parseRequestUrl('rtsp://h/a%2Fb.mp4'), isKind('forbidden'));
    assert.throws(() => parseRequestUrl('rtsp://h/..%5Cwin.ini'), isKind('forbidden'));
  });

  it('refuses a NUL byte with 400', () => {
    assert.throws(() => parseRequestUrl('rtsp://h/a.mp4%00.txt'), isKind('bad-request'));
  });

  it('refuses malformed percent-encoding with 400', () => {
    assert.throws(() => parseRequestUrl('rtsp://h/a%zz.mp4'), isKind('bad-request'));
    assert.throws(() => parseRequestUrl('rtsp://h/a%E0%A4%A.mp4'), isKind('bad-request'));
    assert.throws(() => parseRequestUrl('rtsp://h/100%.mp4'), isKind('bad-request'));
  });

  it('accepts path-only URIs and refuses relative ones or *', () => {
    assert.deepEqual(parseRequestUrl('/films/a.mp4/trackID=1'), {
      segments: ['films', 'a.mp4'],
      trackId: 1,
      baseUrl: '/films/a.mp4',
    });
    assert.throws(() => parseRequestUrl('a.mp4'), isKind('bad-request'));
    assert.throws(() => parseRequestUrl('*'), isKind('bad-request'));
  });

  it('strips query strings and fragments, also after a track suffix', () => {
    const p = parseRequestUrl('rtsp://h/a.mp4/trackID=1?token=abc/../x');
    assert.deepEqual([p.segments, p.trackId, p.baseUrl], [['a.mp4'], 1, 'rtsp://h/a.mp4']);
    assert.deepEqual(parseRequestUrl('rtsp://h/a.mp4#t=5').segments, ['a.mp4']);
  });

  it('handles IPv6 literal hosts', () => {
    const p = parseRequestUrl('rtsp://[::1]:8554/a.mp4/trackID=2');
    assert.deepEqual([p.segments, p.trackId, p.baseUrl], [['a.mp4'], 2, 'rtsp://[::1]:8554/a.mp4']);
    assert.deepEqual(parseRequestUrl('rtsp://[2001:db8::1]/x/y.mov').segments, ['x', 'y.mov']);
  });

  it('accepts rtsps:// and a URL without a path', () => {
    assert.deepEqual(parseRequestUrl('rtsps://h:322/a.mp4').segments, ['a.mp4']);
    const bare = parseRequestUrl('rtsp://h:8554');
    assert.deepEqual(bare.segments, []);
    assert.equal(bare.baseUrl, 'rtsp://h:8554/');
  });
});

describe('resolveMediaFile', () => {
  let top: string;
  let root: string;

  before(() => {
    // Real paths, as the server passes its media root through realpath once.
    top = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-resolve-')));
    root = join(top, 'media');
    mkdirSync(join(root, 'films', 'sub'), { recursive: true });
    writeFileSync(join(root, 'a.mp4'), 'a');
    writeFileSync(join(root, 'films', 'sub', 'b.mp4'), 'b');
    writeFileSync(join(top, 'secret.mp4'), 's');
    mkdirSync(join(top, 'media2'));
    writeFileSync(join(top, 'media2', 'c.mp4'), 'c');
    symlinkSync(join(top, 'secret.mp4'), join(root, 'escape.mp4'));
    symlinkSync(join(top, 'media2'), join(root, 'sibling'));
    symlinkSync(join(root, 'films', 'sub', 'b.mp4'), join(root, 'inside.mp4'));
  });

  after(() => {
    rmSync(top, { recursive: true, force: true });
  });

  it('returns the absolute path of a file in the root or in a subfolder', async () => {
    assert.equal(await resolveMediaFile(root, ['a.mp4']), join(root, 'a.mp4'));
    assert.equal(
      await resolveMediaFile(root, ['films', 'sub', 'b.mp4']),
      join(root, 'films', 'sub', 'b.mp4'),
    );
  });

  it('follows a symlink that stays inside the root', async () => {
    assert.equal(await resolveMediaFile(root, ['inside.mp4']), join(root, 'films', 'sub', 'b.mp4'));
  });

  it('answers 404 for a missing file or folder', async () => {
    await assert.rejects(resolveMediaFile(root, ['nope.mp4']), isKind('not-found'));
    await assert.rejects(resolveMediaFile(root, ['nope', 'a.mp4']), isKind('not-found'));
  });

  it('answers 404 for a directory and for no path at all', async () => {
    await assert.rejects(resolveMediaFile(root, ['films']), isKind('not-found'));
    await assert.rejects(resolveMediaFile(root, []), isKind('not-found'));
  });

  it('answers 403 for a symlink leading outside the root', async () => {
    await assert.rejects(resolveMediaFile(root, ['escape.mp4']), isKind('forbidden'));
  });

  it('answers 403 for a folder whose name only starts like the root', async () => {
    // <top>/media2 shares the prefix "<top>/media" but is outside it.
    await assert.rejects(resolveMediaFile(root, ['sibling', 'c.mp4']), isKind('forbidden'));
  });

  it('never returns a path outside the root, for any URL (property)', async () => {
    const piece = fc.constantFrom('..', '.', '/', '//', '%2e', '%2E', '%2f', '%5c', '\\', '%00', '%', '%25', 'a.mp4', 'films', 'sub', 'b.mp4', 'escape.mp4', 'sibling', 'c.mp4', 'inside.mp4', '?x', 'trackID=1');
    const uriArb = fc.oneof(
      fc.array(piece, { maxLength: 12 }).map((a) => `rtsp://h/${a.join('')}`),
      fc.array(piece, { maxLength: 12 }).map((a) => `/${a.join('/')}`),
      fc.string({ maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(uriArb, async (uri) => {
        let segments: string[];
        try {
          segments = parseRequestUrl(uri).segments;
        } catch (e) {
          assert.ok(e instanceof PathError && (e.kind === 'bad-request' || e.kind === 'forbidden'), String(e));
          return;
        }
        for (const seg of segments) {
          assert.ok(seg !== '' && seg !== '.' && seg !== '..', seg);
          assert.ok(!/[/\\\0]/.test(seg), seg);
        }
        try {
          const file = await resolveMediaFile(root, segments);
          assert.ok(file.startsWith(root + '/'), file);
        } catch (e) {
          assert.ok(e instanceof PathError && (e.kind === 'forbidden' || e.kind === 'not-found'), String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
