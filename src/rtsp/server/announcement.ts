/** What an ANNOUNCE set up on a connection, waiting for SETUP/RECORD. The connection holds these
 * and the live methods fill them; kept in its own file so neither imports the other for it. */
import type { StreamTrack } from '../../core/stream-track.js';
import type { ParsedSdp } from '../../sdp/index.js';

export interface Announcement {
  key: string;
  sdp: ParsedSdp;
  tracks: StreamTrack[];
  /** The relays the ANNOUNCE came through (its Via), first first: the published stream's
   * `Source.hops`. */
  hops: readonly string[];
}
