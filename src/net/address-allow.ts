/** Address allow-lists: `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`. */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const cache = new Map<string, BlockList>();

function listFor(entries: string[]): BlockList {
  const k = entries.join(',');
  let b = cache.get(k);
  if (b) return b;
  b = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (!isIPv4(addr) && !isIPv6(addr)) throw new Error(`'${e}' is not an address or CIDR`);
    if (bits === undefined) b.addAddress(addr, type);
    else b.addSubnet(addr, Number(bits), type);
  }
  cache.set(k, b);
  return b;
}

/** Is `address` (IPv4, IPv6 or IPv4-mapped IPv6) in the list? An empty list allows nobody. */
export function addressAllowed(address: string, entries: string[]): boolean {
  if (entries.length === 0) return false;
  const list = listFor(entries);
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  return isIPv4(v4) ? list.check(v4, 'ipv4') : list.check(v4, 'ipv6');
}
