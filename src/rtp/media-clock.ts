/** The RTP timeline of a stream played from storage to one viewer (a file): RTP time = a random
 * origin + media seconds × clock rate, so pause and seek keep timestamps on the media timeline and
 * RTP-Info can name them. What media instant "now" is comes from whatever plays (the file player);
 * before anything plays it is 0. */
import type { RtpClock } from './output.js';
import { randomUint32 } from './seq.js';

/** Where playback is: the file player. */
export interface MediaPosition {
  /** Media instant (seconds) at a local instant (performance.now() ms). */
  position(nowPerf: number): number;
}

export class MediaClock implements RtpClock {
  /** RTP time of media instant 0, random as RFC 3550 asks unless given: a playlist's next item
   * continues the timeline where the previous one ended. */
  readonly base: number;
  readonly clockRate: number;
  #playback: MediaPosition | undefined;

  constructor(clockRate: number, base = randomUint32()) {
    this.clockRate = clockRate;
    this.base = base >>> 0;
  }

  /** From now on sender reports and BYE name `playback`'s position. */
  follow(playback: MediaPosition): void {
    this.#playback = playback;
  }

  /** RTP timestamp of a media instant (seconds), rounded to the nearest tick. */
  rtpTimeOf(npt: number): number {
    return (this.base + Math.round(npt * this.clockRate)) >>> 0;
  }

  rtpTimeAt(nowPerf: number): number {
    return this.rtpTimeOf(this.#playback?.position(nowPerf) ?? 0);
  }

  /** The system's wall clock, as file sender reports always had it (not the monotonic clock's
   * origin, which drifts from it over a long uptime). */
  ntpMsAt(nowPerf: number): number {
    return Date.now() + (nowPerf - performance.now());
  }
}
