/** SDP description of H.265 streams (RFC 7798 §7.1) and the MP4 hvcC record that feeds it. */

import type { NalLengthSize } from '../common/nal-units.js';
import type { FormatDescription } from '../types.js';

export interface H265FormatOptions {
  payloadType: number;
  /** Parameter set NAL units including their 2-byte headers. */
  vps: readonly Buffer[];
  sps: readonly Buffer[];
  pps: readonly Buffer[];
}

/** rtpmap `H265/90000`, fmtp `sprop-vps`, `sprop-sps`, `sprop-pps` (base64, comma-separated when
 * there are several). A parameter kind with no sets is omitted. profile-id, tier-flag and
 * level-id are optional and left out: receivers read them from the SPS. */
export function h265Format(options: H265FormatOptions): FormatDescription {
  const fmtp: Record<string, string> = {};
  const add = (key: string, sets: readonly Buffer[]): void => {
    const nonEmpty = sets.filter((b) => b.length > 0);
    if (nonEmpty.length > 0) fmtp[key] = nonEmpty.map((b) => b.toString('base64')).join(',');
  };
  add('sprop-vps', options.vps);
  add('sprop-sps', options.sps);
  add('sprop-pps', options.pps);
  return { media: 'video', payloadType: options.payloadType, encodingName: 'H265', clockRate: 90000, fmtp };
}

export interface HevcDecoderConfig {
  /** general_profile_space, general_tier_flag, general_profile_idc, general_level_idc. */
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  levelIdc: number;
  nalLengthSize: NalLengthSize;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** Any other arrays (e.g. prefix SEI), by NAL unit type. */
  other: { nalType: number; nalus: Buffer[] }[];
}

const HVCC_HEADER_SIZE = 23;
const NAL_VPS = 32;
const NAL_SPS = 33;
const NAL_PPS = 34;

/** Parses an HEVCDecoderConfigurationRecord (the hvcC box body, ISO/IEC 14496-15 §8.3.3). Returns
 * null when it is truncated, of an unknown version or its length size is invalid. NAL units are
 * views. */
export function parseHevcDecoderConfig(hvcC: Buffer): HevcDecoderConfig | null {
  // configurationVersion is 1; muxers written before the spec was final wrote 0 with the same
  // layout, and such files still play elsewhere.
  if (hvcC.length < HVCC_HEADER_SIZE || hvcC[0] > 1) return null;
  const lengthSize = (hvcC[21] & 0x03) + 1;
  if (lengthSize === 3) return null;
  const config: HevcDecoderConfig = {
    profileSpace: hvcC[1] >> 6,
    tierFlag: (hvcC[1] >> 5) & 1,
    profileIdc: hvcC[1] & 0x1f,
    levelIdc: hvcC[12],
    nalLengthSize: lengthSize as NalLengthSize,
    vps: [],
    sps: [],
    pps: [],
    other: [],
  };
  const arrays = hvcC[22];
  let p = HVCC_HEADER_SIZE;
  for (let a = 0; a < arrays; a++) {
    if (p + 3 > hvcC.length) return null;
    const nalType = hvcC[p] & 0x3f;
    const count = hvcC.readUInt16BE(p + 1);
    p += 3;
    const nalus: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > hvcC.length) return null;
      const len = hvcC.readUInt16BE(p);
      p += 2;
      if (p + len > hvcC.length) return null;
      nalus.push(hvcC.subarray(p, p + len));
      p += len;
    }
    if (nalType === NAL_VPS) config.vps.push(...nalus);
    else if (nalType === NAL_SPS) config.sps.push(...nalus);
    else if (nalType === NAL_PPS) config.pps.push(...nalus);
    else config.other.push({ nalType, nalus });
  }
  return config;
}
