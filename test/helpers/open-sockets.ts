/** Counts the UDP sockets this process holds open (Linux): socket inodes among /proc/self/fd
 * that /proc/net/udp{,6} lists. The server under test runs in this process, so a leaked port
 * pair shows up here. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function udpInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9) inodes.add(cols[9]);
    }
  }
  return inodes;
}

export function openUdpSockets(): number {
  const udp = udpInodes();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m && udp.has(m[1])) n++;
  }
  return n;
}
