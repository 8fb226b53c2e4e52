/** The Via header (RFC 2326 §12.43, RFC 7826 §18.57, as HTTP's): the servers a request passed
 * through, in order, each as `protocol/version received-by [(comment)]`. Relays name themselves
 * there (a pseudonym: the server id) so that a chain of servers that leads back to one of them is
 * seen and refused instead of pulling from itself forever. */

/** The protocol each hop is written with. */
const PROTOCOL = 'RTSP/1.0';
/** A pseudonym or host[:port] as a hop names itself. */
const HOP = /^[A-Za-z0-9._-]{1,64}(:\d{1,5})?$/;
/** The reason phrase of a request refused because its Via names the server it reached: a relay
 * chain came back round (status 403: RTSP has no status of its own for a loop, and HTTP's 508
 * belongs to WebDAV). The relay that sent it reads the phrase to tell a loop from any other 403. */
export const LOOP_DETECTED = 'Loop Detected';
/** Hops read from one request at most: a longer chain is cut (a loop is found within it). */
export const MAX_VIA_HOPS = 64;

/** Whether `hop` may be written in a Via: a pseudonym (letters, digits, . - _) or host:port. */
export function isViaHop(hop: string): boolean {
  return HOP.test(hop);
}

/** `RTSP/1.0 a, RTSP/1.0 b`: the hops in order (the first server first). Throws RangeError on a
 * hop that is not a token a Via may carry (`isViaHop`). */
export function formatVia(hops: readonly string[]): string {
  for (const h of hops)
    if (!HOP.test(h)) throw new RangeError(`invalid Via hop ${JSON.stringify(h.slice(0, 80))}`);
  return hops.map((h) => `${PROTOCOL} ${h}`).join(', ');
}

/** The hops (received-by) of every Via value of a request, in order, comments left out; entries
 * that name no hop are skipped rather than refused, since Via only informs. At most
 * MAX_VIA_HOPS. */
export function parseVia(values: readonly string[]): string[] {
  const hops: string[] = [];
  for (const v of values) {
    // Comments may hold commas; they carry nothing a loop check needs.
    for (const entry of v.replace(/\([^)]*\)?/g, ' ').split(',')) {
      const by = entry.trim().split(/\s+/)[1];
      if (by === undefined || by === '') continue;
      hops.push(by);
      if (hops.length >= MAX_VIA_HOPS) return hops;
    }
  }
  return hops;
}
