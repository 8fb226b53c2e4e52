/** This server's name in the Via of its relay requests (relays.serverId), by which a relay chain
 * that leads back here is refused at both ends. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** `configured` when given; else the host name (cut to what a Via pseudonym may hold) and a random
 * suffix, new at each start, so two servers on hosts of the same name still tell themselves
 * apart. */
export function resolveServerId(configured: string, host: string = hostname()): string {
  if (configured !== '') return configured;
  const name =
    host
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 48) || 'rivulet';
  return `${name}-${randomBytes(4).toString('hex')}`;
}
