/** RTCP packet shapes (RFC 3550 §6.4-6.7) shared by the builders and the parser. */

/** RTCP packet types (RFC 3550 §12.1). */
export const RtcpType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  /** Transport-layer feedback (RFC 4585 §6.2); format 1 is the generic NACK. */
  RTPFB: 205,
} as const;

/** RTPFB formats (RFC 4585 §6.2.1). */
export const RtpfbFormat = {
  GENERIC_NACK: 1,
} as const;

/** SDES item types (RFC 3550 §6.5). */
export const SdesItemType = {
  END: 0,
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;

/** 64-bit NTP timestamp: seconds since 1900-01-01 (mod 2^32) and a 32-bit binary fraction. */
export interface NtpTime {
  sec: number;
  frac: number;
}

/** A reception report block as given to the builders. */
export interface ReportBlockInit {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0..1. Stored on the wire as an 8-bit
   * fixed-point number (floor(x * 256), capped at 255). */
  fractionLost: number;
  /** Exact wire value 0..255; when given it wins over `fractionLost`. */
  fractionLostRaw?: number;
  /** Cumulative packets lost: signed 24 bits (duplicates can make it negative); clamped. */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | max seq). */
  highestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from this source, or 0. */
  lsr: number;
  /** Delay since that SR in units of 1/65536 s, or 0. */
  dlsr: number;
}

/** A parsed reception report block: `fractionLost` is raw / 256. */
export interface ReportBlock extends ReportBlockInit {
  fractionLostRaw: number;
}

export interface RtcpSenderReport {
  type: 'sr';
  ssrc: number;
  ntpTime: NtpTime;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
  /** Profile-specific extension after the report blocks (a view into the input), if present. */
  extension?: Buffer;
}

export interface RtcpReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
  extension?: Buffer;
}

export interface SdesItem {
  /** SdesItemType value (1 = CNAME ...). */
  type: number;
  value: string;
  /** PRIV items only: the prefix string. */
  prefix?: string;
}

export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

export interface RtcpSdes {
  type: 'sdes';
  chunks: SdesChunk[];
}

export interface RtcpBye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

export interface RtcpApp {
  type: 'app';
  ssrc: number;
  /** The 5-bit subtype carried in the count field. */
  subtype: number;
  /** Four ASCII characters. */
  name: string;
  /** Application data (a view into the input). */
  data: Buffer;
}

/** A generic NACK (RFC 4585 §6.2.1): the receiver `ssrc` asks the sender of `mediaSsrc` for the
 * packets with these sequence numbers again. */
export interface RtcpNack {
  type: 'nack';
  /** SSRC of the packet's sender (the receiver asking). */
  ssrc: number;
  /** SSRC of the media stream the lost packets belong to. */
  mediaSsrc: number;
  /** Sequence numbers asked for, in the order the FCI entries name them; at most
   * `MAX_NACK_SEQS` (the rest of a larger packet is dropped). */
  lost: number[];
}

/** Any other packet type (e.g. other RTPFB formats, PSFB 206, XR 207), kept whole. */
export interface RtcpUnknown {
  type: 'unknown';
  packetType: number;
  /** The 5-bit count / format field. */
  count: number;
  /** The whole packet including its 4-byte header (a view into the input). */
  raw: Buffer;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpApp | RtcpNack | RtcpUnknown;
