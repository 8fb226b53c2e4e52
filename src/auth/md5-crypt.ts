/** MD5-crypt (`$1$salt$hash`, Poul-Henning Kamp's FreeBSD scheme, read by glibc's crypt(3)) and
 * its Apache variant `$apr1$` (same algorithm, other magic; what DSS's Windows qtpasswd and
 * htpasswd -m write). */
import { createHash } from 'node:crypto';
import { CRYPT_ALPHABET } from './des-crypt.js';

const md5 = (...parts: Buffer[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

function to64(v: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += CRYPT_ALPHABET[v & 0x3f];
    v >>>= 6;
  }
  return s;
}

/** MD5-crypt of `password` with `salt` (at most 8 characters used; stops at a `$`).
 * `magic` is `$1$` (default) or `$apr1$`. */
export function md5Crypt(password: string | Buffer, salt: string, magic: '$1$' | '$apr1$' = '$1$'): string {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const cut = salt.indexOf('$');
  const s = (cut >= 0 ? salt.slice(0, cut) : salt).slice(0, 8);
  const sb = Buffer.from(s, 'utf8');
  const mb = Buffer.from(magic, 'utf8');
  const alt = md5(pw, sb, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(mb);
  ctx.update(sb);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  const zero = Buffer.alloc(1);
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? zero : pw.subarray(0, 1));
  let f = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = [i & 1 ? pw : f];
    if (i % 3) parts.push(sb);
    if (i % 7) parts.push(pw);
    parts.push(i & 1 ? f : pw);
    f = md5(...parts);
  }
  const out =
    to64((f[0] << 16) | (f[6] << 8) | f[12], 4) +
    to64((f[1] << 16) | (f[7] << 8) | f[13], 4) +
    to64((f[2] << 16) | (f[8] << 8) | f[14], 4) +
    to64((f[3] << 16) | (f[9] << 8) | f[15], 4) +
    to64((f[4] << 16) | (f[10] << 8) | f[5], 4) +
    to64(f[11], 2);
  return `${magic}${s}$${out}`;
}
