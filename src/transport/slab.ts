/** Buffers carved from large shared slabs, for what senders gather and write in one go (a TCP
 * viewer's packets of a batch interval). Allocating each such buffer on its own costs an
 * ArrayBuffer, its bookkeeping and external-memory pressure on the garbage collector, thousands of
 * times a second with thousands of viewers; a slice of a slab costs a view. A slab is dropped
 * when full and freed once the last write holding a slice of it is done. */

/** Bytes per slab; a request larger than a quarter of it gets a buffer of its own. */
export const SLAB_BYTES = 1024 * 1024;

let slab = Buffer.allocUnsafe(0);
let used = 0;

/** `n` bytes of uninitialized memory the caller owns from now on (it is never handed out again). */
export function takeSlab(n: number): Buffer {
  if (n > SLAB_BYTES / 4) return Buffer.allocUnsafe(n);
  if (used + n > slab.length) {
    slab = Buffer.allocUnsafe(SLAB_BYTES);
    used = 0;
  }
  const b = slab.subarray(used, used + n);
  // Keep slices 8-byte aligned: typed-array views of them stay possible and copies stay fast.
  used += (n + 7) & ~7;
  return b;
}
