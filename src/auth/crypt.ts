/** Password hashes of the users file's second field: whatever crypt(3) flavour qtpasswd wrote. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CRYPT_ALPHABET, desCrypt } from './des-crypt.js';
import { md5Crypt } from './md5-crypt.js';

/** Which crypt(3) flavour a stored hash is, or undefined when Rivulet cannot check it. */
export function cryptKind(stored: string): 'des' | 'md5' | 'apr1' | undefined {
  if (stored.startsWith('$1$')) return 'md5';
  if (stored.startsWith('$apr1$')) return 'apr1';
  if (/^[./0-9A-Za-z]{13}$/.test(stored)) return 'des';
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Does `password` match `stored` (traditional DES crypt, `$1$` MD5-crypt or `$apr1$`)? */
export function verifyCrypt(password: string, stored: string): boolean {
  switch (cryptKind(stored)) {
    case 'des': {
      const h = desCrypt(password, stored.slice(0, 2));
      return h !== null && same(h, stored);
    }
    case 'md5':
      return same(md5Crypt(password, stored.slice(3), '$1$'), stored);
    case 'apr1':
      return same(md5Crypt(password, stored.slice(6), '$apr1$'), stored);
    default:
      return false;
  }
}

function randomSalt(n: number): string {
  return [...randomBytes(n)].map((b) => CRYPT_ALPHABET[b & 63]).join('');
}

/** A new hash for the users file. MD5-crypt by default: glibc's crypt(3) (DSS on Linux) reads it,
 * and unlike DES it does not cut passwords at 8 characters; `des` for DSS on macOS. */
export function hashPassword(password: string, kind: 'md5' | 'des' = 'md5'): string {
  if (kind === 'des') return desCrypt(password, randomSalt(2))!;
  return md5Crypt(password, randomSalt(8), '$1$');
}
