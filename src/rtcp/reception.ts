import { parseRtcpCompound } from './parse.js';

/** What a viewer's receiver reports say about one of our streams. */
export interface ReceptionStats {
  /** Fraction lost in the last report interval, 0..1. */
  fractionLost: number;
  cumulativeLost: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Extended highest sequence number received (cycles in the high 16 bits). */
  highestSeq: number;
  reports: number;
}

export function newReceptionStats(): ReceptionStats {
  return { fractionLost: 0, cumulativeLost: 0, jitter: 0, highestSeq: 0, reports: 0 };
}

/** Reads the report blocks about `ssrc` in an RTCP compound packet into `stats`. */
export function updateReception(stats: ReceptionStats, buf: Buffer, ssrc: number): void {
  for (const p of parseRtcpCompound(buf)) {
    if (p.type !== 'rr' && p.type !== 'sr') continue;
    for (const b of p.reports) {
      if (b.ssrc !== ssrc) continue;
      stats.fractionLost = b.fractionLost;
      stats.cumulativeLost = b.cumulativeLost;
      stats.jitter = b.jitter;
      stats.highestSeq = b.highestSeq;
      stats.reports++;
    }
  }
}
