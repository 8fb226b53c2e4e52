/** Packets lost on one pulled track, counted by RTP sequence number (RFC 3550 A.3 in spirit):
 * each gap before a packet is counted once; a late or repeated packet counts nothing (a packet
 * that arrives late was already counted missing: reordering reads as a small over-count); a new
 * SSRC, or a jump no loss explains, starts counting afresh. */

/** A sequence jump this large is a restarted sender, not loss. */
const MAX_COUNTED_GAP = 3000;

export class RtpLoss {
  /** Packets missing so far. */
  lost = 0;
  #ssrc: number | undefined;
  #next = 0;

  /** Takes one RTP packet; returns how many went missing just before it. Not RTP: 0. */
  packet(p: Buffer): number {
    if (p.length < 12 || p[0] >> 6 !== 2) return 0;
    const seq = p.readUInt16BE(2);
    const ssrc = p.readUInt32BE(8);
    let missing = 0;
    if (ssrc === this.#ssrc) {
      const gap = (seq - this.#next) & 0xffff;
      if (gap >= 0x8000) return 0;
      if (gap < MAX_COUNTED_GAP) missing = gap;
    }
    this.#ssrc = ssrc;
    this.#next = (seq + 1) & 0xffff;
    this.lost += missing;
    return missing;
  }
}
