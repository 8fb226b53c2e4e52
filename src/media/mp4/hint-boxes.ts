/** The moov parts hinted movies add: the SDP texts under udta/hnti (movie level 'rtp ', track
 * level 'sdp ') and the raw stsd entries that hint tracks are read from. These are optional
 * extras: damage here loses the extra (an Mp4Error is swallowed), never the track. */
import { childBoxes, findChild, readFullBox, type BoxHeader } from './boxes.js';
import { Mp4Error } from './types.js';

/** SDP text larger than this is not an SDP a hinter wrote. */
const MAX_SDP_TEXT = 64 * 1024;
/** Sample entries kept per track, and the largest one kept. */
const MAX_ENTRIES = 16;
const MAX_ENTRY_SIZE = 64 * 1024;

function optional<T>(f: () => T | undefined): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof Mp4Error) return undefined;
    throw e;
  }
}

/** The box `type` in a udta/hnti of `parent`, looking through every udta (writers add more). */
function inHnti(buf: Buffer, parent: BoxHeader, type: string): BoxHeader | undefined {
  for (const udta of childBoxes(buf, parent.bodyStart, parent.end)) {
    if (udta.type !== 'udta') continue;
    const hnti = optional(() => findChild(buf, udta, 'hnti'));
    const found = hnti && optional(() => findChild(buf, hnti, type));
    if (found) return found;
  }
  return undefined;
}

function text(buf: Buffer, start: number, end: number): string | undefined {
  if (end <= start || end - start > MAX_SDP_TEXT) return undefined;
  // Hinters write C strings sometimes: stop at the first NUL.
  const raw = buf.toString('utf8', start, end);
  const nul = raw.indexOf('\0');
  return nul >= 0 ? raw.slice(0, nul) : raw;
}

/** moov/udta/hnti/'rtp ': a 4-byte description format that must be 'sdp ', then the text. */
export function movieHintSdp(buf: Buffer, moov: BoxHeader): string | undefined {
  return optional(() => {
    const rtp = inHnti(buf, moov, 'rtp ');
    if (!rtp || rtp.end - rtp.bodyStart < 4) return undefined;
    if (buf.toString('latin1', rtp.bodyStart, rtp.bodyStart + 4) !== 'sdp ') return undefined;
    return text(buf, rtp.bodyStart + 4, rtp.end);
  });
}

/** trak/udta/hnti/'sdp ': the track's SDP media section. */
export function trackHintSdp(buf: Buffer, trak: BoxHeader): string | undefined {
  return optional(() => {
    const sdp = inHnti(buf, trak, 'sdp ');
    return sdp && text(buf, sdp.bodyStart, sdp.end);
  });
}

/** The stsd's entries as whole boxes (copies, so the moov buffer is not kept alive). */
export function rawSampleEntries(buf: Buffer, stsd: BoxHeader): readonly Buffer[] | undefined {
  return optional(() => {
    const { body } = readFullBox(buf, stsd);
    const count = body.u32();
    const out: Buffer[] = [];
    // Entries read before a damaged one are kept.
    optional(() => {
      for (const h of childBoxes(buf, body.pos, stsd.end)) {
        if (out.length >= Math.min(count, MAX_ENTRIES) || h.end - h.start > MAX_ENTRY_SIZE) break;
        out.push(Buffer.from(buf.subarray(h.start, h.end)));
      }
      return undefined;
    });
    return out.length ? Object.freeze(out) : undefined;
  });
}
