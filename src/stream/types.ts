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
}

export interface StreamDescription {
  /** Human-readable session name (SDP s=). */
  name: string;
  /** Duration in seconds; undefined for live streams. */
  duration?: number;
  tracks: Track[];
}
