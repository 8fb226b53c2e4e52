/** Loops between relays, as pulls and pushes alike see them: the `Via` a relay request carries
 * (the servers the stream or the request came through, then this one), and the far end's refusal
 * when that list names it. */
import { RtspClientError } from '../rtsp/client/index.js';
import { formatVia, isViaHop, LOOP_DETECTED } from '../rtsp/headers/via.js';

/** The `Via` of a relay request from this server (`serverId`) on behalf of `hops` (the relays
 * before it, first first): hops a Via cannot carry are left out rather than refused, since they
 * came from outside (another server's header). */
export function relayVia(hops: readonly string[], serverId: string): string {
  return formatVia([...hops.filter(isViaHop), serverId]);
}

/** Whether a relay request failed because the far end found itself in its Via: a chain of relays
 * came back round. It answers 403 with the `Loop Detected` phrase, which the client's message
 * carries (`… was answered 403 Loop Detected`); any other 403 is not a loop. */
export function isLoopRefusal(e: unknown): e is RtspClientError {
  return e instanceof RtspClientError && e.status === 403 && e.message.includes(LOOP_DETECTED);
}
