/** The presentation model shared by every source (file, live publisher, relay, playlist) and
 * every reader: a Stream is one URL path, a Track one SDP m= line, a Format its payload type. */
import type { FormatDescription } from '../codecs/types.js';

export type Format = FormatDescription;

export interface Track {
  /** Stable id used in the control URL (`trackID=<id>`). */
  id: number;
  /** Control attribute relative to the Content-Base, e.g. `trackID=1`. */
  control: string;
  format: Format;
  /** Average bitrate in kbit/s when known (SDP b=AS, admission control later). */
  bitrateKbps?: number;
  /** Video frame size / rate when known (SDP a=framesize, a=framerate). */
  width?: number;
  height?: number;
  frameRate?: number;
  /** A media section given as SDP text (`m=` line onward), as a hinted movie's hint track carries
   * it: buildSdp writes it in place of the one it would build from `format` (which still describes
   * it for other readers), with `a=control` set to `control`. */
  mediaSdp?: string;
}

export interface StreamDescription {
  /** Human-readable session name (SDP s=). */
  name: string;
  /** Duration in seconds; undefined for live streams. */
  duration?: number;
  tracks: Track[];
  /** Extra session-level SDP lines (a hinted movie's moov/udta/hnti text). buildSdp keeps its own
   * o=, s=, c=, t=, a=control, a=range and a=tool over any given here. */
  sessionSdp?: string;
}
