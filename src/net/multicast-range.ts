/** A pool of IPv4 multicast groups as the config writes it (`239.255.42.0/24`, or one address):
 * parsed and checked once, then read by index. No imports beyond node's, so the config schema can
 * check `multicast.groups` with the same code that allocates from it. */
import { isIPv4 } from 'node:net';

export interface Ipv4Range {
  /** First address as a 32-bit unsigned number. */
  first: number;
  /** Addresses in the range (1 for a single address). */
  count: number;
}

const toNumber = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** `n` (a 32-bit unsigned number) written as a dotted quad. */
export function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** 224.0.0.0/24: the local network control block (all-hosts, routers, IGMP): never a stream's. */
const CONTROL_END = toNumber('224.0.1.0');
const MULTICAST_FIRST = toNumber('224.0.0.0');
const MULTICAST_END = toNumber('240.0.0.0');

/** Parses `a.b.c.d/len` (or `a.b.c.d`) as a range of IPv4 multicast groups. The host bits of a
 * CIDR are ignored (239.255.42.7/24 is 239.255.42.0/24). Throws RangeError saying why it is not
 * one: not IPv4, a bad length, outside 224.0.0.0/4, or touching 224.0.0.0/24. */
export function parseMulticastRange(text: string): Ipv4Range {
  const [address, bits, ...rest] = text.trim().split('/');
  if (rest.length > 0 || !isIPv4(address)) throw new RangeError(`'${text}' is not an IPv4 address or CIDR (e.g. 239.255.42.0/24)`);
  const len = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (!(len >= 4 && len <= 32)) throw new RangeError(`'${text}': the prefix length must be 4 to 32`);
  const size = 2 ** (32 - len);
  const first = Math.floor(toNumber(address) / size) * size;
  const end = first + size;
  if (first < MULTICAST_FIRST || end > MULTICAST_END) throw new RangeError(`'${text}' is not a multicast range (224.0.0.0/4; 239.0.0.0/8 is the administratively scoped part)`);
  if (first < CONTROL_END) throw new RangeError(`'${text}' overlaps 224.0.0.0/24, the local network control block`);
  return { first, count: size };
}
