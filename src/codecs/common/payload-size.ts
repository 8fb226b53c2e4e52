/** Shared limits for `maxPayloadSize` options. */

/** Default RTP payload budget: 1400 + 12 (RTP) + 8 (UDP) + 20/40 (IPv4/IPv6) stays under a 1500
 * byte Ethernet MTU with room for tunnels/VPN overhead, so packets are not IP-fragmented. */
export const DEFAULT_MAX_PAYLOAD_SIZE = 1400;

/** Upper bound: a whole RTP packet must fit the 16-bit length of RTSP interleaved framing
 * (RFC 2326 §10.12), and aggregation size fields are 16 bits too. */
export const MAX_MAX_PAYLOAD_SIZE = 0xffff - 12;

/** Validates a configured payload size; `min` is the smallest size that still carries one byte of
 * media after the format's own headers. */
export function checkMaxPayloadSize(value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_MAX_PAYLOAD_SIZE) {
    throw new RangeError(
      `maxPayloadSize must be an integer in [${min}, ${MAX_MAX_PAYLOAD_SIZE}], got ${value}`,
    );
  }
  return value;
}
