/** What a movie offers for streaming: shared by the describer (movie-stream.ts), the per-codec
 * and hint-track describers it calls, and the file player. Kept apart so those files depend on
 * these shapes, not on each other. */
import type { Packetizer, RtpPayload } from '../codecs/types.js';
import type { Mp4Movie, Mp4Track, SampleInfo, SampleReader } from '../media/mp4/types.js';
import type { StreamDescription, Track } from '../stream/types.js';

export interface VodTrack {
  description: Track;
  mp4: Mp4Track;
  kind: 'video' | 'audio';
  /** RTP clock rate of the payload format. */
  clockRate: number;
  createPacketizer(maxPayloadSize: number): Packetizer;
  /** The packetizer keeps state from sample to sample (a decoder), so its payloads cannot be
   * shared between viewers (PacketCache). */
  statefulPacketizer?: boolean;
  /** Present on RTP hint tracks (`mp4` is then the hint track): the payloads one hint sample
   * describes, with bytes of other samples read through `reader`. The player uses it instead of
   * a packetizer. Throws HintError for a malformed hint sample. */
  load?(info: SampleInfo, data: Buffer, reader: SampleReader): Promise<RtpPayload[]>;
}

export interface SkippedTrack {
  id: number;
  codec: string;
  reason: string;
}

export interface VodPresentation {
  movie: Mp4Movie;
  stream: StreamDescription;
  tracks: VodTrack[];
  skipped: SkippedTrack[];
}
