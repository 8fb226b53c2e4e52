/** Reading DSS's playlist and `.config` files, shared by both parsers: a bounded read, lines, and
 * the word grammar (GetWord / GetQuotedWord in DSS's CommonUtilitiesLib): bytes up to 0x20 separate words; a word that
 * starts with `"` runs to the next lone `"`, with `""` inside standing for one quote, and may
 * hold spaces; the word after a closing quote starts right after it. DSS let an unterminated
 * quote run to the end of the line (newline included, so the name never matched a file); here it
 * is reported instead. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { PlaylistError } from './types.js';

/** Bytes of one playlist or config file read; a longer one is refused (a 10,000-entry list is
 * about 1 MB). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** The text of `file` (UTF-8), refusing one over MAX_FILE_BYTES. Throws PlaylistError. */
export async function readDssFile(file: string): Promise<string> {
  let fh;
  try {
    // Non-blocking: opening a FIFO for reading would wait for a writer, forever, before the
    // regular-file check below could refuse it.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PlaylistError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  try {
    // A special file (a FIFO, /dev/zero) would never end or has no size to check.
    const st = await fh.stat();
    if (!st.isFile()) throw new PlaylistError(`${file} is not a regular file`);
    if (st.size > MAX_FILE_BYTES) throw new PlaylistError(`${file} is larger than ${MAX_FILE_BYTES} bytes: not read`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return buf.toString('utf8', 0, bytesRead);
  } catch (e) {
    if (e instanceof PlaylistError) throw e;
    throw new PlaylistError(`cannot read ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

/** Words of one line, or why the line cannot be split. */
export function splitWords(line: string): string[] | { error: string } {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 0x20) i++;
    if (i >= n) break;
    if (line[i] !== '"') {
      const start = i;
      while (i < n && line.charCodeAt(i) > 0x20) i++;
      words.push(line.slice(start, i));
      continue;
    }
    let word = '';
    let closed = false;
    i++;
    while (i < n) {
      if (line[i] === '"') {
        if (line[i + 1] === '"') {
          word += '"';
          i += 2;
          continue;
        }
        i++;
        closed = true;
        break;
      }
      word += line[i++];
    }
    if (!closed) return { error: 'a quoted name has no closing quote (")' };
    words.push(word);
  }
  return words;
}

/** The lines of a text file as DSS reads them: any of \n, \r\n, \r ends a line, and a UTF-8
 * byte-order mark (Windows editors write one) is not part of the first line. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
}
