/** Incremental base64 decoder for the body of a tunnelled POST: RTSP requests arrive as base64
 * text that may be split across reads at any byte, and clients encode each request on its own,
 * so padding (`=`) may end a group in the middle of the stream. Whole 4-character groups are
 * decoded as soon as they are complete; up to three characters wait for the next read. */

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

const INVALID = 255;
const SKIP = 254;
const PAD = 253;
const TABLE = new Uint8Array(256).fill(INVALID);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) TABLE[alphabet.charCodeAt(i)] = i;
  // Line breaks and spaces between groups are tolerated (some clients wrap long requests).
  for (const c of '\r\n\t ') TABLE[c.charCodeAt(0)] = SKIP;
  TABLE['='.charCodeAt(0)] = PAD;
}

export class Base64StreamDecoder {
  /** Sextets of the group in progress, high bits first. */
  #acc = 0;
  /** Data characters in the group in progress (0-3). */
  #n = 0;
  /** Padding characters seen in the group in progress. */
  #pad = 0;
  #failed = false;

  /** Characters held for the next read (0-3). */
  get pendingChars(): number {
    return this.#n + this.#pad;
  }

  /** Decodes what `chunk` completes. Throws Base64Error on a character outside the alphabet or
   * misplaced padding; after that the decoder refuses all input. */
  push(chunk: Buffer): Buffer {
    if (this.#failed) throw new Base64Error('the stream already failed');
    const out = Buffer.allocUnsafe(Math.floor(((chunk.length + 3) * 3) / 4) + 3);
    let o = 0;
    let acc = this.#acc;
    let n = this.#n;
    let pad = this.#pad;
    for (let i = 0; i < chunk.length; i++) {
      const v = TABLE[chunk[i]];
      if (v < 64) {
        if (pad > 0) return this.#fail('data after padding inside a group');
        acc = (acc << 6) | v;
        if (++n === 4) {
          out[o++] = (acc >> 16) & 0xff;
          out[o++] = (acc >> 8) & 0xff;
          out[o++] = acc & 0xff;
          acc = 0;
          n = 0;
        }
      } else if (v === PAD) {
        if (n < 2) return this.#fail('padding too early in a group');
        if (n + ++pad === 4) {
          if (n === 2) out[o++] = (acc >> 4) & 0xff;
          else {
            out[o++] = (acc >> 10) & 0xff;
            out[o++] = (acc >> 2) & 0xff;
          }
          acc = 0;
          n = 0;
          pad = 0;
        }
      } else if (v === SKIP) {
        continue;
      } else {
        return this.#fail(`byte 0x${chunk[i].toString(16).padStart(2, '0')} is not base64`);
      }
    }
    this.#acc = acc;
    this.#n = n;
    this.#pad = pad;
    return out.subarray(0, o);
  }

  #fail(why: string): never {
    this.#failed = true;
    throw new Base64Error(why);
  }
}
