/** Modular arithmetic for RTP sequence numbers (16 bits) and timestamps (32 bits). Both wrap in
 * normal operation (a 90 kHz clock wraps every 13 hours; sequence numbers start at a random value
 * per RFC 3550 §5.1), so plain comparisons and subtraction are wrong near the wrap. */

import { randomInt } from 'node:crypto';

/** `seq + n` modulo 2^16; `n` may be negative. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}

/** Signed distance `a - b` in sequence space, in [-32768, 32767]: positive when `a` is newer.
 * Serial-number arithmetic: the shorter way around the circle wins. */
export function seqDiff(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/** True when sequence `a` comes after `b` (wrap-aware). */
export function seqNewer(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** `ts + n` modulo 2^32; `n` may be negative. Fractions are truncated. */
export function tsAdd(ts: number, n: number): number {
  // ToUint32 is exact modulo 2^32 for integers up to 2^53, far beyond any sane offset.
  return (ts + n) >>> 0;
}

/** Signed distance `a - b` between two 32-bit RTP timestamps, in [-2^31, 2^31). */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Uniform random 32-bit unsigned integer (SSRC, initial timestamp). Uses the CSPRNG because
 * RFC 3550 §5.1 asks for unpredictable initial values (known-plaintext attacks on SRTP). */
export function randomUint32(): number {
  return randomInt(0, 0x1_0000_0000);
}

/** Uniform random 16-bit unsigned integer (initial sequence number). */
export function randomUint16(): number {
  return randomInt(0, 0x1_0000);
}
