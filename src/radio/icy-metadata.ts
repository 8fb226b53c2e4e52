/** ICY metadata, as SHOUTcast and Icecast send it to listeners that asked with `Icy-MetaData: 1`:
 * after every `icy-metaint` bytes of audio, one length byte N and then 16·N bytes of
 * `StreamTitle='…';StreamUrl='…';` padded with NULs (N = 0: no change since the last block). */

/** Largest block body: the length byte counts 16-byte units. */
const MAX_BODY = 255 * 16;
/** The block that says "nothing new". */
const EMPTY_BLOCK = Buffer.from([0]);

/** The metadata block for `title` (and `url`): quotes and NULs are kept out of the values (a
 * quote would end the field early in players' parsers), and the text is cut to fit a block. */
export function metadataBlock(title: string, url = ''): Buffer {
  const clean = (s: string) => s.replace(/[\0']/g, (c) => (c === "'" ? '\u2019' : ''));
  let text = `StreamTitle='${clean(title)}';StreamUrl='${clean(url)}';`;
  let body = Buffer.from(text, 'utf8');
  if (body.length > MAX_BODY) {
    // Cut the title, never the frame of the fields.
    const over = body.length - MAX_BODY;
    const t = Buffer.from(clean(title), 'utf8');
    const cut = t.subarray(0, Math.max(0, t.length - over)).toString('utf8').replace(/\uFFFD+$/, '');
    text = `StreamTitle='${cut}';StreamUrl='${clean(url)}';`;
    body = Buffer.from(text, 'utf8').subarray(0, MAX_BODY);
  }
  const units = Math.ceil(body.length / 16);
  const block = Buffer.alloc(1 + units * 16);
  block[0] = units;
  body.copy(block, 1);
  return block;
}

/** Where one listener is in its audio between metadata blocks, and which metadata it was sent.
 * `interleave` cuts the audio it is given at the block boundaries and puts the blocks in: no
 * copy of the audio, which is shared by every listener. */
export class IcyInterleaver {
  readonly #metaint: number;
  #untilBlock: number;
  #sentVersion = -1;

  constructor(metaint: number) {
    this.#metaint = metaint;
    this.#untilBlock = metaint;
  }

  get metaint(): number {
    return this.#metaint;
  }

  /** The listener now follows another stream, whose metadata versions are its own: the next
   * block carries its title whatever the version. */
  forget(): void {
    this.#sentVersion = -1;
  }

  /** `audio` as the listener must receive it, in pieces; `block(version)` gives the current
   * metadata block when it changed since the last one sent (asked only at a boundary). */
  interleave(audio: Buffer, version: number, block: () => Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (audio.length - off >= this.#untilBlock) {
      if (this.#untilBlock > 0) out.push(audio.subarray(off, off + this.#untilBlock));
      off += this.#untilBlock;
      if (version !== this.#sentVersion) {
        this.#sentVersion = version;
        out.push(block());
      } else out.push(EMPTY_BLOCK);
      this.#untilBlock = this.#metaint;
    }
    if (off < audio.length) {
      out.push(off === 0 ? audio : audio.subarray(off));
      this.#untilBlock -= audio.length - off;
    }
    return out;
  }
}
