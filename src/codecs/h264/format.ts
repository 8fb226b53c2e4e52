/** SDP description of H.264 streams (RFC 6184 §8.1) and the MP4 avcC record that feeds it. */

import type { NalLengthSize } from '../common/nal-units.js';
import type { FormatDescription } from '../types.js';

export interface H264FormatOptions {
  payloadType: number;
  /** Sequence parameter sets (NAL units including their header byte 0x67...). */
  sps: readonly Buffer[];
  /** Picture parameter sets. */
  pps: readonly Buffer[];
}

/** rtpmap `H264/90000` and fmtp `packetization-mode=1; profile-level-id=...;
 * sprop-parameter-sets=...`. profile-level-id is omitted without an SPS (receivers then assume
 * baseline), sprop-parameter-sets without any parameter set (they must then come in-band). */
export function h264Format(options: H264FormatOptions): FormatDescription {
  // packetization-mode=1 because the packetizer emits STAP-A and FU-A, which mode 0 forbids.
  const fmtp: Record<string, string> = { 'packetization-mode': '1' };
  const sps = options.sps[0];
  // SPS bytes 1..3 are profile_idc, the constraint flags and level_idc: exactly the three octets
  // profile-level-id carries (RFC 6184 §8.1).
  if (sps !== undefined && sps.length >= 4) fmtp['profile-level-id'] = sps.subarray(1, 4).toString('hex');
  const sets = [...options.sps, ...options.pps].filter((b) => b.length > 0);
  if (sets.length > 0) fmtp['sprop-parameter-sets'] = sets.map((b) => b.toString('base64')).join(',');
  return { media: 'video', payloadType: options.payloadType, encodingName: 'H264', clockRate: 90000, fmtp };
}

export interface AvcDecoderConfig {
  profileIndication: number;
  profileCompatibility: number;
  levelIndication: number;
  nalLengthSize: NalLengthSize;
  sps: Buffer[];
  pps: Buffer[];
}

/** Parses an AVCDecoderConfigurationRecord (the avcC box body, ISO/IEC 14496-15 §5.3.3). Returns
 * null when it is truncated or its length size is invalid. Parameter sets are views. */
export function parseAvcDecoderConfig(avcC: Buffer): AvcDecoderConfig | null {
  if (avcC.length < 7 || avcC[0] !== 1) return null;
  const lengthSize = (avcC[4] & 0x03) + 1;
  // lengthSizeMinusOne = 2 (3-byte lengths) is forbidden by the spec.
  if (lengthSize === 3) return null;
  let p = 5;
  const readSets = (count: number): Buffer[] | null => {
    const sets: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > avcC.length) return null;
      const len = avcC.readUInt16BE(p);
      p += 2;
      if (p + len > avcC.length) return null;
      sets.push(avcC.subarray(p, p + len));
      p += len;
    }
    return sets;
  };
  const sps = readSets(avcC[p++] & 0x1f);
  if (!sps || p >= avcC.length) return null;
  const pps = readSets(avcC[p++]);
  if (!pps) return null;
  return {
    profileIndication: avcC[1],
    profileCompatibility: avcC[2],
    levelIndication: avcC[3],
    nalLengthSize: lengthSize as NalLengthSize,
    sps,
    pps,
  };
}
