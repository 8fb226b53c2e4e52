/** Which trick-play rates a file viewer gets (RTSP Scale, RFC 2326 §12.34), protocol-neutral: the
 * handler asks for a rate, the player plays the nearest one it supports and says which. */

/** Viewing rates a file plays at: normal, fast forward and rewind. */
const SUPPORTED_SCALES = [1, 2, 4, 8, -2, -4, -8] as const;

/** The supported rate nearest `requested`, in the same direction, nearest on a doubling scale
 * (3 → 4 and 2.5 → 2; 0.5 → 1, slow motion is not offered; -1 → -2, rewinding is never slower than
 * twice). Anything not a finite non-zero number is 1. */
export function nearestScale(requested: number): number {
  if (!Number.isFinite(requested) || requested === 0) return 1;
  const candidates = SUPPORTED_SCALES.filter((s) => Math.sign(s) === Math.sign(requested));
  const want = Math.log2(Math.abs(requested));
  let best: number = candidates[0];
  for (const s of candidates) {
    if (Math.abs(Math.log2(Math.abs(s)) - want) < Math.abs(Math.log2(Math.abs(best)) - want) - 1e-9) best = s;
  }
  return best;
}

/** Past twice normal, and for every rewind, video is sent as keyframes only: a decoder needs
 * nothing but them, and all frames at 4x would be 4x the bit rate. */
export function keyframesOnly(scale: number): boolean {
  return scale < 0 || scale > 2;
}
