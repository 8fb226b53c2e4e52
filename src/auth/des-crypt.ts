/** Traditional crypt(3): salted DES, 25 rounds, 13 characters (`abJnggxhB/yWI`). This is what
 * DSS's qtpasswd writes on Unix. Node has no crypt(3), and standard DES ciphers cannot do it (the
 * salt perturbs the E box), so it is written out here from the FIPS 46 tables, one bit per array
 * cell: slow by cipher standards (about a millisecond) but only run once per Basic login. */

// FIPS 46-3 tables, 1-based bit positions as printed in the standard.
// prettier-ignore
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
// prettier-ignore
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
  36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
];
// prettier-ignore
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];
// prettier-ignore
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
// prettier-ignore
const PC1_C = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36];
// prettier-ignore
const PC1_D = [63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4];
// prettier-ignore
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
// prettier-ignore
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];

/** crypt(3)'s 64-character alphabet. */
export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function keySchedule(key: Uint8Array): Uint8Array[] {
  const c = PC1_C.map((p) => key[p - 1]);
  const d = PC1_D.map((p) => key[p - 1]);
  const ks: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    for (let k = 0; k < SHIFTS[i]; k++) {
      c.push(c.shift()!);
      d.push(d.shift()!);
    }
    const cd = [...c, ...d];
    ks.push(Uint8Array.from(PC2, (p) => cd[p - 1]));
  }
  return ks;
}

/** Encrypts the 64-bit `block` (one bit per cell) in place with the salted E table. */
function encrypt(block: Uint8Array, ks: Uint8Array[], e: number[]): void {
  const lr = Uint8Array.from(IP, (p) => block[p - 1]);
  let l = lr.subarray(0, 32);
  let r = lr.subarray(32);
  const f = new Uint8Array(32);
  for (let round = 0; round < 16; round++) {
    const k = ks[round];
    for (let j = 0; j < 8; j++) {
      const t = 6 * j;
      const b = (n: number) => r[e[t + n] - 1] ^ k[t + n];
      const v = S[j][(b(0) << 5) | (b(5) << 4) | (b(1) << 3) | (b(2) << 2) | (b(3) << 1) | b(4)];
      f[4 * j] = (v >> 3) & 1;
      f[4 * j + 1] = (v >> 2) & 1;
      f[4 * j + 2] = (v >> 1) & 1;
      f[4 * j + 3] = v & 1;
    }
    const next = new Uint8Array(32);
    for (let j = 0; j < 32; j++) next[j] = l[j] ^ f[P[j] - 1];
    l = r;
    r = next;
  }
  // The last round's halves are not swapped: the preoutput is R16 L16.
  const pre = new Uint8Array(64);
  pre.set(r, 0);
  pre.set(l, 32);
  for (let j = 0; j < 64; j++) block[j] = pre[FP[j] - 1];
}

/** crypt(3) of `password` with the two-character `salt` (only the first 8 password bytes count,
 * each byte's top bit ignored, as in every Unix). Returns null for a salt outside the crypt
 * alphabet (glibc refuses those too). */
export function desCrypt(password: string | Buffer, salt: string): string | null {
  if (salt.length < 2) return null;
  const s0 = CRYPT_ALPHABET.indexOf(salt[0]);
  const s1 = CRYPT_ALPHABET.indexOf(salt[1]);
  if (s0 < 0 || s1 < 0) return null;
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const key = new Uint8Array(64);
  for (let i = 0; i < 8 && i < pw.length; i++) {
    const c = pw[i];
    for (let j = 0; j < 7; j++) key[i * 8 + j] = (c >> (6 - j)) & 1;
  }
  const ks = keySchedule(key);
  const e = [...E];
  const saltBits = s0 | (s1 << 6);
  for (let k = 0; k < 12; k++) {
    if ((saltBits >> k) & 1) {
      const t = e[k];
      e[k] = e[k + 24];
      e[k + 24] = t;
    }
  }
  const block = new Uint8Array(66);
  for (let i = 0; i < 25; i++) encrypt(block, ks, e);
  let out = salt.slice(0, 2);
  for (let i = 0; i < 11; i++) {
    let c = 0;
    for (let j = 0; j < 6; j++) c = (c << 1) | block[6 * i + j];
    out += CRYPT_ALPHABET[c];
  }
  return out;
}
