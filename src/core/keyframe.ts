/** Does an RTP payload start a picture a decoder can begin on? Used to start new viewers and to
 * resume viewers that fell behind. Only the first packet of a frame is looked at. */

export type KeyframeDetector = (payload: Buffer) => boolean;

const h264Key = (t: number) => t === 5 || t === 7;

/** RFC 6184: IDR or SPS, directly, inside a STAP-A, or at the start of an FU-A. */
export function h264Keyframe(p: Buffer): boolean {
  if (p.length < 1) return false;
  const t = p[0] & 0x1f;
  if (h264Key(t)) return true;
  if (t === 24) {
    // STAP-A: 16-bit size + NAL units.
    let o = 1;
    while (o + 3 <= p.length) {
      const size = p.readUInt16BE(o);
      if (size === 0 || o + 2 + size > p.length) break;
      if (h264Key(p[o + 2] & 0x1f)) return true;
      o += 2 + size;
    }
    return false;
  }
  if (t === 28 && p.length >= 2) return (p[1] & 0x80) !== 0 && h264Key(p[1] & 0x1f);
  return false;
}

const h265Key = (t: number) => (t >= 16 && t <= 21) || t === 32 || t === 33;

/** RFC 7798: IRAP picture or VPS/SPS, directly, inside an AP, or at the start of an FU. */
export function h265Keyframe(p: Buffer): boolean {
  if (p.length < 2) return false;
  const t = (p[0] >> 1) & 0x3f;
  if (h265Key(t)) return true;
  if (t === 48) {
    let o = 2;
    while (o + 4 <= p.length) {
      const size = p.readUInt16BE(o);
      if (size < 2 || o + 2 + size > p.length) break;
      if (h265Key((p[o + 2] >> 1) & 0x3f)) return true;
      o += 2 + size;
    }
    return false;
  }
  if (t === 49 && p.length >= 3) return (p[2] & 0x80) !== 0 && h265Key(p[2] & 0x3f);
  return false;
}

/** RFC 6416: a VOL/VOS header or an I-VOP at the start of the payload. */
export function mp4vKeyframe(p: Buffer): boolean {
  for (let i = 0; i + 3 < p.length && i < 64; i++) {
    if (p[i] === 0 && p[i + 1] === 0 && p[i + 2] === 1) {
      const code = p[i + 3];
      if (code === 0xb0 || code === 0xb3 || (code >= 0x20 && code <= 0x2f)) return true;
      if (code === 0xb6) return i + 4 < p.length && p[i + 4] >> 6 === 0;
    }
  }
  return false;
}

/** Picks a detector by rtpmap encoding name; undefined means every frame is a start point
 * (audio, or a video format we cannot look inside). */
export function keyframeDetector(encodingName: string, media: string): KeyframeDetector | undefined {
  if (media !== 'video') return undefined;
  switch (encodingName.toUpperCase()) {
    case 'H264':
      return h264Keyframe;
    case 'H265':
      return h265Keyframe;
    case 'MP4V-ES':
      return mp4vKeyframe;
    default:
      return undefined;
  }
}
