/** Uncompressed audio as files store it, and the RTP payload format (RFC 3551 §4.5) each one is
 * sent as: 16/24-bit linear as L16/L24 (network byte order), G.711 µ-law/A-law as PCMU/PCMA.
 * 8-bit linear goes out as L16, not L8: ffmpeg does not receive L8, and widening is exact.
 * Conversions never resample or requantise, except that 32-bit samples lose their lowest byte to
 * fit L24. */

export type PcmSampleFormat =
  'u8' | 's8' | 's16be' | 's16le' | 's24be' | 's24le' | 's32be' | 's32le' | 'ulaw' | 'alaw';
export type PcmEncoding = 'L16' | 'L24' | 'PCMU' | 'PCMA';

const INFO: Record<PcmSampleFormat, { bytes: number; encoding: PcmEncoding }> = {
  u8: { bytes: 1, encoding: 'L16' },
  s8: { bytes: 1, encoding: 'L16' },
  s16be: { bytes: 2, encoding: 'L16' },
  s16le: { bytes: 2, encoding: 'L16' },
  s24be: { bytes: 3, encoding: 'L24' },
  s24le: { bytes: 3, encoding: 'L24' },
  s32be: { bytes: 4, encoding: 'L24' },
  s32le: { bytes: 4, encoding: 'L24' },
  ulaw: { bytes: 1, encoding: 'PCMU' },
  alaw: { bytes: 1, encoding: 'PCMA' },
};

export function pcmBytesPerSample(format: PcmSampleFormat): number {
  return INFO[format].bytes;
}

export function pcmEncodingOf(format: PcmSampleFormat): PcmEncoding {
  return INFO[format].encoding;
}

const ENCODED_BYTES: Record<PcmEncoding, number> = { L16: 2, L24: 3, PCMU: 1, PCMA: 1 };

export function pcmEncodedBytesPerSample(format: PcmSampleFormat): number {
  return ENCODED_BYTES[INFO[format].encoding];
}

/** True when the stored bytes are already the payload bytes. */
export function pcmIsPassThrough(format: PcmSampleFormat): boolean {
  return format === 's16be' || format === 's24be' || format === 'ulaw' || format === 'alaw';
}

/** Stored samples → payload bytes (a new buffer) for the formats that are not pass-through. */
export function pcmConvert(format: PcmSampleFormat, src: Buffer): Buffer {
  switch (format) {
    case 's8':
    case 'u8': {
      // Widened to 16 bits: the sample becomes the high byte (offset binary for u8).
      const out = Buffer.alloc(src.length * 2);
      const flip = format === 'u8' ? 0x80 : 0;
      for (let i = 0; i < src.length; i++) out[i * 2] = src[i] ^ flip;
      return out;
    }
    case 's16le': {
      const out = Buffer.from(src);
      return out.swap16();
    }
    case 's24le': {
      const out = Buffer.allocUnsafe(src.length);
      for (let i = 0; i + 2 < src.length; i += 3) {
        out[i] = src[i + 2];
        out[i + 1] = src[i + 1];
        out[i + 2] = src[i];
      }
      return out;
    }
    case 's32be':
    case 's32le': {
      const n = src.length >> 2;
      const out = Buffer.allocUnsafe(n * 3);
      const le = format === 's32le';
      for (let i = 0, o = 0; i < n * 4; i += 4, o += 3) {
        out[o] = src[le ? i + 3 : i];
        out[o + 1] = src[le ? i + 2 : i + 1];
        out[o + 2] = src[le ? i + 1 : i + 2];
      }
      return out;
    }
    default:
      return src;
  }
}

/** QuickTime / ISO sound sample entry → stored sample format, or why it is not streamed.
 * `bits` is the entry's sample size; `flags` the version 2 LPCM flags; `littleEndian` the `enda`
 * box of `in24`/`in32` entries. */
export function pcmFormatFromSampleEntry(
  codec: string,
  bits: number,
  opts: { flags?: number; littleEndian?: boolean } = {},
): PcmSampleFormat | { reason: string } {
  const byBits = (le: boolean): PcmSampleFormat | { reason: string } => {
    switch (bits) {
      case 8:
        return 's8';
      case 16:
        return le ? 's16le' : 's16be';
      case 24:
        return le ? 's24le' : 's24be';
      case 32:
        return le ? 's32le' : 's32be';
      default:
        return { reason: `${bits}-bit PCM is not streamed (8, 16, 24 and 32 bits are)` };
    }
  };
  switch (codec) {
    case 'twos':
    case 'NONE':
      return byBits(false);
    case 'sowt':
      return byBits(true);
    case 'raw ':
      return bits === 8 || bits === 0 ? 'u8' : { reason: `unsigned ${bits}-bit PCM is not streamed` };
    case 'in24':
      return opts.littleEndian ? 's24le' : 's24be';
    case 'in32':
      return opts.littleEndian ? 's32le' : 's32be';
    case 'ulaw':
      return 'ulaw';
    case 'alaw':
      return 'alaw';
    case 'lpcm': {
      const flags = opts.flags ?? 0;
      if (flags & 1) return { reason: 'floating-point PCM has no RTP payload format (convert it to 16-bit)' };
      if (bits === 8 && !(flags & 4)) return 'u8';
      if (!(flags & 4) && bits !== 8) return { reason: `unsigned ${bits}-bit PCM is not streamed` };
      return byBits(!(flags & 2));
    }
    case 'fl32':
    case 'fl64':
      return { reason: 'floating-point PCM has no RTP payload format (convert it to 16-bit)' };
    default:
      return { reason: `'${codec}' is not uncompressed audio` };
  }
}

/** Codecs `pcmFormatFromSampleEntry` knows about. */
export const PCM_SAMPLE_ENTRIES: ReadonlySet<string> = new Set([
  'twos',
  'NONE',
  'sowt',
  'raw ',
  'in24',
  'in32',
  'ulaw',
  'alaw',
  'lpcm',
  'fl32',
  'fl64',
]);
