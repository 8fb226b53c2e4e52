/** NTP timestamp conversions for RTCP sender reports (RFC 3550 §4, RFC 5905 §6). */

import type { NtpTime } from './types.js';

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_EPOCH_OFFSET = 2208988800;

const TWO_POW_32 = 0x1_0000_0000;
const FRAC_PER_MS = TWO_POW_32 / 1000;

/** Unix time in milliseconds (fractional ms allowed, e.g. performance.timeOrigin + now()) to a
 * 64-bit NTP timestamp. Seconds are taken modulo 2^32, so dates after 2036-02-07 land in NTP
 * era 1 as the wire format requires. */
export function msToNtp(ms: number): NtpTime {
  const unixSec = Math.floor(ms / 1000);
  const remMs = ms - unixSec * 1000;
  // Floor rather than round so the fraction never carries into the seconds.
  const frac = Math.min(Math.floor(remMs * FRAC_PER_MS), 0xffffffff);
  return { sec: (unixSec + NTP_UNIX_EPOCH_OFFSET) >>> 0, frac };
}

/** Inverse of msToNtp. A timestamp with the top bit clear is read as era 1 (2036-2104), the
 * convention of RFC 4330 §3, so it keeps working across the 2036 wrap. */
export function ntpToMs(ntp: NtpTime): number {
  const sec = (ntp.sec & 0x80000000) === 0 ? ntp.sec + TWO_POW_32 : ntp.sec;
  return (sec - NTP_UNIX_EPOCH_OFFSET) * 1000 + ntp.frac / FRAC_PER_MS;
}

/** The middle 32 bits of an NTP timestamp: the LSR value a receiver echoes in its report blocks
 * (RFC 3550 §6.4.1), which lets the sender compute the round-trip time. */
export function ntpMiddle32(ntp: NtpTime): number {
  return ((ntp.sec & 0xffff) * 0x10000 + (ntp.frac >>> 16)) >>> 0;
}
