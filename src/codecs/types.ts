/** A packetizer turns one access unit (a file sample or a live frame) into RTP payloads for one
 * payload format. It knows nothing of files, sockets or RTP headers: the caller adds the header
 * (sequence, timestamp, SSRC) and sets the marker bit from `marker`. */

export interface RtpPayload {
  /** Payload bytes as one or more slices; the RTP writer copies them after the header once. */
  parts: Buffer[];
  /** Total length of `parts`. */
  length: number;
  /** RTP marker bit for this packet. */
  marker: boolean;
  /** RTP clock ticks between the access unit's timestamp and this packet's, for payloads that
   * carry later parts of the unit as units of their own (a block of PCM or several AMR frames
   * split over packets). Undefined means 0: fragments of one unit share its timestamp. */
  timestampOffset?: number;
}

export interface Packetizer {
  /** Payloads for one access unit, in send order. `au` is the sample as stored in the file
   * (e.g. length-prefixed NAL units for H.264/H.265, a raw AAC frame for AAC). */
  packetize(au: Buffer): RtpPayload[];
}

/** What an SDP media section needs to describe a payload format. */
export interface FormatDescription {
  /** 'video' | 'audio' | 'application' ... (the SDP m= media type). */
  media: 'video' | 'audio' | 'application' | 'text';
  payloadType: number;
  /** rtpmap encoding name, e.g. 'H264', 'H265', 'MPEG4-GENERIC'. */
  encodingName: string;
  clockRate: number;
  /** Audio channels for rtpmap (omitted when undefined). */
  channels?: number;
  /** fmtp parameters in order; an empty object means no a=fmtp line. */
  fmtp: Record<string, string>;
}

/** The RTP header fields a depacketizer needs. `RtpHeader` from `src/rtp/packet.ts` satisfies it
 * structurally, so a receiver can pass the parsed header straight through. */
export interface RtpPacketInfo {
  timestamp: number;
  marker: boolean;
  /** When given, sequence gaps are detected: a partly received NAL unit or AU is discarded rather
   * than reassembled with a hole in it, and the access unit is flagged as damaged. */
  sequence?: number;
}

/** Inverse of a Packetizer, for tests and live ingest. Feed payloads in sequence order. */
export interface Depacketizer<T> {
  /** Consumes one RTP payload; returns the units it completed (usually none or one). The returned
   * array may be a shared empty array: do not mutate it. */
  push(payload: Buffer, info: RtpPacketInfo): readonly T[];
  /** Returns the unit being assembled, if any (end of stream). */
  flush(): readonly T[];
  /** Forgets all state (after a seek or an SSRC change). */
  reset(): void;
}

/** One video access unit (H.264 / H.265) as NAL units without start codes or length prefixes. */
export interface NalAccessUnit {
  timestamp: number;
  nalus: Buffer[];
  /** True when packets were lost or malformed while this AU was assembled. */
  damaged: boolean;
}
